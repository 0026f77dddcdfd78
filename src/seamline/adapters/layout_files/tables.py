"""Rows of a CSV file or of an xlsx sheet, with the row numbers people see.

Both formats are reduced to the same thing, a header and text cells, so the readers of each kind of
file are written once. Excel hands us typed cells (numbers, dates, times); they are turned back into
the text a CSV would hold, so ``0.45`` stays ``0.45`` and a due date stays ``2026-12-05``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from .. import csv_cells
from .errors import Problems

Cell = str | int | float | date | None


@dataclass(slots=True)
class Table:
    """A header and rows of stripped text cells; ``rows`` holds (row number, {column: text})."""

    source: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


def cell_text(value: Any) -> str:
    """Excel's typed cell → the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value).strip()


def _to_table(
    source: str,
    raw_rows: Iterable[Sequence[Any]],
    required: Sequence[str],
    problems: Problems,
) -> Table | None:
    it = iter(raw_rows)
    header_raw = next(it, None)
    if header_raw is None:
        problems.add(source, 1, None, None, "file is empty; the first row must name the columns")
        return None
    header = [cell_text(h).lower() for h in header_raw]
    # Trailing empty header cells are common in sheets that were once wider.
    while header and header[-1] == "":
        header.pop()
    missing = [c for c in required if c not in header]
    for c in missing:
        problems.add(source, 1, c, None, f"required column is missing (the header row has {header})")
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            problems.add(source, 1, h, None, "column appears twice in the header")
        seen.add(h)
    if missing:
        return None
    rows: list[tuple[int, dict[str, str]]] = []
    for rowno, raw in enumerate(it, start=2):
        cells = [cell_text(v) for v in raw]
        if not any(cells):
            continue  # blank rows are how people separate groups; they keep their number
        row = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
        rows.append((rowno, row))
    return Table(source, [h for h in header if h], rows)


def read_csv(path: Path, source: str, required: Sequence[str], problems: Problems) -> Table | None:
    """Read a UTF-8 CSV (with or without the BOM Excel writes for "CSV UTF-8")."""
    try:
        data = path.read_bytes()
    except OSError as e:
        problems.add(source, None, None, None, f"cannot read the file: {e.strerror or e}")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        problems.add(
            source,
            line,
            None,
            None,
            "the file is not UTF-8 (Excel's plain 'CSV' on a Chinese Windows saves GBK); "
            "save it as 'CSV UTF-8' or use the .xlsx workbook",
        )
        return None
    try:
        raw = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        problems.add(source, None, None, None, f"not a readable CSV: {e}")
        return None
    # Cells seamline wrote with a protective "'" (adapters/csv_cells.py) get their text back.
    raw = [[csv_cells.restore(c) for c in row] for row in raw]
    return _to_table(source, raw, required, problems)


def open_workbook(path: Path, problems: Problems) -> Workbook | None:
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds (zip, xml, key) for a damaged file
        problems.add(path.name, None, None, None, f"cannot open as an Excel .xlsx workbook: {e}")
        return None


def read_sheet(wb: Workbook, sheet: str, source: str, required: Sequence[str], problems: Problems) -> Table | None:
    ws = wb[sheet]
    return _to_table(source, ws.iter_rows(values_only=True), required, problems)


def csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """Plain UTF-8 without BOM: diff-friendly in git; the .xlsx is the file for Excel users."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv_cells.writer(f, lineterminator="\n")  # "=…" cells stay text in a spreadsheet
        w.writerow(columns)
        for r in rows:
            w.writerow([csv_text(v) for v in r])


def add_sheet(wb: Workbook, title: str, columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(list(columns))
    for r in rows:
        ws.append(list(r))
        for cell in ws[ws.max_row]:
            # openpyxl stores any text starting with "=" as a formula; it is data here.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for i, col in enumerate(columns, start=1):
        width = max([len(col), *(len(csv_text(r[i - 1])) for r in ws.iter_rows(min_row=2, values_only=True))])
        ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(width + 2, 8), 60)
