"""Each kind of factory file → domain objects, reporting every bad cell instead of stopping.

A reader never raises on bad data: it adds a :class:`~.errors.Problem` and skips the row, so the
rest of the file is still checked and the owner sees all mistakes at once. References to other
files (a station's line, an order's style) are checked against what the caller already read.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from seamline.domain.model import (
    MACHINE_TYPES,
    Break,
    DomainError,
    Factory,
    Line,
    Operation,
    Order,
    ShiftCalendar,
    Station,
    Style,
    Worker,
)
from seamline.domain.topic_ids import topic_id_problem

from .errors import Problems
from .tables import Table

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LIST_SEP = ";"
MIN_GRADE, MAX_GRADE = 1, 5

COLUMNS: dict[str, tuple[str, ...]] = {
    "factory": ("id", "name", "timezone"),
    "calendars": ("id", "timezone", "shift_start", "shift_end", "breaks", "workdays"),
    "lines": ("id", "name", "calendar_id", "target_efficiency_pct"),
    "stations": ("id", "line_id", "sensor_id", "machine_type", "position"),
    "workers": ("badge", "name", "line_id", "skill_group", "skills"),
    "styles": ("code", "name_zh", "name_en", "bundle_size", "bulletin"),
    "bulletin": (
        "code",
        "name_zh",
        "name_en",
        "sam_min",
        "machine_type",
        "skill_grade",
        "predecessors",
        "instruction",
    ),
    "orders": ("id", "customer", "style_code", "size", "colour", "qty", "due", "priority"),
}
# Columns a file may leave out (a default applies); all others must be in the header.
OPTIONAL: dict[str, frozenset[str]] = {
    "factory": frozenset({"name", "timezone"}),
    "calendars": frozenset({"timezone", "shift_start", "shift_end", "breaks", "workdays"}),
    "lines": frozenset({"name", "calendar_id", "target_efficiency_pct"}),
    "stations": frozenset({"sensor_id", "position"}),
    "workers": frozenset({"line_id", "skill_group", "skills"}),
    "styles": frozenset({"name_zh", "name_en", "bundle_size", "bulletin"}),
    "bulletin": frozenset({"name_zh", "name_en", "skill_grade", "predecessors", "instruction"}),
    "orders": frozenset({"customer", "priority"}),
}


def required_columns(kind: str) -> list[str]:
    return [c for c in COLUMNS[kind] if c not in OPTIONAL[kind]]


_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_INT_RE = re.compile(r"^[+-]?\d+(?:\.0*)?$")


class _Row:
    """Typed access to one row's cells; every failure becomes a Problem naming row and column."""

    def __init__(self, table: Table, rowno: int, cells: dict[str, str], problems: Problems) -> None:
        self.table, self.rowno, self.cells, self.problems = table, rowno, cells, problems
        self.ok = True

    def error(self, column: str | None, message: str, value: str | None = None) -> None:
        self.ok = False
        if value is None and column is not None:
            value = self.cells.get(column)
        self.problems.add(self.table.source, self.rowno, column, value, message)

    def text(self, col: str, default: str | None = None) -> str:
        v = self.cells.get(col, "")
        if v == "":
            if default is None:
                self.error(col, "is empty; a value is required", value="")
                return ""
            return default
        return v

    def integer(self, col: str, lo: int, hi: int | None = None, default: int | None = None) -> int:
        v = self.cells.get(col, "")
        if v == "" and default is not None:
            return default
        rng = f"{lo}-{hi}" if hi is not None else f">= {lo}"
        if not _INT_RE.match(v):
            self.error(col, f"must be a whole number {rng}")
            return lo
        n = int(float(v))
        if n < lo or (hi is not None and n > hi):
            self.error(col, f"must be a whole number {rng}")
        return n

    def number(self, col: str, lo: float, hi: float, *, lo_open: bool = False, default: float | None = None) -> float:
        v = self.cells.get(col, "")
        if v == "" and default is not None:
            return default
        bound = f"{'more than' if lo_open else 'at least'} {lo:g} and at most {hi:g}"
        try:
            x = float(v.replace(",", ".")) if v.count(",") == 1 and "." not in v else float(v)
        except ValueError:
            self.error(col, f"must be a number {bound}")
            return lo
        if x != x or x > hi or x < lo or (lo_open and x == lo):
            self.error(col, f"must be a number {bound}")
        return x

    def when(self, col: str, default: time | None = None) -> time:
        v = self.cells.get(col, "")
        if v == "" and default is not None:
            return default
        t = parse_time(v)
        if t is None:
            self.error(col, "must be a time of day like 08:00")
            return time(0, 0)
        return t

    def day(self, col: str) -> date:
        v = self.cells.get(col, "")
        try:
            return date.fromisoformat(v[:10] if len(v) > 10 and v[10] in "T " else v)
        except ValueError:
            self.error(col, "must be a date like 2026-12-05 (YYYY-MM-DD)")
            return date.min

    def ref(self, col: str, known: Collection[str] | None, what: str, *, optional: bool = False) -> str:
        v = self.text(col, "" if optional else None)
        if v and known is not None and v not in known:
            shown = ", ".join(sorted(known)[:12]) or "none"
            self.error(col, f"unknown {what} (known: {shown})")
        return v

    def machine_type(self, col: str = "machine_type") -> str:
        v = self.text(col)
        if v and v not in MACHINE_TYPES:
            self.error(col, f"unknown machine type; use one of {', '.join(MACHINE_TYPES)}")
        return v


