"""Quality records in the database: fabric lots (inspections, releases), bundle → lot, audits.

``FabricLots.is_cutting_allowed`` is the gate the cutting room asks before spreading a lot: a
lot whose latest inspection failed is blocked until someone releases it with a reason, and the
release names that inspection, so a later failing re-inspection blocks it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, insert, select

from seamline.adapters.tables_quality import (
    aql_audit_defects,
    aql_audits,
    bundle_fabric_lots,
    buyer_fabric_limits,
    fabric_inspections,
    fabric_lot_releases,
    fabric_rolls,
)

from .audit import AuditDefect, AuditResult
from .fabric import DEFAULT_LIMIT, FabricError, LotResult, Roll, inspect_lot


def _new_id(result: CursorResult[Any]) -> int:
    """The id the database gave the one row just inserted (SQLAlchemy types it as optional)."""
    pk = result.inserted_primary_key
    assert pk is not None, "a single-row insert always has a primary key"
    return int(pk[0])


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} is naive: quality records need timezone-aware times")
    return at


class FabricLots:
    """Fabric lot inspections and the cutting gate, over the ``fabric_*`` tables."""

    def __init__(self, engine: Engine, *, require_inspection: bool = False) -> None:
        self.engine = engine
        # Factories that inspect every lot before cutting set this: an uninspected lot is blocked.
        self.require_inspection = require_inspection

    # --- buyer limits ----------------------------------------------------------------------
    def set_buyer_limit(self, buyer: str, limit: float) -> None:
        if not buyer:
            raise FabricError("buyer is empty")
        if not limit > 0:
            raise FabricError(f"limit must be > 0 points per 100 yd², got {limit}")
        with self.engine.begin() as c:
            c.execute(delete(buyer_fabric_limits).where(buyer_fabric_limits.c.buyer == buyer))
            c.execute(insert(buyer_fabric_limits).values(buyer=buyer, limit_points_per_100_sq_yd=float(limit)))

    def limit_for(self, buyer: str | None) -> float:
        if buyer:
            with self.engine.connect() as c:
                row = c.execute(
                    select(buyer_fabric_limits.c.limit_points_per_100_sq_yd).where(buyer_fabric_limits.c.buyer == buyer)
                ).first()
            if row is not None:
                return float(row[0])
        return DEFAULT_LIMIT

    # --- inspections -----------------------------------------------------------------------
    def record_inspection(
        self,
        lot_id: str,
        rolls: Iterable[Roll],
        *,
        inspector: str,
        at: datetime,
        buyer: str | None = None,
        limit: float | None = None,
        max_failed_roll_share: float | None = None,
    ) -> tuple[int, LotResult]:
        """Score the rolls, store the lot and roll results, return (inspection id, result)."""
        if not inspector:
            raise FabricError("inspector is empty")
        rolls = list(rolls)
        lim = float(limit) if limit is not None else self.limit_for(buyer)
        result = inspect_lot(lot_id, rolls, lim, max_failed_roll_share=max_failed_roll_share)
        by_id = {r.roll_id: r for r in rolls}
        with self.engine.begin() as c:
            iid = _new_id(
                c.execute(
                    insert(fabric_inspections).values(
                        lot_id=lot_id,
                        buyer=buyer,
                        limit_points_per_100_sq_yd=lim,
                        points=result.points,
                        yards=result.yards,
                        points_per_100_sq_yd=result.points_per_100_sq_yd,
                        rolls_inspected=len(result.rolls),
                        rolls_failed=len(result.failed_rolls),
                        passed=result.passed,
                        reasons=list(result.reasons),
                        inspector=inspector,
                        inspected_at=_aware(at),
                    )
                )
            )
            c.execute(
                insert(fabric_rolls),
                [
                    {
                        "inspection_id": iid,
                        "roll_id": r.roll_id,
                        "yards": r.yards,
                        "width_in": r.width_in,
                        "points": r.points,
                        "points_per_100_sq_yd": r.points_per_100_sq_yd,
                        "passed": r.passed,
                        "defects": [
                            {
                                k: v
                                for k, v in (
                                    ("at_yard", d.at_yard),
                                    ("length_in", d.length_in),
                                    ("hole_in", d.hole_in),
                                    ("code", d.code),
                                )
                                if v is not None
                            }
                            for d in by_id[r.roll_id].defects
                        ],
                    }
                    for r in result.rolls
                ],
            )
        return int(iid), result

    def _latest_inspection(self, lot_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = (
                c.execute(
                    select(fabric_inspections)
                    .where(fabric_inspections.c.lot_id == lot_id)
                    .order_by(fabric_inspections.c.inspected_at.desc(), fabric_inspections.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def _release_of(self, inspection_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = (
                c.execute(
                    select(fabric_lot_releases)
                    .where(fabric_lot_releases.c.inspection_id == inspection_id)
                    .order_by(fabric_lot_releases.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def release(self, lot_id: str, *, by: str, reason: str, at: datetime) -> int:
        """Lift the block of a failed lot: who, when and why are kept with the failed inspection."""
        if not by or not by.strip():
            raise FabricError("a release needs the name of who releases the lot")
        if not reason or not reason.strip():
            raise FabricError("a release needs a reason")
        latest = self._latest_inspection(lot_id)
        if latest is None:
            raise FabricError(f"lot {lot_id} has no inspection on record: nothing to release")
        if latest["passed"]:
            raise FabricError(f"lot {lot_id} passed its latest inspection: it is not blocked")
        with self.engine.begin() as c:
            rid = _new_id(
                c.execute(
                    insert(fabric_lot_releases).values(
                        inspection_id=latest["id"],
                        lot_id=lot_id,
                        released_by=by.strip(),
                        reason=reason.strip(),
                        released_at=_aware(at),
                    )
                )
            )
        return int(rid)

    def is_cutting_allowed(self, lot_id: str) -> tuple[bool, str]:
        """(allowed, why) for cutting from ``lot_id``, judged on its latest inspection."""
        latest = self._latest_inspection(lot_id)
        if latest is None:
            if self.require_inspection:
                return False, f"lot {lot_id} has not been inspected and inspection is required before cutting"
            return True, f"lot {lot_id} has no fabric inspection on record"
        score = f"{latest['points_per_100_sq_yd']:.1f} points/100 yd² (limit {latest['limit_points_per_100_sq_yd']:g})"
        when = latest["inspected_at"].isoformat()
        if latest["passed"]:
            return True, f"lot {lot_id} passed inspection on {when}: {score}"
        rel = self._release_of(latest["id"])
        if rel is not None:
            return True, (
                f"lot {lot_id} failed inspection ({score}) but was released by "
                f"{rel['released_by']} on {rel['released_at'].isoformat()}: {rel['reason']}"
            )
        why = "; ".join(latest["reasons"]) or score
        return False, f"lot {lot_id} failed fabric inspection on {when} ({why}); cutting is blocked until released"

    def history(self, lot_id: str) -> list[dict[str, Any]]:
        """Every inspection of the lot, oldest first, each with its rolls and release (if any)."""
        with self.engine.connect() as c:
            insps = [
                dict(r)
                for r in c.execute(
                    select(fabric_inspections)
                    .where(fabric_inspections.c.lot_id == lot_id)
                    .order_by(fabric_inspections.c.inspected_at, fabric_inspections.c.id)
                ).mappings()
            ]
            for i in insps:
                i["rolls"] = [
                    dict(r)
                    for r in c.execute(
                        select(fabric_rolls)
                        .where(fabric_rolls.c.inspection_id == i["id"])
                        .order_by(fabric_rolls.c.roll_id)
                    ).mappings()
                ]
        for i in insps:
            i["release"] = self._release_of(i["id"])
        return insps


# --- bundle → fabric lot --------------------------------------------------------------------
def record_bundle_lot(
    engine: Engine, factory_id: str, bundle_id: str, lot_id: str, *, at: datetime, roll_id: str | None = None
) -> None:
    """Remember which fabric lot (and roll) a bundle was cut from; recording again replaces it."""
    if not (factory_id and bundle_id and lot_id):
        raise ValueError("factory, bundle and lot ids are all required")
    with engine.begin() as c:
        c.execute(
            delete(bundle_fabric_lots).where(
                bundle_fabric_lots.c.factory_id == factory_id, bundle_fabric_lots.c.bundle_id == bundle_id
            )
        )
        c.execute(
            insert(bundle_fabric_lots).values(
                factory_id=factory_id, bundle_id=bundle_id, lot_id=lot_id, roll_id=roll_id, recorded_at=_aware(at)
            )
        )


def bundle_lot_map(engine: Engine, factory_id: str) -> dict[str, tuple[str, str | None]]:
    """bundle id → (fabric lot, roll or None) for one factory, for the traceability functions."""
    with engine.connect() as c:
        rows = c.execute(
            select(bundle_fabric_lots.c.bundle_id, bundle_fabric_lots.c.lot_id, bundle_fabric_lots.c.roll_id).where(
                bundle_fabric_lots.c.factory_id == factory_id
            )
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


# --- AQL audits -----------------------------------------------------------------------------
def record_audit(engine: Engine, factory_id: str, result: AuditResult, *, inspector: str, at: datetime) -> int:
    """Store an audit, its per-class plans and decision, and the defects found (for tracing)."""
    if not inspector:
        raise ValueError("inspector is empty")
    with engine.begin() as c:
        aid = _new_id(
            c.execute(
                insert(aql_audits).values(
                    factory_id=factory_id,
                    lot_ref=result.lot_ref,
                    lot_size=result.lot_size,
                    level=result.level,
                    inspection=result.inspection,
                    accepted=result.accepted,
                    classes=[cr.as_dict() for cr in result.classes],
                    inspector=inspector,
                    audited_at=_aware(at),
                )
            )
        )
        if result.defects:
            c.execute(
                insert(aql_audit_defects),
                [
                    {
                        "audit_id": aid,
                        "n": n,
                        "code": d.code,
                        "defect_class": d.defect_class,
                        "qty": d.qty,
                        "bundle_id": d.bundle_id,
                        "op": d.op,
                    }
                    for n, d in enumerate(result.defects, 1)
                ],
            )
    return int(aid)


def list_audits(engine: Engine, factory_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """The factory's latest audits, newest first (rows as stored, without their defects)."""
    with engine.connect() as c:
        rows = (
            c.execute(
                select(aql_audits)
                .where(aql_audits.c.factory_id == factory_id)
                .order_by(aql_audits.c.audited_at.desc(), aql_audits.c.id.desc())
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def load_audit(engine: Engine, audit_id: int) -> tuple[dict[str, Any], list[AuditDefect]]:
    """An audit row and its defects; raises KeyError when there is no such audit."""
    with engine.connect() as c:
        row = c.execute(select(aql_audits).where(aql_audits.c.id == audit_id)).mappings().first()
        if row is None:
            raise KeyError(audit_id)
        defects = [
            AuditDefect(code=r.code, defect_class=r.defect_class, qty=r.qty, bundle_id=r.bundle_id, op=r.op)
            for r in c.execute(
                select(aql_audit_defects)
                .where(aql_audit_defects.c.audit_id == audit_id)
                .order_by(aql_audit_defects.c.n)
            )
        ]
    return dict(row), defects
