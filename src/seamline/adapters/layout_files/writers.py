"""Domain objects → rows of the factory files, the exact inverse of :mod:`.readers`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from seamline.domain.model import (
    Factory,
    Line,
    Order,
    ShiftCalendar,
    Station,
    Style,
    Worker,
)

from .readers import DAY_NAMES, LIST_SEP
from .tables import Cell

Rows = list[list[Cell]]


def fmt_time(t: time) -> str:
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def factory_rows(f: Factory) -> Rows:
    return [[f.id, f.name, f.timezone]]


def calendar_rows(cals: Iterable[ShiftCalendar]) -> Rows:
    return [
        [
            c.id,
            c.timezone,
            fmt_time(c.shift_start),
            fmt_time(c.shift_end),
            LIST_SEP.join(f"{fmt_time(b.start)}-{fmt_time(b.end)} {b.name}" for b in c.breaks),
            LIST_SEP.join(DAY_NAMES[d] for d in c.workdays),
        ]
        for c in cals
    ]


def line_rows(lines: Iterable[Line]) -> Rows:
    return [[ln.id, ln.name, ln.calendar_id, _num(ln.target_efficiency_pct)] for ln in lines]


def station_rows(stations: Iterable[Station]) -> Rows:
    return [[s.id, s.line_id, s.sensor_id, s.machine_type, s.position] for s in stations]


def worker_rows(workers: Iterable[Worker]) -> Rows:
    return [
        [
            w.badge,
            w.name,
            w.line_id or "",
            w.skill_group,
            LIST_SEP.join(f"{k}:{g}" for k, g in w.skills.items()),
        ]
        for w in workers
    ]


def style_rows(styles: Iterable[Style], bulletin_ref: dict[str, str]) -> Rows:
    return [[s.code, s.name_zh, s.name_en, s.bundle_size, bulletin_ref[s.code]] for s in styles]


def bulletin_rows(style: Style) -> Rows:
    return [
        [
            op.code,
            op.name_zh,
            op.name_en,
            _num(op.sam_min),
            op.machine_type,
            op.skill_grade,
            LIST_SEP.join(op.predecessors),
            op.instruction,
        ]
        for op in style.operations
    ]


def order_rows(orders: Iterable[Order]) -> Rows:
    return [
        [o.id, o.customer, o.style_code, size, colour, qty, o.due, o.priority]
        for o in orders
        for (size, colour), qty in o.quantities.items()
    ]