def parse_time(v: str) -> time | None:
    m = _TIME_RE.match(v.strip())
    if not m:
        return None
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if h == 24 and mi == 0 and s == 0:
        return time(0, 0)
    if h > 23 or mi > 59 or s > 59:
        return None
    return time(h, mi, s)


def split_list(v: str) -> list[str]:
    return [p.strip() for p in v.split(LIST_SEP) if p.strip()]


def _rows(table: Table, problems: Problems) -> list[_Row]:
    return [_Row(table, n, cells, problems) for n, cells in table.rows]


def _unique(r: _Row, col: str, value: str, seen: dict[str, int], what: str) -> bool:
    if value in seen:
        r.error(col, f"duplicate {what}; row {seen[value]} has it already")
        return False
    seen[value] = r.rowno
    return True


def _zone(r: _Row, col: str, default: str) -> str:
    tz = r.text(col, default)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        r.error(col, "unknown time zone; use an IANA name like Asia/Shanghai")
    return tz


def _topic_id(r: _Row, kind: str, value: str) -> None:
    """Factory and station ids become MQTT topic levels and broker user names: no wildcards."""
    problem = topic_id_problem(kind, value) if value else None
    if problem:
        r.error("id", problem)


def read_factory(table: Table, problems: Problems) -> Factory | None:
    rows = _rows(table, problems)
    if len(rows) != 1:
        problems.add(table.source, None, None, None, f"must have exactly one factory row, found {len(rows)}")
        if not rows:
            return None
    r = rows[0]
    fid = r.text("id")
    _topic_id(r, "factory", fid)
    f = Factory(id=fid, name=r.text("name", fid), timezone=_zone(r, "timezone", "Asia/Shanghai"))
    return f if r.ok else None


def parse_breaks(r: _Row, col: str = "breaks") -> tuple[Break, ...]:
    out: list[Break] = []
    for item in split_list(r.cells.get(col, "")):
        span, _, name = item.partition(" ")
        a, sep, b = span.partition("-")
        ta, tb = parse_time(a), parse_time(b)
        if not sep or ta is None or tb is None:
            r.error(col, f'break "{item}" must look like 12:00-13:00 lunch')
            continue
        if ta == tb:
            r.error(col, f'break "{item}" has no length')
            continue
        out.append(Break(start=ta, end=tb, name=name.strip() or "break"))
    return tuple(out)


def parse_workdays(r: _Row, col: str = "workdays") -> tuple[int, ...]:
    v = r.cells.get(col, "")
    if not v:
        return ShiftCalendar(id="x").workdays
    days: list[int] = []
    lowered = [d.lower() for d in DAY_NAMES]
    for item in split_list(v):
        key = item[:3].lower()
        if key not in lowered:
            r.error(col, f'"{item}" is not a day; use Mon;Tue;Wed;Thu;Fri;Sat;Sun')
            continue
        i = lowered.index(key)
        if i in days:
            r.error(col, f'"{item}" is listed twice')
            continue
        days.append(i)
    return tuple(days)


