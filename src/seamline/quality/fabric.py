"""Incoming fabric inspection by the 4-point system (ASTM D5430 style).

Points per defect by length: up to 3 in → 1, over 3 up to 6 in → 2, over 6 up to 9 in → 3,
over 9 in → 4; holes up to 1 in → 2, over 1 in → 4. No linear yard scores more than 4 points,
however many defects it has. The score compares rolls of different widths and lengths:

    points per 100 yd² = points × 3600 ÷ (yards inspected × cuttable width in inches)

(3600 = 100 yd² expressed in yard·inch: 100 × 36). The acceptance limit is agreed with the
buyer (40 is the common default). Pure functions and frozen dataclasses; the database side is
``lots.FabricLots``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

DEFAULT_LIMIT = 40.0
MAX_POINTS_PER_YARD = 4


class FabricError(ValueError):
    """A roll or defect that cannot be scored; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class FabricDefect:
    """One defect found on the inspection frame.

    ``at_yard`` is the position along the roll (0 = start); it decides which linear yard the
    defect counts against for the 4-point cap. Give ``length_in`` for a line defect (slub,
    barré, crease, …) or ``hole_in`` (its largest dimension) for a hole or opening.
    """

    at_yard: float
    length_in: float | None = None
    hole_in: float | None = None
    code: str = ""

    def __post_init__(self) -> None:
        if (self.length_in is None) == (self.hole_in is None):
            raise FabricError("a fabric defect needs exactly one of length_in or hole_in")
        size = self.length_in if self.length_in is not None else self.hole_in
        if size is None or not math.isfinite(size) or size <= 0:
            raise FabricError(f"defect size must be > 0 inches, got {size}")
        if not math.isfinite(self.at_yard) or self.at_yard < 0:
            raise FabricError(f"defect position must be >= 0 yards, got {self.at_yard}")

    @property
    def points(self) -> int:
        return defect_points(length_in=self.length_in, hole_in=self.hole_in)


def defect_points(*, length_in: float | None = None, hole_in: float | None = None) -> int:
    """4-point score of one defect (before the per-yard cap)."""
    if hole_in is not None:
        if hole_in <= 0:
            raise FabricError(f"hole size must be > 0 inches, got {hole_in}")
        return 2 if hole_in <= 1.0 else 4
    if length_in is None or length_in <= 0:
        raise FabricError(f"defect length must be > 0 inches, got {length_in}")
    if length_in <= 3.0:
        return 1
    if length_in <= 6.0:
        return 2
    if length_in <= 9.0:
        return 3
    return 4


def capped_points(defects: list[FabricDefect] | tuple[FabricDefect, ...]) -> int:
    """Total points with at most 4 counted in any one linear yard."""
    per_yard: dict[int, int] = defaultdict(int)
    for d in defects:
        per_yard[math.floor(d.at_yard)] += d.points
    return sum(min(MAX_POINTS_PER_YARD, p) for p in per_yard.values())


def points_per_100_sq_yd(points: float, yards: float, width_in: float) -> float:
    """points × 3600 ÷ (yards inspected × cuttable width in inches)."""
    if yards <= 0 or width_in <= 0:
        raise FabricError(f"yards ({yards}) and width ({width_in} in) must be > 0")
    return points * 3600.0 / (yards * width_in)


@dataclass(frozen=True, slots=True)
class Roll:
    roll_id: str
    yards: float
    width_in: float
    defects: tuple[FabricDefect, ...] = ()

    def __post_init__(self) -> None:
        if not self.roll_id:
            raise FabricError("roll id is empty")
        if not (math.isfinite(self.yards) and self.yards > 0):
            raise FabricError(f"roll {self.roll_id}: yards inspected must be > 0, got {self.yards}")
        if not (math.isfinite(self.width_in) and self.width_in > 0):
            raise FabricError(f"roll {self.roll_id}: width must be > 0 inches, got {self.width_in}")
        for d in self.defects:
            if d.at_yard > self.yards:
                raise FabricError(
                    f"roll {self.roll_id}: defect at yard {d.at_yard} is past the {self.yards} yards inspected"
                )


@dataclass(frozen=True, slots=True)
class RollResult:
    roll_id: str
    yards: float
    width_in: float
    points: int
    points_per_100_sq_yd: float
    limit: float
    passed: bool


@dataclass(frozen=True, slots=True)
class LotResult:
    lot_id: str
    limit: float
    rolls: tuple[RollResult, ...]
    points: int
    yards: float
    points_per_100_sq_yd: float
    passed: bool
    reasons: tuple[str, ...] = field(default=())

    @property
    def failed_rolls(self) -> list[str]:
        return [r.roll_id for r in self.rolls if not r.passed]


def inspect_roll(roll: Roll, limit: float = DEFAULT_LIMIT) -> RollResult:
    pts = capped_points(roll.defects)
    score = points_per_100_sq_yd(pts, roll.yards, roll.width_in)
    return RollResult(roll.roll_id, roll.yards, roll.width_in, pts, score, limit, score <= limit)


def inspect_lot(
    lot_id: str,
    rolls: list[Roll] | tuple[Roll, ...],
    limit: float = DEFAULT_LIMIT,
    *,
    max_failed_roll_share: float | None = None,
) -> LotResult:
    """Score every inspected roll and the lot.

    The lot's score is area-weighted (all points over all inspected area), which is what the
    points formula gives when the rolls are laid end to end; a lot passes when that score is
    within the limit. Rolls over the limit are rejected one by one either way. Buyers who also
    reject a lot for too many bad rolls set ``max_failed_roll_share`` (e.g. 0.2).
    """
    if not rolls:
        raise FabricError(f"lot {lot_id}: no rolls inspected")
    if limit <= 0:
        raise FabricError(f"limit must be > 0 points per 100 yd², got {limit}")
    ids = [r.roll_id for r in rolls]
    if len(set(ids)) != len(ids):
        raise FabricError(f"lot {lot_id}: a roll id appears twice")
    results = tuple(inspect_roll(r, limit) for r in rolls)
    points = sum(r.points for r in results)
    area = sum(r.yards * r.width_in for r in results)
    yards = sum(r.yards for r in results)
    score = points * 3600.0 / area
    reasons: list[str] = []
    if score > limit:
        reasons.append(f"lot scores {score:.1f} points/100 yd², over the limit of {limit:g}")
    failed = [r.roll_id for r in results if not r.passed]
    if max_failed_roll_share is not None and failed and len(failed) / len(results) > max_failed_roll_share:
        reasons.append(f"{len(failed)} of {len(results)} rolls over the limit (more than {max_failed_roll_share:.0%})")
    return LotResult(lot_id, limit, results, points, yards, score, not reasons, tuple(reasons))
