"""CP-SAT and the tabu search at once on a classic job shop, one per core, trading schedules.

``solver.solve_shop`` alone gives CP-SAT both cores. That proves small shops optimal, but on
shops of 20+ jobs a 10-s budget ends well above the best known makespans, where the critical-path
tabu search (``tabu``) goes further in the same time. Neither wins everywhere, so on two cores
they run side by side: the tabu search in a forked child, CP-SAT here with one worker —

1. the full model for ``FULL_FRAC`` of the limit (small shops end here, proven optimal);
2. then large-neighbourhood search (``lns``) on the best schedule of both, which CP-SAT with one
   worker does not run by itself, and which gets the tabu search out of the valleys it stays in.

Each side sends the other its best schedule whenever it improves, and continues from the other's
when that is shorter. The answer is the shorter of the two; a proof of optimality from CP-SAT ends
both.

The fork happens after CP-SAT is imported (the command line imports the solver first); the import
starts no solver threads, so the child inherits none. A thread here drains the child's schedules
while CP-SAT runs (unread, they would fill the pipe and block the child). A child that fails or
runs late is ignored: CP-SAT's schedule always stands. On shops under ``FROM_OPS`` operations
(CP-SAT's two workers find and mostly prove the optimum there), where processes cannot be forked,
the limit is under a second, or the shop is flexible, it is ``solve_shop`` alone.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from seamline.planning.shop.data import ShopInstance
from seamline.planning.shop.lns import lns
from seamline.planning.shop.rules import greedy_schedule
from seamline.planning.shop.solution import ShopSchedule
from seamline.planning.shop.solver import solve_shop
from seamline.planning.shop.tabu import applicable, tabu_search

HANDOVER_S = 0.3  # the child stops this long before the deadline to hand its schedule over
RESERVE_S = 0.2  # the parent's margin for collecting it
MIN_LIMIT_S = 1.0  # below this the fork is not worth it: CP-SAT alone
# Shops with fewer operations get CP-SAT alone on both cores: up to 15×15 its two workers find
# (and mostly prove) the optimum in 10 s, where one worker and the search did not (held-out
# 2026-12-06, 10 s: orb04/06, la22, la37, ta02, swv02 0.3-3 % above; from 300 operations the
# pair won 9 of 10).
FROM_OPS = 250
CHILD_SEED = 104729
# Share of the limit CP-SAT's full model gets (small shops are proven optimal within it); the rest
# goes to large-neighbourhood search on the best of both.
FULL_FRAC = 0.4
LNS_SUB_S = 0.5  # seconds of one neighbourhood
LNS_MIN_S = 0.3  # no LNS with less time than this left
NONE = 1 << 62


def _child(conn: Connection, inst: ShopInstance, limit_s: float, lower: int, seed: int) -> None:
    t_end = time.monotonic() + limit_s
    try:
        start = greedy_schedule(inst, "mwkr")
        sent = [start.makespan]
        conn.send(start)

        def trade(best: ShopSchedule) -> ShopSchedule | None:
            got: ShopSchedule | None = None
            while conn.poll(0):
                other = conn.recv()
                if other is not None and (got is None or other.makespan < got.makespan):
                    got = other
            if best.makespan < sent[0]:
                conn.send(best)
                sent[0] = best.makespan
            return got if got is not None and got.makespan < best.makespan else None

        best = tabu_search(inst, start, deadline=t_end, lower=lower, seed=seed, trade=trade)
        conn.send(best)
    except Exception:  # no schedule from the search: CP-SAT's stands alone
        conn.send(None)
    finally:
        conn.close()


def solve_shop_portfolio(
    inst: ShopInstance,
    time_limit_s: float,
    *,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> ShopSchedule:
    """The shorter of CP-SAT (one worker: full model, then LNS) and the tabu search (a forked
    child) within ``time_limit_s``, trading their best schedules; ``solve_shop`` alone (CP-SAT on
    both cores) on shops under ``FROM_OPS`` operations, where the tabu search does not apply, or
    where no process can be forked."""
    t0 = time.monotonic()
    if (
        not applicable(inst)
        or inst.num_ops < FROM_OPS
        or time_limit_s < MIN_LIMIT_S
        or "fork" not in mp.get_all_start_methods()
    ):
        return solve_shop(inst, time_limit_s, seed=seed, log=log)
    ctx = mp.get_context("fork")
    mine, theirs = ctx.Pipe(duplex=True)
    child = ctx.Process(
        target=_child,
        args=(theirs, inst, max(0.1, time_limit_s - HANDOVER_S), inst.lower_bound(), seed + CHILD_SEED),
        daemon=True,
    )
    child.start()
    theirs.close()
    got: list[ShopSchedule] = []

    def reader() -> None:
        try:
            while True:
                s = mine.recv()
                if s is not None:
                    got.append(s)
        except (EOFError, OSError):
            pass

    drain = threading.Thread(target=reader, daemon=True)
    drain.start()
    sent = [NONE]

    def theirs_best() -> ShopSchedule | None:
        return min(list(got), key=lambda x: x.makespan, default=None)

    def on_solution(s: ShopSchedule) -> None:
        """CP-SAT's new schedule goes to the search when it beats the search's best."""
        other = theirs_best()
        if s.makespan >= min(sent[0], other.makespan if other is not None else NONE):
            return
        try:
            mine.send(s)
            sent[0] = s.makespan
        except OSError:
            pass

    def exchange(best: ShopSchedule) -> ShopSchedule | None:
        """The LNS's trade: its best to the search, the search's best back when shorter."""
        on_solution(best)
        other = theirs_best()
        return other if other is not None and other.makespan < best.makespan else None

    stats: dict[str, object] = {}
    end = t0 + time_limit_s - RESERVE_S
    try:
        best = solve_shop(
            inst,
            max(0.1, min(FULL_FRAC * time_limit_s, end - time.monotonic())),
            workers=1,
            seed=seed,
            full_frac=1.0,
            log=log,
            on_solution=on_solution,
            stats=stats,
        )
        if not stats.get("optimal"):
            if end - time.monotonic() > LNS_MIN_S:
                bound = stats.get("bound")
                best = lns(
                    inst,
                    best,
                    end,
                    lower_bound=bound if isinstance(bound, int) else inst.lower_bound(),
                    workers=1,
                    seed=seed,
                    sub_limit_s=LNS_SUB_S,
                    log=log,
                    exchange=exchange,
                )
            # the child's last schedule comes before it closes the pipe
            drain.join(max(0.0, t0 + time_limit_s - RESERVE_S / 2 - time.monotonic()))
    finally:
        if child.is_alive():
            child.kill()
        child.join(1.0)
        drain.join(0.5)
        mine.close()
    for s in got:
        if s.makespan < best.makespan:
            best = s
    if log is not None:
        log(f"portfolio: {len(got)} schedules from the tabu search, best {best.makespan}")
    return best
