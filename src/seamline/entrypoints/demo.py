"""`seamline demo`: the whole system on one machine with nothing installed by hand.

Embedded broker (amqtt) → ingest → SQLite in a local data folder → the web app, fed by the
simulator running the sample factory in accelerated time. A second run resumes where the first
stopped (the simulator continues from the latest stored event with fresh ids and sequence
numbers); ``--fresh`` starts over.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from ..adapters.embedded_broker import start_embedded_broker
from ..adapters.mqtt_receiver import MqttSettings
from ..bootstrap import Runtime, bootstrap
from ..domain.model import FactoryLayout

log = logging.getLogger(__name__)


def find_examples() -> Path:
    """examples/factory next to the working directory, else in the source checkout."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        p = base / "examples" / "factory"
        if p.is_dir():
            return p
    raise FileNotFoundError("examples/factory not found: run from the seamline checkout or pass --factory")


@dataclass
class DemoOptions:
    data_dir: Path = Path("data/demo")
    factory: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    broker_port: int = 1883
    mqtt_url: str | None = None
    speed: float = 60.0
    seed: int = 1
    fresh: bool = False
    # Lines whose stations report raw motor bursts plus tablet bundle scans (issue #20); None = the
    # first line, so the demo shows both data paths.
    motor_lines: tuple[str, ...] | None = None


def prepare(opts: DemoOptions) -> Runtime:
    if opts.fresh and opts.data_dir.exists():
        shutil.rmtree(opts.data_dir)
    opts.data_dir.mkdir(parents=True, exist_ok=True)
    rt = bootstrap(f"sqlite:///{opts.data_dir / 'seamline.db'}")
    folder = opts.factory or find_examples()
    if not rt.layouts:
        from ..adapters.layout_files import load_factory

        rt.save_layout(load_factory(folder))
    _demo_rates(rt, folder)
    return rt


def _demo_rates(rt: Runtime, folder: Path) -> None:
    """The sample factory's rate card, so the tablets show earnings and pay reports are not empty;
    stored once (a card imported by hand since is kept)."""
    from ..pay.store import RATES_FILE, load_rate_card, read_rate_file, save_rate_card

    rates = folder / RATES_FILE
    if not rates.is_file():
        return
    for fid in rt.layouts:
        if load_rate_card(rt.engine, fid) is None:
            save_rate_card(rt.engine, fid, read_rate_file(rates), str(rates))


def remaining_work(rt: Runtime, layout: FactoryLayout) -> FactoryLayout:
    """The layout with the bundles already finished (every final operation has all its pieces)
    taken out, so a resumed simulation goes on with the work that is left instead of sewing
    finished bundles again."""
    from sqlalchemy import func, select

    from ..adapters import tables as t

    q = (
        select(t.events.c.bundle, t.events.c.op, func.sum(t.events.c.qty))
        .where(t.events.c.factory_id == layout.factory.id, t.events.c.type == "piece")
        .group_by(t.events.c.bundle, t.events.c.op)
    )
    with rt.engine.connect() as conn:
        made = {(b, op): int(n) for b, op, n in conn.execute(q)}
    finals = {code: style.final_operations() for code, style in layout.styles.items()}
    done = set()
    for b in layout.bundles.values():
        order = layout.orders.get(b.order_id)
        if order and all(made.get((b.id, op), 0) >= b.qty for op in finals.get(order.style_code, [])):
            done.add(b.id)
    bundles = {k: b for k, b in layout.bundles.items() if k not in done}
    open_orders = {b.order_id for b in bundles.values()}
    return replace(
        layout,
        bundles=bundles,
        orders={k: o for k, o in layout.orders.items() if k in open_orders},
    )


def run_demo(opts: DemoOptions) -> None:
    from ..adapters.sim_publish import run_live
    from ..sim import SimConfig, SimProgress
    from .auth_http import AuthConfig
    from .serve import serve

    t0 = time.monotonic()
    rt = prepare(opts)
    mqtt_url = opts.mqtt_url
    if mqtt_url is None:
        rt.broker = start_embedded_broker("127.0.0.1", opts.broker_port)
        mqtt_url = f"mqtt://127.0.0.1:{opts.broker_port}"
    rt.start_mqtt(MqttSettings(url=mqtt_url, client_id="seamline-demo-ingest"))

    layout = next(iter(rt.layouts.values()))
    latest = rt.live.latest_ts.get(layout.factory.id)
    sim_layout = remaining_work(rt, layout) if latest else layout
    seq_base = max((st.last_seq for st in rt.live.stations.values()), default=-1) + 1
    config = SimConfig(
        seed=opts.seed,
        start=(latest + timedelta(seconds=1)) if latest else None,
        run_id=f"d{int(time.time()):x}",
        seq_base=seq_base,
        record_pieces=False,
        motor_lines=tuple(sorted(layout.lines)[:1]) if opts.motor_lines is None else opts.motor_lines,
    )
    stop = threading.Event()
    url = f"http://{opts.host}:{opts.port}"

    def progress(p: SimProgress) -> None:
        sys.stdout.write(
            f"\r[demo] sim clock {p.sim_clock:%Y-%m-%d %H:%M} | {p.events_per_s:7.0f} events/s"
            f" | pieces today {p.pieces_today:6d} | stored {rt.pipeline.counters['accepted']:8d}   "
        )
        sys.stdout.flush()

    def simulate() -> None:
        try:
            run_live(sim_layout, config, mqtt_url, stop, progress, speed=opts.speed, client_id="seamline-demo-sim")
        except Exception:
            log.exception("simulator stopped")

    sim_thread = threading.Thread(target=simulate, daemon=True, name="simulator")

    def on_started() -> None:
        deadline = time.monotonic() + 15
        while rt.receiver is not None and rt.receiver.status != "connected" and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"seamline demo ready in {time.monotonic() - t0:.1f} s: open {url}  (Ctrl-C stops)")
        print(
            f"  factory {layout.factory.id}: {len(layout.lines)} lines, {len(layout.stations)} stations; "
            f"simulated at {opts.speed:g}x; data in {opts.data_dir}"
        )
        if config.motor_lines:
            print(f"  motor bursts + bundle scans (no piece counter) on: {', '.join(config.motor_lines)}")
        if sim_layout is not layout:
            print(f"  resuming: {len(sim_layout.orders)} orders with {len(sim_layout.bundles)} bundles still to sew")
        sim_thread.start()

    try:
        # The demo runs on loopback with made-up people: open access, so the pages show at once.
        serve(rt, opts.host, opts.port, on_started=on_started, close_runtime=False, auth=AuthConfig(mode="open"))
    finally:
        stop.set()
        if sim_thread.is_alive():
            sim_thread.join(10)
        rt.close()
        print("\nseamline demo stopped.")
