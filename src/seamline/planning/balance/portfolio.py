"""Both balancing methods at once, one per core, trading their plans halfway.

The engine (``solver.solve_line``: construction → CP-SAT → beam → tabu → LNS) and the interval
probabilistic beam search (``ipbs.solve_ipbs``) win on different lines. Most of both is
single-threaded Python, so on a two-core machine the search runs in a forked child while the
engine runs here with one CP-SAT worker.

The two cooperate rather than race. Both construct for the first ``HANDOFF_FRAC`` of the time
(the engine's beam is cut there), then they trade plans: the child sends its best and gets the
engine's back. From then on both improve the better of the two, with different methods: the
engine's tabu search taking turns with CP-SAT windows of consecutive stations (LNS) here, the tabu
search with another seed in the child. The answer is the shorter cycle of the two final plans
(the engine's on a tie: it is the one ``seamline balance`` explains). A beam's plan is only the
start of a local search, so the plan of one method improved by the other's local search beats
either alone.

Forking is done before CP-SAT is imported in this process (the command-line path imports it
lazily), so the child inherits no solver threads, and the child imports none (its polish is
pure Python). A child that fails or runs late is ignored: the engine's plan always stands.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from .data import LineProblem, LineSolution
from .ipbs import applicable, solve_ipbs
from .polish import _key, polish
from .tabu import tabu_search

# Seconds the child stops before the parent's deadline, to hand its plan over in time, and the
# parent's own reserve for collecting it and stopping the child (measured: without them a loaded
# machine went 2.5 s past a 10 s limit).
HANDOVER_S = 0.7
RESERVE_S = 0.4
# Share of the time both methods construct before they trade plans.
HANDOFF_FRAC = 0.55
# How long either side waits for the other's plan at the trade before it goes on alone.
TRADE_WAIT_S = 0.5
CHILD_SEED = 7919  # the child's tabu search walks other plateaus than the parent's


def _child(conn: Connection, p: LineProblem, time_limit_s: float, handoff_s: float, seed: int) -> None:
    t_end = time.monotonic() + time_limit_s
    try:
        mine = solve_ipbs(p, handoff_s, seed=seed)
        conn.send(mine)
        if conn.poll(max(0.0, min(TRADE_WAIT_S, t_end - time.monotonic()))):
            theirs = conn.recv()
            if theirs is not None and _key(p, theirs) < _key(p, mine):
                mine = theirs
        if time.monotonic() < t_end - 0.05:
            found = polish(p, tabu_search(p, mine, deadline=t_end, seed=seed + CHILD_SEED, lower=p.lower_bound()))
            if _key(p, found) < _key(p, mine):
                mine = found
        conn.send(mine)
    except Exception:  # no plan from the search: the engine's stands alone
        conn.send(None)
    finally:
        conn.close()


class _Trade:
    """The parent's side of the trade: the child's plan once it is due, the engine's plan back."""

    def __init__(self, conn: Connection, due: float) -> None:
        self.conn = conn
        self.due = due
        self.waited = False  # the engine waits for the child's plan once; later it only looks
        self.done = False  # the child's plan was received (or the child is gone)

    def __call__(self, best: LineSolution) -> LineSolution | None:
        if self.done:
            return None
        wait = 0.0
        now = time.monotonic()
        if not self.waited and now >= self.due - TRADE_WAIT_S:
            # Close to the trade the engine waits for the child's plan (a little past the due
            # time, for a loaded machine); long before it, it only looks.
            wait = max(0.0, min(2 * TRADE_WAIT_S, self.due + TRADE_WAIT_S - now))
            self.waited = True
        try:
            if not self.conn.poll(wait):
                return None
            self.done = True
            theirs: LineSolution | None = self.conn.recv()
            self.conn.send(best)
        except (EOFError, OSError):
            self.done = True
            return None
        return theirs


def solve_portfolio(
    p: LineProblem,
    time_limit_s: float,
    *,
    seed: int = 0,
    start: LineSolution | None = None,
    log: Callable[[str], None] | None = None,
) -> LineSolution:
    """The better of the engine and IPBS, trading plans halfway, within ``time_limit_s``; the
    engine alone where IPBS does not apply (machine types, soft costs) or a process cannot be
    forked."""
    t0 = time.monotonic()
    if not applicable(p) or "fork" not in mp.get_all_start_methods():
        from .solver import solve_line

        return solve_line(p, time_limit_s, seed=seed, start=start, log=log)
    ctx = mp.get_context("fork")
    mine_end, child_end = ctx.Pipe(duplex=True)
    handoff_s = HANDOFF_FRAC * time_limit_s
    child = ctx.Process(
        target=_child, args=(child_end, p, max(0.1, time_limit_s - HANDOVER_S), handoff_s, seed), daemon=True
    )
    child.start()
    child_end.close()
    trade = _Trade(mine_end, t0 + handoff_s)
    stats: dict[str, object] = {}
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
            exchange=trade,
            exchange_at=t0 + handoff_s,
            stats=stats,
        )
        others: list[LineSolution] = []
        if not stats.get("optimal"):
            try:
                # The child's plan at the trade, if the engine never asked for it, then its last.
                for _ in range(1 if trade.done else 2):
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
    for other in others:
        if other.cycle_time(p) < mine.cycle_time(p):
            if log is not None:
                log(f"portfolio: the search process's {other.cycle_time(p)} < engine {mine.cycle_time(p)}")
            mine = other
    return mine
