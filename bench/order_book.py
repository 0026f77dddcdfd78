"""Order-book bench (issue #19): does the overview's order plan cost grow with the order book?

For each store (bench/history.py's cached stores of the sample factory, built if missing, copied
to a temporary folder, since start-up migrates a store and writes a checkpoint; or ``--db`` copies)
this starts the runtime in-process, then ``--reads`` times posts one piece event through the real
ingest pipeline (as bench/history.py does: the store's first bundle, one station of L1, just after
the latest event) and computes the overview from a fresh view. It counts, under cProfile, the
Python function calls of the whole overview and of its order plan (deterministic on a shared
machine, unlike times), and reports the median wall time beside them.

Last line: one JSON object {"stores": [...], "plan_calls_ratio": x, "overview_calls_ratio": x, ...}
with ratios of the last store to the first.

Run: `SEAMLINE_BENCH_CACHE=... .venv/bin/python bench/order_book.py` (100k and 3M events; `--quick`:
10k and 30k, about a minute; `--sizes`), or `--db COPY --db COPY` on stores of your own.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


def _calls(fn: Any) -> tuple[int, Any]:
    pr = cProfile.Profile()
    pr.enable()
    out = fn()
    pr.disable()
    return int(pstats.Stats(pr).total_calls), out  # type: ignore[attr-defined]


def measure(path: str, reads: int) -> dict[str, Any]:
    from seamline.bootstrap import bootstrap
    from seamline.service_layer.ingest import RawEvent
    from seamline.web import plan as pl
    from seamline.web import progress as wprog
    from seamline.web import views
    from seamline.web.i18n import Fmt

    lite = sqlite3.connect(path)
    latest = datetime.fromisoformat(lite.execute("SELECT max(ts) FROM events").fetchone()[0] + "+00:00")
    factory, station = lite.execute(
        "SELECT factory_id, id FROM stations WHERE line_id = 'L1' ORDER BY id LIMIT 1"
    ).fetchone()
    bundle, style = lite.execute(
        "SELECT b.id, o.style_code FROM bundles b JOIN orders o ON o.id = b.order_id ORDER BY b.id LIMIT 1"
    ).fetchone()
    op = lite.execute("SELECT code FROM operations WHERE style_code = ? ORDER BY seq_no LIMIT 1", (style,)).fetchone()[
        0
    ]
    lite.close()
    t0 = time.perf_counter()
    rt = bootstrap(f"sqlite:///{path}", start_worker=False)
    startup_s = time.perf_counter() - t0
    prog = wprog.attach(rt)
    fmt = Fmt("zh_CN")
    lay = rt.layouts[factory]
    new_plan = hasattr(pl, "orders_at_risk")

    def plan(live: Any, pv: Any) -> list[Any]:
        now = live.as_of(factory).astimezone(live.tz(factory))
        if new_plan:
            return list(pl.orders_at_risk(lay, pv, live, now))
        return [p for lp in pl.load_orders(lay, pv, live, now) for p in lp.orders if pl.at_risk(lay, p)]

    overview_calls, plan_calls, ms = [], [], []
    at_risk = planned = 0
    for n in range(reads):
        ts = latest + timedelta(seconds=1 + n)
        ev = {"id": f"ob-{n}", "factory": factory, "station": station, "seq": 20_000_000 + n, "ts": ts.isoformat()}
        ev |= {"type": "piece", "bundle": bundle, "op": op, "qty": 1}
        rt.pipeline.process([RawEvent(payload=json.dumps(ev).encode(), source="http")])
        live, pv = rt.live.frozen_view(), prog.frozen_view()
        c, risky = _calls(lambda live=live, pv=pv: plan(live, pv))
        plan_calls.append(c)
        at_risk = len(risky)
        live = rt.live.frozen_view()  # a fresh memo: the overview computes every figure again
        t = time.perf_counter()
        views.overview_data(live, rt.layouts, pv, fmt)
        ms.append((time.perf_counter() - t) * 1000)
        live = rt.live.frozen_view()
        c, _ = _calls(lambda live=live, pv=pv: views.overview_data(live, rt.layouts, pv, fmt))
        overview_calls.append(c)
    now = rt.live.as_of(factory).astimezone(rt.live.tz(factory))
    planned = sum(len(lp.orders) for lp in pl.load_orders(lay, prog.frozen_view(), rt.live.frozen_view(), now))
    rt.close()
    return {
        "store": path,
        "events": rt.live.events_applied,
        "orders": len(lay.orders),
        "open_planned": planned,
        "at_risk": at_risk,
        "startup_s": round(startup_s, 2),
        # the first read lays the plan out; later reads are what a page pays tick after tick
        "plan_calls_first": plan_calls[0],
        "plan_calls": int(statistics.median(plan_calls[1:] or plan_calls)),
        "overview_calls": int(statistics.median(overview_calls[1:] or overview_calls)),
        "overview_ms_p50": round(statistics.median(ms), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", action="append", help="a store (a copy: it is migrated and checkpointed)")
    ap.add_argument("--sizes", default="100000,3000000", help="cached store sizes (events), smallest first")
    ap.add_argument("--quick", action="store_true", help="10k and 30k events")
    ap.add_argument("--reads", type=int, default=20)
    a = ap.parse_args()
    if a.db:
        stores = [measure(p, a.reads) for p in a.db]
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _history_store import build_sqlite

        sizes = [10_000, 30_000] if a.quick else [int(x) for x in a.sizes.split(",")]
        stores = []
        with tempfile.TemporaryDirectory() as tmp:
            for n in sizes:
                copy = Path(tmp) / f"store-{n}.db"
                shutil.copyfile(build_sqlite(n), copy)
                stores.append(measure(str(copy), a.reads))
                copy.unlink()
    for s in stores:
        print(json.dumps(s), file=sys.stderr)
    first, last = stores[0], stores[-1]
    print(
        json.dumps(
            {
                "stores": [s["events"] for s in stores],
                "open_planned": [s["open_planned"] for s in stores],
                "plan_calls": [s["plan_calls"] for s in stores],
                "overview_calls": [s["overview_calls"] for s in stores],
                "overview_ms_p50": [s["overview_ms_p50"] for s in stores],
                "plan_calls_ratio": round(last["plan_calls"] / max(1, first["plan_calls"]), 3),
                "overview_calls_ratio": round(last["overview_calls"] / max(1, first["overview_calls"]), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
