"""Both balancing methods at once, one per core, and the better plan.

The engine (``solver.solve_line``: construction → CP-SAT → beam → tabu → LNS) and the interval
probabilistic beam search (``ipbs.solve_ipbs``) win on different lines: measured on the same run at
10 s, tonge 6.8 / 6.5 % and wee-mag 6.6 / 6.8 % each, 4.2 / 5.3 % for the better of the two per
instance. Most of both is single-threaded Python, so on a two-core machine the search runs in a
forked child while the engine runs here with one CP-SAT worker, and the answer is the shorter
cycle (the engine's on a tie: it is the one ``seamline balance`` explains).

Forking is done before CP-SAT is imported in this process (the command-line path imports it
lazily), so the child inherits no solver threads. A child that fails or runs late is ignored: the
engine's plan always stands on its own.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from .data import LineProblem, LineSolution
from .ipbs import applicable, solve_ipbs

# Seconds the child stops before the parent's deadline, to hand its plan over in time, and the
# parent's own reserve for collecting it and stopping the child (measured: without them a loaded
# machine went 2.5 s past a 10 s limit).
HANDOVER_S = 0.7
RESERVE_S = 0.4


def _child(conn: Connection, p: LineProblem, time_limit_s: float, seed: int) -> None:
    try:
        conn.send(solve_ipbs(p, time_limit_s, seed=seed))
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
) -> LineSolution:
    """The better of the engine and IPBS within ``time_limit_s``; the engine alone where IPBS does
    not apply (machine types, soft costs) or a process cannot be forked."""
    from .solver import solve_line

    if not applicable(p) or "fork" not in mp.get_all_start_methods():
        return solve_line(p, time_limit_s, seed=seed, start=start, log=log)
    t0 = time.monotonic()
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, p, max(0.1, time_limit_s - HANDOVER_S), seed), daemon=True)
    child.start()
    send.close()
    try:
        mine = solve_line(p, max(0.1, time_limit_s - RESERVE_S), workers=1, seed=seed, start=start, log=log)
        other: LineSolution | None = None
        left = max(0.05, time_limit_s - RESERVE_S / 2 - (time.monotonic() - t0))
        if recv.poll(left):
            try:
                other = recv.recv()
            except (EOFError, OSError):
                other = None
    finally:
        recv.close()
        if child.is_alive():
            child.kill()
        child.join(1.0)
    if other is not None and other.cycle_time(p) < mine.cycle_time(p):
        if log is not None:
            log(f"portfolio: ipbs {other.cycle_time(p)} < engine {mine.cycle_time(p)}")
        return other
    return mine
