"""The owner page (HTML) and the one-page PDF, both from ``report.build_report``'s data."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .labels import norm_lang, t
from .pilot_text import FORMULAS, day_words, months_words, pct_share, signed, yuan
from .pilot_text import p as pt

HERE = Path(__file__).parent


def money(x: str | None, lang: str) -> str:
    if x is None:
        return "–"
    d = Decimal(x).quantize(Decimal(1))
    txt = f"{d:,}"
    return f"{txt} 元" if norm_lang(lang) == "zh" else f"CNY {txt}"


def months(x: str | None, lang: str) -> str:
    if x is None:
        return t(lang, "never")
    return f"{x} {t(lang, 'months')}"


def pct(x: str | None) -> str:
    return "–" if x is None else f"{(Decimal(x) * 100).quantize(Decimal(1))} %"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


def when(iso: str | None, lang: str) -> str:
    """An ISO time as people write it: "11月16日 08:00" / "16 Nov 08:00" (no ISO on the page)."""
    if not iso:
        return "–"
    d = datetime.fromisoformat(iso)
    return f"{day_words(iso, lang)} {d:%H:%M}"


def render_page(report: dict[str, Any], lang: str, query_string: str = "", pilot: dict[str, Any] | None = None) -> str:
    lang = norm_lang(lang)
    return (
        _env()
        .get_template("owner.html")
        .render(
            r=report,
            lang=lang,
            other_lang="en" if lang == "zh" else "zh",
            qs_amp=("&" + query_string) if query_string else "",
            t=lambda key: t(lang, key),
            money=lambda x: money(x, lang),
            months=lambda x: months(x, lang),
            pct=pct,
            pilot=pilot or {"configured": False},
            pt=lambda key: pt(lang, key),
            day=lambda x: day_words(x, lang),
            when=lambda x: when(x, lang),
            yuan=lambda x: yuan(x, lang),
            mw=lambda x: months_words(x, lang),
            share=pct_share,
            signed=signed,
            formulas=FORMULAS,
        )
    )


def render_pdf(report: dict[str, Any], lang: str) -> bytes:
    """One A4 page: payback and range, investment, the before/after table, the sensitivity table.

    Both languages use the embedded TrueType CJK subset (``adapters.pdf_fonts``), Latin glyphs
    included, so no font is left to the viewer. Figures are the same strings as on the page.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from seamline.adapters.pdf_fonts import cjk_font

    lang = norm_lang(lang)
    font = bold = cjk_font()  # embedded TrueType subset in both languages: nothing left to the viewer

    def st(size: float, fnt: str = font, lead: float | None = None) -> ParagraphStyle:
        return ParagraphStyle("s", fontName=fnt, fontSize=size, leading=lead or size * 1.3, wordWrap="CJK")

    body, small, head = st(8.5), st(7), st(15, bold)
    L = lambda k: t(lang, k)  # noqa: E731
    M = lambda x: money(x, lang)  # noqa: E731
    Mo = lambda x: months(x, lang)  # noqa: E731
    r = report
    story: list[Any] = [
        Paragraph(L("title"), head),
        Paragraph(
            f"{L('subtitle')}; {r['factory']}; {L('period')}: {when(r['start'], lang)} {L('to')} "
            f"{when(r['end'], lang)}; "
            f"{r['blocks']} {L('block_' + r['block_kind'])}",
            small,
        ),
        Spacer(1, 4 * mm),
    ]
    headline = [
        [Paragraph(L(k), small) for k in ("payback", "range", "net_monthly", "investment")],
        [
            Paragraph(Mo(r["payback_months"]), st(14, bold)),
            Paragraph(f"{Mo(r['payback_p10'])} – {Mo(r['payback_p90'])}", st(11, bold)),
            Paragraph(M(r["net_monthly_cny"]), st(12, bold)),
            Paragraph(M(r["investment"]["one_off_cny"]), st(12, bold)),
        ],
    ]
    tbl = Table(headline, colWidths=[36 * mm, 58 * mm, 44 * mm, 44 * mm])
    tbl.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 6),
                ("FONT", (0, 0), (-1, -1), font, 8.5),
            ]
        )
    )
    story += [tbl, Spacer(1, 3 * mm)]
    inv = r["investment"]
    story.append(
        Paragraph(
            "{} {} × {}; {} {} × ".format(
                L("sensors"), inv["stations"], M(inv["sensor_cost_per_station"]), L("tablets"), inv["tablets"]
            )
            + f"{M(inv['tablet_cost'])}; {L('installation')} {M(inv['installation'])}; {L('software')} "
            f"{M(inv['software_per_month'])}",
            small,
        )
    )
    if r["block_kind"] == "hour":
        story.append(Paragraph(L("hour_warning"), small))
    story += [Spacer(1, 3 * mm), Paragraph(L("effects"), st(11, bold))]
    rows: list[list[Any]] = [[Paragraph(L(k), body) for k in ("metric", "before", "source", "after", "money")]]
    for f in r["figures"]:
        rows.append(
            [
                Paragraph(L(f["metric"]), body),
                f["before"] or "–",
                Paragraph((f["before_source_zh"] if lang == "zh" else f["before_source"]) or "", small),
                f["after"] or "–",
                M(f["monthly_cny"]) if f["monthly_cny"] is not None else Paragraph(L(f["note"]), small),
            ]
        )
    eff = Table(rows, colWidths=[38 * mm, 16 * mm, 70 * mm, 26 * mm, 32 * mm], repeatRows=1)
    grid: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font, 8.5),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ]
    eff.setStyle(TableStyle(grid))
    story += [eff, Spacer(1, 3 * mm), Paragraph(L("sensitivity"), st(11, bold))]
    srows: list[list[Any]] = [
        [Paragraph(L(k), body) for k in ("scenario", "investment", "net_monthly", "payback", "range")]
    ]
    for sc in r["scenarios"]:
        srows.append(
            [
                Paragraph(L(sc["key"]), body),
                M(sc["one_off_cny"]),
                M(sc["net_monthly_cny"]),
                Mo(sc["payback_months"]),
                f"{Mo(sc['p10'])} – {Mo(sc['p90'])}",
            ]
        )
    sens = Table(srows, colWidths=[50 * mm, 30 * mm, 34 * mm, 26 * mm, 42 * mm])
    sens.setStyle(TableStyle(grid))
    story += [
        sens,
        Spacer(1, 3 * mm),
        Paragraph(
            L("how_measured_before" if r.get("before_period") else "how").format(
                n=r["resamples"], kind=L("block_" + r["block_kind"])
            ),
            small,
        ),
        Paragraph(L("pdf_note"), small),
    ]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=L("title"),
        author="seamline",
        initialFontName=font,
    )
    doc.build(story)
    return buf.getvalue()
