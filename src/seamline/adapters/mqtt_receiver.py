"""Receiving sensor events from MQTT, in a child process.

paho-mqtt's packet handling is pure Python and is the usual bottleneck of a Python subscriber;
running it in its own process lets it use one core while validation, storage and live state use
the other. Messages cross a pipe in batches (msgpack), and acknowledgements come back the same
way: a QoS 1 message is acknowledged to the broker only after the batch that holds it is committed
to the event store (manual acks), so a crash of either process loses nothing — the broker
redelivers what was not acknowledged, and the event store's unique ids drop the repeats.

The session is persistent (clean_session=False, fixed client id), so messages published while
ingest is down wait in the broker.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import msgspec

from ..domain.events import MAX_PAYLOAD_BYTES, TOPIC_FILTER

if TYPE_CHECKING:  # paho is imported in the child process only
    from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder()


@dataclass(frozen=True, slots=True)
class MqttSettings:
    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = "seamline-ingest"
    topic_filter: str = TOPIC_FILTER
    username: str | None = None
    password: str | None = None
    flush_ms: float = 3.0
    max_batch: int = 5000
    # MQTT 5 with a shared subscription (scale-out): the broker spreads the matching messages
    # over the members of the group (``$share/{group}/{topic_filter}``), one copy per group. Each
    # member needs its own stable client id: its session (and the messages it has not
    # acknowledged) lives under that id, for ``session_expiry_s`` after a disconnect.
    share_group: str | None = None
    session_expiry_s: int = 7 * 24 * 3600
    # MQTT 5 Receive Maximum: how many unacknowledged messages the broker sends ahead. Acks come
    # after commit, so this bounds what one process holds in flight (about 20 MB at most).
    receive_maximum: int = 65_535
    # When ingest falls behind, the broker's PINGRESP queues behind a window of messages on the
    # socket; a keep-alive timeout would reconnect, and the broker would resend the whole
    # unacknowledged window (duplicates, which cost work exactly when there is none to spare).
    # Shared-subscription members therefore wait longer; TCP errors still end a dead connection.
    shared_keepalive_s: int = 120
    # Messages received but not yet acknowledged (committed) that this process holds at most:
    # past it, the network thread waits for commits, TCP pushes back and the backlog stays in
    # the broker, so a process that falls behind keeps a bounded memory whatever the broker sends.
    max_outstanding: int = 50_000

    @property
    def subscription(self) -> str:
        return f"$share/{self.share_group}/{self.topic_filter}" if self.share_group else self.topic_filter

    @property
    def host_port(self) -> tuple[str, int]:
        u = urlparse(self.url)
        if u.scheme not in ("mqtt", "tcp", ""):
            raise ValueError(f"MQTT URL must look like mqtt://host:port, got {self.url!r}")
        return u.hostname or "127.0.0.1", u.port or 1883


def _receiver_main(settings: MqttSettings, conn: Connection) -> None:
    """Child process: a paho client that forwards batches and applies acks."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    host, port = settings.host_port
    u = urlparse(settings.url)
    connect_kw: dict[str, Any] = {}
    if settings.share_group:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = settings.session_expiry_s
        props.ReceiveMaximum = settings.receive_maximum
        connect_kw = {"clean_start": False, "properties": props}
    else:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=False,
            manual_ack=True,
        )
    username = settings.username or u.username
    if username:
        client.username_pw_set(username, settings.password or u.password)
    # paho annotates int seconds but only sleeps on the value: 0.2 s keeps a broker restart short.
    client.reconnect_delay_set(min_delay=0.2, max_delay=5)  # type: ignore[arg-type]
    client.max_inflight_messages_set(65535)
    # deque.append / popleft are atomic in CPython: the network thread never waits for the flusher.
    buf: deque[tuple[int, str, bytes | bytearray, int, int]] = deque()  # paho types payloads as either
    send_lock = threading.Lock()
    outstanding = [0]  # received QoS>0 messages of this connection not yet acknowledged by the parent
    room = threading.Condition()

    def send(kind: str, data: object) -> None:
        try:
            with send_lock:
                conn.send_bytes(_enc.encode((kind, data)))
        except OSError:  # the parent has gone (shut down, or killed): nobody to tell, nothing to raise
            stop.set()

    # Message ids are per connection: an ack that comes back from the parent after a reconnect
    # would acknowledge whichever new message reuses the id, uncommitted. So the id handed to the
    # parent carries the connection's number (generation << 16 | mid) and stale acks are dropped:
    # the broker redelivers those messages on the new connection and the event store drops the
    # repeats.
    gen = [0]

    def on_connect(
        c: Client, _u: Any, _flags: ConnectFlags, reason_code: ReasonCode, _props: Properties | None
    ) -> None:
        if reason_code == 0:
            gen[0] += 1
            with room:
                outstanding[0] = 0
                room.notify_all()
            c.subscribe(settings.subscription, qos=1)
        else:
            send("status", f"refused: {reason_code}")

    def on_subscribe(_c: Client, _u: Any, _mid: int, reason_codes: list[ReasonCode], _props: Properties | None) -> None:
        # "connected" only once the subscription stands: a publisher that waits for it loses nothing.
        refused = [str(rc) for rc in reason_codes if rc.is_failure]
        send("status", f"subscription refused: {refused}" if refused else "connected")

    def on_disconnect(
        _c: Client, _u: Any, _flags: DisconnectFlags, reason_code: ReasonCode, _props: Properties | None
    ) -> None:
        send("status", f"disconnected: {reason_code}")

    # Acks waiting to be sent. While messages flow, the network thread sends them from inside
    # on_message, where paho only queues the PUBACK and writes it with the loop's next write; the
    # ack thread sends whatever is left when traffic pauses.
    acks: deque[tuple[int, int]] = deque()

    def drain_acks() -> None:
        pop = acks.popleft
        try:
            while True:
                tagged, qos = pop()
                if tagged >> 16 == gen[0]:
                    client.ack(tagged & 0xFFFF, qos)
        except IndexError:
            return

    def on_message(_c: Client, _u: Any, m: MQTTMessage) -> None:
        # Nothing a publisher sends may raise here (paho would drop the connection, the broker
        # redeliver the message, for ever): a topic that is not UTF-8 is passed on replaced, and
        # the pipeline quarantines it. An oversize payload crosses the pipe only up to the limit,
        # with its size, so the quarantine can say how large it was.
        try:
            topic = m.topic
        except UnicodeDecodeError:
            topic = m._topic.decode("utf-8", "replace")
        payload = m.payload
        size = len(payload)
        if size > MAX_PAYLOAD_BYTES:
            payload = payload[:MAX_PAYLOAD_BYTES]
        buf.append(((gen[0] << 16) | m.mid, topic, payload, m.qos, size))
        if acks:
            drain_acks()
        if m.qos > 0:
            with room:
                outstanding[0] += 1
                # Acks queued meanwhile are written once this returns (paho's loop sends them).
                while outstanding[0] >= settings.max_outstanding and not stop.is_set():
                    room.wait(0.5)

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_disconnect = on_disconnect
    client.on_message = on_message

    stop = threading.Event()

    def flusher() -> None:
        pop = buf.popleft
        while not stop.is_set():
            time.sleep(settings.flush_ms / 1000.0)
            n = len(buf)
            if not n:
                continue
            out = [pop() for _ in range(n)]
            try:
                for i in range(0, len(out), settings.max_batch):
                    send("batch", out[i : i + settings.max_batch])
            except (BrokenPipeError, OSError):
                stop.set()
                client.disconnect()

    def acker() -> None:
        while not stop.is_set():
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                stop.set()
                client.disconnect()
                return
            kind, payload = _dec.decode(data)
            if kind == "ack":
                new = [(mid, qos) for mid, qos in payload if qos > 0]
                acks.extend(new)
                current = gen[0]
                with room:
                    outstanding[0] = max(0, outstanding[0] - sum(1 for mid, _q in new if mid >> 16 == current))
                    room.notify_all()
                time.sleep(0.002)
                if acks:
                    drain_acks()
            elif kind == "stop":
                stop.set()
                client.disconnect()
                return

    threading.Thread(target=flusher, daemon=True, name="mqtt-flush").start()
    threading.Thread(target=acker, daemon=True, name="mqtt-ack").start()
    keepalive = settings.shared_keepalive_s if settings.share_group else 30
    client.connect_async(host, port, keepalive=keepalive, **connect_kw)
    while not stop.is_set():
        client.loop_forever(retry_first_connection=True)
        if not stop.is_set():
            time.sleep(0.2)


