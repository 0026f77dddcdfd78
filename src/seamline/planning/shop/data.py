"""Problem data of a (flexible) job shop: jobs are chains of operations, each with machine modes.

A classic job shop is the special case of one mode per operation, so one model serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True, slots=True)
class Mode:
    """One way to run an operation: on ``machine`` (0-based) for ``duration`` time units."""

    machine: int
    duration: int


@dataclass(frozen=True)
class ShopInstance:
    name: str
    num_machines: int
    # job -> operation (in processing order) -> eligible modes
    jobs: tuple[tuple[tuple[Mode, ...], ...], ...]

    def __post_init__(self) -> None:
        for j, ops in enumerate(self.jobs):
            for k, modes in enumerate(ops):
                if not modes:
                    raise ValueError(f"{self.name}: job {j} op {k} has no eligible machine")
                for md in modes:
                    if not 0 <= md.machine < self.num_machines or md.duration < 0:
                        raise ValueError(f"{self.name}: job {j} op {k} bad mode {md}")

    @property
    def num_jobs(self) -> int:
        return len(self.jobs)

    @cached_property
    def num_ops(self) -> int:
        return sum(len(ops) for ops in self.jobs)

    @cached_property
    def is_flexible(self) -> bool:
        return any(len(modes) > 1 for ops in self.jobs for modes in ops)

    def min_duration(self, j: int, k: int) -> int:
        return min(md.duration for md in self.jobs[j][k])

    def lower_bound(self) -> int:
        """A cheap makespan lower bound: the longest job and the least possible average/own load.

        Used to stop early once a schedule provably cannot be improved.
        """
        job_lb = max(
            (sum(self.min_duration(j, k) for k in range(len(ops))) for j, ops in enumerate(self.jobs)), default=0
        )
        total = sum(self.min_duration(j, k) for j, ops in enumerate(self.jobs) for k in range(len(ops)))
        avg_lb = -(-total // max(1, self.num_machines))
        # Operations with a single mode must all run on that machine.
        forced = [0] * self.num_machines
        for ops in self.jobs:
            for modes in ops:
                if len(modes) == 1:
                    forced[modes[0].machine] += modes[0].duration
        return max(job_lb, avg_lb, max(forced, default=0))

    def horizon(self) -> int:
        """A safe upper bound on any sensible makespan: everything in series on its slowest mode."""
        return sum(max(md.duration for md in modes) for ops in self.jobs for modes in ops)
