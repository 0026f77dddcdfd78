"""Shared test data: the sample factory's five-pocket jeans and a 35-worker line for it."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from functools import cache
from pathlib import Path

from seamline.adapters.layout_files import load_factory
from seamline.domain.model import Operation, Style, Worker
from seamline.planning.balance.data import BalanceProblem

REPO = Path(__file__).resolve().parents[2]


@cache
def jeans_style() -> Style:
    """JEANS-5P from ``examples/factory`` (48 operations, ≈ 24.5 SAM)."""
    return load_factory(REPO / "examples" / "factory").styles["JEANS-5P"]


def jeans_line(n_workers: int = 35, seed: int = 7) -> BalanceProblem:
    """A jeans line: machine skills in proportion to the bulletin's minutes, differing efficiencies.

    Everyone can trim and turn (MAN grade 3); about a third also know a second machine.
    """
    style = jeans_style()
    rng = random.Random(seed)
    work: dict[str, float] = defaultdict(float)
    for o in style.operations:
        if o.machine_type != "MAN":
            work[o.machine_type] += o.sam_min
    # Staff each machine type for the line's pitch time (garment SAM ÷ operators at 80 %
    # efficiency) as an industrial engineer would, then give the spare seats to the busiest types.
    pitch = style.sam_min / 0.8 / n_workers
    count = {t: max(1, math.ceil(w / 0.8 / pitch - 0.25)) for t, w in work.items()}
    while sum(count.values()) < n_workers:
        t = max(work, key=lambda t: work[t] / (count[t] + 1))
        count[t] += 1
    mains = [t for t, n in sorted(count.items()) for _ in range(n)]
    workers: list[Worker] = []
    efficiency: dict[tuple[str, str], float] = {}
    for i, main in enumerate(mains):
        badge = f"J{i + 1:03d}"
        skills = {main: rng.choice((3, 4, 4, 5)), "MAN": 3}
        if rng.random() < 0.35:
            other = rng.choice(sorted(work))
            skills.setdefault(other, rng.choice((2, 3, 4)))
        workers.append(Worker(badge=badge, name=f"worker {i + 1}", line_id="L3", skills=skills))
        base = min(1.05, max(0.6, rng.gauss(0.82, 0.1)))
        for o in style.operations:
            if o.machine_type == main:
                efficiency[(badge, o.code)] = round(min(1.15, max(0.5, base + rng.uniform(-0.06, 0.06))), 3)
    machines = {t: n + 2 for t, n in count.items()}
    return BalanceProblem(
        style=style, workers=tuple(workers), efficiency=efficiency, machines=machines, target_pieces_per_hour=60.0
    )


def op(code: str, sam: float, preds: tuple[str, ...] = ()) -> Operation:
    """A one-machine operation named by its code (small hand-made lines of the share tests)."""
    return Operation(code=code, name_zh=code, name_en=code, sam_min=sam, machine_type="SNLS", predecessors=preds)


def small_problem(ops: tuple[Operation, ...], eff: dict[tuple[str, str], float], badges: list[str]) -> BalanceProblem:
    """A line of ``badges`` for ``ops``; a pair missing from ``eff`` cannot be done (0)."""
    style = Style(code="T", name_zh="T", name_en="T", operations=ops)
    workers = tuple(Worker(badge=b, name=b) for b in badges)
    full = {(b, o.code): eff.get((b, o.code), 0.0) for b in badges for o in ops}
    return BalanceProblem(style=style, workers=workers, efficiency=full)
