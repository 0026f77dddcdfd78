"""Which strings the pages show: extracted from the templates and the Python modules here.

Used by the i18n test (every id translated in every language) and when adding strings
(``python -m seamline.web.catalog`` lists ids missing from a catalog).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from .i18n import LANGS, po_path

HERE = Path(__file__).parent
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "N_": None}


def extracted_ids() -> set[str]:
    ids: set[str] = set()
    for _fn, _line, msg, _comments, _ctx in extract_from_dir(
        str(HERE), METHOD_MAP, OPTIONS, keywords=KEYWORDS, comment_tags=()
    ):
        if isinstance(msg, tuple):
            ids.update(m for m in msg if m)
        elif msg:
            ids.add(msg)
    return ids


def catalog_entries(lang: str) -> dict[str, str]:
    with po_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=lang)
    # a str id is a singular message, so its string is a str too (plurals have tuples of both)
    return {m.id: m.string for m in cat if m.id and isinstance(m.id, str) and isinstance(m.string, str)}


def main() -> int:
    ids = extracted_ids()
    bad = 0
    for lang in LANGS:
        have = catalog_entries(lang)
        for mid in sorted(ids):
            if not have.get(mid):
                print(f"{lang}: missing {mid!r}")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
