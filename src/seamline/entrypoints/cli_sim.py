"""`seamline sim` and `seamline replay`: the simulator and the replay tool on the command line."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import typer

from seamline.adapters.sim_publish import publish_events, run_live
from seamline.domain.model import FactoryLayout
from seamline.sim import Engine, SimConfig, SimProgress, read_jsonl, simulate, write_jsonl
from seamline.sim.truth import write_truth


def _load_factory(path: Path) -> FactoryLayout:
    try:
        from seamline.adapters.layout_files import load_factory  # another feature writes it
    except ImportError as e:
        raise typer.BadParameter(f"cannot load factory files: {e}") from None
    return load_factory(path)


def _parse_start(text: str | None, layout: FactoryLayout) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"--start {text!r} is not an ISO 8601 date-time") from None
    # A start without an offset means the factory's local time.
    return dt if dt.tzinfo else dt.replace(tzinfo=layout.factory.tz)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C or SIGTERM sets ``stop`` so the publisher finishes its acks and files get written.

    Installed explicitly because a process started in the background inherits an ignored SIGINT.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def _progress_line(p: SimProgress) -> None:
    sys.stderr.write(
        f"\rsim {p.sim_clock:%Y-%m-%d %H:%M:%S}  events {p.events_published:>9,}  "
        f"{p.events_per_s:>7.0f}/s  pieces today {p.pieces_today:>7,}  "
    )
    sys.stderr.flush()


def sim(
    factory: Path = typer.Option(..., "--factory", help="Folder (or file) with the factory layout."),
    mqtt_url: str | None = typer.Option(None, "--mqtt", help="Publish to this broker, e.g. mqtt://127.0.0.1:1883."),
    speed: float = typer.Option(60.0, help="Simulated seconds per real second when publishing (0 = no pacing)."),
    hours: float = typer.Option(8.0, help="Simulated hours; 0 with --mqtt = run until Ctrl-C."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same floor."),
    out: Path | None = typer.Option(None, "--out", help="Write the event stream as JSON lines."),
    truth: Path | None = typer.Option(None, "--truth", help="Write the ground truth as JSON."),
    start: str | None = typer.Option(None, help="Start time (ISO 8601); default: the latest shift start."),
    motor_lines: str = typer.Option(
        "", "--motor-lines", help="Lines on raw motor bursts + tablet bundle quantities, comma-separated."
    ),
) -> None:
    """Simulate the sewing floor and publish/write what its sensors would send."""
    layout = _load_factory(factory)
    motor = tuple(x.strip() for x in motor_lines.split(",") if x.strip())
    unknown = [x for x in motor if x not in layout.lines]
    if unknown:
        raise typer.BadParameter(f"未知产线 / unknown line(s) {unknown}; known: {sorted(layout.lines)}")
    start_dt = _parse_start(start, layout)
    if hours <= 0:
        if not mqtt_url:
            raise typer.BadParameter("--hours 0 (run until stopped) needs --mqtt")
        stop = threading.Event()
        cfg = SimConfig(seed=seed, start=start_dt, record_pieces=truth is not None, motor_lines=motor)
        typer.echo(f"publishing to {mqtt_url} at {speed:g}x until Ctrl-C", err=True)
        holder: dict[str, Engine] = {}

        def work() -> None:
            holder["engine"] = run_live(layout, cfg, mqtt_url, stop, _progress_line, speed=speed)

        th = threading.Thread(target=work, name="seamline-sim", daemon=True)
        with _stop_on_signals(stop):
            th.start()
            while th.is_alive():
                th.join(0.2)
        typer.echo("", err=True)
        eng = holder.get("engine")
        if truth is not None and eng is not None:
            write_truth(eng.truth_dict(eng.published_until or eng.start), truth)
        return
    cfg = SimConfig(seed=seed, start=start_dt, hours=hours, motor_lines=motor)
    t0 = time.perf_counter()
    res = simulate(layout, cfg)
    typer.echo(
        f"simulated {res.start.isoformat()} .. {res.end.isoformat()}: {len(res.events):,} events "
        f"in {time.perf_counter() - t0:.1f} s (run {res.run_id})",
        err=True,
    )
    if out is not None:
        write_jsonl(res.events, out)
        typer.echo(f"events -> {out}", err=True)
    if truth is not None:
        write_truth(res.truth, truth)
        typer.echo(f"truth -> {truth}", err=True)
    if mqtt_url:
        stop = threading.Event()
        with _stop_on_signals(stop):
            n = publish_events(
                res.events,
                mqtt_url,
                speed=speed,
                progress=_progress_line,
                stop=stop,
                client_id=f"seamline-sim-{res.run_id}",
            )
        typer.echo(f"\npublished {n:,} events to {mqtt_url}" + (" (stopped)" if stop.is_set() else ""), err=True)


def replay(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON-lines file from `seamline sim --out`."),
    mqtt_url: str = typer.Option(..., "--mqtt", help="Broker URL, e.g. mqtt://127.0.0.1:1883."),
    speed: float = typer.Option(0.0, help="Simulated seconds per real second (0 = as fast as possible)."),
) -> None:
    """Publish a recorded event stream to a broker (never ahead of the wall clock)."""
    stop = threading.Event()
    with _stop_on_signals(stop):
        n = publish_events(read_jsonl(file), mqtt_url, speed=speed, progress=_progress_line, stop=stop)
    typer.echo(
        f"\npublished {n:,} events from {file} to {mqtt_url}" + (" (stopped)" if stop.is_set() else ""), err=True
    )


def register(app: typer.Typer) -> None:
    app.command("sim")(sim)
    app.command("replay")(replay)
