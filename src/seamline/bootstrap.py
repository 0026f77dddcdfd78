"""Wiring: the one place that builds the engine, store, layouts, live state and pipeline.

Entry points (the CLI, the web app, tests) call ``bootstrap`` and get a ``Runtime``; nothing else
constructs adapters, so swapping SQLite for PostgreSQL or the embedded broker for Mosquitto is a
setting, not a code change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess

from sqlalchemy import Engine

from .adapters import master_data, migrate
from .adapters.db import DEFAULT_URL, make_engine
from .adapters.event_store import EventStore
from .adapters.mqtt_receiver import Batch, MqttReceiver, MqttSettings
from .domain.live import LiveState
from .domain.model import FactoryLayout
from .plugins import optional_modules
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


def replay_into(store: EventStore, live: LiveState, projections: Sequence[Projection] = ()) -> int:
    """Rebuild live state (and the feature projections) from the event store, in acceptance order."""
    n = 0
    for _pos, ev in store.iter_events():
        if ev.factory in live.layouts and ev.station in live.layouts[ev.factory].stations:
            live.apply(ev)
            for p in projections:
                p.apply(ev)
            n += 1
    return n


def bootstrap(db_url: str = DEFAULT_URL, *, start_worker: bool = True) -> Runtime:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    store = EventStore(engine)
    layouts = master_data.load_layouts(engine)
    live = LiveState(layouts)
    projections = make_projections(layouts, engine)
    bind_live(projections, live)
    t0 = time.perf_counter()
    replayed = replay_into(store, live, projections)
    if replayed:
        log.info("replayed %d events into live state in %.1f s", replayed, time.perf_counter() - t0)
    pipeline = IngestPipeline(store, live, layouts)
    pipeline.projections = projections
    worker = IngestWorker(pipeline)
    if start_worker:
        worker.start()
    return Runtime(engine, store, layouts, live, pipeline, worker, replayed=replayed)
