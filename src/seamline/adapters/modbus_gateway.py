"""`seamline gateway`: off-the-shelf power/current meters -> sensor-protocol `burst` events.

Polls Modbus TCP (or RTU over RS-485) meters with pymodbus, finds sewing bursts in each meter's
current (domain/bursts.py: hysteresis + debounce), and publishes them over MQTT with the gateway's
own broker credentials. Every event goes to a local SQLite queue first and leaves it only when the
broker acknowledged it (QoS 1 PUBACK), so nothing is lost while the broker is away or restarts,
and a restart of the gateway continues where it stopped (seq numbering included). The meter map
(TOML) says which register of which unit is which station; see docs/gateway.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

import msgspec
import paho.mqtt.client as mqtt

from ..domain.bursts import BurstDetector
from ..domain.events import topic_for

log = logging.getLogger(__name__)


class MapError(ValueError):
    """The meter map is not usable; the message names the meter and the field."""


@dataclass(frozen=True, slots=True)
class Meter:
    station: str
    unit: int
    register: int
    host: str | None = None  # Modbus TCP
    port: int = 502
    serial: str | None = None  # Modbus RTU: the serial device, e.g. /dev/ttyUSB0
    baudrate: int = 9600
    kind: str = "holding"  # holding | input
    scale: float = 0.01  # amps per register count
    on_a: float = 1.0
    off_a: float = 0.7

    @property
    def link(self) -> tuple[str, ...]:
        return (
            ("rtu", self.serial or "", str(self.baudrate)) if self.serial else ("tcp", self.host or "", str(self.port))
        )


@dataclass(frozen=True, slots=True)
class MeterMap:
    factory: str
    tz: ZoneInfo
    poll_hz: float
    meters: tuple[Meter, ...]


def load_map(path: Path) -> MeterMap:
    """Read a meter map (TOML). Errors name the meter and field in Chinese and English."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MapError(f"无法读取电表映射 / cannot read the meter map {path}: {e}") from None
    gw = doc.get("gateway", {})
    factory = gw.get("factory")
    if not isinstance(factory, str) or not factory:
        raise MapError("电表映射缺少 [gateway] factory / the meter map needs [gateway] factory")
    try:
        tz = ZoneInfo(gw.get("tz", "UTC"))
    except Exception:
        raise MapError(f"未知时区 / unknown time zone {gw.get('tz')!r}") from None
    poll_hz = float(gw.get("poll_hz", 5.0))
    if not 0.5 <= poll_hz <= 50:
        raise MapError(f"poll_hz 须在 0.5–50 / poll_hz must be 0.5-50, got {poll_hz}")
    shared = ("port", "kind", "scale", "on_a", "off_a", "host", "serial", "baudrate")
    defaults = {k: v for k, v in gw.items() if k in shared}
    meters = []
    seen: set[tuple[tuple[str, ...], int, int, str]] = set()
    for i, m in enumerate(doc.get("meter", []), 1):
        d = {**defaults, **m}
        try:
            meter = Meter(
                station=str(d["station"]),
                unit=int(d["unit"]),
                register=int(d["register"]),
                host=d.get("host"),
                port=int(d.get("port", 502)),
                serial=d.get("serial"),
                baudrate=int(d.get("baudrate", 9600)),
                kind=str(d.get("kind", "holding")),
                scale=float(d.get("scale", 0.01)),
                on_a=float(d.get("on_a", 1.0)),
                off_a=float(d.get("off_a", 0.7)),
            )
        except KeyError as e:
            raise MapError(f"第 {i} 个电表缺少字段 / meter {i} lacks {e.args[0]!r}") from None
        except (TypeError, ValueError) as e:
            raise MapError(f"第 {i} 个电表字段有误 / meter {i}: {e}") from None
        if meter.kind not in ("holding", "input"):
            raise MapError(f"meter {i}: kind must be holding or input, got {meter.kind!r}")
        if not (meter.host or meter.serial):
            raise MapError(f"第 {i} 个电表需要 host 或 serial / meter {i} needs host (TCP) or serial (RTU)")
        if not meter.on_a > meter.off_a:
            raise MapError(f"meter {i}: on_a must be above off_a")
        key = (meter.link, meter.unit, meter.register, meter.kind)
        if key in seen:
            raise MapError(f"第 {i} 个电表重复 / meter {i} repeats unit {meter.unit} register {meter.register}")
        seen.add(key)
        meters.append(meter)
    if not meters:
        raise MapError("电表映射中没有电表 / the meter map lists no [[meter]]")
    return MeterMap(factory, tz, poll_hz, tuple(meters))


