"""Problem data and plan of a garment line balance.

The inputs are the trade's own: a style's operation bulletin (``seamline.domain.model.Style``),
the workers present with their efficiency per operation (a fraction of standard: 0.85 means
85 %), machines per type, and a target output. Shares are fractions of an operation's pieces, so
one long operation can be split across workers — how real lines cover a bottleneck.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from seamline.domain.model import Operation, Style, Worker

# Efficiency assumed from a skill grade when no measured efficiency exists (grade 0: cannot do it).
GRADE_EFFICIENCY: dict[int, float] = {1: 0.55, 2: 0.65, 3: 0.75, 4: 0.85, 5: 0.95}
# Machine types whose operations any operator can do at her own machine (thread trimming, marking).
DEFAULT_FLEXIBLE_TYPES: frozenset[str] = frozenset({"MAN"})
# A worker whose load is below this share of the cycle waits for work (reported as idle).
IDLE_FRACTION = 0.8


@dataclass(frozen=True)
class BalanceProblem:
    style: Style
    workers: tuple[Worker, ...]
    # (badge, operation code) -> measured efficiency as a fraction; overrides the skill grade
    efficiency: Mapping[tuple[str, str], float] = field(default_factory=dict)
    # machine type -> machines available; types not listed are not limited
    machines: Mapping[str, int] = field(default_factory=dict)
    target_pieces_per_hour: float | None = None
    flexible_types: frozenset[str] = DEFAULT_FLEXIBLE_TYPES
    # an operation longer than the line's pitch is split into up to this many equal parts, each
    # sewn by a different worker (how real lines cover a long seam); 1 = never split
    max_workers_per_op: int = 4
    max_ops_per_worker: int = 6  # kept for callers; the station model needs no such limit
    # op code -> stations (0-based line positions) that may take it: the line's zones
    zones: Mapping[str, frozenset[int]] = field(default_factory=dict)
    # (badge, op code) -> weight of the grade prior beside a measured efficiency (0: data only).
    # Measured efficiencies are used as they are (above 100 % too); a thin measurement is
    # shrunk towards the grade's prior instead of being thrown away.
    prior_weight: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def efficiency_of(self, worker: Worker, op: Operation) -> float:
        """Efficiency of ``worker`` on ``op`` (0 when she cannot do it)."""
        measured = self.efficiency.get((worker.badge, op.code))
        prior = self.grade_efficiency(worker, op)
        if measured is not None:
            if measured <= 0:
                return 0.0
            wgt = min(1.0, max(0.0, self.prior_weight.get((worker.badge, op.code), 0.0)))
            return measured if wgt == 0 or prior <= 0 else (1 - wgt) * measured + wgt * prior
        return prior

    @staticmethod
    def grade_efficiency(worker: Worker, op: Operation) -> float:
        """The prior from the skill grade (0 when the grade is missing or too low for the op)."""
        grade = worker.grade_for(op.machine_type, op.code)
        if grade <= 0 or grade < op.skill_grade - 1:
            return 0.0
        return GRADE_EFFICIENCY.get(min(grade, 5), 0.0)

    def helpers(self) -> set[str]:
        """Badges of manual-only workers (no operation on a machine is open to them)."""
        out = set()
        for w in self.workers:
            able = [o for o in self.style.operations if self.efficiency_of(w, o) > 0]
            if able and all(o.machine_type in self.flexible_types for o in able):
                out.add(w.badge)
        return out

    def eligible(self) -> dict[tuple[str, str], float]:
        """(badge, op code) -> efficiency for every pair that is allowed."""
        out: dict[tuple[str, str], float] = {}
        for w in self.workers:
            for op in self.style.operations:
                e = self.efficiency_of(w, op)
                if e > 0:
                    out[(w.badge, op.code)] = e
        return out


@dataclass(frozen=True, slots=True)
class Assignment:
    badge: str
    op_code: str
    share: float  # fraction of the operation's pieces, 0 < share ≤ 1
    minutes_per_piece: float  # share × sam_min ÷ efficiency: this worker's time per garment


@dataclass(frozen=True)
class BalancePlan:
    style_code: str
    assignments: tuple[Assignment, ...]
    worker_machine: Mapping[str, str | None]  # badge -> machine type she sits at (None: idle)
    loads_min: Mapping[str, float]  # badge -> minutes per garment
    cycle_min: float  # the bottleneck's minutes per garment
    bottleneck: str
    balance_efficiency: float  # Σ loads ÷ (workers × bottleneck)
    line_efficiency: float  # garment SAM ÷ (workers × bottleneck): the earned-minutes view
    pieces_per_hour: float
    meets_target: bool | None
    changes: int = 0  # (worker, operation) pairs added or removed against the previous plan
    stations: tuple[str, ...] = ()  # badges in line order (bundles move from first to last)
    target_pieces_per_hour: float | None = None
    idle: tuple[str, ...] = ()  # workers waiting at least IDLE_FRACTION of every cycle
    overloaded: tuple[str, ...] = ()  # workers slower than the target's takt (or the bottleneck)
    floating_types: tuple[str, ...] = ()  # machine types bundles visit out of line order

    def pairs(self) -> set[tuple[str, str]]:
        return {(a.badge, a.op_code) for a in self.assignments}

    def summary(self) -> dict[str, object]:
        return {
            "style": self.style_code,
            "cycle_min": round(self.cycle_min, 4),
            "bottleneck": self.bottleneck,
            "balance_efficiency": round(self.balance_efficiency, 4),
            "line_efficiency": round(self.line_efficiency, 4),
            "pieces_per_hour": round(self.pieces_per_hour, 2),
            "meets_target": self.meets_target,
            "changes": self.changes,
            "target_pieces_per_hour": self.target_pieces_per_hour,
            "takt_min": round(60.0 / self.target_pieces_per_hour, 4) if self.target_pieces_per_hour else None,
            "stations": list(self.stations),
            "idle": list(self.idle),
            "overloaded": list(self.overloaded),
            "floating_types": list(self.floating_types),
            "workers": {
                b: {
                    "machine": self.worker_machine.get(b),
                    "load_min": round(v, 4),
                    "ops": {a.op_code: round(a.share, 4) for a in self.assignments if a.badge == b},
                }
                for b, v in self.loads_min.items()
            },
        }


# --- The line balancing core ------------------------------------------------------------
# The line balancing core: tasks onto workers standing at stations in sequence (ALWABP-2 and more).
#
# This is the problem both ``seamline balance`` and ``seamline solve alwabp`` solve. The assembly
# line worker assignment and balancing problem (ALWABP-2, Chaves, Miralles & Lorena 2007) is its
# plain form: every worker has their own time for each task (``None`` = cannot do it), each worker
# stands at exactly one station, stations are in line order, a task's predecessors sit at the same
# or an earlier station (bundles only move forward), minimise the cycle time. A sewing line adds:
#
# - zones: the stations a task may go to (``allowed``), e.g. the back-panel section of the line;
# - machines: a worker sits at one machine type, so she does the tasks of at most one non-manual
#   type, and there are only so many machines of each type (``task_type``, ``machines``);
# - fixed seats and fixed tasks (``worker_station``, ``fixed_task``) for evaluating a given layout;
# - a soft cost per (task, worker) pair (``pair_cost``): helpers should take the manual work, and a
#   re-balance should move few tasks. It is a secondary objective, never traded for cycle time.
#
# Times are integers (the literature's units, or minutes × 1000 for the garment line).


@dataclass(frozen=True)
class LineProblem:
    name: str
    # times[task][worker]: that worker's time for the task, None when she cannot do it
    times: tuple[tuple[int | None, ...], ...]
    # (i, j) 0-based: task i at the same or an earlier station than task j
    precedence: tuple[tuple[int, int], ...] = ()
    # task -> stations (0-based positions) it may go to; None = anywhere
    allowed: tuple[frozenset[int] | None, ...] | None = None
    # task -> machine type it needs (None: flexible, e.g. manual work any worker can do at her seat)
    task_type: tuple[str | None, ...] | None = None
    # machine type -> how many workers may sit at it (types not listed are unlimited)
    machines: Mapping[str, int] = field(default_factory=dict)
    # worker -> fixed station, task -> fixed worker (None = free)
    worker_station: tuple[int | None, ...] | None = None
    fixed_task: tuple[int | None, ...] | None = None
    # (task, worker) -> soft cost in the secondary objective (helpers first, few moves)
    pair_cost: Mapping[tuple[int, int], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        k = self.num_workers
        for t, row in enumerate(self.times):
            if len(row) != k:
                raise ValueError(f"{self.name}: task {t + 1} has {len(row)} times, expected {k}")
            if all(v is None for v in row):
                raise ValueError(f"{self.name}: task {t + 1} cannot be done by any worker")
            if any(v is not None and v < 0 for v in row):
                raise ValueError(f"{self.name}: task {t + 1} has a negative time")
        n = self.num_tasks
        for i, j in self.precedence:
            if not (0 <= i < n and 0 <= j < n) or i == j:
                raise ValueError(f"{self.name}: bad precedence pair ({i + 1}, {j + 1})")
        _ = self.topo_order  # raises on a cycle

    @property
    def num_tasks(self) -> int:
        return len(self.times)

    @property
    def num_workers(self) -> int:
        return len(self.times[0]) if self.times else 0

    @property
    def num_stations(self) -> int:
        return self.num_workers

    @cached_property
    def preds(self) -> tuple[tuple[int, ...], ...]:
        out: list[list[int]] = [[] for _ in range(self.num_tasks)]
        for i, j in self.precedence:
            out[j].append(i)
        return tuple(tuple(sorted(set(p))) for p in out)

    @cached_property
    def succs(self) -> tuple[tuple[int, ...], ...]:
        out: list[list[int]] = [[] for _ in range(self.num_tasks)]
        for i, j in self.precedence:
            out[i].append(j)
        return tuple(tuple(sorted(set(s))) for s in out)

    @cached_property
    def topo_order(self) -> tuple[int, ...]:
        indeg = [len(p) for p in self.preds]
        ready = [t for t in range(self.num_tasks) if indeg[t] == 0]
        order: list[int] = []
        while ready:
            t = ready.pop(0)
            order.append(t)
            for s in self.succs[t]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    ready.append(s)
        if len(order) != self.num_tasks:
            raise ValueError(f"{self.name}: precedence has a cycle")
        return tuple(order)

    @cached_property
    def all_succs(self) -> tuple[frozenset[int], ...]:
        """Transitive successors of every task."""
        out: list[frozenset[int]] = [frozenset()] * self.num_tasks
        for t in reversed(self.topo_order):
            acc: set[int] = set(self.succs[t])
            for s in self.succs[t]:
                acc |= out[s]
            out[t] = frozenset(acc)
        return tuple(out)

    def can(self, t: int, w: int) -> bool:
        return self.times[t][w] is not None

    def station_ok(self, t: int, s: int) -> bool:
        zone = None if self.allowed is None else self.allowed[t]
        return zone is None or s in zone

    def type_of(self, t: int) -> str | None:
        return None if self.task_type is None else self.task_type[t]

    def lower_bound(self) -> int:
        """Cycle-time lower bound: the longest task at its fastest, and the fastest work spread evenly."""
        fastest = [min(v for v in row if v is not None) for row in self.times]
        k = max(1, self.num_workers)
        return max(max(fastest, default=0), -(-sum(fastest) // k))


@dataclass(frozen=True)
class LineSolution:
    # line order: (worker, tasks at that station)
    stations: tuple[tuple[int, tuple[int, ...]], ...]

    def worker_of(self) -> dict[int, int]:
        return {t: w for w, ts in self.stations for t in ts}

    def station_of(self) -> dict[int, int]:
        return {t: s for s, (_, ts) in enumerate(self.stations) for t in ts}

    def loads(self, p: LineProblem) -> list[int]:
        return [sum(p.times[t][w] or 0 for t in ts) for w, ts in self.stations]

    def cycle_time(self, p: LineProblem) -> int:
        return max(self.loads(p), default=0)

    def soft_cost(self, p: LineProblem) -> int:
        return sum(p.pair_cost.get((t, w), 0) for w, ts in self.stations for t in ts)

    def to_json(self, p: LineProblem) -> dict[str, object]:
        return {
            "cycle_time": self.cycle_time(p),
            "stations": [{"worker": w, "tasks": sorted(ts)} for w, ts in self.stations],
        }
