"""A simulated 8-hour shift of the sample factory through Mosquitto into ingest, judged against the
simulator's ground truth."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from seamline.adapters.layout_files import load_factory
from seamline.adapters.mqtt_receiver import MqttSettings
from seamline.adapters.sim_publish import publish_events
from seamline.bootstrap import bootstrap
from seamline.sim import SimConfig, default_start, simulate

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_eight_hour_shift_matches_ground_truth(db_url, mosquitto):
    layout = load_factory(REPO / "examples" / "factory")
    start = default_start(layout, datetime.now(layout.factory.tz) - timedelta(days=1))  # a past workday
    sim = simulate(layout, SimConfig(seed=7, start=start, hours=9))
    truth = sim.truth

    rt = bootstrap(db_url)
    try:
        rt.save_layout(layout)
        rt.start_mqtt(MqttSettings(url=mosquitto, client_id=f"shift-test-{db_url.split(':')[0]}"))
        deadline = time.monotonic() + 15
        while rt.receiver.status != "connected" and time.monotonic() < deadline:
            time.sleep(0.05)
        publish_events(sim.events, mosquitto, speed=0)
        n = len(sim.events)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            c = rt.pipeline.counters
            if c["accepted"] + c["duplicate"] + c["quarantined"] >= n:
                break
            time.sleep(0.1)
        c = dict(rt.pipeline.counters)
        assert c["quarantined"] == 0, rt.store.quarantine(5)
        assert c["accepted"] == n and c["duplicate"] == 0

        fields = truth["piece_fields"]
        pieces = [dict(zip(fields, p, strict=True)) for p in truth["pieces"]]
        sam = {(s.code, o.code): o.sam_min for s in layout.styles.values() for o in s.operations}
        finals = {(s.code, op) for s in layout.styles.values() for op in s.final_operations()}
        line_of = {s.id: s.line_id for s in layout.stations.values()}

        true_earned: dict[str, float] = defaultdict(float)
        true_output: Counter[str] = Counter()
        for p in pieces:
            true_earned[p["worker"]] += sam[(p["style"], p["op"])]
            if (p["style"], p["op"]) in finals:
                true_output[line_of[p["station"]]] += 1

        day_start, day_end = rt.live.day_bounds(layout.factory.id, start)
        with rt.pipeline.lock:
            workers = {r["key"]: r for r in rt.live.efficiency(layout.factory.id, "worker", day_start, day_end)}
            lines = {r["key"]: r for r in rt.live.efficiency(layout.factory.id, "line", day_start, day_end)}

        # Every real piece is counted; the sensors' double counts (flagged in the truth) are the only extra.
        total_pieces = sum(r["pieces"] for r in lines.values())
        assert total_pieces == len(pieces) + len(truth["duplicates"])

        # Line output: pieces at final operations, within the double-count rate (<= 1 %).
        for line_id, out in true_output.items():
            assert abs(lines[line_id]["output"] - out) <= max(2, 0.01 * out), line_id

        # Per-worker earned minutes and efficiency: within 2 % of the truth for everyone who worked.
        measured = [w for w in true_earned if true_earned[w] >= 30]
        assert len(measured) >= 80
        for w in measured:
            row = workers[w]
            assert abs(row["earned_min"] - true_earned[w]) <= 0.02 * true_earned[w], w
            true_eff = true_earned[w] / row["attended_min"] * 100
            assert abs(row["efficiency_pct"] - true_eff) <= 0.02 * true_eff + 0.01, w
        effs = sorted(workers[w]["efficiency_pct"] for w in measured)
        assert 25 <= effs[len(effs) // 2] <= 110  # a plausible line, not a degenerate one
    finally:
        rt.close()
