"""Bundle tickets as PDF: A4 sheets (ten tickets a page) and 60 × 40 mm labels, each with a QR code.

The QR code carries the bundle id and nothing else: it is what the station scanner or the tablet
reads into ``bundle_in``, and a bare id keeps the code small (version 1-3), so it scans from a
thermal label at 203 dpi. The ``qrcode`` package encodes it; the modules are drawn as vector
rectangles, so the code stays sharp at any printer resolution. All text, Chinese and Latin, uses the
embedded TrueType CJK subset every seamline PDF uses (``adapters.pdf_fonts``): a label printer's
driver or a phone without a Chinese font prints it as drawn. Labels are bilingual (中文 English),
as the floor reads Chinese first and buyers' QC English.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

import qrcode
import qrcode.constants
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from seamline.adapters.pdf_fonts import cjk_font
from seamline.domain.model import FactoryLayout

from .cutting import CutPlan

BOLD_STROKE_PT = 0.35  # the CJK font has no bold face: bold is the glyph filled and outlined
LABEL_SIZE = (60 * mm, 40 * mm)
SHEET_COLS, SHEET_ROWS = 2, 5
SHEET_MARGIN_MM = 8


@dataclass(frozen=True, slots=True)
class Ticket:
    bundle_id: str
    order_id: str
    customer: str
    style_code: str
    style_name: str
    size: str
    colour: str
    qty: int
    lay_no: int
    n: int
    of: int
    factory: str = ""


def tickets_of(plan: CutPlan, layout: FactoryLayout | None = None) -> list[Ticket]:
    n = len(plan.bundles)
    fac = layout.factory.name if layout is not None else ""
    return [
        Ticket(
            b.id,
            plan.order.id,
            plan.order.customer,
            plan.style.code,
            plan.style.name_zh,
            b.size,
            b.colour,
            b.qty,
            plan.bundle_lay[b.id],
            i,
            n,
            fac,
        )
        for i, b in enumerate(plan.bundles, 1)
    ]


def _text(c: Canvas, x: float, y: float, text: str, size: float, max_w: float, bold: bool = False) -> None:
    """Draw one line, shrinking the font until it fits ``max_w`` (long customer names)."""
    font = cjk_font()
    while size > 4 and pdfmetrics.stringWidth(text, font, size) > max_w:
        size -= 0.5
    c.setFont(font, size)
    if bold:
        c.setLineWidth(BOLD_STROKE_PT)
    c.drawString(x, y, text, mode=2 if bold else 0)


def qr_matrix(value: str) -> list[list[bool]]:
    """Modules of the QR code (error correction M, 4-module quiet zone included), row 0 on top."""
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    q.add_data(value)
    q.make(fit=True)
    return q.get_matrix()


def _qr(c: Canvas, value: str, x: float, y: float, side: float) -> None:
    """Draw the code as one filled path of horizontal runs: 20x faster than reportlab's widget,
    which encodes twice and draws a shape per module."""
    m = qr_matrix(value)
    n = len(m)
    cell = side / n
    path = c.beginPath()
    for r, row in enumerate(m):
        top = y + side - (r + 1) * cell
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(x + start * cell, top, (col - start) * cell, cell)
            else:
                col += 1
    c.setFillColorRGB(0, 0, 0)
    c.drawPath(path, stroke=0, fill=1)


def _ticket(c: Canvas, t: Ticket, x: float, y: float, w: float, h: float) -> None:
    c.setLineWidth(0.3)
    c.setDash(2, 2)
    c.rect(x, y, w, h)  # cut line
    c.setDash()
    pad = 4 * mm
    side = min(h - 2 * pad, 38 * mm)
    _qr(c, t.bundle_id, x + w - pad - side, y + (h - side) / 2, side)
    tw = w - 3 * pad - side
    tx, ty = x + pad, y + h - pad - 10
    _text(c, tx, ty, t.bundle_id, 14, tw, bold=True)
    rows = [
        f"订单 Order {t.order_id}",
        t.customer,
        f"款号 Style {t.style_code}",
        t.style_name,
        f"尺码 Size {t.size}   颜色 Colour {t.colour}",
        f"数量 Qty {t.qty}   床次 Lay {t.lay_no}",
        f"扎号 Bundle {t.n} / {t.of}",
    ]
    for i, line in enumerate(rows):
        _text(c, tx, ty - 16 - i * 11, line, 8.5, tw)
    if t.factory:
        _text(c, tx, y + pad - 2, t.factory, 6, tw)


def sheets_pdf(tickets: Sequence[Ticket]) -> bytes:
    """A4 pages, 2 × 5 tickets each, dashed cut lines."""
    buf = BytesIO()
    c = Canvas(buf, pagesize=A4, initialFontName=cjk_font())  # type: ignore[arg-type]  # stub says float
    c.setTitle("扎票 bundle tickets")
    pw, ph = A4
    margin = SHEET_MARGIN_MM * mm
    w = (pw - 2 * margin) / SHEET_COLS
    h = (ph - 2 * margin) / SHEET_ROWS
    per_page = SHEET_COLS * SHEET_ROWS
    for i, t in enumerate(tickets):
        if i and i % per_page == 0:
            c.showPage()
        k = i % per_page
        col, row = k % SHEET_COLS, k // SHEET_COLS
        _ticket(c, t, margin + col * w, ph - margin - (row + 1) * h, w, h)
    c.showPage()
    c.save()
    return buf.getvalue()


def labels_pdf(tickets: Sequence[Ticket]) -> bytes:
    """One 60 × 40 mm page per bundle, for a thermal label printer."""
    buf = BytesIO()
    lw, lh = LABEL_SIZE
    c = Canvas(buf, pagesize=LABEL_SIZE, initialFontName=cjk_font())  # type: ignore[arg-type]  # stub says float
    c.setTitle("扎标签 bundle labels")
    for t in tickets:
        pad = 2 * mm
        side = lh - 2 * pad - 4 * mm
        _qr(c, t.bundle_id, pad, lh - pad - side, side)
        tx = pad + side + 1.5 * mm
        tw = lw - tx - pad
        _text(c, tx, lh - pad - 8, t.order_id, 8, tw, bold=True)
        lines = [
            f"款号 Style {t.style_code}",
            f"{t.size} / {t.colour}",
            f"数量 Qty {t.qty}",
            f"床次 Lay {t.lay_no}",
            f"扎号 Bundle {t.n}/{t.of}",
        ]
        for i, line in enumerate(lines):
            _text(c, tx, lh - pad - 19 - i * 9, line, 7, tw)
        _text(c, pad, pad, t.bundle_id, 9, lw - 2 * pad, bold=True)
        c.showPage()
    c.save()
    return buf.getvalue()
