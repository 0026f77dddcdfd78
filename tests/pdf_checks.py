"""What a reader's viewer sees of a PDF, by poppler's own tools (the ones the issue names).

``pdffonts`` lists each font with its "emb" column; ``pdftotext`` gives the text as a viewer
extracts it. Both read the bytes through a temporary file, as a user's viewer reads a download.
"""

from __future__ import annotations

import subprocess
import tempfile


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
