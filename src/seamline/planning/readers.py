"""Readers for the benchmark formats of the scheduling literature.

Kept apart from the models so the engine never depends on a file format, and so the same
instances drive ``seamline solve``, the tests and ``bench/planning.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from seamline.planning.balance.data import LineProblem
from seamline.planning.salbp.data import SalbpInstance
from seamline.planning.shop.data import Mode, ShopInstance


def bench_dir() -> Path:
    """``<repo>/../shared/bench`` unless ``SEAMLINE_BENCH_DIR`` says otherwise.

    Resolved from this file (src/seamline/planning/readers.py → parents[3] is the repo root), so
    a clone in another folder with ``shared/`` beside it finds its own copy.
    """
    env = os.environ.get("SEAMLINE_BENCH_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "bench"


def _ints(text: str) -> list[int]:
    return [int(t) for t in text.split()]


def parse_jssp(text: str, name: str = "jssp") -> ShopInstance:
    """OR-Library / Taillard job shop: ``n m`` then per job ``machine duration`` pairs (0-based)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    n, m = _ints(lines[0])[:2]
    jobs: list[tuple[tuple[Mode, ...], ...]] = []
    for row in lines[1 : 1 + n]:
        vals = _ints(row)
        if len(vals) % 2:
            raise ValueError(f"{name}: odd number of values in job line {row!r}")
        ops = tuple((Mode(vals[i], vals[i + 1]),) for i in range(0, len(vals), 2))
        jobs.append(ops)
    if len(jobs) != n:
        raise ValueError(f"{name}: expected {n} jobs, found {len(jobs)}")
    return ShopInstance(name=name, num_machines=m, jobs=tuple(jobs))


def parse_fjsp(text: str, name: str = "fjsp") -> ShopInstance:
    """Brandimarte ``.fjs``: per job the op count, then per op ``k`` and ``k`` pairs (1-based machines)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    head = lines[0].split()
    n, m = int(head[0]), int(head[1])
    jobs: list[tuple[tuple[Mode, ...], ...]] = []
    for row in lines[1 : 1 + n]:
        vals = _ints(row)
        nops, pos = vals[0], 1
        ops: list[tuple[Mode, ...]] = []
        for _ in range(nops):
            k = vals[pos]
            pos += 1
            modes = tuple(Mode(vals[pos + 2 * i] - 1, vals[pos + 2 * i + 1]) for i in range(k))
            pos += 2 * k
            ops.append(modes)
        jobs.append(tuple(ops))
    if len(jobs) != n:
        raise ValueError(f"{name}: expected {n} jobs, found {len(jobs)}")
    return ShopInstance(name=name, num_machines=m, jobs=tuple(jobs))


def parse_alb(text: str, name: str = "salbp") -> SalbpInstance:
    """Otto et al. (2013) ``.alb``: tagged sections, 1-based tasks, ``i,j`` precedence pairs."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        tag = re.fullmatch(r"<(.+)>", line)
        if tag:
            current = tag.group(1).strip().lower()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    n = int(sections["number of tasks"][0])
    cycle = int(sections["cycle time"][0])
    times = [0] * n
    for line in sections["task times"]:
        t, d = line.split()
        times[int(t) - 1] = int(d)
    prec: list[tuple[int, int]] = []
    for line in sections.get("precedence relations", []):
        i, j = line.replace(" ", "").split(",")
        prec.append((int(i), int(j)))
    return SalbpInstance(name=name, times=tuple(times), cycle_time=cycle, precedence=tuple(prec))


def parse_alwabp(text: str, name: str = "alwabp") -> LineProblem:
    """Chaves, Miralles & Lorena (2007) ALWABP: ``n``, then per task one time per worker (``Inf`` =
    cannot), then 1-based precedence pairs ``i j`` until ``-1 -1``. Errors name the line."""
    rows = [(no, ln.split()) for no, ln in enumerate(text.splitlines(), 1) if ln.strip()]
    if not rows:
        raise ValueError(f"{name}: empty file")
    try:
        n = int(rows[0][1][0])
    except ValueError as e:
        raise ValueError(f"{name}: line {rows[0][0]}: expected the number of tasks") from e
    if n <= 0 or len(rows) < 1 + n:
        raise ValueError(f"{name}: {n} tasks announced, {len(rows) - 1} lines follow")
    times: list[tuple[int | None, ...]] = []
    for no, vals in rows[1 : 1 + n]:
        row: list[int | None] = []
        for v in vals:
            if v.lower() in ("inf", "infinity", "-"):
                row.append(None)
                continue
            try:
                row.append(round(float(v)))
            except ValueError as e:
                raise ValueError(f"{name}: line {no}: bad task time {v!r}") from e
        if times and len(row) != len(times[0]):
            raise ValueError(f"{name}: line {no}: {len(row)} times, the first task has {len(times[0])}")
        times.append(tuple(row))
    prec: list[tuple[int, int]] = []
    for no, vals in rows[1 + n :]:
        if len(vals) < 2:
            raise ValueError(f"{name}: line {no}: expected a precedence pair 'i j'")
        try:
            i, j = int(vals[0]), int(vals[1])
        except ValueError as e:
            raise ValueError(f"{name}: line {no}: bad precedence pair {vals[:2]}") from e
        if i == -1 and j == -1:
            break
        if not (1 <= i <= n and 1 <= j <= n):
            raise ValueError(f"{name}: line {no}: precedence pair ({i}, {j}) outside tasks 1..{n}")
        prec.append((i - 1, j - 1))
    return LineProblem(name=name, times=tuple(times), precedence=tuple(prec))


def read_alwabp(path: str | Path) -> LineProblem:
    p = Path(path)
    return parse_alwabp(p.read_text(), p.stem)


def read_jssp(path: str | Path) -> ShopInstance:
    p = Path(path)
    return parse_jssp(p.read_text(), p.stem)


def read_fjsp(path: str | Path) -> ShopInstance:
    p = Path(path)
    return parse_fjsp(p.read_text(), p.stem)


def read_alb(path: str | Path) -> SalbpInstance:
    p = Path(path)
    return parse_alb(p.read_text(), p.stem)


def read_index(family: str, root: Path | None = None) -> list[dict[str, str]]:
    """Rows of ``<bench>/<family>/index.csv`` (name, sizes, best known values)."""
    import csv

    path = (root or bench_dir()) / family / "index.csv"
    return list(csv.DictReader(path.read_text().splitlines()))