def read_calendars(table: Table, problems: Problems, default_tz: str) -> dict[str, ShiftCalendar]:
    out: dict[str, ShiftCalendar] = {}
    seen: dict[str, int] = {}
    for r in _rows(table, problems):
        cid = r.text("id")
        if cid:
            _unique(r, "id", cid, seen, "calendar id")
        cal = ShiftCalendar(
            id=cid,
            timezone=_zone(r, "timezone", default_tz),
            shift_start=r.when("shift_start", time(8, 0)),
            shift_end=r.when("shift_end", time(17, 0)),
            breaks=parse_breaks(r),
            workdays=parse_workdays(r),
        )
        if r.ok and cal.shift_start == cal.shift_end:
            r.error("shift_end", "the shift ends when it starts")
        if r.ok:
            out[cid] = cal
    return out


def read_lines(
    table: Table, problems: Problems, factory_id: str, calendar_ids: Collection[str] | None
) -> dict[str, Line]:
    out: dict[str, Line] = {}
    seen: dict[str, int] = {}
    known_cals = None if calendar_ids is None else {*calendar_ids, "default"}
    for r in _rows(table, problems):
        lid = r.text("id")
        if lid:
            _unique(r, "id", lid, seen, "line id")
        line = Line(
            id=lid,
            factory_id=factory_id,
            name=r.text("name", lid),
            calendar_id=r.ref("calendar_id", known_cals, "calendar", optional=True) or "default",
            target_efficiency_pct=r.number("target_efficiency_pct", 0.0, 100.0, lo_open=True, default=60.0),
        )
        if r.ok:
            out[lid] = line
    return out


def read_stations(
    table: Table, problems: Problems, factory_id: str, line_ids: Collection[str] | None
) -> dict[str, Station]:
    out: dict[str, Station] = {}
    seen: dict[str, int] = {}
    seen_sensor: dict[str, int] = {}
    for r in _rows(table, problems):
        sid = r.text("id")
        if sid:
            _unique(r, "id", sid, seen, "station id")
            _topic_id(r, "station", sid)
        sensor = r.text("sensor_id", sid)
        if sensor:
            _unique(r, "sensor_id", sensor, seen_sensor, "sensor id (one sensor sits on one station)")
        st = Station(
            id=sid,
            factory_id=factory_id,
            line_id=r.ref("line_id", line_ids, "line"),
            sensor_id=sensor,
            machine_type=r.machine_type(),
            position=r.integer("position", 0, default=0),
        )
        if r.ok:
            out[sid] = st
    return out


def parse_skills(r: _Row, known_ops: Collection[str] | None, col: str = "skills") -> dict[str, int]:
    skills: dict[str, int] = {}
    for item in split_list(r.cells.get(col, "")):
        key, sep, grade = (p.strip() for p in item.partition(":"))
        if not sep or not key:
            r.error(col, f'skill "{item}" must look like SNLS:4 (machine type or operation code : grade)')
            continue
        if not _INT_RE.match(grade) or not MIN_GRADE <= int(float(grade)) <= MAX_GRADE:
            r.error(col, f"grade must be a whole number {MIN_GRADE}-{MAX_GRADE}", value=item)
            continue
        if key not in MACHINE_TYPES and known_ops is not None and key not in known_ops:
            r.error(col, "is neither a machine type nor an operation code of any style", value=item)
            continue
        if key in skills:
            r.error(col, "skill listed twice", value=item)
            continue
        skills[key] = int(float(grade))
    return skills


def read_workers(
    table: Table,
    problems: Problems,
    line_ids: Collection[str] | None,
    known_ops: Collection[str] | None,
) -> dict[str, Worker]:
    out: dict[str, Worker] = {}
    seen: dict[str, int] = {}
    for r in _rows(table, problems):
        badge = r.text("badge")
        if badge:
            _unique(r, "badge", badge, seen, "badge")
        w = Worker(
            badge=badge,
            name=r.text("name"),
            line_id=r.ref("line_id", line_ids, "line", optional=True) or None,
            skills=parse_skills(r, known_ops),
            skill_group=r.text("skill_group", "general"),
        )
        if r.ok:
            out[badge] = w
    return out


class StyleHeader:
    """One row of styles.csv: what the style is called and where its bulletin is."""

    __slots__ = ("bulletin", "bundle_size", "code", "name_en", "name_zh", "rowno", "source")

    def __init__(
        self, code: str, name_zh: str, name_en: str, bundle_size: int, bulletin: str, source: str, rowno: int
    ) -> None:
        self.code, self.name_zh, self.name_en = code, name_zh, name_en
        self.bundle_size, self.bulletin, self.source, self.rowno = bundle_size, bulletin, source, rowno


