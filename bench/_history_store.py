"""Build (and cache) event stores of the sample factory for bench/history.py and profiling.

The simulator runs the sample factory day after day (one engine, so stations' sequence numbers
and open sessions carry over) and the events are committed through the real ingest pipeline in
store-only mode, as `seamline serve` would store them. A store is a SQLite file under
``bench/.cache/`` (gitignored; or the directory named by ``SEAMLINE_BENCH_CACHE``, so big stores
outlive a worktree and are shared) named by event count, reused by later runs; for PostgreSQL the
cached SQLite store is copied into a fresh database. Builders of the same size take a lock file
(``history-N.lock``), so two benches sharing a cache build each store once.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("SEAMLINE_BENCH_CACHE") or REPO / "bench" / ".cache")
FACTORY = REPO / "examples" / "factory"
# Fixed so every cached store is the same floor: a Monday shift start in the sample's time zone.
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def store_path(n_events: int) -> Path:
    return CACHE / f"history-{n_events}.db"


def build_sqlite(n_events: int, progress: bool = True) -> Path:
    """The cached store of (at least) ``n_events`` events, built if missing."""
    path = store_path(n_events)
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        # Another bench (or helper) sharing the cache may be building this size: wait for it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path
        return _build(path, n_events, progress)


def _build(path: Path, n_events: int, progress: bool) -> Path:
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        p.unlink(missing_ok=True)
    from seamline.adapters import master_data, migrate
    from seamline.adapters.db import make_engine
    from seamline.adapters.event_store import EventStore
    from seamline.adapters.layout_files import load_factory
    from seamline.domain.live import LiveState
    from seamline.service_layer.ingest import IngestPipeline, RawEvent
    from seamline.sim import SimConfig
    from seamline.sim.engine import Engine as SimEngine

    base = load_factory(FACTORY)
    # The sample's orders keep the floor busy for about five days; a factory that runs for years
    # gets new orders every week. Each week is a "wave": the sample's orders and bundles again,
    # renamed "-wK" and due K weeks later, sewn by a fresh simulator run that starts on that Monday.
    waves = n_events // 100_000 + 2
    layout = replace(base, orders=dict(base.orders), bundles=dict(base.bundles))
    for k in range(1, waves):
        for o in base.orders.values():
            layout.orders[f"{o.id}-w{k}"] = replace(o, id=f"{o.id}-w{k}", due=o.due + timedelta(weeks=k))
        for b in base.bundles.values():
            layout.bundles[f"{b.id}-w{k}"] = replace(b, id=f"{b.id}-w{k}", order_id=f"{b.order_id}-w{k}")
    engine = make_engine(f"sqlite:///{tmp}")
    migrate.upgrade(engine)
    master_data.save_layout(engine, layout)
    layouts = master_data.load_layouts(engine)
    store = EventStore(engine)
    far = datetime(9999, 1, 1, tzinfo=UTC)
    pipe = IngestPipeline(store, LiveState(layouts), layouts, clock=lambda: far - timedelta(days=1), store_only=True)
    done, t0 = 0, time.perf_counter()
    for k in range(waves):
        if done >= n_events:
            break
        sfx = "" if k == 0 else f"-w{k}"
        wave = replace(
            base,
            orders={
                o.id + sfx: replace(o, id=o.id + sfx, due=o.due + timedelta(weeks=k)) for o in base.orders.values()
            },
            bundles={b.id + sfx: replace(b, id=b.id + sfx, order_id=b.order_id + sfx) for b in base.bundles.values()},
        )
        start = (START + timedelta(weeks=k)).astimezone(base.factory.tz)
        sim = SimEngine(
            wave,
            SimConfig(
                seed=7 + k, start=start, hours=1.0, record_pieces=False, run_id=f"hist{k}", seq_base=k * 1_000_000
            ),
        )
        t_s = 0.0
        while done < n_events and t_s < 7 * 86400 - 3600:
            t_s += 3600.0
            batch = [RawEvent(payload=p, source="mqtt", topic=tp) for tp, p, _ts, _ in sim.run_until(t_s)]
            batch = batch[: n_events - done]
            for i in range(0, len(batch), 5000):
                res = pipe.process(batch[i : i + 5000])
                done += res.accepted
            if progress:
                rate = done / max(time.perf_counter() - t0, 1e-9)
                sys.stderr.write(
                    f"\rbuilding {path.name}: {done:,}/{n_events:,} events, "
                    f"week {k} day {t_s / 86400:.1f}, {rate:,.0f}/s "
                )
                sys.stderr.flush()
    if progress:
        sys.stderr.write("\n")
    engine.dispose()
    tmp.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    return path


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(build_sqlite(int(arg)))
