"""Issue #21 items 4–5 on a simulated shift: tablets' next tasks and the bottleneck's stability.

Simulates the example factory (every line) from its shift start, ingests the events in steps of
``--step-min`` simulated minutes and after each step reads, for every staffed tablet and every line:

- next task, old rule (``web.dispatch.next_task``) and new (``service_layer.line_direction``):
  the share of tablets whose "next" is a real task (not the (bundle, operation) in work, not
  "no task"); for the new rule also the share with guidance when starved (fetch / other op /
  upstream named);
- bottleneck, old (``web.alerts.bottleneck``, recomputed each step) and new (smoothed): changes
  per line-hour, and how often it sits on a station waiting for work;
- efficiency of the lines, overall and on-standard (waiting for work left out).

Both sides see the same events in the same run; the last line is one JSON object.

    .venv/bin/python bench/line_direction.py                 # 4 h, 5-min steps (≈ 2–4 min)
    .venv/bin/python bench/line_direction.py --quick         # 1.5 h, 10-min steps
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from _common import add_quick  # noqa: E402

from seamline.adapters.layout_files import load_factory  # noqa: E402
from seamline.bootstrap import bootstrap  # noqa: E402
from seamline.service_layer.ingest import RawEvent  # noqa: E402
from seamline.service_layer.line_direction import director  # noqa: E402
from seamline.sim import SimConfig, default_start, simulate  # noqa: E402
from seamline.web import alerts as al  # noqa: E402
from seamline.web import direction, views  # noqa: E402
from seamline.web.dispatch import next_task  # noqa: E402
from seamline.web.i18n import Fmt  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=4.0)
    ap.add_argument("--step-min", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=11)
    add_quick(ap)
    a = ap.parse_args()
    if a.quick:
        a.hours, a.step_min = 1.5, 10.0
    layout = load_factory(REPO / "examples" / "factory")
    tz = layout.factory.tz
    start = default_start(layout, datetime.now(tz) - timedelta(days=1))
    sim = simulate(layout, SimConfig(seed=a.seed, start=start, hours=a.hours, record_pieces=False))
    d = Path(tempfile.mkdtemp())
    rt = bootstrap(f"sqlite:///{d / 'bench.db'}")
    t0 = time.perf_counter()
    try:
        rt.save_layout(layout)
        f = layout.factory.id
        dr = director(rt)
        events = sorted(sim.events, key=lambda e: e[2])
        i = 0
        step = timedelta(minutes=a.step_min)
        t = start + timedelta(minutes=30)  # the first half hour: logins, nothing to judge yet
        old_real = new_real = new_guided = tablets = 0
        old_bn: dict[str, list[str | None]] = {ln: [] for ln in layout.lines}
        new_bn: dict[str, list[str | None]] = {ln: [] for ln in layout.lines}
        old_on_starved = new_on_starved = bn_obs = 0
        kinds: dict[str, int] = {}
        eff_overall: list[float] = []
        eff_on_std: list[float] = []
        while t <= sim.end:
            batch = []
            while i < len(events) and events[i][2] < t:
                batch.append(RawEvent(payload=events[i][1], source="mqtt", topic=events[i][0]))
                i += 1
            if batch:
                rt.worker.submit_future(batch).result(120)
            with rt.pipeline.lock:
                rt.pipeline.catch_up()
                live = rt.live.frozen_view()
            now = live.as_of(f)
            day_start, _ = live.day_bounds(f, now)
            dr._ready.clear()  # the caches allow a second or two of staleness on a live server;
            dr._dirs.clear()  # a step here is five simulated minutes
            for line in sorted(layout.lines):
                dirs = dr.directions(layout, live, line, day_start)
                figs = dr.figures(layout, live, line, now)
                for sid, dd in dirs.items():
                    if dd.worker is None:
                        continue
                    tablets += 1
                    nt = next_task(layout, live, sid, day_start)
                    cur = (nt.current.bundle, nt.current.op.code) if nt.current else None
                    nxt = (nt.next.bundle, nt.next.op.code) if nt.next else None
                    if nt.kind != "wait" and nxt != cur:
                        old_real += 1
                    kinds[dd.next.kind] = kinds.get(dd.next.kind, 0) + 1
                    new_pair = (dd.next.bundle_id, dd.next.op_code)
                    if dd.next.kind != "wait" and new_pair != (dd.current_bundle, dd.current_op):
                        new_real += 1
                    if dd.next.kind != "wait" or dd.next.upstream:
                        new_guided += 1
                # old bottleneck: the page's rule on this step's line snapshot
                ll = live.line_live(f, line)
                style = layout.styles.get(ll["style"]) if ll["style"] else None
                sams = {c: o.sam_min for c, o in style.op_map().items()} if style else {}
                ob = al.bottleneck(ll["stations"], sams)
                assign, _ = dr.assignment(layout, live, line, day_start)
                caps = dr.capacities(layout, live, line, figs, assign)
                nb = dr.bottleneck(f, line, caps, now).station
                old_bn[line].append(ob)
                new_bn[line].append(nb)
                starved = {s for s, fg in figs.items() if fg.waiting_since is not None}
                bn_obs += 1
                old_on_starved += ob in starved
                new_on_starved += nb in starved
                earned = sum(fg.earned_min for fg in figs.values())
                att = sum(fg.attended_min for fg in figs.values())
                wait = sum(fg.waiting_min for fg in figs.values())
                if att > 60:
                    eff_overall.append(100 * earned / att)
                    if att - wait > 0:
                        eff_on_std.append(100 * earned / (att - wait))
            t += step
        # cost of a tablet page: the page data before issue #21 (views.station_data) and with the
        # next task from the plan and on-standard efficiency layered on (web.direction), last step
        fmt = Fmt("zh_CN")
        staffed = [sid for (pf, sid), st in sorted(live.stations.items()) if pf == f and st.worker]
        t1 = time.perf_counter()
        for sid in staffed:
            views.station_data(live, layout, sid, fmt)
        base_ms = (time.perf_counter() - t1) * 1000 / max(1, len(staffed))
        dr._dirs.clear()
        t1 = time.perf_counter()
        for sid in staffed:
            direction.station_page(dr, live, layout, sid, fmt, views.station_data(live, layout, sid, fmt))
        new_ms = (time.perf_counter() - t1) * 1000 / max(1, len(staffed))
        hours = max(1e-9, (sim.end - start - timedelta(minutes=30)).total_seconds() / 3600)

        def changes(seq: list[str | None]) -> int:
            vals = [x for x in seq if x is not None]
            return sum(1 for p, q in itertools.pairwise(vals) if p != q)

        old_ch = sum(changes(v) for v in old_bn.values()) / (hours * len(layout.lines))
        new_ch = sum(changes(v) for v in new_bn.values()) / (hours * len(layout.lines))
        out = {
            "hours": a.hours,
            "step_min": a.step_min,
            "tablet_reads": tablets,
            "old_real_next_share": round(old_real / max(1, tablets), 3),
            "new_real_next_share": round(new_real / max(1, tablets), 3),
            "new_guided_share": round(new_guided / max(1, tablets), 3),
            "new_kinds": kinds,
            "old_bottleneck_changes_per_line_hour": round(old_ch, 2),
            "new_bottleneck_changes_per_line_hour": round(new_ch, 2),
            "old_bottleneck_on_starved_share": round(old_on_starved / max(1, bn_obs), 3),
            "new_bottleneck_on_starved_share": round(new_on_starved / max(1, bn_obs), 3),
            "line_eff_overall_median_pct": round(statistics.median(eff_overall), 1) if eff_overall else None,
            "line_eff_on_standard_median_pct": round(statistics.median(eff_on_std), 1) if eff_on_std else None,
            "tablet_page_ms_before": round(base_ms, 2),
            "tablet_page_ms_after": round(new_ms, 2),
            "tablet_page_cost_ratio": round(new_ms / base_ms, 2) if base_ms else None,
            "wall_s": round(time.perf_counter() - t0, 1),
        }
        for k, v in out.items():
            print(f"{k:45s} {v}", file=sys.stderr)
        print(json.dumps(out))
    finally:
        rt.close()


if __name__ == "__main__":
    main()
