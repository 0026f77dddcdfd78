"""Wiring for scale-out: N ingest-only processes and one read side, on one PostgreSQL.

``seamline ingest`` (``run_ingest``) receives from MQTT 5 with a shared subscription, validates,
deduplicates (the unique ``event_id`` in the database is the arbiter across processes), commits
and only then acknowledges; it keeps no live state. ``seamline serve --no-ingest``
(``bootstrap_read``) serves the API and pages and builds live state by tailing the store
(``service_layer/tail.py``); it still accepts ``POST /api/v1/events``, stored only, and folded in
by the tailer like everything else. docs/deploy.md, "Scale-out", says how to run them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import msgspec

from .adapters import master_data, migrate
from .adapters.db import make_engine
from .adapters.event_store import EventStore
from .adapters.mqtt_receiver import Batch, MqttReceiver, MqttSettings
from .bootstrap import Runtime, bind_live, make_projections
from .domain.events import parse_topic
from .domain.live import LiveState
from .service_layer.ingest import IngestPipeline, IngestWorker, RawEvent
from .service_layer.tail import LiveTailer

log = logging.getLogger(__name__)


# --- the read side --------------------------------------------------------------------------------
@dataclass
class ReadRuntime(Runtime):
    """A Runtime whose live state comes from tailing the store, not from its own ingest."""

    tailer: LiveTailer | None = None

    def close(self) -> None:
        if self.tailer is not None:
            self.tailer.stop()
        super().close()


def bootstrap_read(
    db_url: str, *, reorder_wait_s: float = 3.0, login_hold_s: float | None = None, start: bool = True
) -> ReadRuntime:
    """Build the read side: replay the store through the tailer's ordering, then keep tailing."""
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    store = EventStore(engine)
    layouts = master_data.load_layouts(engine)
    live = LiveState(layouts)
    pipeline = IngestPipeline(store, live, layouts, store_only=True)
    pipeline.projections = make_projections(layouts, engine)
    bind_live(pipeline.projections, live)
    worker = IngestWorker(pipeline)
    tailer = LiveTailer(store, pipeline, reorder_wait_s=reorder_wait_s, login_hold_s=login_hold_s)
    t0 = time.perf_counter()
    replayed = tailer.catch_up()
    if replayed:
        log.info("read %d events into live state in %.1f s", replayed, time.perf_counter() - t0)
    rt = ReadRuntime(engine, store, layouts, live, pipeline, worker, replayed=replayed, tailer=tailer)
    if start:
        worker.start()
        tailer.start()
    return rt


# --- an ingest-only process -----------------------------------------------------------------------
class _Ts(msgspec.Struct):
    ts: datetime


_ts_decoder = msgspec.json.Decoder(_Ts)

LAG_SAMPLE_EVERY = 50


@dataclass
class IngestStats:
    """What one ingest process has done, written to ``--stats-file`` for tests and operators.

    ``commit_lag_ms``: for every 50th message, the time from the event's own timestamp to the
    commit of its batch: the end-to-end delay when the sensors' clocks are right (the benchmark
    publishes events stamped with the publish time), plus their clock error otherwise.
    """

    client_id: str
    received: int = 0
    received_by_station: Counter[str] | None = None
    lag_s: list[float] = field(default_factory=list)
    lag_at: list[float] = field(default_factory=list)  # the sampled events' timestamps (epoch s)

    def lag_summary(self) -> dict[str, float | int | None]:
        xs = sorted(self.lag_s)
        if not xs:
            return {"n": 0, "p50": None, "p99": None, "max": None}
        return {
            "n": len(xs),
            "p50": round(xs[len(xs) // 2] * 1000, 1),
            "p99": round(xs[int(0.99 * (len(xs) - 1))] * 1000, 1),
            "max": round(xs[-1] * 1000, 1),
        }

    _summary: dict[str, float | int | None] | None = None
    _writes: int = 0

    def as_dict(self, pipeline: IngestPipeline, receiver: MqttReceiver, final: bool = False) -> dict[str, object]:
        # Sorting every sample costs; every 10th write (10 s) is often enough.
        if final or self._summary is None or self._writes % 10 == 0:
            self._summary = self.lag_summary()
        self._writes += 1
        return {
            "client_id": self.client_id,
            "pid": os.getpid(),
            "mqtt": receiver.status,
            "received": self.received,
            "counters": dict(pipeline.counters),
            "commit_lag_ms": self._summary,
            "received_by_station": dict(self.received_by_station or {}),
            # the raw samples once, at exit: (event timestamp, lag), for a benchmark's own window
            "lag_samples": [[round(a, 3), round(b, 4)] for a, b in zip(self.lag_at, self.lag_s, strict=True)]
            if final
            else None,
        }


def run_ingest(
    db_url: str,
    settings: MqttSettings,
    *,
    stats_file: Path | None = None,
    per_station_stats: bool = False,
    stop: threading.Event | None = None,
) -> None:
    """Run one ingest-only process until SIGTERM / SIGINT (or ``stop`` is set)."""
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    store = EventStore(engine)
    layouts = master_data.load_layouts(engine)
    # LiveState only answers the validation's "is this an operation of the style" here; no event
    # is applied to it.
    pipeline = IngestPipeline(store, LiveState(layouts), layouts, store_only=True)
    worker = IngestWorker(pipeline)
    worker.start()
    stats = IngestStats(settings.client_id, received_by_station=Counter() if per_station_stats else None)

    def on_batch(items: Batch, ack: Callable[[], None]) -> None:
        stats.received += len(items)
        if stats.received_by_station is not None:
            for _mid, topic, _p, _q, _n in items:
                with contextlib.suppress(ValueError):
                    stats.received_by_station["/".join(parse_topic(topic))] += 1
        raws = [RawEvent(payload=p, source="mqtt", topic=t, size=n) for _mid, t, p, _q, n in items]
        stamps = []
        for _mid, _t, p, _q, _n in items[::LAG_SAMPLE_EVERY]:
            # Any payload may be poison (too deep, not UTF-8, a year-1 `ts`): the pipeline judges it.
            with contextlib.suppress(Exception):
                stamps.append(_ts_decoder.decode(p).ts.timestamp())

        def done(_result: object) -> None:
            ack()
            now = time.time()
            stats.lag_s.extend(now - t for t in stamps)
            stats.lag_at.extend(stamps)

        worker.submit(raws, done)

    receiver = MqttReceiver(settings, on_batch)
    receiver.start()
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())

    def write_stats(final: bool = False) -> None:
        if stats_file is None:
            return
        tmp = stats_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats.as_dict(pipeline, receiver, final)))
        tmp.replace(stats_file)

    try:
        while not stop.wait(1.0):
            write_stats()
    finally:
        receiver.stop()  # no new batches; what is queued is committed and acknowledged below
        worker.stop()
        write_stats(final=True)
        engine.dispose()
