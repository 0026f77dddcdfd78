"""ALWABP-2 (workers with their own task times): the reader, the checker, and ``seamline solve
alwabp`` run as the installed executable on shared instances."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seamline.planning.balance.check import check_line
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.readers import bench_dir, parse_alwabp, read_alwabp, read_index

BENCH = bench_dir() / "alwabp"
TINY = """4
3 Inf 2
2 4 Inf
5 5 1
1 2 3
1 2
1 3
3 4
-1 -1
"""


def _seamline() -> list[str]:
    exe = shutil.which("seamline") or str(Path(sys.executable).with_name("seamline"))
    return [exe]


def test_reader_parses_times_inf_and_precedence() -> None:
    p = parse_alwabp(TINY, "tiny")
    assert p.num_tasks == 4 and p.num_workers == 3 == p.num_stations
    assert p.times[0] == (3, None, 2) and p.times[1] == (2, 4, None)
    assert p.precedence == ((0, 1), (0, 2), (2, 3))
    assert p.preds[3] == (2,) and p.all_succs[0] == frozenset({1, 2, 3})


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("2\n1 2\n", "2 tasks announced"),
        ("2\n1 2\n1 x\n-1 -1\n", "line 3: bad task time"),
        ("2\n1 2\n1\n-1 -1\n", "line 3: 1 times"),
        ("2\n1 2\n1 2\n1 5\n-1 -1\n", "outside tasks 1..2"),
        ("2\nInf Inf\n1 2\n-1 -1\n", "cannot be done by any worker"),
        ("2\n1 2\n1 2\n1 2\n2 1\n-1 -1\n", "cycle"),
    ],
)
def test_reader_rejects_bad_files_with_the_line(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_alwabp(text, "bad")


def test_reader_reads_every_shared_instance_with_the_index_sizes() -> None:
    rows = read_index("alwabp")
    assert len(rows) == 32
    for r in rows[::7]:
        p = read_alwabp(BENCH / r["instance"])
        assert (p.num_tasks, p.num_workers) == (int(r["tasks"]), int(r["workers"]))
        assert p.lower_bound() <= int(r["best_known"])


def test_checker_catches_each_kind_of_error() -> None:
    p = parse_alwabp(TINY, "tiny")
    good = LineSolution(((2, (0, 2)), (0, (1,)), (1, (3,))))
    assert check_line(p, good, 3) == []
    assert any("cycle time" in e for e in check_line(p, good, 2))
    backwards = LineSolution(((2, (0, 3)), (0, (1,)), (1, (2,))))
    assert any("must not come after" in e for e in check_line(p, backwards))
    unable = LineSolution(((1, (0, 2)), (0, (1,)), (2, (3,))))
    assert any("cannot do task 0" in e for e in check_line(p, unable))
    twice = LineSolution(((2, (0, 2)), (2, (1,)), (1, (3,))))
    assert any("exactly once" in e for e in check_line(p, twice))
    missing = LineSolution(((2, (0,)), (0, (1,)), (1, (3,))))
    assert any("not assigned" in e for e in check_line(p, missing))


def test_checker_knows_zones_seats_and_machines() -> None:
    base = parse_alwabp(TINY, "tiny")
    sol = LineSolution(((2, (0, 2)), (0, (1,)), (1, (3,))))
    zoned = LineProblem("z", base.times, base.precedence, allowed=(None, None, frozenset({1}), None))
    assert any("outside its zone" in e for e in check_line(zoned, sol))
    seated = LineProblem("s", base.times, base.precedence, worker_station=(None, None, 1))
    assert any("fixed at station 1" in e for e in check_line(seated, sol))
    typed = LineProblem("t", base.times, base.precedence, task_type=("A", "B", "B", None), machines={"B": 1})
    errs = check_line(typed, sol)
    assert any("one type per worker" in e for e in errs) and any("only 1 machines" in e for e in errs)


def _solve_cli(path: Path, limit: float) -> tuple[dict[str, object], float, str]:
    t0 = time.monotonic()
    out = subprocess.run(
        [*_seamline(), "solve", "alwabp", str(path), "--time-limit", str(limit), "-v"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.monotonic() - t0
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stdout
    return json.loads(lines[0]), wall, out.stderr


@pytest.mark.parametrize(("name", "limit"), [("roszieg-41.alwabp", 2.0), ("wee-mag-41.alwabp", 1.0)])
def test_installed_cli_answers_feasibly_on_time(name: str, limit: float) -> None:
    row = next(r for r in read_index("alwabp") if r["instance"] == name)
    p = read_alwabp(BENCH / name)
    res, wall, err = _solve_cli(BENCH / name, limit)
    stations = res["stations"]
    assert isinstance(stations, list)
    sol = LineSolution(tuple((int(s["worker"]), tuple(int(t) for t in s["tasks"])) for s in stations))
    assert check_line(p, sol, int(str(res["cycle_time"]))) == []
    assert int(str(res["cycle_time"])) >= int(row["lower_bound"])
    assert "done" in err  # progress goes to stderr
    # The contract is limit + 2 s; leave room for a loaded CI runner's Python start-up.
    assert wall < limit + 2 + 3


def test_small_instance_reaches_the_optimum() -> None:
    # roszieg-41 is proved optimal at 10 within a second by the engine's full model.
    res, _, _ = _solve_cli(BENCH / "roszieg-41.alwabp", 3.0)
    assert res["cycle_time"] == 10


def test_cli_rejects_a_bad_file_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.alwabp"
    bad.write_text("3\n1 2\n")
    out = subprocess.run([*_seamline(), "solve", "alwabp", str(bad)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "error" in out.stderr and out.stdout == ""
