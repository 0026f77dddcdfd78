"""Master data in the database: save a FactoryLayout, load it back.

The ingest pipeline validates every event against the layout held in memory; this repository is
where that layout lives between runs.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select

from ..domain.model import (
    Break,
    Bundle,
    Factory,
    FactoryLayout,
    Line,
    Operation,
    Order,
    ShiftCalendar,
    Station,
    Style,
    Worker,
)
from . import tables as t

_PER_FACTORY = (t.bundles, t.orders, t.operations, t.styles, t.workers, t.stations, t.lines, t.calendars)


def _hhmm(x: time) -> str:
    return x.strftime("%H:%M")


def save_layout(engine: Engine, layout: FactoryLayout) -> None:
    """Replace the factory's master data with ``layout`` in one transaction."""
    fid = layout.factory.id
    with engine.begin() as conn:
        for tbl in _PER_FACTORY:
            conn.execute(delete(tbl).where(tbl.c.factory_id == fid))
        conn.execute(delete(t.factories).where(t.factories.c.id == fid))
        f = layout.factory
        conn.execute(insert(t.factories).values(id=f.id, name=f.name, timezone=f.timezone))
        _insert_many(
            conn,
            t.calendars,
            [
                {
                    "factory_id": fid,
                    "id": c.id,
                    "ord": i,
                    "timezone": c.timezone,
                    "shift_start": _hhmm(c.shift_start),
                    "shift_end": _hhmm(c.shift_end),
                    "breaks": [[_hhmm(b.start), _hhmm(b.end), b.name] for b in c.breaks],
                    "workdays": list(c.workdays),
                }
                for i, c in enumerate(layout.calendars.values())
            ],
        )
        _insert_many(
            conn,
            t.lines,
            [
                {
                    "factory_id": fid,
                    "id": ln.id,
                    "ord": i,
                    "name": ln.name,
                    "calendar_id": ln.calendar_id,
                    "target_efficiency_pct": ln.target_efficiency_pct,
                }
                for i, ln in enumerate(layout.lines.values())
            ],
        )
        _insert_many(
            conn,
            t.stations,
            [
                {
                    "factory_id": fid,
                    "id": s.id,
                    "ord": i,
                    "line_id": s.line_id,
                    "sensor_id": s.sensor_id,
                    "machine_type": s.machine_type,
                    "position": s.position,
                }
                for i, s in enumerate(layout.stations.values())
            ],
        )
        _insert_many(
            conn,
            t.workers,
            [
                {
                    "factory_id": fid,
                    "badge": w.badge,
                    "ord": i,
                    "name": w.name,
                    "line_id": w.line_id,
                    "skill_group": w.skill_group,
                    "skills": dict(w.skills),
                }
                for i, w in enumerate(layout.workers.values())
            ],
        )
        _insert_many(
            conn,
            t.styles,
            [
                {
                    "factory_id": fid,
                    "code": s.code,
                    "ord": i,
                    "name_zh": s.name_zh,
                    "name_en": s.name_en,
                    "bundle_size": s.bundle_size,
                }
                for i, s in enumerate(layout.styles.values())
            ],
        )
        _insert_many(
            conn,
            t.operations,
            [
                {
                    "factory_id": fid,
                    "style_code": s.code,
                    "code": o.code,
                    "seq_no": i,
                    "name_zh": o.name_zh,
                    "name_en": o.name_en,
                    "sam_min": o.sam_min,
                    "machine_type": o.machine_type,
                    "skill_grade": o.skill_grade,
                    "predecessors": list(o.predecessors),
                    "instruction": o.instruction,
                }
                for s in layout.styles.values()
                for i, o in enumerate(s.operations)
            ],
        )
        _insert_many(
            conn,
            t.orders,
            [
                {
                    "factory_id": fid,
                    "id": o.id,
                    "ord": i,
                    "customer": o.customer,
                    "style_code": o.style_code,
                    "quantities": [[sz, col, q] for (sz, col), q in sorted(o.quantities.items())],
                    "due": o.due.isoformat(),
                    "priority": o.priority,
                }
                for i, o in enumerate(layout.orders.values())
            ],
        )
        _insert_many(
            conn,
            t.bundles,
            [
                {
                    "factory_id": fid,
                    "id": b.id,
                    "ord": i,
                    "order_id": b.order_id,
                    "size": b.size,
                    "colour": b.colour,
                    "qty": b.qty,
                }
                for i, b in enumerate(layout.bundles.values())
            ],
        )


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def load_layouts(engine: Engine) -> dict[str, FactoryLayout]:
    """Every factory's layout, keyed by factory id, each kind in the order it was saved.

    The order comes from the ``ord`` column, not from the engine: SQLite happens to return rows
    in insertion order, PostgreSQL in page order, which re-imports shuffle once VACUUM has freed
    earlier space (tests/foundation/test_layout_order.py).
    """
    out: dict[str, FactoryLayout] = {}
    with engine.connect() as conn:
        for f in conn.execute(select(t.factories)).mappings():
            out[f["id"]] = FactoryLayout(factory=Factory(id=f["id"], name=f["name"], timezone=f["timezone"]))
        for r in conn.execute(select(t.calendars).order_by(t.calendars.c.ord)).mappings():
            out[r["factory_id"]].calendars[r["id"]] = ShiftCalendar(
                id=r["id"],
                timezone=r["timezone"],
                shift_start=time.fromisoformat(r["shift_start"]),
                shift_end=time.fromisoformat(r["shift_end"]),
                breaks=tuple(Break(time.fromisoformat(b[0]), time.fromisoformat(b[1]), b[2]) for b in r["breaks"]),
                workdays=tuple(r["workdays"]),
            )
        for r in conn.execute(select(t.lines).order_by(t.lines.c.ord)).mappings():
            out[r["factory_id"]].lines[r["id"]] = Line(
                id=r["id"],
                factory_id=r["factory_id"],
                name=r["name"],
                calendar_id=r["calendar_id"],
                target_efficiency_pct=r["target_efficiency_pct"],
            )
        for r in conn.execute(select(t.stations).order_by(t.stations.c.ord)).mappings():
            out[r["factory_id"]].stations[r["id"]] = Station(
                id=r["id"],
                factory_id=r["factory_id"],
                line_id=r["line_id"],
                sensor_id=r["sensor_id"],
                machine_type=r["machine_type"],
                position=r["position"],
            )
        for r in conn.execute(select(t.workers).order_by(t.workers.c.ord)).mappings():
            out[r["factory_id"]].workers[r["badge"]] = Worker(
                badge=r["badge"],
                name=r["name"],
                line_id=r["line_id"],
                skills=dict(r["skills"]),
                skill_group=r["skill_group"],
            )
        ops: dict[tuple[str, str], list[Operation]] = {}
        for r in conn.execute(select(t.operations).order_by(t.operations.c.seq_no)).mappings():
            ops.setdefault((r["factory_id"], r["style_code"]), []).append(
                Operation(
                    code=r["code"],
                    name_zh=r["name_zh"],
                    name_en=r["name_en"],
                    sam_min=r["sam_min"],
                    machine_type=r["machine_type"],
                    skill_grade=r["skill_grade"],
                    predecessors=tuple(r["predecessors"]),
                    instruction=r["instruction"],
                )
            )
        for r in conn.execute(select(t.styles).order_by(t.styles.c.ord)).mappings():
            out[r["factory_id"]].styles[r["code"]] = Style(
                code=r["code"],
                name_zh=r["name_zh"],
                name_en=r["name_en"],
                operations=tuple(ops.get((r["factory_id"], r["code"]), [])),
                bundle_size=r["bundle_size"],
            )
        for r in conn.execute(select(t.orders).order_by(t.orders.c.ord)).mappings():
            out[r["factory_id"]].orders[r["id"]] = Order(
                id=r["id"],
                customer=r["customer"],
                style_code=r["style_code"],
                quantities={(sz, col): int(q) for sz, col, q in r["quantities"]},
                due=date.fromisoformat(r["due"]),
                priority=r["priority"],
            )
        for r in conn.execute(select(t.bundles).order_by(t.bundles.c.ord)).mappings():
            out[r["factory_id"]].bundles[r["id"]] = Bundle(
                id=r["id"], order_id=r["order_id"], size=r["size"], colour=r["colour"], qty=r["qty"]
            )
    return out
