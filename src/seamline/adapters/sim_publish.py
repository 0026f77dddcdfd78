"""Live mode: put simulated events on an MQTT broker, paced by ``seamline.sim.pacing``.

The broker side of the simulator (paho-mqtt), kept out of ``seamline.sim`` so the simulator itself
touches no broker: ``sim.pacing`` decides when each event goes out, this module sends it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ..domain.model import FactoryLayout
from ..sim.config import SimConfig, SimProgress
from ..sim.engine import Engine
from ..sim.pacing import Item, engine_stream, paced


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None


def parse_mqtt_url(url: str) -> BrokerAddress:
    """``mqtt://[user:pass@]host[:port]`` (port 1883 by default)."""
    u = urlparse(url if "://" in url else f"mqtt://{url}")
    if u.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"unsupported broker URL scheme {u.scheme!r} in {url!r} (use mqtt://host:port)")
    if not u.hostname:
        raise ValueError(f"broker URL {url!r} has no host")
    return BrokerAddress(u.hostname, u.port or 1883, u.username, u.password)


class Publisher:
    """A paho client publishing with QoS 1 that can wait until the broker acknowledged everything."""

    def __init__(
        self, url: str, client_id: str, *, connect_timeout_s: float = 10.0, max_outstanding: int = 2000
    ) -> None:
        addr = parse_mqtt_url(url)
        self.max_outstanding = max_outstanding
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if addr.username:
            self.client.username_pw_set(addr.username, addr.password)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self._lock = threading.Condition()
        self.sent = 0
        self.acked = 0
        self._connected = threading.Event()
        self.client.on_publish = self._on_publish
        self.client.on_connect = self._on_connect
        self.client.connect(addr.host, addr.port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(connect_timeout_s):
            self.close()
            raise ConnectionError(f"no CONNACK from {url} within {connect_timeout_s} s")

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not reason_code.is_failure:
            self._connected.set()

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_code: ReasonCode, properties: Properties
    ) -> None:
        with self._lock:
            self.acked += 1
            self._lock.notify_all()

    def publish(self, topic: str, payload: bytes) -> None:
        # Back-pressure: paho numbers messages with 16-bit ids, so an unbounded queue of unacked
        # messages would wrap and lose acknowledgements; it would also grow without limit.
        with self._lock:
            while self.sent - self.acked >= self.max_outstanding:
                if not self._lock.wait(30.0):
                    raise ConnectionError(f"broker stopped acknowledging ({self.acked} of {self.sent})")
        self.client.publish(topic, payload, qos=1)
        self.sent += 1

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every published message was acknowledged; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self.acked < self.sent:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.5))
        return True

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run_live(
    layout: FactoryLayout,
    config: SimConfig,
    mqtt_url: str,
    stop: threading.Event,
    progress: Callable[[SimProgress], None] | None = None,
    *,
    speed: float = 60.0,
    client_id: str | None = None,
    clock: Callable[[], float] | None = None,
    clock_speed: float = 1.0,
    stream: Callable[[Engine, threading.Event], Iterable[Item]] | None = None,
) -> Engine:
    """Simulate and publish until ``stop`` is set (day after day, nights included).

    Returns the engine so a caller can write its ground truth: ``engine.truth_dict(engine.published_until)``
    matches exactly what was published (the engine itself runs up to a minute ahead). ``clock``
    replaces the wall clock events wait for (the demo's factory clock, ``clock_speed`` × real time).
    ``stream`` turns the engine into the events to send (default ``engine_stream``: the simulator's
    own balance; the demo passes the seamline controller's, ``twin.loop.controlled_stream``).
    """
    eng = Engine(layout, config)
    pub = Publisher(mqtt_url, client_id or f"seamline-sim-{eng.run_id}")
    try:
        _, eng.published_until = paced(
            (stream or engine_stream)(eng, stop),
            pub.publish,
            speed=speed,
            stop=stop,
            progress=progress,
            clock=clock or time.time,
            clock_speed=clock_speed,
        )
        pub.flush(timeout_s=10.0)
    finally:
        pub.close()
    return eng


def publish_events(
    items: Iterable[tuple[str, bytes, datetime]] | Iterable[Item],
    mqtt_url: str,
    *,
    speed: float = 0.0,
    stop: threading.Event | None = None,
    progress: Callable[[SimProgress], None] | None = None,
    client_id: str = "seamline-replay",
) -> int:
    """Publish a finite stream (a simulation result or a replay file); waits for the broker's acks."""
    stop = stop or threading.Event()
    pub = Publisher(mqtt_url, client_id)
    try:
        n, _ = paced(_with_kind(items), pub.publish, speed=speed, stop=stop, progress=progress)
        if not pub.flush(timeout_s=60.0):
            raise ConnectionError(f"broker acknowledged {pub.acked} of {pub.sent} events")
    finally:
        pub.close()
    return n


def _with_kind(items: Iterable[tuple[str, bytes, datetime]] | Iterable[Item]) -> Iterator[Item]:
    for it in items:
        if len(it) == 4:
            yield it
        else:
            topic, payload, ts = it
            kind = "piece" if b'"type":"piece"' in payload else ""
            yield topic, payload, ts, kind