# (tagged message id, topic, payload (at most MAX_PAYLOAD_BYTES of it), QoS, size as published)
Batch = list[tuple[int, str, bytes, int, int]]


class MqttReceiver:
    """Parent side: starts the child, hands each batch to ``on_batch`` with an ack callback."""

    def __init__(
        self,
        settings: MqttSettings,
        on_batch: Callable[[Batch, Callable[[], None]], None],
    ) -> None:
        self.settings = settings
        self.on_batch = on_batch
        self.status = "starting"
        self.received = 0
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._thread: threading.Thread | None = None
        self._send_lock = threading.Lock()

    def start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        self._conn = parent
        self._proc = ctx.Process(target=_receiver_main, args=(self.settings, child), daemon=True, name="mqtt-receiver")
        self._proc.start()
        child.close()
        self._thread = threading.Thread(target=self._read, daemon=True, name="mqtt-read")
        self._thread.start()

    def _ack(self, items: Batch) -> Callable[[], None]:
        def ack() -> None:
            acks = [(mid, qos) for mid, _t, _p, qos, _n in items if qos > 0]
            if acks and self._conn is not None:
                with self._send_lock:
                    try:
                        self._conn.send_bytes(_enc.encode(("ack", acks)))
                    except OSError:
                        log.warning("MQTT receiver gone; %d acks not sent (the broker will redeliver)", len(acks))

        return ack

    def _read(self) -> None:
        assert self._conn is not None
        while True:
            try:
                data = self._conn.recv_bytes()
            except (EOFError, OSError):
                self.status = "stopped"
                return
            kind, payload = _dec.decode(data)
            if kind == "batch":
                items: Batch = payload
                self.received += len(items)
                self.on_batch(items, self._ack(items))
            elif kind == "status":
                self.status = payload
                log.info("MQTT %s", payload)

    def stop(self, timeout_s: float = 3.0) -> None:
        if self._conn is not None:
            with self._send_lock, contextlib.suppress(OSError):
                self._conn.send_bytes(_enc.encode(("stop", None)))
        if self._proc is not None:
            self._proc.join(timeout_s)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(1)
