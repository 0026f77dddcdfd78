"""Report writers: CSV (for spreadsheets and the buyer's auditors) and PDF (to print and sign).

Both print the hash-chain head, so a later rewrite of the sealed history no longer matches the paper;
a month with nothing sealed says "未封存 / not sealed" rather than the chain's 64-zero genesis, which
reads like a real hash. Chinese is the default, as on the pages, and the same codes are understood
(``zh``, ``zh_CN``, ``en``). PDF text uses the embedded TrueType CJK subset every seamline PDF uses
(``adapters.pdf_fonts``), so a viewer without a Chinese font still shows it, and it stays
extractable (the tests read the totals back with pypdf and pdftotext).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any, cast
from xml.sax.saxutils import escape

from seamline.adapters import csv_cells
from seamline.adapters.pdf_fonts import cjk_font
from seamline.compliance.chain import GENESIS
from seamline.compliance.evaluate import Violation
from seamline.reports.labels import labels, norm_lang
from seamline.reports.model import CustomerReport, WorkerReport


def chain_head_text(r: WorkerReport | CustomerReport, lang: str) -> str:
    """The head to print: the hash, or "未封存 / not sealed" when no day of the chain is sealed."""
    if r.chain_head == GENESIS:
        return labels(lang)["not_sealed"]
    return r.chain_head


def _h(x: float) -> str:
    return f"{x:.2f}"


def _m(x: Decimal | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _finding(v: Violation, lang: str) -> str:
    return f"[{labels(lang)[v.severity]}] {v.describe(lang)}"


def _rules(r: WorkerReport | CustomerReport, lang: str) -> str:
    return r.rules_zh if lang == "zh" else r.rules_en


# --- tables as rows (shared by CSV and PDF) ------------------------------------------------------
def worker_table(r: WorkerReport, lang: str) -> list[list[str]]:
    L = labels(lang)
    rows = [[L["day"], L["kind"], L["worked_h"], L["regular_h"], L["overtime_h"], L["pieces"], L["returned"], L["pay"]]]
    for d in r.days:
        rows.append(
            [
                d.day.isoformat(),
                L[d.kind],
                _h(d.worked_h),
                _h(d.regular_h),
                _h(d.overtime_h),
                str(d.pieces),
                str(d.returned),
                _m(d.pay),
            ]
        )
    rows.append(
        [
            L["total"],
            "",
            _h(r.worked_h),
            _h(r.regular_h),
            _h(r.overtime_h),
            str(r.pieces),
            str(r.returned),
            _m(r.payslip.piece_pay if r.payslip else None),
        ]
    )
    return rows


def worker_pay_summary(r: WorkerReport, lang: str) -> list[list[str]]:
    L = labels(lang)
    s = r.payslip
    if s is None:
        return [[L["no_pay"], ""]]
    return [
        [L["pay_regular"], _m(s.pay_by_class["regular"])],
        [L["pay_overtime"], _m(s.pay_by_class["overtime"])],
        [L["pay_rest_day"], _m(s.pay_by_class["rest_day"])],
        [L["pay_holiday"], _m(s.pay_by_class["holiday"])],
        [L["floor"], _m(s.floor)],
        [L["top_up"], _m(s.top_up)],
        [L["gross"], _m(s.gross)],
    ]


def customer_table(r: CustomerReport, lang: str) -> list[list[str]]:
    L = labels(lang)
    rows = [[L["worker"], "", L["worked_h"], L["overtime_h"], L["pieces"], L["pay"]]]
    for x in r.rows:
        rows.append([x.worker, x.name, _h(x.worked_h), _h(x.overtime_h), str(x.pieces), _m(x.pay)])
    t = r.totals
    rows.append(
        [
            L["total"],
            "",
            _h(float(t["worked_h"] or 0)),
            _h(float(t["overtime_h"] or 0)),
            str(t["pieces"]),
            _m(cast(Decimal | None, t["pay"])),
        ]
    )  # money or None: see customer_report
    return rows


def _meta(r: WorkerReport | CustomerReport, lang: str) -> list[list[str]]:
    L = labels(lang)
    out = [
        [L["factory"], f"{r.factory_id} {r.factory_name}"],
        [L["period"], f"{r.first} .. {r.last}"],
        [L["rules"], _rules(r, lang)],
    ]
    if isinstance(r, WorkerReport):
        out.append([L["worker"], f"{r.worker} {r.name}"])
        if r.missing_logouts:
            out.append([L["missing_logout"], str(r.missing_logouts)])
    else:
        out.append([L["customer"], r.customer])
        out.append([L["orders"], " ".join(r.orders)])
    return out


# --- CSV -------------------------------------------------------------------------------------------
def to_csv(r: WorkerReport | CustomerReport, lang: str = "zh") -> str:
    lang = norm_lang(lang)
    L = labels(lang)
    buf = io.StringIO()
    w = csv_cells.writer(buf, lineterminator="\n")  # names and notes never run as formulas
    w.writerow([L["worker_title"] if isinstance(r, WorkerReport) else L["customer_title"]])
    w.writerows(_meta(r, lang))
    w.writerow([])
    if isinstance(r, WorkerReport):
        w.writerows(worker_table(r, lang))
        w.writerow([])
        w.writerows(worker_pay_summary(r, lang))
    else:
        w.writerows(customer_table(r, lang))
    w.writerow([])
    w.writerow([L["findings"]])
    for v in r.findings:
        w.writerow(
            [
                v.worker,
                v.severity,
                v.rule_id,
                v.start.isoformat(),
                v.end.isoformat(),
                f"{v.value:g}",
                f"{v.limit:g}",
                v.text_zh if lang == "zh" else v.text_en,
            ]
        )
    w.writerow([])
    w.writerow([L["chain_head"], chain_head_text(r, lang)])
    return buf.getvalue()


# --- PDF -------------------------------------------------------------------------------------------
def to_pdf(r: WorkerReport | CustomerReport, lang: str = "zh") -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font()
    lang = norm_lang(lang)
    L = labels(lang)
    title_st = ParagraphStyle("t", fontName=font, fontSize=14, leading=18, spaceAfter=6)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=12)
    small = ParagraphStyle("s", fontName=font, fontSize=7.5, leading=10)

    def table(rows: list[list[str]], header: bool = True, total: bool = False) -> Table:
        t = Table(rows, repeatRows=1 if header else 0, hAlign="LEFT")
        style: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), font, 8),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
        if total:
            style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f3f3f3")))
        t.setStyle(TableStyle(style))
        return t

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=L["worker_title" if isinstance(r, WorkerReport) else "customer_title"],
        initialFontName=font,
    )
    story: list = [Paragraph(L["worker_title"] if isinstance(r, WorkerReport) else L["customer_title"], title_st)]
    meta = table(_meta(r, lang), header=False)
    meta.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "LEFT")]))
    story += [meta, Spacer(1, 4 * mm)]
    if isinstance(r, WorkerReport):
        story += [table(worker_table(r, lang), total=True), Spacer(1, 4 * mm)]
        pay = table(worker_pay_summary(r, lang), header=False)
        story += [pay, Spacer(1, 4 * mm)]
    else:
        story += [table(customer_table(r, lang), total=True), Spacer(1, 4 * mm)]
    story.append(Paragraph(L["findings"], body))
    if not r.findings:
        story.append(Paragraph(L["no_findings"], small))
    for v in r.findings:
        story.append(Paragraph(escape(_finding(v, lang)), small))
    story += [Spacer(1, 4 * mm), Paragraph(f"{L['chain_head']}: {chain_head_text(r, lang)}", small)]
    doc.build(story)
    return buf.getvalue()