# --- the durable queue ------------------------------------------------------------------------
class Outbox:
    """Events waiting for the broker's acknowledgement, in a SQLite file (WAL, synchronous=FULL).
    Row numbers never repeat (AUTOINCREMENT): the publisher hands rows over in number order."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.lock = threading.Lock()
        with self.lock:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS outbox (n INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT, payload BLOB)"
            )
            self.db.execute("CREATE TABLE IF NOT EXISTS seq (station TEXT PRIMARY KEY, last INTEGER)")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
            row = self.db.execute("SELECT v FROM meta WHERE k='gateway_id'").fetchone()
            if row is None:
                self.gateway_id = uuid.uuid4().hex[:10]
                self.db.execute("INSERT INTO meta VALUES ('gateway_id', ?)", (self.gateway_id,))
            else:
                self.gateway_id = row[0]
            self.last_seq = dict(self.db.execute("SELECT station, last FROM seq").fetchall())

    def add(self, items: list[tuple[str, str, dict[str, Any]]]) -> int:
        """Number and store events ``(station, topic, body)`` in one transaction."""
        if not items:
            return 0
        rows = []
        with self.lock:
            for station, topic, body in items:
                n = self.last_seq.get(station, -1) + 1
                self.last_seq[station] = n
                body = {"id": f"{station}-g{self.gateway_id}-{n}", "seq": n, **body}
                rows.append((topic, msgspec.json.encode(body)))
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO outbox (topic, payload) VALUES (?, ?)", rows)
            self.db.executemany(
                "INSERT INTO seq VALUES (?, ?) ON CONFLICT(station) DO UPDATE SET last=excluded.last",
                [(s, self.last_seq[s]) for s in {it[0] for it in items}],
            )
            self.db.execute("COMMIT")
        return len(rows)

    def pending(self, after: int, limit: int) -> list[tuple[int, str, bytes]]:
        with self.lock:
            return self.db.execute(
                "SELECT n, topic, payload FROM outbox WHERE n > ? ORDER BY n LIMIT ?", (after, limit)
            ).fetchall()

    def done(self, ns: list[int]) -> None:
        if ns:
            with self.lock:
                self.db.executemany("DELETE FROM outbox WHERE n = ?", [(n,) for n in ns])

    def size(self) -> int:
        with self.lock:
            return int(self.db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        with self.lock:
            self.db.close()


# --- MQTT -------------------------------------------------------------------------------------
class Publisher:
    """Moves the outbox to the broker; a row is deleted only after its PUBACK."""

    def __init__(self, outbox: Outbox, url: str, client_id: str, max_inflight: int = 1000) -> None:
        u = urlparse(url)
        if u.scheme not in ("mqtt", "mqtts") or not u.hostname:
            raise MapError(f"MQTT 地址无效 / not an mqtt:// URL: {url!r}")
        self.outbox = outbox
        self.max_inflight = max_inflight
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        if u.username:
            self.c.username_pw_set(unquote(u.username), unquote(u.password or ""))
        if u.scheme == "mqtts":
            self.c.tls_set()
        self.c.max_inflight_messages_set(max_inflight)
        self.c.reconnect_delay_set(1, 5)
        self._lock = threading.Lock()
        self._inflight: dict[int, int] = {}  # mid -> outbox row
        self._acked: list[int] = []
        self._early: set[int] = set()  # PUBACKs that arrived before publish() returned the mid
        self._high = 0  # highest row handed to the client in this connection
        self.connected = threading.Event()
        self.published = 0
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_publish = self._on_publish
        self.c.connect_async(u.hostname, u.port or (8883 if u.scheme == "mqtts" else 1883), keepalive=15)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        if getattr(rc, "is_failure", False):
            log.warning("broker refused the gateway: %s", rc)
            return
        with self._lock:
            self._inflight.clear()  # unacknowledged rows are sent again on this connection
            self._early.clear()
            self._high = 0
        self.connected.set()

    def _on_disconnect(self, *_a: Any) -> None:
        self.connected.clear()

    def _on_publish(self, _c: Any, _u: Any, mid: int, _rc: Any = None, _p: Any = None) -> None:
        with self._lock:
            n = self._inflight.pop(mid, None)
            if n is not None:
                self._acked.append(n)
            else:
                self._early.add(mid)

    def start(self) -> None:
        self.c.loop_start()

    def pump(self) -> int:
        """Delete acknowledged rows; hand the next rows to the client. Returns rows handed over."""
        with self._lock:
            acked, self._acked = self._acked, []
        self.outbox.done(acked)
        self.published += len(acked)
        if not self.connected.is_set():
            return 0
        with self._lock:
            room = self.max_inflight - len(self._inflight)
            high = self._high
        if room <= 0:
            return 0
        rows = self.outbox.pending(high, room)
        for n, topic, payload in rows:
            # Not under our lock: paho calls on_publish holding its own message lock.
            info = self.c.publish(topic, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                break
            with self._lock:
                self._high = max(self._high, n)
                if info.mid in self._early:  # the PUBACK beat us here
                    self._early.discard(info.mid)
                    self._acked.append(n)
                else:
                    self._inflight[info.mid] = n
        return len(rows)

    def stop(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


# --- polling ------------------------------------------------------------------------------------
@dataclass
class _Read:
    """One Modbus read covering the registers of several meters of one unit."""

    unit: int
    kind: str
    start: int
    count: int
    meters: list[tuple[int, Meter, BurstDetector]] = field(default_factory=list)  # (offset, meter, detector)


def _plan_reads(meters: tuple[Meter, ...]) -> dict[tuple[str, ...], list[_Read]]:
    """Group meters per link and unit into contiguous reads (a multi-channel meter: one request)."""
    groups: dict[tuple[str, ...], dict[tuple[int, str], list[Meter]]] = {}
    for m in meters:
        groups.setdefault(m.link, {}).setdefault((m.unit, m.kind), []).append(m)
    out: dict[tuple[str, ...], list[_Read]] = {}
    for link, units in groups.items():
        reads = []
        for (unit, kind), ms in sorted(units.items()):
            ms.sort(key=lambda m: m.register)
            cur: _Read | None = None
            for m in ms:
                if cur is None or m.register - cur.start >= 100:  # Modbus reads at most 125 registers
                    cur = _Read(unit, kind, m.register, 0)
                    reads.append(cur)
                cur.count = m.register - cur.start + 1
                cur.meters.append((m.register - cur.start, m, BurstDetector(on_a=m.on_a, off_a=m.off_a)))
        out[link] = reads
    return out


@dataclass
class GatewayStats:
    polls: int = 0
    read_errors: int = 0
    bursts: int = 0
    late_ticks: int = 0


class Gateway:
    def __init__(self, mmap: MeterMap, outbox: Outbox, on_burst: Callable[[str, float, float], None] | None = None):
        self.map = mmap
        self.outbox = outbox
        self.reads = _plan_reads(mmap.meters)
        self.stats = GatewayStats()
        self.on_burst = on_burst
        self._stop = asyncio.Event()

    def _client(self, link: tuple[str, ...]) -> Any:
        from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

        if link[0] == "tcp":
            return AsyncModbusTcpClient(link[1], port=int(link[2]), timeout=1, retries=0)
        return AsyncModbusSerialClient(link[1], baudrate=int(link[2]), timeout=0.5, retries=0)

    def _burst(self, m: Meter, start: float, run_s: float) -> tuple[str, str, dict[str, Any]]:
        ts = datetime.fromtimestamp(start, UTC).astimezone(self.map.tz).isoformat(timespec="milliseconds")
        self.stats.bursts += 1
        if self.on_burst is not None:
            self.on_burst(m.station, start, run_s)
        return (
            m.station,
            topic_for(self.map.factory, m.station),
            {"ts": ts, "type": "burst", "source": "gateway", "run_s": round(run_s, 3)},
        )

    async def _poll_link(self, link: tuple[str, ...]) -> None:
        """One link (a TCP meter gateway or an RS-485 bus): its reads one after the other, every tick."""
        period = 1.0 / self.map.poll_hz
        client = self._client(link)
        reads = self.reads[link]
        next_t = time.monotonic()
        while not self._stop.is_set():
            if not client.connected:
                with contextlib.suppress(Exception):
                    await client.connect()
                if not client.connected:
                    self.stats.read_errors += 1
                    await asyncio.sleep(1.0)
                    next_t = time.monotonic()
                    continue
            found = []
            for rd in reads:
                fn = client.read_holding_registers if rd.kind == "holding" else client.read_input_registers
                try:
                    rr = await fn(rd.start, count=rd.count, device_id=rd.unit)
                except Exception as e:
                    self.stats.read_errors += 1
                    log.debug("read unit %s failed: %s", rd.unit, e)
                    continue
                if rr.isError():
                    self.stats.read_errors += 1
                    continue
                t = time.time()
                regs = rr.registers
                for off, m, det in rd.meters:
                    b = det.feed(t, regs[off] * m.scale)
                    if b is not None:
                        found.append(self._burst(m, b[0], b[1]))
            if found:
                self.outbox.add(found)
            self.stats.polls += 1
            next_t += period
            delay = next_t - time.monotonic()
            if delay < 0:
                self.stats.late_ticks += 1
                next_t = time.monotonic()
                delay = 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
        client.close()

    async def run(self, publisher: Publisher | None, seconds: float | None = None) -> None:
        tasks = [asyncio.ensure_future(self._poll_link(link)) for link in self.reads]

        async def pump() -> None:
            while not self._stop.is_set():
                if publisher is not None:
                    await asyncio.to_thread(publisher.pump)
                await asyncio.sleep(0.1)

        tasks.append(asyncio.ensure_future(pump()))
        if seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)
            self._stop.set()
        await asyncio.gather(*tasks)

    def stop(self) -> None:
        self._stop.set()
