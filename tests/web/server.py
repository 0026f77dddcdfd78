"""The app under test: a fresh database, the sample factory, a simulated morning, uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn

from seamline.adapters.layout_files import load_factory
from seamline.bootstrap import Runtime, bootstrap
from seamline.domain.model import FactoryLayout, Order
from seamline.entrypoints.api import create_app
from seamline.entrypoints.auth_http import AuthConfig
from seamline.materials.service import Materials, load_bom, receive_lots_csv
from seamline.service_layer.ingest import RawEvent
from seamline.sim import SimConfig, default_start, simulate

REPO = Path(__file__).resolve().parents[2]
RUSH_ORDER = "SO-RUSH-01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    rt: Runtime
    layout: FactoryLayout
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    held_back: list[tuple[str, bytes, datetime]]

    def ingest(self, events: list[tuple[str, bytes, datetime]], batch: int = 4000) -> int:
        accepted = 0
        for i in range(0, len(events), batch):
            raws = [RawEvent(payload=p, source="mqtt", topic=t) for t, p, _ in events[i : i + batch]]
            accepted += self.rt.worker.submit_future(raws).result(60).accepted
        return accepted

    def stop(self) -> None:
        self.server.config.app.state.web_stopping = True
        self.server.should_exit = True
        self.thread.join(10)
        self.rt.close()


def start(db_url: str, *, hours: float = 4.0, hold_back_min: float = 20.0, auth: AuthConfig | None = None) -> Served:
    """Simulate ``hours`` from yesterday's shift start; ingest all but the last ``hold_back_min``.

    Four hours from 08:00 end at lunch, so the held-back minutes (11:40-12:00) are busy ones.
    """
    rt = bootstrap(db_url)
    layout = load_factory(REPO / "examples" / "factory")
    tz = layout.factory.tz
    start_at = default_start(layout, datetime.now(tz) - timedelta(days=1))
    sim = simulate(layout, SimConfig(seed=11, start=start_at, hours=hours, record_pieces=False))
    # A rush order the simulator never saw, due the simulated day: the pages must flag it at risk.
    layout.orders[RUSH_ORDER] = Order(
        RUSH_ORDER, "Rush Retail Ltd", "TEE-BASIC", {("M", "Black"): 3000}, start_at.date(), priority=2
    )
    rt.save_layout(layout)
    # the sample factory's bill of materials and material lots (`seamline materials-import`)
    store = Materials.from_db(rt.engine, layout).store
    store.save_bom(load_bom(REPO / "examples" / "factory"))
    receive_lots_csv(store, REPO / "examples" / "factory" / "materials.csv")
    cut = sim.end - timedelta(minutes=hold_back_min)
    first = [e for e in sim.events if e[2] < cut]
    rest = [e for e in sim.events if e[2] >= cut]
    app = create_app(rt, auth)
    served = Served(rt, layout, "", None, None, rest)  # type: ignore[arg-type]
    served.ingest(first)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn-web-tests")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    served.url, served.server, served.thread = f"http://127.0.0.1:{port}", server, thread
    return served


if __name__ == "__main__":  # a manual look: python -m tests.web.server
    import tempfile

    d = Path(tempfile.mkdtemp())
    s = start(f"sqlite:///{d / 'web.db'}")
    print(s.url, "held back", len(s.held_back))
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        s.stop()
