"""Bundle tickets: the PDF renders (A4 sheets and 60 × 40 mm labels), and every QR code on the
rendered pages decodes back to exactly the bundle ids of the cutting plan (OpenCV's decoder)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import cv2
import pytest
from pypdf import PdfReader

from seamline.materials.cutting import plan_cut
from seamline.materials.tickets import (
    LABEL_SIZE,
    SHEET_COLS,
    SHEET_MARGIN_MM,
    SHEET_ROWS,
    labels_pdf,
    sheets_pdf,
    tickets_of,
)

from .helpers import example_layout

PDFTOPPM = shutil.which("pdftoppm")


def _render(pdf: bytes, tmp: Path, dpi: int) -> list[Path]:
    if PDFTOPPM is None:
        raise RuntimeError("pdftoppm is missing: apt-get install poppler-utils (scripts/install-system-deps.sh)")
    src = tmp / "t.pdf"
    src.write_bytes(pdf)
    subprocess.run([PDFTOPPM, "-r", str(dpi), "-gray", "-png", str(src), str(tmp / "p")], check=True)
    return sorted(tmp.glob("p-*.png"))


def _decode_sheets(pdf: bytes, tmp: Path, dpi: int = 150) -> list[list[str]]:
    """Decode each ticket cell of each page on its own (row by row), '' where a cell is empty."""
    det = cv2.QRCodeDetector()
    px = dpi / 25.4
    pages = []
    for png in _render(pdf, tmp, dpi):
        img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
        h, w = img.shape
        m = SHEET_MARGIN_MM * px
        cw, ch = (w - 2 * m) / SHEET_COLS, (h - 2 * m) / SHEET_ROWS
        cells = []
        for r in range(SHEET_ROWS):
            for c in range(SHEET_COLS):
                x0, y0 = int(m + c * cw), int(m + r * ch)
                value, _, _ = det.detectAndDecode(img[y0 : int(y0 + ch), x0 : int(x0 + cw)])
                cells.append(value)
        pages.append(cells)
    return pages


@pytest.fixture(scope="module")
def plan():  # type: ignore[no-untyped-def]
    lay = example_layout()
    o = lay.orders["SO-2611-03"]  # jeans: 8 sizes, 24 bundles of at most 12
    return lay, plan_cut(o, lay.styles[o.style_code])


def test_sheet_qr_codes_decode_to_the_bundle_ids(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lay, p = plan
    tickets = tickets_of(p, lay)
    pdf = sheets_pdf(tickets)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3  # 24 tickets, ten a page
    text = reader.pages[0].extract_text()
    assert "SO-2611-03-0001" in text and "五袋款牛仔裤" in text
    ids = [b.id for b in p.bundles]
    assert _decode_sheets(pdf, tmp_path) == [ids[0:10], ids[10:20], ids[20:24] + [""] * 6]


def test_labels_are_60_by_40_mm_and_decode(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lay, p = plan
    tickets = tickets_of(p, lay)[:5]
    pdf = labels_pdf(tickets)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 5
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == (
        round(LABEL_SIZE[0], 2),
        round(LABEL_SIZE[1], 2),
    )
    # 203 dpi: what a thermal label printer prints
    det = cv2.QRCodeDetector()
    decoded = [
        det.detectAndDecode(cv2.imread(str(png), cv2.IMREAD_GRAYSCALE))[0] for png in _render(pdf, tmp_path, 203)
    ]
    assert decoded == [t.bundle_id for t in tickets]


def test_tickets_and_labels_embed_their_font_and_read_in_both_languages(plan) -> None:  # type: ignore[no-untyped-def]
    from tests.pdf_checks import assert_all_fonts_embedded, text

    lay, p = plan
    tickets = tickets_of(p, lay)[:2]
    sheet, label = sheets_pdf(tickets), labels_pdf(tickets[:1])
    assert_all_fonts_embedded(sheet)
    assert_all_fonts_embedded(label)
    on_sheet = text(sheet)
    for both in (
        "订单 Order SO-2611-03",
        "款号 Style",
        "尺码 Size",
        "颜色 Colour",
        "数量 Qty",
        "床次 Lay",
        "扎号 Bundle 1 / 24",
    ):
        assert both in on_sheet, both
    on_label = text(label)
    for both in ("款号 Style", "数量 Qty", "床次 Lay", "扎号 Bundle 1/24", "SO-2611-03-0001"):
        assert both in on_label, both
