"""The weekly one-pager: a one-page PDF in Chinese with its font embedded, and a PNG of it for WeChat.

The font is the embedded TrueType CJK subset every seamline PDF uses (``adapters.pdf_fonts``), so
a phone without a Chinese font still shows it. The PNG is the PDF's page rendered by
poppler's ``pdftoppm``, so the image and the PDF cannot disagree.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from seamline.adapters.pdf_fonts import PdfError as OnePagerError  # the name api_roi catches
from seamline.adapters.pdf_fonts import cjk_font

from .pilot_text import FORMULAS, day_words, months_words, p, pct_share, signed, yuan


def render_onepager_pdf(r: dict[str, Any]) -> bytes:
    """One A4 page in Chinese: the verdict, the effects beside the forecast, the money, the formulas."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font()

    def st(size: float, color: Any = colors.black) -> ParagraphStyle:
        return ParagraphStyle("s", fontName=font, fontSize=size, leading=size * 1.35, wordWrap="CJK", textColor=color)

    body, small, head, big = st(8.5), st(7.2, colors.HexColor("#445")), st(16), st(20)
    mo = r["money"]
    period = f"{day_words(r['first_day'])}至{day_words(r['last_day'] or r.get('last_before_day'))}"
    story: list[Any] = [
        Paragraph(f"{p('zh', 'weekly_title')}　{r.get('factory_name') or ''}", head),
        Paragraph(f"数据：{period}", small),
        Paragraph(
            p("zh", "design").format(
                p="、".join(r["pilot_lines"]),
                s=day_words(r["sensors_from"]),
                c="、".join(r["control_lines"]),
                b=r["days_before"],
                a=r["days_after"],
            ),
            body,
        ),
        Spacer(1, 3 * mm),
    ]
    if r["preliminary"]:
        story.append(
            Paragraph(
                f"【{p('zh', 'preliminary')}】"
                + p("zh", "preliminary_note").format(n=r["min_workdays"], b=r["days_before"], a=r["days_after"]),
                st(10, colors.HexColor("#8a5a00")),
            )
        )
    elif mo["counted"]:
        head_row = [
            [Paragraph(p("zh", k), small) for k in ("payback", "range80", "p_no_payback", "net_monthly", "investment")],
            [
                Paragraph(months_words(mo["payback_months"]), big),
                Paragraph(f"{months_words(mo['payback_p10'])} – {months_words(mo['payback_p90'])}", st(11)),
                Paragraph(pct_share(mo["p_no_payback_12"]), st(13)),
                Paragraph(yuan(mo["net_monthly_cny"]), st(12)),
                Paragraph(yuan(mo["one_off_cny"]), st(12)),
            ],
        ]
        t = Table(head_row, colWidths=[34 * mm, 44 * mm, 36 * mm, 34 * mm, 34 * mm])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("FONT", (0, 0), (-1, -1), font, 8.5)]))
        story.append(t)
    story += [Spacer(1, 3 * mm), Paragraph("试点效果与预测", st(11))]
    cols = ("metric", "pilot_before", "pilot_after", "control_before", "control_after", "did", "naive", "monthly")
    rows: list[list[Any]] = [[Paragraph(p("zh", k), small) for k in cols] + [Paragraph(p("zh", "forecast"), small)]]
    for m in r["metrics"]:
        fc = m.get("forecast")
        fc_txt = (
            f"{p('zh', 'forecast_tag')} {signed(_fmt(fc['mean']))}（{_fmt(fc['low'])} 至 {_fmt(fc['high'])}），"
            f"{fc['source']}，{day_words(fc['made_on'])}"
            if fc
            else p("zh", "no_forecast")
        )
        rows.append(
            [
                Paragraph(p("zh", m["metric"]), body),
                m["pilot_before"] or "–",
                m["pilot_after"] or "–",
                m["control_before"] or "–",
                m["control_after"] or "–",
                Paragraph(
                    f"{p('zh', 'measured_tag')} {signed(m['did'])}<br/>"
                    f"（{m['did_lo'] or '–'} 至 {m['did_hi'] or '–'}）",
                    body,
                ),
                Paragraph(f"{signed(m['naive'])}", body),
                Paragraph(yuan(m["monthly_cny"]) if m["monthly_cny"] else p("zh", "not_counted"), body),
                Paragraph(fc_txt, small),
            ]
        )
    grid: list[Any] = [
        ("FONT", (0, 0), (-1, -1), font, 8.5),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ]
    t = Table(rows, colWidths=[26 * mm, 15 * mm, 15 * mm, 15 * mm, 15 * mm, 26 * mm, 15 * mm, 22 * mm, 33 * mm])
    t.setStyle(TableStyle(grid))
    story += [t, Spacer(1, 2 * mm)]
    eff = next((m for m in r["metrics"] if m["metric"] == "efficiency_pct"), None)
    if eff and eff.get("efficiency_alt") and eff["efficiency_alt"]["monthly_cny"]:
        key = "alt_orders" if eff["efficiency_alt"]["as"] == "orders" else "alt_wages"
        story.append(Paragraph(p("zh", key).format(v=yuan(eff["efficiency_alt"]["monthly_cny"])), small))
    if r.get("report_check"):
        rc = r["report_check"]
        story.append(
            Paragraph(
                p("zh", "report_check").format(
                    n=rc["days_after"], d=signed(rc["did"]), lo=rc["lo"] or "–", hi=rc["hi"] or "–"
                ),
                small,
            )
        )
    if r.get("placebo"):
        pl = r["placebo"]
        story.append(Paragraph(p("zh", "placebo").format(d=signed(pl["did"]), lo=pl["lo"], hi=pl["hi"]), small))
    if mo["scenarios"] and not r["preliminary"]:
        story += [Spacer(1, 2 * mm), Paragraph(p("zh", "scenarios"), st(11))]
        srows: list[list[Any]] = [["", p("zh", "net_monthly"), p("zh", "payback"), p("zh", "range80")]]
        for sc in mo["scenarios"]:
            srows.append(
                [
                    p("zh", sc["key"]),
                    yuan(sc["net_monthly_cny"]),
                    months_words(sc["payback_months"]),
                    f"{months_words(sc['p10'])} – {months_words(sc['p90'])}",
                ]
            )
        s = Table(srows, colWidths=[50 * mm, 36 * mm, 30 * mm, 50 * mm])
        s.setStyle(TableStyle(grid))
        story.append(s)
    rates = r["rates"]
    story += [
        Spacer(1, 2 * mm),
        Paragraph(p("zh", "formulas"), st(11)),
        Paragraph(
            f"本厂费率：每分钟工资 {rates['wage_per_min']} 元，加班倍数 {rates['overtime_premium']}，"
            f"净利率 {rates['net_margin_pct']}%，单价 {rates['price_per_garment']} 元/件，"
            f"每月 {rates['workdays_per_month']} 个工作日。",
            small,
        ),
    ]
    story += [Paragraph(zh, small) for zh, _en in FORMULAS]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=p("zh", "weekly_title"),
        author="seamline",
        initialFontName=font,  # else the page starts in (unembedded) Helvetica
    )
    doc.build(story)
    return buf.getvalue()


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def render_png(pdf: bytes, dpi: int = 110) -> bytes:
    """The first page of ``pdf`` as a PNG (poppler's pdftoppm), about 900 px wide at 110 dpi."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise OnePagerError("找不到 pdftoppm：请安装 poppler-utils", "pdftoppm not found: install poppler-utils")
    with tempfile.TemporaryDirectory(prefix="seamline-onepager-") as d:
        src = Path(d) / "page.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            [exe, "-png", "-r", str(dpi), "-singlefile", "-f", "1", "-l", "1", str(src), str(Path(d) / "page")],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return (Path(d) / "page.png").read_bytes()
