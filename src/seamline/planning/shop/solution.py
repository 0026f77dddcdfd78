"""A shop schedule and an independent feasibility checker.

The checker shares no code with the model or the heuristics, so a bug in either cannot hide.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from seamline.planning.shop.data import ShopInstance


@dataclass(frozen=True, slots=True)
class ScheduledOp:
    job: int
    op: int
    machine: int
    start: int
    end: int


@dataclass(frozen=True)
class ShopSchedule:
    ops: tuple[ScheduledOp, ...]

    @property
    def makespan(self) -> int:
        return max((o.end for o in self.ops), default=0)

    def to_json(self) -> dict[str, object]:
        return {
            "makespan": self.makespan,
            "schedule": [
                {"job": o.job, "op": o.op, "machine": o.machine, "start": o.start, "end": o.end}
                for o in sorted(self.ops, key=lambda o: (o.job, o.op))
            ],
        }

    def machine_sequences(self, num_machines: int) -> list[list[ScheduledOp]]:
        seqs: list[list[ScheduledOp]] = [[] for _ in range(num_machines)]
        for o in self.ops:
            seqs[o.machine].append(o)
        for s in seqs:
            s.sort(key=lambda o: (o.start, o.end))
        return seqs

    def by_key(self) -> dict[tuple[int, int], ScheduledOp]:
        return {(o.job, o.op): o for o in self.ops}


def check_schedule(inst: ShopInstance, sched: ShopSchedule) -> list[str]:
    """Every problem with ``sched`` as a list of messages; empty means feasible."""
    errors: list[str] = []
    seen: dict[tuple[int, int], ScheduledOp] = {}
    for o in sched.ops:
        key = (o.job, o.op)
        if key in seen:
            errors.append(f"op {key} scheduled twice")
        seen[key] = o
        if not (0 <= o.job < inst.num_jobs and 0 <= o.op < len(inst.jobs[o.job])):
            errors.append(f"op {key} does not exist")
            continue
        durations = {md.machine: md.duration for md in inst.jobs[o.job][o.op]}
        if o.machine not in durations:
            errors.append(f"op {key} on ineligible machine {o.machine}")
        elif o.end - o.start != durations[o.machine]:
            errors.append(f"op {key} lasts {o.end - o.start}, needs {durations[o.machine]}")
        if o.start < 0:
            errors.append(f"op {key} starts before 0")
    for j, ops in enumerate(inst.jobs):
        for k in range(len(ops)):
            if (j, k) not in seen:
                errors.append(f"op {(j, k)} missing")
            elif k > 0 and (j, k - 1) in seen and seen[(j, k - 1)].end > seen[(j, k)].start:
                errors.append(f"job {j}: op {k} starts before op {k - 1} ends")
    per_machine: dict[int, list[ScheduledOp]] = defaultdict(list)
    for o in sched.ops:
        per_machine[o.machine].append(o)
    for m, lst in per_machine.items():
        lst.sort(key=lambda o: o.start)
        for a, b in itertools.pairwise(lst):
            if a.end > b.start and a.end > a.start and b.end > b.start:
                errors.append(f"machine {m}: {(a.job, a.op)} overlaps {(b.job, b.op)}")
    return errors
