"""What a reader's viewer sees of a PDF, by poppler's own tools (the ones the issue names).

``pdffonts`` lists each font with its "emb" column; ``pdftotext`` gives the text as a viewer
extracts it. Both read the bytes through a temporary file, as a user's viewer reads a download.
"""

from __future__ import annotations

import subprocess
import tempfile
from typing import Any


def _run(tool: str, pdf: bytes, *args: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(
            [tool, *args, f.name, *(["-"] if tool == "pdftotext" else [])],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout


def fonts(pdf: bytes) -> list[tuple[str, bool]]:
    """(name, embedded) of every font ``pdffonts`` lists; the columns after the name are
    type (one or two words), encoding, emb, sub, uni, object id, generation."""
    rows = _run("pdffonts", pdf).strip().splitlines()[2:]
    out = []
    for row in rows:
        parts = row.split()
        out.append((parts[0], parts[-5] == "yes"))
    return out


def assert_all_fonts_embedded(pdf: bytes) -> None:
    found = fonts(pdf)
    assert found, "the PDF lists no font at all"
    assert all(emb for _, emb in found), f"fonts not embedded: {[n for n, e in found if not e]}"


def text(pdf: bytes) -> str:
    """The text as pdftotext extracts it, whitespace runs folded to one space."""
    return " ".join(_run("pdftotext", pdf).split())


def render_page(pdf: bytes, page: int = 1, dpi: int = 60) -> Any:
    """The page as poppler's ``pdftoppm`` draws it (what a Linux viewer shows), in grey levels."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        src = f"{d}/in.pdf"
        with open(src, "wb") as f:
            f.write(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-gray",
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                src,
                f"{d}/out",
            ],
            check=True,
            timeout=60,
        )
        with Image.open(f"{d}/out.png") as im:
            return im.convert("L").copy()


def ink_share(im: Any) -> float:
    """Share of pixels darker than light grey: a page drawn blank (the font missing) has none."""
    hist = im.histogram()
    return sum(hist[:192]) / (im.width * im.height)


def differs_from(im: Any, reference: Any) -> float:
    """Mean absolute grey difference (0–1) between a rendering and its reference image."""
    from PIL import ImageChops

    if im.size != reference.size:
        return 1.0
    diff = ImageChops.difference(im, reference).histogram()
    return sum(i * n for i, n in enumerate(diff)) / (255 * im.width * im.height)
