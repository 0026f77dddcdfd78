"""The planning board's use-cases: the plan it shows, a move's what-if, and confirming a move.

One engine: the order-loading model of ``planning.loading`` (see ``planning/loading/whatif.py``
for how a board holds orders to lines). What is left of each order is its quantity minus the
pieces already finished; an order the floor is already sewing stays on its line unless the planner
moves it. Confirmed moves are stored (``adapters/plan_moves``) and every later plan uses them; a
what-if stores nothing.

Solving takes seconds, and the board is read every second by open pages, so each factory's plan is
kept until a move is confirmed, the factory's day changes or it is ``MAX_AGE_S`` old (pieces done
meanwhile shorten the orders; the plan is in whole days, so minutes of lag do not show). A what-if
is always measured against the very plan on the board.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine

from ..adapters.plan_moves import StoredMove, current_moves, plan_version, save_move
from ..compliance.rules import RuleSet
from ..domain.model import DomainError, FactoryLayout
from ..materials.ledger import Shortage
from ..materials.service import Materials
from ..planning.from_layout import loading_problem
from ..planning.loading.data import LoadingPlan, LoadingProblem
from ..planning.loading.whatif import Move, WhatIf, board_plan, starts, what_if
from .hours_alerts import factory_rules
from .loading import check, hours_policy

MAX_AGE_S = 300.0
SOLVE_S = 3.0
MIN_HORIZON_DAYS = 21
MAX_HORIZON_DAYS = 70


@dataclass(frozen=True)
class FloorState:
    """What the floor has done so far, as the board needs it."""

    today: date
    done: Mapping[str, int] = field(default_factory=dict)  # order -> pieces finished
    sewing_on: Mapping[str, str] = field(default_factory=dict)  # order -> line already sewing it
    line_styles: Mapping[str, str] = field(default_factory=dict)  # line -> style on it now
    # order -> hold / cancelled / closed (the planner's word, domain/order_state.py): not planned
    not_open: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Board:
    factory: str
    version: int  # the newest confirmed move's id (0: none)
    problem: LoadingProblem  # what is left to make, without pins
    plan: LoadingPlan
    moves: Mapping[str, Move]
    stored: Mapping[str, StoredMove]
    held: Mapping[str, str]
    computed_at: float

    def starts(self) -> dict[str, date]:
        return starts(self.plan)


def horizon_days(pb: LoadingProblem) -> int:
    """Days enough for the whole book at regular hours, with slack, between the bounds."""
    per_day = sum(ln.std_min_per_hour() for ln in pb.lines) * pb.policy.regular_h_per_day or 1.0
    work = sum(o.qty * o.sam_min for o in pb.orders)
    workdays_per_week = max(1, 7 - len(pb.policy.rest_days))
    need = int(work / per_day * 7 / workdays_per_week) + 14
    last_due = max((o.due for o in pb.orders), default=pb.start)
    need = max(need, (last_due - pb.start).days + 14)
    return max(MIN_HORIZON_DAYS, min(MAX_HORIZON_DAYS, need))


def remaining_problem(layout: FactoryLayout, floor: FloorState, rules: RuleSet | None = None) -> LoadingProblem:
    """The factory's orders less what is finished, on its lines, from today, within the hours
    rules in force (``service_layer.loading.hours_policy``: the tightest cap wins)."""
    pb = loading_problem(layout, floor.today, MIN_HORIZON_DAYS, current_styles=dict(floor.line_styles))
    if rules is not None:
        pb = dataclasses.replace(pb, policy=hours_policy(rules, pb.policy))
    orders = tuple(
        dataclasses.replace(o, qty=o.qty - floor.done.get(o.order_id, 0))
        for o in pb.orders
        if o.qty - floor.done.get(o.order_id, 0) > 0 and o.order_id not in floor.not_open
    )
    pb = dataclasses.replace(pb, orders=orders)
    return dataclasses.replace(pb, horizon_days=horizon_days(pb))


def compute_board(engine: Engine, layout: FactoryLayout, floor: FloorState, time_limit_s: float = SOLVE_S) -> Board:
    f = layout.factory.id
    version = plan_version(engine, f)
    stored = current_moves(engine, f)
    pb = remaining_problem(layout, floor, factory_rules())
    left = {o.order_id for o in pb.orders}
    # A move into the past (yesterday's confirmed start) starts today; a move of a finished order is moot.
    moves = {
        oid: Move(oid, m.line_id, max(m.start_day, pb.start))
        for oid, m in stored.items()
        if oid in left and m.line_id in layout.lines
    }
    held = {oid: lid for oid, lid in floor.sewing_on.items() if oid in left and lid in layout.lines}
    plan = board_plan(pb, held, moves, time_limit_s)
    return Board(f, version, pb, plan, moves, stored, held, time.monotonic())


class PlanBoards:
    """Each factory's board, computed once and shared (see the module text for when it is redone)."""

    def __init__(self, engine: Engine, max_age_s: float = MAX_AGE_S) -> None:
        self.engine = engine
        self.max_age_s = max_age_s
        self._boards: dict[str, Board] = {}
        self._today: dict[str, date] = {}
        self._states: dict[str, Mapping[str, str]] = {}  # the order states a board was computed with
        self._lock = threading.Lock()

    def get(self, layout: FactoryLayout, floor: FloorState) -> Board:
        f = layout.factory.id
        with self._lock:
            b = self._boards.get(f)
            fresh = (
                b is not None
                and self._today.get(f) == floor.today
                and self._states.get(f) == floor.not_open
                and time.monotonic() - b.computed_at < self.max_age_s
                and b.version == plan_version(self.engine, f)
            )
            if b is not None and fresh:
                return b
            b = compute_board(self.engine, layout, floor)
            self._boards[f], self._today[f], self._states[f] = b, floor.today, floor.not_open
            return b

    def forget(self, factory: str) -> None:
        with self._lock:
            self._boards.pop(factory, None)


