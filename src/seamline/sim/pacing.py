"""Pacing a simulated event stream: ``speed`` × real time, never ahead of the wall clock.

Ingest rejects events stamped more than 5 minutes in the future, and a demo that showed tomorrow's
output would be a lie, so an event is published at the later of (a) its place on the accelerated
clock and (b) the moment the real clock reaches its timestamp. A run that starts in the past
therefore races through the backlog at ``speed`` and then continues in real time.

No broker here: ``paced`` calls a ``publish`` function; ``seamline.adapters.sim_publish`` passes
one that puts the events on MQTT.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from .config import SimProgress
from .engine import Engine

# A published event: (topic, payload, ts, type or "" when unknown).
Item = tuple[str, bytes, datetime, str]


def paced(
    items: Iterable[Item],
    publish: Callable[[str, bytes], None],
    *,
    speed: float,
    stop: threading.Event,
    progress: Callable[[SimProgress], None] | None = None,
    progress_every_s: float = 1.0,
    clock: Callable[[], float] = time.time,
    clock_speed: float = 1.0,
) -> tuple[int, datetime | None]:
    """Publish ``items`` (in time order) paced at ``speed`` (0 = as fast as allowed).

    Returns the number published and the timestamp of the last one.

    ``clock`` is the wall clock (seconds since the epoch); an event is never published before it.
    The demo passes its own factory clock (domain/demo_clock.py), which runs ``clock_speed``
    seconds per real second, so a wait for it is that much shorter in real time.
    """
    wall0 = time.monotonic()
    sim0: float | None = None
    n = 0
    pieces_today = 0
    today = None
    last_report = 0.0
    last_n = 0
    last_ts: datetime | None = None
    t_next: float | None = None

    def report(sim_clock: datetime) -> None:
        nonlocal last_report, last_n
        mono = time.monotonic()
        if sim0 is not None and t_next is not None:
            # Between events the simulated clock still moves: show where it is, not the last event.
            virtual = sim0 + (mono - wall0) * speed if speed > 0 else t_next
            shown = min(t_next, max(sim_clock.timestamp(), min(virtual, clock())))
            sim_clock = datetime.fromtimestamp(shown, sim_clock.tzinfo)
        rate = (n - last_n) / (mono - last_report) if last_report else 0.0
        last_report, last_n = mono, n
        if progress is not None:  # report() is only called with one; mypy cannot see that
            progress(SimProgress(sim_clock, n, pieces_today, rate))

    for topic, payload, ts, kind in items:
        t = t_next = ts.timestamp()
        if sim0 is None:
            sim0 = t
        while True:
            wait = (t - clock()) / clock_speed
            if speed > 0:
                wait = max(wait, wall0 + (t - sim0) / speed - time.monotonic())
            if progress and time.monotonic() - last_report >= progress_every_s and last_ts is not None:
                report(last_ts)
            if wait <= 0:
                break
            if stop.wait(min(wait, progress_every_s)):
                return n, last_ts
        if stop.is_set():
            return n, last_ts
        publish(topic, payload)
        n += 1
        d = ts.date()
        if d != today:
            today, pieces_today = d, 0
        if kind == "piece":
            pieces_today += 1
        last_ts = ts
    if progress and last_ts is not None:
        report(last_ts)
    return n, last_ts


def engine_stream(eng: Engine, stop: threading.Event, chunk_s: float = 60.0) -> Iterator[Item]:
    """Endless events from a running engine, simulated ``chunk_s`` at a time."""
    t = eng.env.now
    while not stop.is_set():
        t += chunk_s
        yield from eng.run_until(t)
