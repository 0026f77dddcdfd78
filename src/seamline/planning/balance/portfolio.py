"""Both balancing methods at once, one per core, sharing their best plans.

The engine (``solver.solve_line``: construction → CP-SAT → beam → tabu → LNS) and the interval
probabilistic beam search (``ipbs.solve_ipbs``) win on different lines. Most of both is
single-threaded Python, so on a two-core machine the search runs in a forked child while the
engine runs here with one CP-SAT worker.

The two cooperate rather than race. The child runs the beam search for ``HANDOFF_FRAC`` of the
time, then improves its best plan by the iterated tabu search (``iterated``: tabu rounds, every
other one from a fresh beam) with a seed of its own. Each side sends its best plan to the other
whenever it improves, and takes the other's when that is better (the engine between its tabu
rounds and LNS windows, the child between its rounds): a beam's plan is only the start of a
local search, and the plan one method found improved by the other's local search beats either
alone (IPBS 5 s then tabu: tonge-1 93 → 89 where IPBS alone stays at 93 in 10 s). The answer is
the shortest cycle of the two (the engine's on a tie: it is the one ``seamline balance``
explains).

The child's tabu rounds are compiled (``tabu_kernel``) and take hundredths of a second, so its
heavy steps do not follow every round: after a round that improved, or else after ``ROUNDS_S`` of
rounds, it repacks windows of stations (``repack``); and when that brought nothing either, it
asks CP-SAT whether the line can do one unit better, by turns: for ``ORDER_TURN_S`` with the
whole line and the workers within a band of their places (``worker_order``, a ladder of bands kept across turns), or
for ``EXACT_TURN_S`` on neighbourhoods of the best plan at ``C* − 1`` (``cpsat_window``; the whole
line on small problems, where a no proves the plan optimal); a yes goes to the parent like any
plan.

The fork happens before the engine's modules are imported in this process (the command-line path
imports them lazily), and the engine's import then overlaps the child's search. Only the exact
turns' module (and CP-SAT with it) is imported before the fork, once for both processes; the import
starts no solver threads, so the child inherits none. A child that fails or runs late is ignored:
the engine's plan always stands.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from .data import LineProblem, LineSolution
from .ipbs import applicable, solve_ipbs
from .iterated import iterated_tabu
from .polish import _key
from .repack import RepackMemo, repack

# Seconds the child stops before the parent's deadline, to hand its plan over in time, and the
# parent's own reserve for collecting it and stopping the child (measured: without them a loaded
# machine went 2.5 s past a 10 s limit).
HANDOVER_S = 0.7
RESERVE_S = 0.4
# Share of the time the child runs the beam search before its local search.
HANDOFF_FRAC = 0.55
CHILD_SEED = 7919  # the child's tabu rounds walk other plateaus than the engine's
# Whether the child's beam search runs its improvement rounds compiled (``ipbs.COMPILED_TABU``).
# Off: IPBS alone gains from it (wee-mag at 5.5 s: 3.80 % against 4.85 %), the portfolio does not
# (paired, 10 s, seeds 0-2: wee-mag 4 better, 4 worse in 80 pairs; tonge 3 better, 5 worse in 56;
# with seed 0, the command line's, shared tonge 1.21 % against 0.71 %, held-out wee-mag 1.94 %
# against 1.36 %). Within the noise there, and worse with the seed the command line uses.
CHILD_COMPILED_TABU = False
# Seconds of exact questions (``cpsat_window``: a plan at one below the best cycle?) after each of
# the child's tabu rounds that brought no better plan; 0 turns them off.
EXACT_TURN_S = 1.0
# Seconds one window-repacking pass (``repack``) may take in the child: a pass that stalls on
# wide windows of many tasks must leave the tabu rounds their turn.
REPACK_S = 1.0
# Seconds of tabu rounds between two of the child's heavy steps (a repacking pass, an exact turn)
# when the rounds bring nothing; 0: a heavy step after every round.
ROUNDS_S = 1.0
# Whether the child's repacking passes share what they learnt (``repack.RepackMemo``).
REPACK_MEMO = True
# Seconds of a worker-order turn (``worker_order``: the whole line, tasks free, workers within a
# band of their places, at one below the best cycle); it takes every other stalled turn from the
# exact windows; 0 turns it off.
ORDER_TURN_S = 1.0
# Every ``WALK_EVERY``-th exact turn on long lines walks over orders of workers instead of asking
# windows (``whole_line.order_walk``; its place on the walk is kept from one turn to the next).
# Off: alone it took wee-mag-1 from 27 to its optimum 25, but only in about 80 s of CPU; in paired
# 10-s and 60-s portfolio runs it changed no answer, while the ladder above did (docs/planning.md).
# Still off with its questions 25-45 % cheaper (no LP) and with or without the guide, in 60
# pairs of 10-s runs (WALK_EVERY 1 and 2): 4 better, 5 worse, 51 equal
# (bench/alwabp_paired.py --b portfolio.ORDER_WALK=1).
ORDER_WALK = False
WALK_EVERY = 2


class _Mailbox:
    """One side of the exchange: sends this side's best plan when it improved, and returns the
    best plan the other side sent since the last call (None when nothing better came)."""

    def __init__(self, p: LineProblem, conn: Connection) -> None:
        self.p = p
        self.conn = conn
        self.sent: tuple[int, int, int] | None = None
        self.closed = False
        self.received = 0

    def __call__(self, best: LineSolution) -> LineSolution | None:
        if self.closed:
            return None
        got: LineSolution | None = None
        try:
            while self.conn.poll(0):
                other = self.conn.recv()
                self.received += 1
                if other is not None and (got is None or _key(self.p, other) < _key(self.p, got)):
                    got = other
            if got is not None and _key(self.p, got) < _key(self.p, best):
                best = got
            else:
                got = None
            if self.sent is None or _key(self.p, best) < self.sent:
                self.conn.send(best)
                self.sent = _key(self.p, best)
        except (EOFError, OSError):
            self.closed = True
        return got


def _repacked(p: LineProblem, sol: LineSolution, t_end: float, memo: RepackMemo | None = None) -> LineSolution:
    """The child's large neighbourhood between tabu rounds: window repacking (exact re-solves of
    a few stations around each bottleneck), at most ``REPACK_S`` seconds a pass; ``memo`` carries
    what the passes before learnt about the windows, so a pass goes on where the last stopped."""
    return repack(p, sol, deadline=min(t_end, time.monotonic() + REPACK_S), memo=memo)


def _exact_turns(p: LineProblem, t_end: float, seed: int, turn_s: float) -> Callable[[LineSolution, int], LineSolution]:
    """``turn_s`` seconds of CP-SAT questions at one below the best cycle, state kept across turns."""
    from .cpsat_window import FULL_MAX_SIZE, ExactStats, improve_exact  # imported before the fork
    from .whole_line import WalkStats, order_walk

    state = ExactStats()
    walk = WalkStats()
    turns = [0]

    def turn(sol: LineSolution, rnd: int) -> LineSolution:
        end = min(t_end - 0.1, time.monotonic() + turn_s)
        if end - time.monotonic() < 0.2 or state.proven:
            return sol
        turns[0] += 1
        if ORDER_WALK and p.num_tasks * p.num_workers > FULL_MAX_SIZE and turns[0] % WALK_EVERY == 0:
            # every other turn on lines too long for the whole-line question: the walk over
            # orders of workers (``whole_line.order_walk``), which the windows never change
            return order_walk(p, sol, end, seed=seed + 31 * rnd, stats=walk)
        return improve_exact(p, sol, end, seed=seed + 31 * rnd, stats=state)

    return turn


def _order_turns(
    p: LineProblem, t_end: float, seed: int, turn_s: float
) -> tuple[Callable[[LineSolution, int], LineSolution], Callable[[LineSolution], bool]]:
    """``turn_s`` seconds of the worker-order ladder, its place on the ladder kept across turns;
    and whether the ladder has nothing left to ask about a plan (every band refuted or beyond
    its budget), so the turn goes to the exact windows instead."""
    from .worker_order import OrderStats, improve_order

    state = OrderStats()

    def turn(sol: LineSolution, rnd: int) -> LineSolution:
        end = min(t_end - 0.1, time.monotonic() + turn_s)
        if end - time.monotonic() < 0.2:
            return sol
        return improve_order(p, sol, deadline=end, seed=seed + 17 * rnd, stats=state)

    def done(sol: LineSolution) -> bool:
        return state.exhausted and state.plan_key == _key(p, sol)

    return turn, done


def _child(
    conn: Connection,
    p: LineProblem,
    time_limit_s: float,
    handoff_s: float,
    seed: int,
    exact_s: float = 0.0,
    order_s: float = 0.0,
) -> None:
    t_end = time.monotonic() + time_limit_s
    try:
        mine = solve_ipbs(p, min(handoff_s, time_limit_s), seed=seed, compiled_tabu=CHILD_COMPILED_TABU)
        box = _Mailbox(p, conn)

        def swap(sol: LineSolution) -> LineSolution:
            got = box(sol)
            return sol if got is None else got

        # A plan the engine sent while the beam searched is waiting: start from it if better.
        mine = swap(mine)
        exact = _exact_turns(p, t_end, seed, exact_s) if exact_s > 0 else None
        # Small lines get no worker-order turns: their exact turns ask the whole line with free
        # workers (a no proves the optimum), which every band of the ladder is part of.
        order, order_done = None, None
        if order_s > 0:
            from .cpsat_window import FULL_MAX_SIZE  # imported before the fork (solve_portfolio)

            if p.num_tasks * p.num_stations > FULL_MAX_SIZE:
                order, order_done = _order_turns(p, t_end, seed, order_s)
        last = [_key(p, mine)]
        stalls = [0]
        windows = RepackMemo() if REPACK_MEMO else None

        quiet_until = [0.0]

        def after(sol: LineSolution, rnd: int) -> LineSolution:
            # Window repacking after a round that improved, else once ``ROUNDS_S`` seconds of
            # rounds have passed since the last (compiled rounds take hundredths of a second;
            # each starts from a fresh beam every other time, which is what finds new plateaus);
            # the exact turn only when the rounds and the repacking brought nothing: while the
            # heuristic still improves (the first round from the IPBS plan, a fresh beam's round),
            # it keeps the time.
            sol = swap(sol)
            if _key(p, sol) >= last[0] and time.monotonic() < quiet_until[0]:
                return sol
            sol = swap(_repacked(p, sol, t_end, windows))
            stalled = _key(p, sol) >= last[0]
            last[0] = min(last[0], _key(p, sol))
            if stalled:
                # The two exact neighbourhoods take the stalled turns in turn, the worker-order
                # ladder first (its lowest bands are refuted in hundredths of a second).
                stalls[0] += 1
                turn = exact
                if order is not None and order_done is not None and not order_done(sol):
                    turn = order if exact is None or stalls[0] % 2 == 1 else exact
                if turn is not None:
                    sol = swap(turn(sol, rnd))
            last[0] = min(last[0], _key(p, sol))
            quiet_until[0] = time.monotonic() + ROUNDS_S
            return sol

        if time.monotonic() < t_end - 0.1:
            mine = swap(_repacked(p, mine, t_end, windows))
            mine = iterated_tabu(
                p,
                mine,
                deadline=t_end,
                lower=p.lower_bound(),
                seed=seed + CHILD_SEED,
                before=swap,
                after=after,
            )
        conn.send(mine)
    except Exception:  # no plan from the search: the engine's stands alone
        conn.send(None)
    finally:
        conn.close()


def solve_portfolio(
    p: LineProblem,
    time_limit_s: float,
    *,
    seed: int = 0,
    start: LineSolution | None = None,
    log: Callable[[str], None] | None = None,
    exact_s: float | None = None,
    order_s: float | None = None,
) -> LineSolution:
    """The better of the engine and IPBS, each improving the other's plans, within
    ``time_limit_s``; the engine alone where IPBS does not apply (machine types, soft costs) or a
    process cannot be forked. ``exact_s``: seconds of the child's exact turns after each tabu
    round (default ``EXACT_TURN_S``; 0 = none); ``order_s``: seconds of its worker-order turns,
    which take every other of those turns (default ``ORDER_TURN_S``; 0 = none; they need CP-SAT,
    so they run only with the exact turns)."""
    t0 = time.monotonic()
    if not applicable(p) or "fork" not in mp.get_all_start_methods():
        from .solver import solve_line

        return solve_line(p, time_limit_s, seed=seed, start=start, log=log)
    turn_s = EXACT_TURN_S if exact_s is None else exact_s
    ord_s = (ORDER_TURN_S if order_s is None else order_s) if turn_s > 0 else 0.0
    if turn_s > 0:
        # CP-SAT is imported once, here, before the fork: imported in the child it would come out
        # of the child's search time (a fresh import measured 0.45-0.5 CPU-s, 2.4-3.0 s of wall
        # time at load 9) and the parent would pay it again. The import starts no solver
        # threads, so the child inherits none.
        from . import cpsat_window, whole_line  # noqa: F401
    ctx = mp.get_context("fork")
    mine_end, child_end = ctx.Pipe(duplex=True)
    child_s = max(0.1, t0 + time_limit_s - HANDOVER_S - time.monotonic())
    child = ctx.Process(
        target=_child,
        args=(
            child_end,
            p,
            child_s,
            max(0.0, HANDOFF_FRAC * time_limit_s - (time_limit_s - HANDOVER_S - child_s)),
            seed,
            turn_s,
            ord_s,
        ),
        daemon=True,
    )
    child.start()
    child_end.close()
    box = _Mailbox(p, mine_end)
    stats: dict[str, object] = {}
    others: list[LineSolution] = []
    try:
        # Imported after the fork: the child inherits no solver library, and the import (seconds on
        # a loaded machine) runs while the child searches; the engine's time counts from t0.
        from .solver import solve_line

        mine = solve_line(
            p,
            max(0.1, t0 + time_limit_s - RESERVE_S - time.monotonic()),
            workers=1,
            seed=seed,
            start=start,
            log=log,
            exchange=box,
            stats=stats,
        )
        if not stats.get("optimal") and not box.closed:
            # Whatever the child sent since, up to its last plan (it closes the pipe after it).
            try:
                while True:
                    left = time_limit_s - RESERVE_S / 2 - (time.monotonic() - t0)
                    if not mine_end.poll(max(0.0, left)):
                        break
                    got = mine_end.recv()
                    if got is not None:
                        others.append(got)
            except (EOFError, OSError):
                pass
    finally:
        mine_end.close()
        if child.is_alive():
            child.kill()
        child.join(1.0)
    if log is not None:
        log(f"portfolio: {box.received + len(others)} plans from the search process")
    for other in others:
        if other.cycle_time(p) < mine.cycle_time(p):
            if log is not None:
                log(f"portfolio: the search process's {other.cycle_time(p)} < engine {mine.cycle_time(p)}")
            mine = other
    return mine
