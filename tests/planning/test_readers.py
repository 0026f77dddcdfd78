"""Benchmark-format readers: small literal inputs and the shared instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamline.planning import readers
from seamline.planning.readers import bench_dir, parse_alb, parse_fjsp, parse_jssp

BENCH = bench_dir()


def test_parse_jssp_pairs_are_machine_duration_in_order() -> None:
    inst = parse_jssp("2 3\n0 5 1 3 2 1\n2 2 0 4 1 6\n")
    assert inst.num_jobs == 2 and inst.num_machines == 3
    assert [(m.machine, m.duration) for (m,) in inst.jobs[1]] == [(2, 2), (0, 4), (1, 6)]
    assert inst.lower_bound() >= 12  # job 1 alone takes 12


def test_parse_fjsp_converts_machines_to_zero_based() -> None:
    inst = parse_fjsp("1 3 1.5\n2 2 1 5 3 7 1 2 4\n")
    assert inst.is_flexible
    assert [(m.machine, m.duration) for m in inst.jobs[0][0]] == [(0, 5), (2, 7)]
    assert [(m.machine, m.duration) for m in inst.jobs[0][1]] == [(1, 4)]


def test_parse_alb_sections_and_precedence() -> None:
    text = (
        "<number of tasks>\n3\n<cycle time>\n10\n<order strength>\n0,5\n<task times>\n1 4\n2 6\n3 5\n"
        "<precedence relations>\n1,2\n1,3\n<end>\n"
    )
    inst = parse_alb(text)
    assert inst.n == 3 and inst.cycle_time == 10 and inst.times == (4, 6, 5)
    assert inst.precedence == ((1, 2), (1, 3))
    assert inst.with_cycle_time(20).cycle_time == 20


def test_bench_dir_resolves_beside_the_repo_and_env_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.delenv("SEAMLINE_BENCH_DIR", raising=False)
    assert readers.bench_dir().resolve() == (repo / ".." / "shared" / "bench").resolve()
    monkeypatch.setenv("SEAMLINE_BENCH_DIR", str(tmp_path))
    assert readers.bench_dir() == tmp_path


def test_every_shared_instance_parses_with_the_size_in_its_index() -> None:
    for fam, ext, reader in (("jssp", ".txt", readers.read_jssp), ("fjsp", ".fjs", readers.read_fjsp)):
        rows = readers.read_index(fam)
        assert rows
        for r in rows:
            inst = reader(BENCH / fam / f"{r['name']}{ext}")
            assert inst.num_jobs == int(r["jobs"]) and inst.num_machines == int(r["machines"])
    rows = readers.read_index("salbp")
    for r in rows:
        inst = readers.read_alb(BENCH / "salbp" / f"{r['name']}.alb")
        assert inst.n == int(r["tasks"]) and inst.cycle_time == int(r["cycle_time"])
