"""Balancing a line: one engine for the sewing line and for ALWABP-2.

``solve_line`` solves the line problem (``LineProblem``) within a deadline:

1. ``best_construction`` gives a feasible plan in a fraction of the budget (always an answer).
2. Small lines (tasks × workers ≤ 400, e.g. 28 tasks × 7 workers): the whole model, hinted with
   it and bounded below, gets up to half the time and usually proves the optimum. On larger
   lines CP-SAT does not even find a plan for the whole model in seconds, so this step is skipped.
3. Without soft costs (ALWABP): the station-oriented beam search of ``beam`` (look-ahead pruned,
   each plan polished by a bottleneck descent and the exact placing of workers) gets most of the
   time left: on 17–19-worker lines it reaches in seconds what LNS alone did not in ten.
3b. Lines without machine types (ALWABP): the iterated tabu search (``iterated``: tabu on the
   overload below the incumbent's cycle — task moves, task swaps, worker swaps, O(1) each — until
   three restarts bring nothing, every other round from a fresh randomised beam plan) takes turns
   with LNS (4) for a second, each from the other's best plan; in pure Python it reaches plans
   the CP-SAT windows do not. In the portfolio, a plan from the other method comes in between
   rounds and LNS windows (``exchange``).
4. Large-neighbourhood search: a window of consecutive stations around a bottleneck (plus a
   few random or idle stations, so workers can swap across the line) is freed and re-solved by
   CP-SAT, everything else fixed, hinted with the incumbent; or a longer stretch with the workers
   kept in place and only tasks free. The window's objective is its own heaviest station; one
   bottleneck station is relieved at a time until the line's cycle drops. Window sizes adapt
   (grow when CP-SAT proves a window optimal, shrink when it times out); every result also gets
   the exact bottleneck assignment of workers to the stations' task groups.
5. Whatever time is left goes back to the whole model, hinted with the LNS incumbent (it may
   close the gap to the lower bound, or prove the plan optimal).

``balance_line`` maps a style's bulletin and the workers present onto that problem (operations →
tasks, long operations split into equal parts, each worker's minutes = SAM ÷ her efficiency,
machine types and counts, zones, helpers preferred for manual work) and the plan back;
``rebalance`` adds the previous plan as a soft cost so few (worker, operation) pairs change, and
starts from it repaired (``repair``), searching only its neighbourhoods;
``evaluate_allocation`` scores a given allocation without optimising it.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable, Mapping

from ortools.sat.python import cp_model

from seamline.planning.balance.beam import beam_search
from seamline.planning.balance.construct import best_construction, feasible_somehow
from seamline.planning.balance.data import (
    IDLE_FRACTION,
    Assignment,
    BalancePlan,
    BalanceProblem,
    LineProblem,
    LineSolution,
)
from seamline.planning.balance.iterated import iterated_tabu
from seamline.planning.balance.model import LineModel, build_line_model, extract_line
from seamline.planning.balance.polish import _key, polish, reassign_workers
from seamline.planning.balance.repair import repair_previous
from seamline.planning.balance.tabu import applicable as tabu_applicable

SUB_LIMIT_S = 0.5
FULL_MAX_SIZE = 400  # tasks × workers above which the whole model is left to the end
INIT_SIZE = 6
BEAM_FRAC = 0.85  # of the time left after the whole model
BEAM_STALL = 0.4  # of its budget without a better plan: the beam hands over to LNS (0.25 before the q-ranking)
LNS_TURN_S = 1.0
FINAL_MIN_S = 0.5  # seconds left below which the final whole-model search is skipped


# Called with the engine's best plan; returns a plan found by another method, or None.
Exchange = Callable[[LineSolution], LineSolution | None]


def _log(log: Callable[[str], None] | None, msg: str) -> None:
    if log:
        log(msg)


def _take(
    p: LineProblem, exchange: Exchange | None, best: LineSolution, log: Callable[[str], None] | None
) -> LineSolution:
    """The better of ``best`` and the plan ``exchange`` hands in (the portfolio's other method)."""
    if exchange is None:
        return best
    other = exchange(best)
    if other is not None and _key(p, other) < _key(p, best):
        _log(log, f"exchange: cycle {other.cycle_time(p)} from the other method (engine {best.cycle_time(p)})")
        return other
    return best


def _solve(lm: LineModel, limit_s: float, workers: int, seed: int) -> tuple[cp_model.CpSolver, int]:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = max(0.01, limit_s)
    prm.num_workers = workers
    prm.random_seed = seed
    try:
        return solver, int(solver.solve(lm.model))
    except (IndexError, RuntimeError):
        # CP-SAT 9.15 can raise from inside its multi-threaded search on some neighbourhood models
        # (seen: `IndexError: absl::btree_map::at`, not reproducible with one seed). One failed
        # neighbourhood must not end the command: it counts as "nothing found", the search goes on
        # and the construction's plan stands.
        return solver, int(cp_model.UNKNOWN)


def solve_line(
    p: LineProblem,
    time_limit_s: float,
    *,
    workers: int = 2,
    seed: int = 0,
    full_frac: float = 0.5,
    start: LineSolution | None = None,
    log: Callable[[str], None] | None = None,
    local_only: bool = False,
    exchange: Exchange | None = None,
    stats: dict[str, object] | None = None,
) -> LineSolution:
    """The best plan found within ``time_limit_s``; raises ValueError when none exists.

    ``start`` is a construction already made (the CLI builds one before importing CP-SAT).
    ``local_only``: only neighbourhoods of ``start`` (LNS windows), no whole-model search — a
    re-balance stays near the previous plan whatever the machine's load.
    ``exchange`` (the portfolio's): called with the engine's best plan between tabu rounds and
    LNS windows, it returns a plan found elsewhere (or None); a better one becomes the incumbent
    the tabu search and LNS improve. ``stats["optimal"]`` is set when the plan is proven optimal.
    """
    t0 = time.monotonic()
    deadline = t0 + time_limit_s
    lb = p.lower_bound()
    best = start
    if best is None:
        best = best_construction(p, min(0.6, max(0.05, 0.06 * time_limit_s, 0.3 * time_limit_s)), seed)
    if best is None:
        # The construction can fail under tight zones/machines; the model may still find a plan.
        lm = build_line_model(p, lower=lb)
        solver, status = _solve(lm, deadline - time.monotonic(), workers, seed)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise ValueError(f"{p.name}: no feasible line plan (check skills, zones and machines)")
        best = extract_line(p, lm, solver)
        if status == cp_model.OPTIMAL:
            return _proven(stats, best)
    _log(log, f"construction cycle {best.cycle_time(p)}, lower bound {lb}")
    if best.cycle_time(p) <= lb and not p.pair_cost:
        return _proven(stats, best)
    # Phase 2: the whole model, hinted.
    # Small lines: the whole model proves the optimum (given half the time on a loaded machine);
    # large ones: CP-SAT does not even find a plan for the whole line, so LNS gets the time.
    small = p.num_tasks * p.num_workers <= FULL_MAX_SIZE and not local_only
    full_s = min(deadline - time.monotonic(), full_frac * time_limit_s) if small else 0.0
    if full_s > 0.05:
        lm = build_line_model(p, lower=lb, upper=best.cycle_time(p), hint=best)
        solver, status = _solve(lm, full_s, workers, seed)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = extract_line(p, lm, solver)
            if _key(p, found) <= _key(p, best):
                best = found
            lb = max(lb, int(solver.best_objective_bound) if not p.pair_cost else lb)
            _log(log, f"full model cycle {best.cycle_time(p)}, bound {lb}, optimal={status == cp_model.OPTIMAL}")
            if status == cp_model.OPTIMAL:
                return _proven(stats, best)
    # Phase 3: the beam search (thousands of cheap constructions) gives LNS a much better start.
    beam_s = BEAM_FRAC * (deadline - time.monotonic())
    if beam_s > 0.1 and best.cycle_time(p) > lb and not p.pair_cost:
        found_b = beam_search(
            p, beam_s, seed, incumbent=best, lower=lb, polish=lambda x: polish(p, x), stall_s=BEAM_STALL * beam_s
        )
        if found_b is not None and _key(p, found_b) < _key(p, best):
            best = found_b
        _log(log, f"beam search cycle {best.cycle_time(p)}")
    # Phase 3b + 4: tabu search on the overload (lines without machine types), taking turns with
    # LNS: tabu walks task by task, a CP-SAT window moves workers and tasks together; each
    # starts from the other's best plan.
    end_search = deadline - 0.3 * max(0.0, min(3.0, time_limit_s * 0.1))
    # Small lines (tasks × workers ≤ FULL_MAX_SIZE): an LNS window spans most of the line and
    # CP-SAT solves it exactly, so they keep LNS alone (heskia lost 1.3 % with tabu turns).
    if not p.pair_cost and tabu_applicable(p) and p.num_tasks * p.num_workers > FULL_MAX_SIZE:

        def lns_turn(sol: LineSolution, rnd: int) -> LineSolution:
            turn_end = min(end_search, time.monotonic() + LNS_TURN_S)
            if turn_end - time.monotonic() > 0.1 and sol.cycle_time(p) > lb:
                return lns_line(p, sol, turn_end, lb, workers, seed + rnd, log)
            return sol

        best = iterated_tabu(
            p,
            best,
            deadline=end_search,
            lower=lb,
            seed=seed,
            before=lambda sol: _take(p, exchange, sol, log),
            after=lns_turn,
            log=log,
        )
    else:
        best = lns_line(p, _take(p, exchange, best, log), end_search, lb, workers, seed, log, exchange=exchange)
    left = deadline - time.monotonic()
    # Building the whole model is not bounded by the deadline (a few tenths of a second on a
    # 70-task line, seconds on a loaded machine): only with time for CP-SAT to use it.
    if left > FINAL_MIN_S and best.cycle_time(p) > lb and not local_only:
        lm = build_line_model(p, lower=lb, upper=best.cycle_time(p), hint=best)
        solver, status = _solve(lm, deadline - time.monotonic(), workers, seed + 1)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = extract_line(p, lm, solver)
            if _key(p, found) < _key(p, best):
                best = found
            if status == cp_model.OPTIMAL and _key(p, found) <= _key(p, best):
                _proven(stats, best)
        _log(log, f"final full model cycle {best.cycle_time(p)}")
    if best.cycle_time(p) <= lb and not p.pair_cost:
        _proven(stats, best)
    return best


def _proven(stats: dict[str, object] | None, best: LineSolution) -> LineSolution:
    if stats is not None:
        stats["optimal"] = True
    return best


def _window(p: LineProblem, sol: LineSolution, size: int, rng: random.Random, extra: int) -> list[int]:
    """Consecutive stations around a random bottleneck, plus ``extra`` random other stations."""
    k = p.num_stations
    loads = sol.loads(p)
    c = max(loads)
    hot = [s for s, v in enumerate(loads) if v == c]
    s0 = rng.choice(hot)
    size = min(size, k)
    first = rng.randint(max(0, s0 - size + 1), min(s0, k - size))
    chosen = set(range(first, first + size))
    others = [s for s in range(k) if s not in chosen]
    rng.shuffle(others)
    if rng.random() < 0.5:
        # The lightest stations: an idle or half-idle worker may stand anywhere, so bringing her
        # into the window is how help reaches the bottleneck.
        others.sort(key=lambda s: loads[s])
    chosen.update(others[:extra])
    return sorted(chosen)


def _bring_idle(p: LineProblem, sol: LineSolution, rng: random.Random) -> LineSolution:
    """The same plan with an idle worker's (empty) station moved next to a bottleneck station.

    Moving an empty station keeps every task's order, so precedence holds; the next window then
    holds a spare worker beside the bottleneck. Unchanged when there is no idle worker, or when
    zones or fixed seats tie tasks or workers to station numbers.
    """
    if p.allowed is not None or (p.worker_station is not None and any(x is not None for x in p.worker_station)):
        return sol
    empty = [s for s, (_, ts) in enumerate(sol.stations) if not ts]
    if not empty:
        return sol
    loads = sol.loads(p)
    c = max(loads)
    b = rng.choice([s for s, v in enumerate(loads) if v == c])
    j = rng.choice(empty)
    st = list(sol.stations)
    idle = st.pop(j)
    st.insert(min(b + rng.randint(0, 1), len(st)), idle)
    return LineSolution(tuple(st))


def lns_line(
    p: LineProblem,
    incumbent: LineSolution,
    deadline: float,
    lower_bound: int,
    workers: int = 2,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    sub_limit_s: float | None = None,
    exchange: Exchange | None = None,
) -> LineSolution:
    """Improve ``incumbent`` by re-solving windows of stations until ``deadline``.

    Two neighbourhoods, chosen by their recent success: ``window`` frees the tasks *and* the
    workers of a few consecutive stations (workers change places), ``tasks`` keeps every worker
    in place and frees the tasks of a longer stretch of the line (much easier for CP-SAT, so it
    can span most of the line).
    """
    rng = random.Random(seed)
    if sub_limit_s is None:
        sub_limit_s = SUB_LIMIT_S
    best = incumbent
    k = p.num_stations
    size = {"window": float(min(k, INIT_SIZE)), "tasks": float(min(k, 2 * INIT_SIZE))}
    score = {"window": 1.0, "tasks": 1.0}
    it = 0
    while time.monotonic() < deadline - 0.05 and best.cycle_time(p) > lower_bound:
        best = _take(p, exchange, best, log)
        kind = rng.choices(list(score), weights=list(score.values()))[0]
        sz = round(size[kind])
        extra = rng.choice((0, 1, 2, 3)) if sz < k and kind == "window" else 0
        base = best
        if kind == "window" and rng.random() < 0.5:
            base = _bring_idle(p, best, rng)
        free = _window(p, base, sz, rng, min(extra, k - sz))
        loads = base.loads(p)
        cur_max = max(loads[s] for s in free)
        seats = {base.stations[s][0]: (s,) for s in free} if kind == "tasks" else None
        floor = 0
        if p.pair_cost:
            # With soft costs (helpers, few moves) a window must not trade them for cycle time the
            # line cannot use: its stations need not get lighter than the heaviest station
            # outside it (or one below the cycle, so a bottleneck station inside can be relieved).
            out_max = max((v for s, v in enumerate(loads) if s not in set(free)), default=0)
            floor = min(out_max, max(loads) - 1, cur_max)
        try:
            lm = build_line_model(
                p,
                free_stations=free,
                incumbent=base,
                upper=cur_max,
                lower=floor,
                hint=base,
                worker_stations=seats,
            )
        except ValueError:  # a task with no station left in this window: try another window
            it += 1
            continue
        limit = min(sub_limit_s, deadline - time.monotonic())
        if limit <= 0.02:
            break
        solver, status = _solve(lm, limit, workers, seed + it)
        it += 1
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = extract_line(p, lm, solver)
            moved = reassign_workers(p, found)
            if _key(p, moved) < _key(p, found):
                found = moved
            if _key(p, found) <= _key(p, best):
                if _key(p, found) < _key(p, best):
                    score[kind] += 1.0
                    _log(log, f"lns it {it} {kind} {sz}+{extra}: cycle {found.cycle_time(p)} {_key(p, found)}")
                best = found
        score[kind] = max(0.3, score[kind] * 0.9)
        if status == cp_model.OPTIMAL:
            size[kind] = min(float(k), size[kind] * 1.15)
        else:
            size[kind] = max(2.0, size[kind] * 0.85)
    _log(log, f"lns: {it} windows, sizes " + ", ".join(f"{a}={v:.1f}" for a, v in size.items()))
    return best


# --- The sewing line on the engine --------------------------------------------------------------

TIME_UNITS = 1000  # minutes per piece → integer thousandths for the model

Task = tuple[str, int, int]  # (op code, part, parts)


def _parts(p: BalanceProblem, elig: Mapping[tuple[str, str], float]) -> dict[str, int]:
    """How many equal parts each operation is split into: enough that no part is much longer than
    the line's pitch (work at the able workers' mean efficiency ÷ workers), at most
    ``max_workers_per_op`` and at most the number of workers able to do it."""
    mean_min: dict[str, float] = {}
    able: dict[str, int] = {}
    for o in p.style.operations:
        effs = [e for (_, c), e in elig.items() if c == o.code]
        if not effs:
            raise ValueError(f"nobody present can do operation {o.code} ({o.machine_type})")
        mean_min[o.code] = o.sam_min / (sum(effs) / len(effs))
        able[o.code] = len(effs)
    pitch = sum(mean_min.values()) / max(1, len(p.workers))
    out = {}
    for code, mins in mean_min.items():
        want = max(1, math.ceil(mins / pitch - 0.1)) if pitch > 0 else 1
        out[code] = max(1, min(want, p.max_workers_per_op, able[code]))
    return out


def to_line_problem(
    p: BalanceProblem,
    previous: BalancePlan | None = None,
    fixed: Mapping[str, int] | None = None,
    floating: frozenset[str] = frozenset(),
) -> tuple[LineProblem, list[Task], list[str]]:
    """The line problem of a balance: tasks, badges (worker index → badge).

    Soft costs: a sewing operator doing manual work costs 1 when helpers are present (so the
    helpers get it), and a (worker, operation) pair not in ``previous`` costs 1 (few moves).
    ``fixed`` pins badges to stations (0-based line positions). Operations on a ``floating``
    machine type keep no precedence: their few machines serve bundles from several sections.
    """
    elig = p.eligible()
    parts = _parts(p, elig)
    badges = [w.badge for w in p.workers]
    wmap = {w.badge: w for w in p.workers}
    opmap = p.style.op_map()
    tasks: list[Task] = []
    index: dict[str, list[int]] = {}
    for code in p.style.topological_order():
        index[code] = []
        for i in range(parts[code]):
            index[code].append(len(tasks))
            tasks.append((code, i, parts[code]))
    times: list[tuple[int | None, ...]] = []
    for code, _, k in tasks:
        op = opmap[code]
        row: list[int | None] = []
        for b in badges:
            e = p.efficiency_of(wmap[b], op)
            row.append(max(1, round(op.sam_min / k / e * TIME_UNITS)) if e > 0 else None)
        times.append(tuple(row))
    prec = [
        (i, j)
        for o in p.style.operations
        for q in o.predecessors
        if opmap[q].machine_type not in floating and o.machine_type not in floating
        for i in index[q]
        for j in index[o.code]
    ]
    task_type = tuple(None if opmap[c].machine_type in p.flexible_types else opmap[c].machine_type for c, _, _ in tasks)
    allowed = None
    if p.zones:
        allowed = tuple(frozenset(p.zones[c]) if c in p.zones else None for c, _, _ in tasks)
    cost: dict[tuple[int, int], int] = {}
    helpers = p.helpers()
    prev_pairs = previous.pairs() if previous is not None else set()
    for t, (code, _, _) in enumerate(tasks):
        for w, b in enumerate(badges):
            if times[t][w] is None:
                continue
            c = 0
            if helpers and b not in helpers and opmap[code].machine_type in p.flexible_types:
                c += 1
            if previous is not None and (b, code) not in prev_pairs:
                c += 1
            if c:
                cost[(t, w)] = c
    seats = None
    if fixed:
        seats = tuple(fixed.get(b) for b in badges)
    lp = LineProblem(
        name=p.style.code,
        times=tuple(times),
        precedence=tuple(prec),
        allowed=allowed,
        task_type=task_type,
        machines=dict(p.machines),
        worker_station=seats,
        pair_cost=cost,
    )
    return lp, tasks, badges


def _plan(
    p: BalanceProblem,
    stations: list[tuple[str, dict[str, float]]],
    previous: BalancePlan | None = None,
) -> BalancePlan:
    """A plan from (badge, {op code: share}) per station in line order."""
    opmap = p.style.op_map()
    wmap = {w.badge: w for w in p.workers}
    assignments = []
    loads = {w.badge: 0.0 for w in p.workers}
    machine: dict[str, str | None] = {w.badge: None for w in p.workers}
    for b, shares in stations:
        for code, s in sorted(shares.items()):
            if s <= 0:
                continue
            e = p.efficiency_of(wmap[b], opmap[code])
            minutes = s * opmap[code].sam_min / e if e > 0 else float("inf")
            assignments.append(Assignment(b, code, s, minutes))
            loads[b] += minutes
            if opmap[code].machine_type not in p.flexible_types:
                machine[b] = opmap[code].machine_type
    cycle = max(loads.values(), default=0.0)
    bottleneck = max(loads, key=lambda b: (loads[b], b)) if loads else ""
    n = max(1, len(p.workers))
    pph = 60.0 / cycle if cycle > 0 else 0.0
    pairs = {(a.badge, a.op_code) for a in assignments}
    target = p.target_pieces_per_hour
    takt = 60.0 / target if target else None
    order = [b for b, _ in stations]
    idle = tuple(b for b in order if loads[b] < IDLE_FRACTION * cycle)
    if takt is not None:
        over = tuple(b for b in order if loads[b] > takt + 1e-9)
    else:
        over = tuple(b for b in order if loads[b] >= cycle - 1e-9 and cycle > 0)
    return BalancePlan(
        style_code=p.style.code,
        assignments=tuple(assignments),
        worker_machine=machine,
        loads_min=loads,
        cycle_min=cycle,
        bottleneck=bottleneck,
        balance_efficiency=sum(loads.values()) / (n * cycle) if cycle else 0.0,
        line_efficiency=p.style.sam_min / (n * cycle) if cycle else 0.0,
        pieces_per_hour=pph,
        meets_target=None if target is None else pph >= target - 1e-9,
        changes=len(pairs ^ previous.pairs()) if previous is not None else 0,
        stations=tuple(order),
        target_pieces_per_hour=target,
        idle=idle,
        overloaded=over,
    )


def plan_from_solution(
    p: BalanceProblem, tasks: list[Task], badges: list[str], sol: LineSolution, previous: BalancePlan | None = None
) -> BalancePlan:
    stations: list[tuple[str, dict[str, float]]] = []
    for w, ts in sol.stations:
        shares: dict[str, float] = {}
        for t in ts:
            code, _, k = tasks[t]
            shares[code] = shares.get(code, 0.0) + 1.0 / k
        stations.append((badges[w], shares))
    return _plan(p, stations, previous)


def balance_line(
    p: BalanceProblem,
    time_limit_s: float = 5.0,
    *,
    workers: int = 2,
    seed: int = 0,
    previous: BalancePlan | None = None,
    log: Callable[[str], None] | None = None,
) -> BalancePlan:
    """Shortest cycle with precedence, zones, machines; helpers get manual work (then few moves)."""
    t_end = time.monotonic() + time_limit_s
    lp, tasks, badges = to_line_problem(p, previous)
    floating: frozenset[str] = frozenset()
    if not feasible_somehow(lp):
        # Strict forward flow is impossible with these machines (a type with fewer workers than
        # the separate places its operations sit in the sequence, e.g. two bartack machines for
        # four bartacks): such types become floating stations that bundles visit out of order.
        floating = scarce_types(p, lp, tasks)
        lp, tasks, badges = to_line_problem(p, previous, floating=floating)
        if log:
            log(f"floating machine types (bundles visit them out of order): {sorted(floating)}")
    start = repair_previous(lp, tasks, badges, previous) if previous is not None else None
    if previous is not None and start is None and previous.floating_types:
        # The previous plan floated some machine types: keep the line's layout as it was.
        f_prev = frozenset(previous.floating_types)
        lp2, tasks2, badges2 = to_line_problem(p, previous, floating=f_prev)
        start = repair_previous(lp2, tasks2, badges2, previous)
        if start is not None:
            lp, tasks, badges, floating = lp2, tasks2, badges2, f_prev
    try:
        sol = solve_line(
            lp, t_end - time.monotonic(), workers=workers, seed=seed, log=log, start=start, local_only=start is not None
        )
    except ValueError:
        if floating == _typed(p):
            raise
        floating = _typed(p)
        lp, tasks, badges = to_line_problem(p, previous, floating=floating)
        sol = solve_line(lp, max(0.5, t_end - time.monotonic()), workers=workers, seed=seed, log=log)
    plan = plan_from_solution(p, tasks, badges, sol, previous)
    return dataclasses.replace(plan, floating_types=tuple(sorted(floating)))


def _typed(p: BalanceProblem) -> frozenset[str]:
    return frozenset(o.machine_type for o in p.style.operations if o.machine_type not in p.flexible_types)


def scarce_types(p: BalanceProblem, lp: LineProblem, tasks: list[Task]) -> frozenset[str]:
    """Machine types with fewer able workers (or machines) than operations of that type."""
    out = set()
    for ty in _typed(p):
        ops = {c for c, _, _ in tasks if p.style.op(c).machine_type == ty}
        idx = [t for t, (c, _, _) in enumerate(tasks) if c in ops]
        able = sum(1 for w in range(lp.num_workers) if any(lp.times[t][w] is not None for t in idx))
        if min(able, p.machines.get(ty, able)) < len(ops):
            out.add(ty)
    return frozenset(out)


def rebalance(
    p: BalanceProblem,
    previous: BalancePlan,
    time_limit_s: float = 5.0,
    *,
    workers: int = 2,
    seed: int = 0,
) -> BalancePlan:
    """A new balance after someone is absent or slower: the shortest cycle first, then the fewest
    (worker, operation) pairs changed against ``previous``."""
    return balance_line(p, time_limit_s, workers=workers, seed=seed, previous=previous)


def evaluate_allocation(p: BalanceProblem, stations: list[tuple[str, dict[str, float]]]) -> BalancePlan:
    """Score a given allocation (badge and {op: share} per station, in line order) as it stands."""
    wmap = {w.badge for w in p.workers}
    unknown = [b for b, _ in stations if b not in wmap]
    if unknown:
        raise ValueError(f"工人不在本线 / workers not on this line: {unknown}")
    ops = p.style.op_map()
    bad = sorted({c for _, sh in stations for c in sh if c not in ops})
    if bad:
        raise ValueError(f"款式没有这些工序 / operations not in the style: {bad}")
    seen = {b for b, _ in stations}
    full = list(stations) + [(w.badge, {}) for w in p.workers if w.badge not in seen]
    return _plan(p, full)
