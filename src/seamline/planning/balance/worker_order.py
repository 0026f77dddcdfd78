"""Worker-order large neighbourhood: let every worker move a few places along the line, repartition
every task, and ask for a plan at one below the best cycle.

The local searches of the portfolio (tabu moves and swaps, window repacking, CP-SAT windows) keep
most of the line's *order of workers*: a swap trades two workers with their tasks fixed, a window
re-solves a few neighbouring stations. Near the best cycle ``C*`` a plan is often locally optimal
for all of them, while a line with the workers in a somewhat different order — and every task
shifted along the line to fit it — is better. Two exact halves make the order searchable:

(a) tasks fixed per station → the best placing of workers onto the stations' task groups, a
    *bottleneck assignment problem* (minimise the largest station time; a worker who cannot do a
    task of a group cannot take it): ``polish.reassign_workers``, a binary search on the
    threshold with a bipartite matching at each step, exact in milliseconds;
(b) the order of workers fixed, or each worker within ``band`` places of where she stands → "is
    there a plan with every load ≤ C* − 1, every task anywhere on the line?", CP-SAT on the
    whole-line model of ``cpsat_window`` (``seat_band``; band 0 keeps every worker's station).
    With the workers pinned or nearly so the whole-line model is small and propagates well:
    on the plans the portfolio ends with on tonge (70 tasks, 10–17 workers), band 0 and band 1
    are refuted in 0.01–0.09 deterministic units; band 2 found 88 → 87 (the optimum) on tonge-1
    and 65 → 64 on tonge-61 and refuted the other six in 0.1–1.5 units; band 3 refuted two more
    and timed out at 3 units on the rest.

The neighbourhood climbs this ladder: band 0, 1, 2, ... while the answers are "no" (a proof that
no plan at ``C* − 1`` keeps the workers that close to their places), until a "yes" (polished by
(a) and the bottleneck descent, then the ladder starts again from the new plan) or a time-out
(the next call retries that band with twice the deterministic budget). The state is kept across
calls, so the portfolio's child can give it a turn between tabu rounds.

What was tried and dropped (deterministic counts on the eight tonge plans the portfolio ended with
at 10 s): (b) by the station DFS with fixed seats (within 3,000 nodes it neither found nor
refuted what CP-SAT refuted in 0.01 units); orders one swap or insertion away from the best
plan's, sets of 2–6 workers free to trade places, orders of randomised beam plans at looser
cycles placed by (a), and orders of tabu plans from other seeds — 0 "yes" in about 650
questions. A plan with the workers near their places and the tasks free everywhere is what
the local searches miss; arbitrary other orders are not.

Every answer is never worse than the seed: only a plan with a smaller key (cycle, soft cost,
stations at the cycle) replaces it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.polish import _key, polish

ORDER_DET = 1.0  # CP-SAT deterministic units of a band's first question (doubled after a time-out)
MAX_DET = 8.0  # at most this many units on one question
MAX_BAND = 6  # bands beyond this are the whole line with free workers: not this neighbourhood


@dataclass
class OrderStats:
    """The ladder's place and what it asked, carried across calls."""

    band: int = 0  # the band the next question asks
    det: float = ORDER_DET  # deterministic units of the next question
    plan_key: tuple[int, int, int] | None = None  # the plan the band refers to
    asked: int = 0
    yes: int = 0
    no: int = 0
    unknown: int = 0
    exhausted: bool = False  # every band up to MAX_BAND refuted for the current plan


def order_of(sol: LineSolution) -> list[int]:
    """The workers in line order."""
    return [w for w, _ in sol.stations]


def ask_order(
    p: LineProblem,
    sol: LineSolution,
    target: int,
    band: int,
    *,
    det_time: float = ORDER_DET,
    limit_s: float = 10.0,
    seed: int = 0,
) -> tuple[str, LineSolution | None]:
    """Half (b): every task free over the whole line, each worker within ``band`` stations of
    where ``sol`` has her (0: exactly there), every load ≤ ``target``. ("yes", plan) /
    ("no", None) when refuted / ("unknown", None) when out of budget (``det_time``
    deterministic units, ``limit_s`` seconds). ``sol`` is the hint; it need not be within the
    target."""
    from seamline.planning.balance.cpsat_window import ask

    if band <= 0:
        return ask(p, sol, target, None, limit_s, seed=seed, movable=set(), det_time=det_time)
    return ask(p, sol, target, None, limit_s, seed=seed, seat_band=band, det_time=det_time)


def improve_order(
    p: LineProblem,
    sol: LineSolution,
    *,
    deadline: float,
    seed: int = 0,
    lower: int | None = None,
    stats: OrderStats | None = None,
    max_questions: int | None = None,
) -> LineSolution:
    """The best plan reached from ``sol`` by the band ladder by ``deadline`` (a
    ``time.monotonic()`` instant) or after ``max_questions`` questions. Never worse than ``sol``.
    ``stats`` carries the ladder across calls: a call with the same plan goes on where the last
    one stopped; a better plan starts again at band 0."""
    if not sol.stations or p.task_type is not None or p.pair_cost:
        return sol
    st = stats if stats is not None else OrderStats()
    lb = p.lower_bound() if lower is None else lower
    best = sol
    k = len(sol.stations)
    top = min(MAX_BAND, k - 1)
    if st.plan_key != _key(p, best):
        st.band, st.det, st.plan_key, st.exhausted = 0, ORDER_DET, _key(p, best), False
    asked = 0
    while time.monotonic() < deadline - 0.05 and (max_questions is None or asked < max_questions):
        c = best.cycle_time(p)
        if c <= lb or st.exhausted:
            break
        answer, found = ask_order(
            p,
            best,
            c - 1,
            st.band,
            det_time=st.det,
            limit_s=deadline - time.monotonic(),
            seed=seed + st.asked,
        )
        st.asked += 1
        asked += 1
        if answer == "yes" and found is not None:
            st.yes += 1
            found = polish(p, found)
            if _key(p, found) < _key(p, best):
                best = found
            st.band, st.det, st.plan_key = 0, ORDER_DET, _key(p, best)
        elif answer == "no":
            st.no += 1
            if st.band >= top:
                st.exhausted = True
            st.band, st.det = st.band + 1, ORDER_DET
        else:
            st.unknown += 1
            if st.det >= MAX_DET:
                st.exhausted = True  # this band is beyond the budget on this plan
            st.det = min(MAX_DET, 2 * st.det)
            break  # out of budget: the caller's other neighbourhoods get their turn
    return best
