"""The demo's floor follows seamline: the simulated workers do what the product directs.

``seamline demo`` used to run the simulator's own balance (``sim/balance.py``, from the SAMs) and
its first-in first-out pick. Here the simulated floor is the plant of the closed loop instead
(``twin.loop.controlled_stream``), under the seamline policy (``twin.policy.SeamlinePolicy``):
efficiencies learned from the published events only (never the simulator's truth), the balance
the planning engine makes of them, re-balances on absence or drift with the fewest changes, its
WIP cap, and its dispatch (the bundle that feeds a starving bottleneck first, else the oldest).

Both ways through the product's own path, the supervisor directives (``line_directives``):

- every balance the policy hands out is stored as a directive (accepted by ``DEMO_BY``), so the
  line's assignment the tablets and pages read (``service_layer.line_direction``) is the one the
  simulated workers follow, and the tablet's next task is computed from it;
- a station with no bundle for its own operations takes, as its tablet tells it ("本工序暂无扎：
  可做 X"), the operation of its machine type nearest the end of the line with bundles waiting
  (then the one with the most waiting: ``take_other_for``); a worker the plan
  leaves without work sews the operations of her machine (what her tablet offers);
- a move a person accepts on the line page (``POST /api/v1/lines/{line}/directives``) is handed
  to the simulated floor at the next decision point (every ``EVERY_MIN`` of factory time);
- the policy explores: a worker with slack who is not the bottleneck tries one bundle of an
  operation she has not been seen on (``SeamlinePolicy.trials``). The line's trials are stored
  (``line_trials``) when the policy hands them out, so her tablet shows the trial ("试做") apart
  from her own work and the line page lists them, and the same directive (its balance carries the
  trial's operation beside the plan) goes to the simulated floor, whose dispatch takes the trial's
  bundle only when her own work leaves her free. The pieces of a trial are ordinary events and
  teach the learning like any other work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from ..adapters.directive_store import Directive as StoredDirective
from ..adapters.directive_store import DirectiveStore
from ..adapters.trial_store import TrialStore
from ..domain.model import FactoryLayout
from ..planning.dispatch.next_task import sam_to_end
from ..sim.engine import Engine
from ..twin.loop import Item, controlled_stream
from ..twin.policy import Directive, SeamlinePolicy
from ..twin.policy.base import with_trials

log = logging.getLogger(__name__)

DEMO_BY = "seamline 演示 / demo"
# Decision points of the demo's controller, in factory minutes (4 a real minute at 60x).
EVERY_MIN = 15.0


def _main_op(shares: dict[str, float]) -> str | None:
    return max(shares, key=lambda c: (shares[c], c)) if shares else None


class DemoControl:
    """The seamline controller of the demo's floor and its bridge to the stored directives."""

    def __init__(self, layout: FactoryLayout, store: DirectiveStore | None) -> None:
        """``store``: the runtime's directives (``LineDirector.store``); None records nothing and
        reads no accepted move (the bench: the same floor without a server). The trials are
        stored beside the directives (``line_trials``, the same database)."""
        self.layout = layout
        self.fid = layout.factory.id
        self.policy = SeamlinePolicy(layout, sorted(layout.lines))  # it explores (``trials``)
        self.store = store
        self.trial_store = TrialStore(store.engine) if store is not None else None
        self._trials: dict[str, dict[str, tuple[str, str]]] = {}  # line -> badge -> (station, op) stored
        self.trials_started = 0
        self._last: dict[str, dict[str, dict[str, float]]] = {}  # line -> badge -> {op: share}
        self._last_pph: dict[str, float] = {}
        self._seen_id = 0
        self.stored = 0
        self.followed = 0

    def stream(self, eng: Engine, stop: threading.Event) -> Iterator[Item]:
        """What ``adapters.sim_publish.run_live`` publishes: the floor under this controller."""
        eng.helper = take_other_for(self.layout)
        return controlled_stream(
            eng, self.policy, stop, every_min=EVERY_MIN, on_directives=self.record, outside=self.accepted
        )

    # -- controller → product -------------------------------------------------------------------
    def record(self, directives: list[Directive], now: datetime) -> list[Directive]:
        """Store each new balance as the line's directive, with the worker it changes most as the
        move the tablets announce ("主管调整：现在做 X"); return what the floor does with it."""
        for d in directives:
            self.record_trials(d, now)
            lb = self.policy.state[d.line].balance
            # a trial beside an unchanged plan (``Directive.trials``) is no move to announce
            if lb is None or self.store is None or d.reason == "explore":
                continue
            order = {b: i for i, b in enumerate(sorted(lb.station_of, key=lb.station_of.__getitem__))}
            # every worker present, those the plan leaves without work too (their tablets then
            # name the operations of their machine nobody covers, as for a station without a plan)
            shares: dict[str, dict[str, float]] = {b: {} for b in lb.station_of}
            for a in lb.plan.assignments:
                sh = shares.setdefault(a.badge, {})
                sh[a.op_code] = sh.get(a.op_code, 0.0) + round(a.share, 4)
            before = self._last.get(d.line, {})

            change = {
                b: sum(abs(new.get(c, 0.0) - before.get(b, {}).get(c, 0.0)) for c in before.get(b, {}).keys() | new)
                for b, new in shares.items()
            }
            # the move the tablets announce: the most changed worker who has work in the new plan
            # (one the plan leaves without work is told by her tablet, not by a move)
            movers = [b for b in shares if shares[b]]
            if not movers:
                continue
            badge = max(movers, key=lambda b: (change[b], -order.get(b, 0)))
            to_op = _main_op(shares[badge])
            assert to_op is not None
            pph = 60.0 / lb.plan.cycle_min if lb.plan.cycle_min > 0 else 0.0
            prev = self._last_pph.get(d.line, 0.0)
            try:
                self.store.add(
                    StoredDirective(
                        0,
                        self.fid,
                        d.line,
                        d.style,
                        badge,
                        _main_op(before.get(badge, {})),
                        to_op,
                        round(pph - prev, 2) if prev else 0.0,
                        round(prev, 2),
                        round(pph, 2),
                        tuple((b, dict(shares[b])) for b in sorted(shares, key=order.__getitem__)),
                        DEMO_BY,
                        now,
                    )
                )
            except Exception:  # the floor goes on even if the record fails (a locked database)
                log.exception("demo: could not store the directive for %s", d.line)
                continue
            self.stored += 1
            self._last[d.line], self._last_pph[d.line] = dict(shares), pph
        return [self.with_idle_hands(d) for d in directives]

    def record_trials(self, d: Directive, now: datetime) -> None:
        """Store the line's trials as handed out with ``d`` (every directive carries the line's
        whole set: none ends them), for the tablets and the line page."""
        if self.trial_store is None:
            return
        present = self.policy.floor.present(d.line)
        trials = {present[sid]: (sid, ops[0]) for sid, ops in d.trials.items() if ops and sid in present}
        if trials == self._trials.get(d.line, {}):
            return
        try:
            started, _ended = self.trial_store.set_line(self.fid, d.line, d.style, trials, DEMO_BY, now)
        except Exception:  # the floor goes on even if the record fails (a locked database)
            log.exception("demo: could not store the trials of %s", d.line)
            return
        self._trials[d.line] = trials
        self.trials_started += started

    def with_idle_hands(self, d: Directive) -> Directive:
        """The balance as the floor sews it: a present worker the plan gives nothing (nobody lacks
        her where the cycle is decided) does what her tablet tells her, as
        ``LineDirector.assignment`` computes it for an empty assignment — the operations of her
        station's machine type, those nobody covers first. No one is left standing. A trial is
        not work in the plan (the tablet's assignment is the stored plan): it rides beside them."""
        style = self.layout.styles[d.style]
        plan = {sid: tuple(c for c in ops if c not in d.trials.get(sid, ())) for sid, ops in d.balance.items()}
        covered = {c for ops in plan.values() for c in ops}
        out = dict(d.balance)
        for sid in self.policy.floor.present(d.line):
            if plan.get(sid):
                continue
            mt = self.layout.stations[sid].machine_type
            able = [c for c in style.topological_order() if style.op(c).machine_type == mt]
            free = [c for c in able if c not in covered] or able
            if free:
                out[sid] = tuple(dict.fromkeys((*free, *d.trials.get(sid, ()))))
        return d if out == dict(d.balance) else replace(d, balance=out)

    # -- product → floor ------------------------------------------------------------------------
    def accepted(self, now: datetime) -> Sequence[Directive]:
        """Moves people accepted since the last decision point, as balances for the floor."""
        out: list[Directive] = []
        if self.store is None:
            return out
        day_start = now.astimezone(self.layout.factory.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        for line in sorted(self.layout.lines):
            try:
                ds = self.store.since(self.fid, line, day_start)
            except Exception:
                log.exception("demo: could not read the directives of %s", line)
                continue
            for sd in ds:
                if sd.id <= self._seen_id:
                    continue
                self._seen_id = max(self._seen_id, sd.id)
                if sd.accepted_by == DEMO_BY:
                    continue
                d = self.to_floor(sd)
                if d is not None:
                    out.append(d)
                    self.followed += 1
        return out

    def to_floor(self, sd: StoredDirective) -> Directive | None:
        """A stored assignment (badge → operation shares) as station → operations for the line,
        over the policy's current balance (stations it does not name keep their work). None when
        it leaves an operation of the style without a station (the floor keeps what it has)."""
        style = self.layout.styles.get(sd.style)
        if style is None:
            return None
        station_of = {b: sid for sid, b in self.policy.floor.present(sd.line).items()}
        ls = self.policy.state.get(sd.line)
        balance: dict[str, tuple[str, ...]] = dict(ls.balance.stations) if ls and ls.balance else {}
        for badge, shares in sd.assignment:
            sid = station_of.get(badge)
            if sid is not None:
                balance[sid] = tuple(c for c, v in shares.items() if v > 0)
        covered = {c for ops in balance.values() for c in ops}
        if not {o.code for o in style.operations} <= covered:
            log.warning("demo: directive %s leaves operations of %s unstaffed; not handed out", sd.id, sd.style)
            return None
        # the trials under way ride beside the accepted balance, as beside the policy's own
        trials = {sid: ops for sid, ops in (ls.trials if ls is not None else {}).items() if sid in balance}
        return Directive(sd.line, sd.style, with_trials(balance, trials), None, f"accepted by {sd.accepted_by}", trials)


def take_other_for(layout: FactoryLayout) -> Callable[[str, Sequence[tuple[str, str, float, int]]], int | None]:
    """The rule of a station with no bundle of its own (``Engine.helper``), as its tablet says it
    (``planning.dispatch.next_task`` rule 3): the operation of its machine nearest the end of the
    line with work waiting, then the one with the most bundles waiting."""
    to_end: dict[str, dict[str, float]] = {code: sam_to_end(st) for code, st in layout.styles.items()}

    def take_other(station: str, options: Sequence[tuple[str, str, float, int]]) -> int | None:
        if not options:
            return None
        style = layout.style_of_bundle(options[0][1])
        left = to_end.get(style.code, {}) if style is not None else {}
        return min(range(len(options)), key=lambda i: (left.get(options[i][0], 0.0), -options[i][3], -options[i][2]))

    return take_other
