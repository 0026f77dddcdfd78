"""One line on raw motor signals plus tablet scans: the simulator's bursts counted through ingest."""

from __future__ import annotations

import statistics
from pathlib import Path

import msgspec

from seamline.bootstrap import bootstrap
from seamline.domain.cutting import cut_order
from seamline.service_layer.counting import CountingProjection
from seamline.service_layer.ingest import RawEvent
from seamline.sim import SimConfig, simulate

from .layouts import MONDAY_8, small_factory


def test_a_motor_line_reports_bursts_and_bundle_quantities_and_counting_follows_the_truth(tmp_path: Path) -> None:
    layout = small_factory(n_lines=2)
    for o in layout.orders.values():  # ingest validates bundles: the same cut as the simulator's
        for b in cut_order(o, layout.styles[o.style_code]):
            layout.bundles[b.id] = b
    res = simulate(layout, SimConfig(seed=7, start=MONDAY_8, hours=9.5, motor_lines=("L1",)))
    kinds: dict[str, dict[str, int]] = {"L1": {}, "L2": {}}
    for topic, payload, _ts, *_ in res.events:
        line = topic.split("/")[4].split("-")[0]
        d = msgspec.json.decode(payload)
        kinds[line][d["type"]] = kinds[line].get(d["type"], 0) + 1
        if line == "L1" and d["type"] == "piece":
            assert d["qty"] == layout.bundles[d["bundle"]].qty  # the tablet's bundle done
    assert kinds["L1"].get("burst", 0) > 1000 and "burst" not in kinds["L2"]

    rt = bootstrap(f"sqlite:///{tmp_path / 'm.sqlite'}", start_worker=False)
    try:
        rt.save_layout(layout)
        for i in range(0, len(res.events), 4000):
            chunk = res.events[i : i + 4000]
            rt.pipeline.process([RawEvent(payload=p, source="mqtt", topic=t) for t, p, *_ in chunk])
        proj = rt.projection("motor_counts")
        assert isinstance(proj, CountingProjection)
        recs = [r for r in proj.reconciliations("F1", limit=5000) if r["signature"] != "none"]
        assert len(recs) > 20
        errs = [abs(r["diff"]) / r["pieces"] for r in recs]
        assert statistics.median(errs) <= 0.05, sorted(errs)
        assert statistics.mean(errs) <= 0.10, sorted(errs)
        # Live pieces of L1 (scanned + provisional counts) against the truth's pieces.
        live = sum(t.pieces for (f, scope, key, _h), t in rt.live.hourly.items() if scope == "line" and key == "L1")
        true = sum(1 for p in res.truth["pieces"] if p[2].startswith("L1-"))
        assert abs(live - true) / true <= 0.05, (live, true)
    finally:
        rt.close()


def test_sim_cli_runs_a_line_on_motor_bursts(tmp_path: Path) -> None:
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("seamline"))
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "e.jsonl"
    args = [exe, "sim", "--factory", str(repo / "examples" / "factory"), "--hours", "1", "--seed", "3"]
    r = subprocess.run([*args, "--out", str(out), "--motor-lines", "L1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = [msgspec.json.decode(line) for line in out.read_text().splitlines()]
    burst_stations = {row["topic"].split("/")[4] for row in rows if row["payload"]["type"] == "burst"}
    assert burst_stations and all(s.startswith("L1-") for s in burst_stations)
    bad = subprocess.run([*args, "--out", str(out), "--motor-lines", "NOPE"], capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown line" in bad.stderr