@dataclass(frozen=True)
class MoveOutcome:
    what_if: WhatIf
    shortages: tuple[Shortage, ...]  # shortages with the move, loading in planned start order
    new_shortages: tuple[Shortage, ...]  # of those, the ones the board's plan does not have
    materials_error: str | None = None  # why shortages could not be checked (a BOM without fabric...)
    hours_warnings: tuple[str, ...] = ()  # the compliance evaluator's near-breach findings on the plan


def _sequence(plan: LoadingPlan) -> list[str]:
    s = starts(plan)
    return sorted(s, key=lambda oid: (s[oid], oid))


def _shortages(engine: Engine, layout: FactoryLayout, plan: LoadingPlan) -> list[Shortage]:
    """Materials short if orders are loaded in the plan's start order (nothing without a BOM)."""
    mats = Materials.from_db(engine, layout)
    if not mats.bom.styles():
        return []
    return mats.check_materials(_sequence(plan))


def try_move(
    engine: Engine, layout: FactoryLayout, board: Board, move: Move, time_limit_s: float = SOLVE_S
) -> MoveOutcome:
    """The what-if of ``move`` against ``board``; stores nothing."""
    others = {k: v for k, v in board.moves.items() if k != move.order_id}
    wi = what_if(board.problem, board.plan, move, others, time_limit_s)
    plan = wi.after
    if plan is None:
        return MoveOutcome(wi, (), ())
    # The hours the plan asks of each line's operators, through the compliance evaluator
    # (service_layer/loading.check): a violation makes the move infeasible, a warning is shown.
    checked = check(plan, factory_rules(), board.problem.policy)
    if checked.violations:
        reasons = tuple(dict.fromkeys(f"{v.text_zh} / {v.text_en}" for v in checked.violations))
        wi = dataclasses.replace(wi, feasible=False, reasons=wi.reasons + reasons)
    warnings = tuple(dict.fromkeys(f"{v.text_zh} / {v.text_en}" for v in checked.warnings))
    try:
        after = _shortages(engine, layout, plan)
        before = {(s.order_id, s.material): s.short for s in _shortages(engine, layout, board.plan)}
    except DomainError as e:  # master data the check cannot use: say so, the move is still answered
        return MoveOutcome(wi, (), (), str(e), warnings)
    new = [s for s in after if before.get((s.order_id, s.material), Decimal(0)) < s.short]
    return MoveOutcome(wi, tuple(after), tuple(new), None, warnings)


class MoveRefused(DomainError):
    """Confirming a move that is not feasible, or against a plan that changed meanwhile."""


def confirm_move(
    engine: Engine,
    layout: FactoryLayout,
    boards: PlanBoards,
    floor: FloorState,
    move: Move,
    who: str,
    expected_version: int | None = None,
) -> tuple[int, MoveOutcome, Board]:
    """Check the move again (never trust the page's what-if) and store it.

    Returns the plan's new version, the what-if it passed and the board it was measured on.

    ``expected_version``: the plan version the planner saw; when another planner confirmed a move
    since, the what-if they confirmed is stale and the move is refused.
    """
    board = boards.get(layout, floor)
    if expected_version is not None and expected_version != board.version:
        raise MoveRefused(
            f"计划已被修改（版本 {board.version}），请重新模拟 / the plan changed meanwhile "
            f"(version {board.version}, you saw {expected_version}): run the what-if again"
        )
    outcome = try_move(engine, layout, board, move)
    if not outcome.what_if.feasible:
        raise MoveRefused("不可行 / not feasible: " + "; ".join(outcome.what_if.reasons))
    version = save_move(engine, layout.factory.id, move.order_id, move.line_id, move.start, who)
    boards.forget(layout.factory.id)
    return version, outcome, board
