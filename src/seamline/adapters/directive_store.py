"""Reading and writing supervisor directives (``line_directives``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from .tables_directives import line_directives as t


@dataclass(frozen=True)
class Directive:
    id: int
    factory: str
    line: str
    style: str
    badge: str
    from_op: str | None
    to_op: str
    gain_pph: float
    pph_before: float
    pph_after: float
    assignment: tuple[tuple[str, dict[str, float]], ...]  # (badge, {op: share}) in line order
    accepted_by: str
    accepted_at: datetime


def _row(r: object) -> Directive:
    m = r._mapping  # type: ignore[attr-defined]
    return Directive(
        m["id"],
        m["factory_id"],
        m["line_id"],
        m["style_code"],
        m["badge"],
        m["from_op"],
        m["to_op"],
        m["gain_pph"],
        m["pph_before"],
        m["pph_after"],
        tuple((b, {k: float(v) for k, v in sh.items()}) for b, sh in json.loads(m["assignment_json"])),
        m["accepted_by"],
        m["accepted_at"],
    )


class DirectiveStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, d: Directive) -> Directive:
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(t).values(
                    factory_id=d.factory,
                    line_id=d.line,
                    style_code=d.style,
                    badge=d.badge,
                    from_op=d.from_op,
                    to_op=d.to_op,
                    gain_pph=d.gain_pph,
                    pph_before=d.pph_before,
                    pph_after=d.pph_after,
                    assignment_json=json.dumps([[b, sh] for b, sh in d.assignment]),
                    accepted_by=d.accepted_by,
                    accepted_at=d.accepted_at,
                )
            )
            new_id = int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0
        return Directive(**{**d.__dict__, "id": new_id})

    def since(self, factory: str, line: str, start: datetime) -> list[Directive]:
        """The line's directives accepted at or after ``start``, oldest first."""
        q = (
            select(t)
            .where(t.c.factory_id == factory, t.c.line_id == line, t.c.accepted_at >= start)
            .order_by(t.c.accepted_at, t.c.id)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]
