"""Factory files: a factory as a folder of CSV files or one Excel workbook, in and out.

Factories keep their master data in Excel, so the files are the owner's interface: every mistake is
reported with file, row (as Excel numbers it) and column, and everything a factory can say in the
files round-trips through :func:`save_factory` unchanged. See ``docs/data-files.md`` for the format.

Public API (pure functions of paths → :mod:`seamline.domain.model` objects):
:func:`load_factory` / :func:`save_factory` for a whole factory, and per kind
:func:`load_bulletin`, :func:`load_workers`, :func:`load_orders`, :func:`load_stations` with their
``save_*`` counterparts, each choosing CSV or xlsx by the file extension.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path

from openpyxl import Workbook

from seamline.domain.cutting import cut_order
from seamline.domain.model import FactoryLayout, Order, Station, Style, Worker

from . import writers as W
from .errors import MAX_PROBLEMS_PER_FILE, LayoutFileError, Problem, Problems
from .readers import COLUMNS, StyleHeader, required_columns
from .readers import read_bulletin as _read_bulletin
from .readers import read_calendars as _read_calendars
from .readers import read_factory as _read_factory
from .readers import read_lines as _read_lines
from .readers import read_orders as _read_orders
from .readers import read_stations as _read_stations
from .readers import read_styles as _read_styles
from .readers import read_workers as _read_workers
from .tables import Table, add_sheet, open_workbook, read_csv, read_sheet, write_csv

__all__ = [
    "BULLETIN_SHEET_PREFIX",
    "MAX_PROBLEMS_PER_FILE",
    "LayoutFileError",
    "Problem",
    "load_bulletin",
    "load_factory",
    "load_orders",
    "load_stations",
    "load_workers",
    "save_bulletin",
    "save_factory",
    "save_orders",
    "save_stations",
    "save_workers",
]

# Excel forbids ":" in sheet names, so a style's bulletin sheet is "bulletin JEANS-5P".
BULLETIN_SHEET_PREFIX = "bulletin "
_SHEET_MAX = 31
REQUIRED_FILES = ("factory", "lines", "stations")
# The sheets of a factory workbook (files of a folder), in the order they are written.
FILE_KINDS = ("factory", "calendars", "lines", "stations", "workers", "styles", "orders")


def _is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


def bulletin_sheet(style_code: str) -> str:
    """The sheet a style's bulletin gets in a workbook: Excel's rules (no \\ / ? * [ ] :, at most
    31 characters) applied to ``bulletin <code>``. The styles sheet's ``bulletin`` column names it,
    so a shortened name still finds its style."""
    return re.sub(r"[\\/?*\[\]:]", "_", BULLETIN_SHEET_PREFIX + style_code)[:_SHEET_MAX]


def _distinct(codes: Iterable[str], make: Callable[[str, str], str], taken: Collection[str]) -> dict[str, str]:
    """One distinct name per style even when cleaning or shortening makes two collide (compared
    without case, as Excel and the Windows and macOS file systems do)."""
    used = {t.lower() for t in taken}
    out: dict[str, str] = {}
    for code in codes:
        name, n = make(code, ""), 1
        while name.lower() in used:
            n += 1
            name = make(code, f" ({n})")
        used.add(name.lower())
        out[code] = name
    return out


def _sheet_name(code: str, tag: str) -> str:
    return bulletin_sheet(code)[: _SHEET_MAX - len(tag)] + tag


def bulletin_filename(style_code: str, tag: str = "") -> str:
    """``bulletins/<code>.csv``, with characters a file system dislikes replaced by ``_``."""
    return "bulletins/" + re.sub(r"[^\w.\-]", "_", style_code + tag.replace(" ", "")) + ".csv"


class _Folder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def table(self, kind: str, problems: Problems) -> Table | None:
        name = f"{kind}.csv"
        if not (self.root / name).is_file():
            if kind in REQUIRED_FILES:
                problems.add(name, None, None, None, f"file is missing from {self.root}")
            return None
        return read_csv(self.root / name, name, required_columns(kind), problems)

    def bulletin(self, h: StyleHeader, problems: Problems) -> Table | None:
        rel = h.bulletin or bulletin_filename(h.code)
        path = self.root / rel
        if not path.is_file():
            problems.add(h.source, h.rowno, "bulletin", h.bulletin, f"no bulletin file {rel} in {self.root}")
            return None
        if _is_xlsx(path):
            return _xlsx_table(path, "bulletin", problems, prefer=bulletin_sheet(h.code))
        return read_csv(path, rel, required_columns("bulletin"), problems)


class _Book:
    def __init__(self, path: Path, problems: Problems) -> None:
        self.path = path
        self.wb = open_workbook(path, problems)
        self.names = list(self.wb.sheetnames) if self.wb is not None else []
        # Sheet names are matched without regard to case, as Excel itself does.
        self.by_lower = {n.lower(): n for n in self.names}

    def close(self) -> None:
        if self.wb is not None:
            self.wb.close()

    def sheet(self, name: str) -> str | None:
        return self.by_lower.get(name.lower())

    def table(self, kind: str, problems: Problems) -> Table | None:
        if self.wb is None:
            return None
        sheet = self.sheet(kind)
        if sheet is None:
            if kind in REQUIRED_FILES:
                problems.add(self.path.name, None, None, None, f'sheet "{kind}" is missing (sheets: {self.names})')
            return None
        return read_sheet(self.wb, sheet, f"{self.path.name}, sheet {sheet}", required_columns(kind), problems)

    def bulletin(self, h: StyleHeader, problems: Problems) -> Table | None:
        if self.wb is None:
            return None
        sheet = (h.bulletin and self.sheet(h.bulletin)) or self.sheet(bulletin_sheet(h.code))
        if sheet is None:
            want = bulletin_sheet(h.code)
            problems.add(h.source, h.rowno, "bulletin", h.bulletin, f'no sheet "{want}" in {self.path.name}')
            return None
        source = f"{self.path.name}, sheet {sheet}"
        return read_sheet(self.wb, sheet, source, required_columns("bulletin"), problems)


def _column(table: Table | None, col: str) -> set[str] | None:
    """Ids present in a file, valid or not: references are checked against these so one bad row
    is reported once, not again at every row that names it."""
    if table is None:
        return None
    return {cells.get(col, "") for _, cells in table.rows} - {""}


def load_factory(path: str | Path) -> FactoryLayout:
    """Read a factory folder (or ``.xlsx`` workbook) and cut every order into bundles.

    Raises :class:`LayoutFileError` listing every problem found (up to 20 per file).
    """
    path = Path(path)
    problems = Problems()
    if _is_xlsx(path):
        book = _Book(path, problems)
        try:
            layout = _load(book, problems)
        finally:
            book.close()
    elif path.is_dir():
        layout = _load(_Folder(path), problems)
    elif not path.exists():
        problems.add(str(path), None, None, None, "does not exist")
        layout = None
    else:
        problems.add(path.name, None, None, None, "is neither a factory folder nor an .xlsx workbook")
        layout = None
    problems.raise_if_any()
    assert layout is not None
    return layout


def _load(src: _Folder | _Book, problems: Problems) -> FactoryLayout | None:
    ft = src.table("factory", problems)
    factory = _read_factory(ft, problems) if ft is not None else None
    fid = factory.id if factory else ""
    tz = factory.timezone if factory else "Asia/Shanghai"

    ct = src.table("calendars", problems)
    calendars = _read_calendars(ct, problems, tz) if ct is not None else {}
    lt = src.table("lines", problems)
    lines = _read_lines(lt, problems, fid, _column(ct, "id") or set()) if lt is not None else {}
    line_ids = _column(lt, "id") or set()
    st = src.table("stations", problems)
    stations = _read_stations(st, problems, fid, line_ids) if st is not None else {}

    styles: dict[str, Style] = {}
    op_codes: set[str] = set()
    yt = src.table("styles", problems)
    for h in _read_styles(yt, problems) if yt is not None else []:
        bt = src.bulletin(h, problems)
        if bt is None:
            continue
        op_codes |= _column(bt, "code") or set()
        style = _read_bulletin(bt, problems, h.code, h.name_zh, h.name_en, h.bundle_size)
        if style is not None:
            styles[style.code] = style

    wt = src.table("workers", problems)
    workers = _read_workers(wt, problems, line_ids, op_codes) if wt is not None else {}
    ot = src.table("orders", problems)
    orders = _read_orders(ot, problems, _column(yt, "code") or set()) if ot is not None else {}
    if problems or factory is None:
        return None
    layout = FactoryLayout(
        factory=factory,
        lines=lines,
        stations=stations,
        workers=workers,
        styles=styles,
        orders=orders,
        calendars=calendars,
    )
    for order in orders.values():
        for b in cut_order(order, styles[order.style_code]):
            layout.bundles[b.id] = b
    return layout


def save_factory(layout: FactoryLayout, path: str | Path) -> None:
    """Write a layout as a folder of CSV files, or as one workbook if ``path`` ends in ``.xlsx``.

    Bundles are not written: :func:`load_factory` cuts them again from the orders, deterministically.
    """
    path = Path(path)
    styles = list(layout.styles.values())
    xlsx = _is_xlsx(path)
    codes = [s.code for s in styles]
    refs = _distinct(codes, _sheet_name, FILE_KINDS) if xlsx else _distinct(codes, bulletin_filename, ())
    tables: list[tuple[str, W.Rows]] = [
        ("factory", W.factory_rows(layout.factory)),
        ("calendars", W.calendar_rows(layout.calendars.values())),
        ("lines", W.line_rows(layout.lines.values())),
        ("stations", W.station_rows(layout.stations.values())),
        ("workers", W.worker_rows(layout.workers.values())),
        ("styles", W.style_rows(styles, refs)),
        ("orders", W.order_rows(layout.orders.values())),
    ]
    if xlsx:
        wb = Workbook()
        wb.remove(wb.worksheets[0])  # the empty default sheet
        for kind, rows in tables:
            add_sheet(wb, kind, COLUMNS[kind], rows)
        for s in styles:
            add_sheet(wb, refs[s.code], COLUMNS["bulletin"], W.bulletin_rows(s))
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        return
    path.mkdir(parents=True, exist_ok=True)
    for kind, rows in tables:
        write_csv(path / f"{kind}.csv", COLUMNS[kind], rows)
    for s in styles:
        write_csv(path / refs[s.code], COLUMNS["bulletin"], W.bulletin_rows(s))


# ---- one kind of file at a time -------------------------------------------------------------


def _xlsx_table(path: Path, kind: str, problems: Problems, prefer: str | None = None) -> Table | None:
    wb = open_workbook(path, problems)
    if wb is None:
        return None
    try:
        by_lower = {n.lower(): n for n in wb.sheetnames}
        sheet = next((by_lower[n.lower()] for n in (prefer, kind) if n and n.lower() in by_lower), None)
        sheet = sheet or wb.sheetnames[0]
        return read_sheet(wb, sheet, f"{path.name}, sheet {sheet}", required_columns(kind), problems)
    finally:
        wb.close()


def _one_table(path: str | Path, kind: str, problems: Problems, prefer: str | None = None) -> Table | None:
    path = Path(path)
    if _is_xlsx(path):
        return _xlsx_table(path, kind, problems, prefer)
    return read_csv(path, path.name, required_columns(kind), problems)


def _write_one(path: str | Path, kind: str, rows: W.Rows, sheet: str | None = None) -> None:
    path = Path(path)
    if _is_xlsx(path):
        wb = Workbook()
        wb.remove(wb.worksheets[0])  # the empty default sheet
        add_sheet(wb, sheet or kind, COLUMNS[kind], rows)
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
    else:
        write_csv(path, COLUMNS[kind], rows)


def load_bulletin(
    path: str | Path,
    style_code: str,
    name_zh: str = "",
    name_en: str = "",
    bundle_size: int = 20,
    sheet: str | None = None,
) -> Style:
    """An operation bulletin (CSV, or the ``bulletin <code>`` sheet / first sheet of a workbook)."""
    problems = Problems()
    t = _one_table(path, "bulletin", problems, prefer=sheet or bulletin_sheet(style_code))
    style = _read_bulletin(t, problems, style_code, name_zh, name_en, bundle_size) if t is not None else None
    problems.raise_if_any()
    assert style is not None
    return style


def save_bulletin(style: Style, path: str | Path) -> None:
    _write_one(path, "bulletin", W.bulletin_rows(style), sheet=bulletin_sheet(style.code))


def load_workers(
    path: str | Path, line_ids: Collection[str] | None = None, known_ops: Collection[str] | None = None
) -> dict[str, Worker]:
    """Workers by badge. Given ``line_ids`` / ``known_ops``, references to others are checked too."""
    problems = Problems()
    t = _one_table(path, "workers", problems)
    out = _read_workers(t, problems, line_ids, known_ops) if t is not None else {}
    problems.raise_if_any()
    return out


def _values(items: Mapping[str, object] | Iterable[object]) -> list:
    return list(items.values()) if isinstance(items, Mapping) else list(items)


def save_workers(workers: Mapping[str, Worker] | Iterable[Worker], path: str | Path) -> None:
    _write_one(path, "workers", W.worker_rows(_values(workers)))


def load_orders(path: str | Path, style_codes: Collection[str] | None = None) -> dict[str, Order]:
    """Orders by id (rows of one order merged). Given ``style_codes``, unknown styles are errors."""
    problems = Problems()
    t = _one_table(path, "orders", problems)
    out = _read_orders(t, problems, style_codes) if t is not None else {}
    problems.raise_if_any()
    return out


def save_orders(orders: Mapping[str, Order] | Iterable[Order], path: str | Path) -> None:
    _write_one(path, "orders", W.order_rows(_values(orders)))


def load_stations(
    path: str | Path, factory_id: str = "", line_ids: Collection[str] | None = None
) -> dict[str, Station]:
    """Stations by id; ``factory_id`` fills :attr:`Station.factory_id` (the file does not repeat it)."""
    problems = Problems()
    t = _one_table(path, "stations", problems)
    out = _read_stations(t, problems, factory_id, line_ids) if t is not None else {}
    problems.raise_if_any()
    return out


def save_stations(stations: Mapping[str, Station] | Iterable[Station], path: str | Path) -> None:
    _write_one(path, "stations", W.station_rows(_values(stations)))
