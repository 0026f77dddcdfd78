"""Wiring: the one place that builds the engine, store, layouts, live state and pipeline.

Entry points (the CLI, the web app, tests) call ``bootstrap`` and get a ``Runtime``; nothing else
constructs adapters, so swapping SQLite for PostgreSQL or the embedded broker for Mosquitto is a
setting, not a code change.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import cast

from sqlalchemy import Engine

from .adapters import master_data, migrate
from .adapters.db import DEFAULT_URL, make_engine
from .adapters.event_store import EventStore
from .adapters.history import HistoryStore
from .adapters.mqtt_receiver import Batch, MqttReceiver, MqttSettings
from .domain.live import LiveState
from .domain.model import FactoryLayout
from .plugins import optional_modules
from .service_layer.history import DEFAULT_RETAIN_DAYS, HistoryKeeper
from .service_layer.ingest import IngestPipeline, IngestWorker, Projection, RawEvent

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    engine: Engine
    store: EventStore
    layouts: dict[str, FactoryLayout]
    live: LiveState
    pipeline: IngestPipeline
    worker: IngestWorker
    receiver: MqttReceiver | None = None
    broker: BaseProcess | None = None
    replayed: int = 0
    keeper: HistoryKeeper | None = None
    checkpoint_pos: int = 0  # where the start-up checkpoint was (0: replayed the whole store)

    def projection(self, name: str) -> Projection | None:
        """A feature's projection, caught up with every accepted event."""
        self.pipeline.catch_up()
        return next((p for p in self.pipeline.projections if p.name == name), None)

    started_at: float = field(default_factory=time.monotonic)

    def save_layout(self, layout: FactoryLayout) -> None:
        """Store a factory's master data and make ingest validate against it from now on."""
        master_data.save_layout(self.engine, layout)
        with self.pipeline.lock:
            self.layouts[layout.factory.id] = layout
            self.live._tz.pop(layout.factory.id, None)

    def start_mqtt(self, settings: MqttSettings) -> None:
        def on_batch(items: Batch, ack: Callable[[], None]) -> None:
            raws = [RawEvent(payload=p, source="mqtt", topic=t, size=n) for _mid, t, p, _q, n in items]
            self.worker.submit(raws, lambda _result: ack())

        self.receiver = MqttReceiver(settings, on_batch)
        self.receiver.start()

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.stop()
        self.worker.stop()
        if self.broker is not None and self.broker.is_alive():
            self.broker.terminate()
            self.broker.join(2)
        self.engine.dispose()


FEATURE_PROJECTIONS = (
    "seamline.adapters.learning_store",
    "seamline.quality.projection",
    "seamline.materials.projection",
    "seamline.service_layer.counting",
    "seamline.service_layer.waiting",
    "seamline.web.progress",
)


def make_projections(layouts: dict[str, FactoryLayout], engine: Engine) -> list[Projection]:
    """Each feature module that exists exposes ``create(layouts, engine) -> Projection``."""
    out: list[Projection] = []
    for mod in optional_modules(FEATURE_PROJECTIONS):
        out.append(mod.create(layouts, engine))
    return out


def bind_live(projections: Sequence[Projection], live: LiveState) -> None:
    """Projections that feed live state (counting: pieces counted from motor bursts) get it here."""
    for p in projections:
        bind = getattr(p, "bind_live", None)
        if bind is not None:
            bind(live)


def replay_into(
    store: EventStore,
    live: LiveState,
    projections: Sequence[Projection] = (),
    *,
    after_pos: int = 0,
    keeper: HistoryKeeper | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild live state (and the feature projections) from the event store, in acceptance order,
    from ``after_pos`` on. With a ``keeper``, a checkpoint every ``keeper.every_events`` events keeps
    memory bounded however long the store; ``progress(events, pos)`` is called as it goes."""
    n = 0
    pos = after_pos
    for pos, ev in store.iter_events(after_pos=after_pos):
        if ev.factory in live.layouts and ev.station in live.layouts[ev.factory].stations:
            live.apply(ev)
            for p in projections:
                p.apply(ev)
            n += 1
            if n % 50_000 == 0:
                if progress is not None:
                    progress(n, pos)
                if keeper is not None and n % keeper.every_events == 0:
                    keeper.checkpoint(pos)
    if keeper is not None and n:
        keeper.checkpoint(pos)
    if progress is not None:
        progress(n, pos)
    return n


def retain_days_setting() -> float:
    """``SEAMLINE_RETAIN_DAYS``: days of hours kept in memory (default 8: this week and last)."""
    raw = os.environ.get("SEAMLINE_RETAIN_DAYS")
    return float(raw) if raw else DEFAULT_RETAIN_DAYS


def bootstrap(
    db_url: str = DEFAULT_URL,
    *,
    start_worker: bool = True,
    rebuild: bool = False,
    retain_days: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Runtime:
    """Build the runtime. Live state and projections come from the latest checkpoint plus the
    events after it; ``rebuild`` (or no usable checkpoint) replays the whole store instead."""
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    store = EventStore(engine)
    layouts = master_data.load_layouts(engine)
    history = HistoryStore(engine, layouts)
    live = LiveState(layouts)
    projections = make_projections(layouts, engine)
    after_pos = 0
    loaded = None
    if not rebuild:
        try:
            loaded = history.load()
        except Exception:  # a checkpoint from other code or a damaged one: replay everything
            log.warning("checkpoint unusable; replaying the whole event store", exc_info=True)
    if loaded is not None:
        pos, states = loaded
        names = {"live"} | {p.name for p in projections}
        if set(states) == names and isinstance(states["live"], LiveState):
            live = states["live"]
            projections = [cast(Projection, states[p.name]) for p in projections]
            after_pos = pos
        else:
            log.warning("checkpoint holds %s, this build has %s: replaying the whole store", sorted(states), names)
    if after_pos == 0:
        history.clear()  # rollups belong to the checkpoint they were written with
    live.history = history
    days = retain_days if retain_days is not None else retain_days_setting()
    keeper = HistoryKeeper(history, live, projections, days)
    bind_live(projections, live)
    t0 = time.perf_counter()
    replayed = replay_into(store, live, projections, after_pos=after_pos, keeper=keeper, progress=progress)
    if replayed:
        log.info("replayed %d events (after position %d) in %.1f s", replayed, after_pos, time.perf_counter() - t0)
    pipeline = IngestPipeline(store, live, layouts)
    pipeline.projections = projections
    worker = IngestWorker(pipeline)

    def checkpoint_when_due() -> None:
        if keeper.due():
            with pipeline.lock:
                pipeline.catch_up()
                keeper.checkpoint(history.max_pos())

    worker.between_batches.append(checkpoint_when_due)
    if start_worker:
        worker.start()
    return Runtime(
        engine, store, layouts, live, pipeline, worker, replayed=replayed, keeper=keeper, checkpoint_pos=after_pos
    )
