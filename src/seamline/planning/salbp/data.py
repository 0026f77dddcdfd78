"""Problem data of SALBP-1: task times, precedence pairs (1-based tasks) and the cycle time."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class SalbpInstance:
    name: str
    times: tuple[int, ...]  # task i+1 takes times[i]
    cycle_time: int
    precedence: tuple[tuple[int, int], ...]  # (i, j): i in the same or an earlier station than j

    @property
    def n(self) -> int:
        return len(self.times)

    @cached_property
    def preds(self) -> list[list[int]]:
        """0-based direct predecessors of each 0-based task."""
        p: list[list[int]] = [[] for _ in range(self.n)]
        for i, j in self.precedence:
            p[j - 1].append(i - 1)
        return p

    @cached_property
    def succs(self) -> list[list[int]]:
        s: list[list[int]] = [[] for _ in range(self.n)]
        for i, j in self.precedence:
            s[i - 1].append(j - 1)
        return s

    def with_cycle_time(self, cycle_time: int) -> SalbpInstance:
        return SalbpInstance(self.name, self.times, cycle_time, self.precedence)


@dataclass(frozen=True)
class SalbpSolution:
    # station -> 1-based task numbers
    stations: tuple[tuple[int, ...], ...]

    @property
    def num_stations(self) -> int:
        return len(self.stations)

    def to_json(self) -> dict[str, object]:
        return {"stations": self.num_stations, "assignment": [list(s) for s in self.stations]}


def check_salbp(inst: SalbpInstance, sol: SalbpSolution) -> list[str]:
    """Every problem with ``sol``; empty means feasible. Independent of the solvers."""
    errors: list[str] = []
    where: dict[int, int] = {}
    for s, tasks in enumerate(sol.stations):
        load = 0
        for t in tasks:
            if t in where:
                errors.append(f"task {t} assigned twice")
            if not 1 <= t <= inst.n:
                errors.append(f"task {t} does not exist")
                continue
            where[t] = s
            load += inst.times[t - 1]
        if load > inst.cycle_time:
            errors.append(f"station {s + 1} load {load} exceeds cycle time {inst.cycle_time}")
    for t in range(1, inst.n + 1):
        if t not in where:
            errors.append(f"task {t} unassigned")
    for i, j in inst.precedence:
        if i in where and j in where and where[i] > where[j]:
            errors.append(f"task {i} must not come after task {j}")
    return errors
