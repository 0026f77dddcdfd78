"""Iterated tabu search: rounds of the overload tabu search, every other one from a fresh beam.

A round runs ``tabu.tabu_search`` until a few restarts bring nothing; the next round starts from
a new plan instead of the best one: a randomised beam built for one below the best cycle, its
last station allowed to overflow, which the tabu search then drains (iterated beam search + local
search). Between rounds the caller may hand in a plan found elsewhere (``before``: the
portfolio's trade) or improve the best with another neighbourhood (``after``: the engine's CP-SAT
windows). Pure Python, so the portfolio's forked search process runs it too without importing
CP-SAT.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from seamline.planning.balance.beam import RANK_QS, beam_construct
from seamline.planning.balance.construct import _Static
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.polish import _key, polish
from seamline.planning.balance.tabu import tabu_search

TABU_PATIENCE = 3  # tabu restarts without a better plan before a round ends
# Width of the fresh beam a round starts from (deterministic, 30,000 tabu iterations from the same
# 16 IPBS plans, tonge / wee-mag mean gap: width 4 12.9 / 11.4 %, width 8 10.5 / 8.3 %).
FRESH_WIDTH = 8


def iterated_tabu(
    p: LineProblem,
    best: LineSolution,
    *,
    deadline: float,
    lower: int,
    seed: int = 0,
    before: Callable[[LineSolution], LineSolution] | None = None,
    after: Callable[[LineSolution, int], LineSolution] | None = None,
    log: Callable[[str], None] | None = None,
) -> LineSolution:
    """The best plan found from ``best`` by ``deadline`` (a ``time.monotonic()`` instant)."""
    rnd = 0
    statics = _Static(p)
    while time.monotonic() < deadline - 0.1 and best.cycle_time(p) > lower:
        if before is not None:
            best = before(best)
        origin = best
        if rnd % 2 == 1:
            r_rng = random.Random(seed + rnd)
            fresh = beam_construct(
                statics,
                best.cycle_time(p) - 1,
                FRESH_WIDTH,
                r_rng,
                0.5,
                deadline,
                relaxed=True,
                rank_q=RANK_QS[r_rng.randrange(len(RANK_QS))],
            )
            if fresh is not None:
                origin = polish(p, fresh)
        found = tabu_search(p, origin, deadline=deadline, seed=seed + rnd, lower=lower, patience=TABU_PATIENCE)
        if _key(p, found) < _key(p, best):
            best = polish(p, found)
        if log is not None:
            log(f"tabu round {rnd}: cycle {best.cycle_time(p)}")
        if after is not None:
            best = after(best, rnd)
        rnd += 1
    return best
