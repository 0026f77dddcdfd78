"""`seamline sim` on the sample factory in examples/: a full shift, written to files."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from seamline.domain.events import Piece, decode_event, parse_topic
from seamline.entrypoints.cli import app
from seamline.sim import read_jsonl, read_truth

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "factory"


def test_sim_command_writes_a_shift_of_the_sample_factory(tmp_path: Path) -> None:
    out, truth = tmp_path / "events.jsonl", tmp_path / "truth.json"
    t0 = time.perf_counter()
    res = CliRunner().invoke(
        app,
        [
            "sim",
            "--factory",
            str(EXAMPLES),
            "--hours",
            "8",
            "--seed",
            "3",
            "--start",
            "2026-11-23T08:00",
            "--out",
            str(out),
            "--truth",
            str(truth),
        ],
    )
    elapsed = time.perf_counter() - t0
    assert res.exit_code == 0, res.output
    assert elapsed < 60, f"an 8-hour shift of 120 stations took {elapsed:.1f} s"
    events = list(read_jsonl(out))
    t = read_truth(truth)
    assert t["start"] == "2026-11-23T08:00:00+08:00"
    stations = {parse_topic(topic)[1] for topic, _, _ in events}
    assert len(stations) >= 100  # nearly every one of the 120 stations reported something
    dups = {d["event_id"] for d in t["duplicates"]}
    pieces = Counter()
    for _, payload, _ in events:
        ev = decode_event(payload)
        if isinstance(ev, Piece) and ev.id not in dups:
            pieces[ev.op] += 1
    truth_pieces = Counter(r[4] for r in t["pieces"])
    assert pieces == truth_pieces and sum(pieces.values()) > 10_000
    assert len(t["line_output"]) >= 1
