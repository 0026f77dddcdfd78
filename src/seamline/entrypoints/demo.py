"""`seamline demo`: the whole system on one machine with nothing installed by hand.

Embedded broker (amqtt) → ingest → SQLite in a local data folder → the web app, fed by the
simulator running the sample factory in accelerated time. A second run resumes where the first
stopped (the simulator continues from the latest stored event with fresh ids and sequence
numbers, the bundles under way stay where they were); ``--fresh`` starts over.

The demo keeps its own factory clock (domain/demo_clock.py): it starts inside a working shift of
the latest workday (or where the last run stopped, if later) and runs at ``speed`` over working
time only, so it shows a shift at work whenever it is started. The server checks event times
against that clock and the pages say so; ``seamline serve`` never does. Lines start with work in
progress along them (sim/wip.py), as a real line does in the morning.

The simulated floor follows seamline (entrypoints/demo_control.py): the balance, re-balances,
WIP cap and dispatch of the seamline policy, learned from the published events only, stored as
the lines' directives so the tablets show what the simulated workers do.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from ..adapters.embedded_broker import start_embedded_broker
from ..adapters.mqtt_receiver import MqttSettings
from ..bootstrap import Runtime, bootstrap
from ..domain.demo_clock import DemoClock, advance
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
    # The demo clock starts this long into the shift: the floor is already running when the pages open.
    lead_min: float = 30.0
    # Bundles per station already along each line at the start (sim/wip.py); 0 = empty lines.
    preload_wip_bundles_per_station: float = 1.5
    # The floor follows the seamline controller (demo_control.py); False: the simulator's own
    # balance from the SAMs, first in first out (what the demo did before issue #21).
    follow_seamline: bool = True


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


def _made(rt: Runtime, layout: FactoryLayout) -> dict[tuple[str, str], int]:
    """Pieces stored per (bundle, operation)."""
    from sqlalchemy import func, select

    from ..adapters import tables as t

    q = (
        select(t.events.c.bundle, t.events.c.op, func.sum(t.events.c.qty))
        .where(t.events.c.factory_id == layout.factory.id, t.events.c.type == "piece")
        .group_by(t.events.c.bundle, t.events.c.op)
    )
    with rt.engine.connect() as conn:
        return {(b, op): int(n) for b, op, n in conn.execute(q)}


def work_in_progress(rt: Runtime, layout: FactoryLayout) -> dict[str, list[str]]:
    """Bundles the stored events show under way: bundle -> operations with all their pieces, so a
    resumed simulation carries them on instead of sewing them from the start again."""
    made = _made(rt, layout)
    started: dict[str, list[str]] = {}
    for (bid, op), n in made.items():
        b = layout.bundles.get(bid)
        if b is not None:
            ops = started.setdefault(bid, [])
            if n >= b.qty:
                ops.append(op)
    return {bid: sorted(ops) for bid, ops in started.items()}


def remaining_work(rt: Runtime, layout: FactoryLayout) -> FactoryLayout:
    """The layout with the bundles already finished (every final operation has all its pieces)
    taken out, so a resumed simulation goes on with the work that is left instead of sewing
    finished bundles again."""
    made = _made(rt, layout)
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


def demo_clock(layout: FactoryLayout, latest: datetime | None, opts: DemoOptions) -> tuple[DemoClock, datetime]:
    """The demo's factory clock and where the simulation starts.

    Fresh: the simulation starts at the latest shift start (the first line's calendar, on a
    workday, at or before now in the factory's time zone) and the clock ``lead_min`` later, so
    whoever opens the pages sees the shift already running. Resumed: from the latest stored event,
    or from the latest shift start if that is later (a demo stopped last week goes on today)."""
    from ..sim import default_start

    cal = layout.calendar_for_line(sorted(layout.lines)[0]) if layout.lines else None
    if cal is None:
        raise ValueError("the demo factory has no line")
    shift0 = default_start(layout)
    sim_start = shift0 if latest is None else max(latest + timedelta(seconds=1), shift0)
    origin = max(sim_start, advance(cal, shift0, opts.lead_min * 60.0))
    return DemoClock(cal, advance(cal, origin, 0.0), opts.speed), sim_start


def use_demo_clock(rt: Runtime, clock: DemoClock) -> None:
    """Make the server follow the demo clock: pages report it, ingest checks event times against it."""
    rt.live.demo_clock = clock
    rt.pipeline.clock = clock.now


def run_demo(opts: DemoOptions) -> None:
    from ..adapters.sim_publish import run_live
    from ..sim import SimConfig, SimProgress
    from .auth_http import AuthConfig
    from .serve import serve

    t0 = time.monotonic()
    rt = prepare(opts)
    layout = next(iter(rt.layouts.values()))
    latest = rt.live.latest_ts.get(layout.factory.id)
    clock, sim_start = demo_clock(layout, latest, opts)
    use_demo_clock(rt, clock)
    mqtt_url = opts.mqtt_url
    if mqtt_url is None:
        rt.broker = start_embedded_broker("127.0.0.1", opts.broker_port)
        mqtt_url = f"mqtt://127.0.0.1:{opts.broker_port}"
    rt.start_mqtt(MqttSettings(url=mqtt_url, client_id="seamline-demo-ingest"))

    sim_layout = remaining_work(rt, layout) if latest else layout
    seq_base = max((st.last_seq for st in rt.live.stations.values()), default=-1) + 1
    config = SimConfig(
        seed=opts.seed,
        start=sim_start,
        preload_wip_bundles_per_station=opts.preload_wip_bundles_per_station,
        wip=work_in_progress(rt, sim_layout) if latest else {},
        run_id=f"d{int(time.time()):x}",
        seq_base=seq_base,
        record_pieces=False,
        motor_lines=tuple(sorted(layout.lines)[:1]) if opts.motor_lines is None else opts.motor_lines,
    )
    stop = threading.Event()
    url = f"http://{opts.host}:{opts.port}"
    control = None
    if opts.follow_seamline:
        from ..service_layer.line_direction import director
        from .demo_control import DemoControl

        control = DemoControl(sim_layout, director(rt).store)

    def progress(p: SimProgress) -> None:
        sys.stdout.write(
            f"\r[demo] sim clock {p.sim_clock:%Y-%m-%d %H:%M} | {p.events_per_s:7.0f} events/s"
            f" | pieces today {p.pieces_today:6d} | stored {rt.pipeline.counters['accepted']:8d}   "
        )
        sys.stdout.flush()

    def simulate() -> None:
        try:
            # Paced by the demo clock alone: the backlog before it (the lead) goes out at once.
            run_live(
                sim_layout,
                config,
                mqtt_url,
                stop,
                progress,
                speed=0,
                client_id="seamline-demo-sim",
                clock=clock.epoch,
                clock_speed=opts.speed,
                stream=control.stream if control is not None else None,
            )
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
        print(
            f"  演示时钟 / demo clock: {clock.now():%Y-%m-%d %H:%M} ({layout.factory.timezone}), working time only"
            " (breaks, nights and rest days skipped)"
        )
        if control is not None:
            print(
                "  车间按 seamline 指令生产 / the floor follows seamline: balance from learned efficiencies,"
                " re-balances and next tasks, stored as each line's directives"
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