def read_styles(table: Table, problems: Problems) -> list[StyleHeader]:
    out: list[StyleHeader] = []
    seen: dict[str, int] = {}
    for r in _rows(table, problems):
        code = r.text("code")
        if code:
            _unique(r, "code", code, seen, "style code")
        h = StyleHeader(
            code=code,
            name_zh=r.text("name_zh", ""),
            name_en=r.text("name_en", ""),
            bundle_size=r.integer("bundle_size", 1, 10_000, default=20),
            bulletin=r.text("bulletin", ""),
            source=table.source,
            rowno=r.rowno,
        )
        if r.ok:
            out.append(h)
    return out


def read_bulletin(
    table: Table, problems: Problems, code: str, name_zh: str = "", name_en: str = "", bundle_size: int = 20
) -> Style | None:
    """Operation bulletin rows → a Style; the model's own checks (cycles) are reported on the file."""
    rows = _rows(table, problems)
    first_row: dict[str, int] = {}
    for r in rows:
        c = r.cells.get("code", "")
        if c and c not in first_row:
            first_row[c] = r.rowno
    ops: list[Operation] = []
    seen: dict[str, int] = {}
    for r in rows:
        oc = r.text("code")
        if oc:
            _unique(r, "code", oc, seen, "operation code")
        preds = split_list(r.cells.get("predecessors", ""))
        for p in preds:
            if p not in first_row:
                r.error("predecessors", "follows an operation that is not in this bulletin", value=p)
            elif p == oc:
                r.error("predecessors", "an operation cannot follow itself", value=p)
        if len(set(preds)) != len(preds):
            r.error("predecessors", "lists an operation twice")
        sam = r.number("sam_min", 0.0, 600.0, lo_open=True)
        mt = r.machine_type()
        grade = r.integer("skill_grade", MIN_GRADE, MAX_GRADE, default=MIN_GRADE)
        if not r.ok:
            continue
        ops.append(
            Operation(
                code=oc,
                name_zh=r.text("name_zh", ""),
                name_en=r.text("name_en", ""),
                sam_min=sam,
                machine_type=mt,
                skill_grade=grade,
                predecessors=tuple(preds),
                instruction=r.cells.get("instruction", ""),
            )
        )
    if problems.has(table.source):
        return None
    if not ops:
        problems.add(table.source, None, None, None, "the bulletin has no operations")
        return None
    try:
        return Style(code=code, name_zh=name_zh, name_en=name_en, operations=tuple(ops), bundle_size=bundle_size)
    except DomainError as e:
        # The model names operations; add their rows so the owner can find them in the sheet.
        row_nos = sorted(first_row[c] for c in re.findall(r"'([^']+)'", str(e)) if c in first_row)
        where = f" (rows {', '.join(map(str, row_nos))})" if row_nos else ""
        problems.add(table.source, None, "predecessors", None, f"{e}{where}")
        return None


def read_orders(table: Table, problems: Problems, style_codes: Collection[str] | None) -> dict[str, Order]:
    """One row per size x colour; rows sharing an id make one order and must agree on its header."""
    heads: dict[str, tuple[str, str, date, int, int]] = {}
    qtys: dict[str, dict[tuple[str, str], int]] = {}
    where: dict[tuple[str, str, str], int] = {}
    for r in _rows(table, problems):
        oid = r.text("id")
        customer = r.text("customer", "")
        style = r.ref("style_code", style_codes, "style")
        size = r.text("size")
        colour = r.text("colour")
        qty = r.integer("qty", 1, 1_000_000)
        due = r.day("due")
        prio = r.integer("priority", -1000, 1000, default=0)
        if not r.ok:
            continue
        key = (oid, size, colour)
        if key in where:
            r.error("size", f"order {oid} has size {size} / colour {colour} on row {where[key]} already")
        else:
            where[key] = r.rowno
        first = heads.setdefault(oid, (customer, style, due, prio, r.rowno))
        for col, a, b in (
            ("customer", first[0], customer),
            ("style_code", first[1], style),
            ("due", first[2], due),
            ("priority", first[3], prio),
        ):
            if a != b:
                r.error(col, f"order {oid} has {a} on row {first[4]}; rows of one order must agree")
        if r.ok:
            qtys.setdefault(oid, {})[(size, colour)] = qty
    return {
        oid: Order(id=oid, customer=h[0], style_code=h[1], quantities=qtys.get(oid, {}), due=h[2], priority=h[3])
        for oid, h in heads.items()
    }
