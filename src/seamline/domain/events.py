"""Sensor events: the wire contract of docs/sensor-protocol.md, as typed structs.

msgspec decodes and validates a payload in one pass (several times faster than json + pydantic),
which matters because every event of every station goes through here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import msgspec

TOPIC_PREFIX = "seamline/v1/"
TOPIC_FILTER = "seamline/v1/+/stations/+/events"

# --- the protocol's limits (docs/sensor-protocol.md) -------------------------------------------
# Checked by ``decode_wire`` before anything is stored, so no value a sensor can send overflows a
# column, a date type or the decoder's stack. One constant each, so the broker configuration
# (``message_size_limit``) and the HTTP API refuse exactly what ingest refuses.
MAX_PAYLOAD_BYTES = 64 * 1024  # one event, UTF-8 JSON
MAX_DEPTH = 32  # nesting of arrays/objects, the event object itself counted as 1
MAX_SEQ = 2**53 - 1  # exact in every JSON parser (and far from the BIGINT edge, so seq+1 fits)
TS_MIN = datetime(2000, 1, 1, tzinfo=UTC)  # earlier is a sensor clock that was never set
MAX_UTC_OFFSET = timedelta(hours=14)  # the widest offset in use (Kiribati, UTC+14)

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Qty = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Seq = Annotated[int, msgspec.Meta(ge=0)]


class _Base(msgspec.Struct, tag_field="type", forbid_unknown_fields=False, kw_only=True):
    id: Id
    seq: Seq
    ts: datetime
    # Present on HTTP batches; on MQTT the topic carries them.
    factory: Code | None = None
    station: Code | None = None
    # Who numbered `seq`: the retrofit sensor (default) or another device at the station, such as
    # the tablet. Sequence gaps are tracked per station and source. (Compatible extension.)
    source: Literal["sensor", "tablet", "gateway", "manual"] = "sensor"


class Login(_Base, tag="login"):
    worker: Code


class Logout(_Base, tag="logout"):
    worker: Code


class BundleIn(_Base, tag="bundle_in"):
    bundle: Code


class BundleOut(_Base, tag="bundle_out"):
    bundle: Code


class Piece(_Base, tag="piece"):
    bundle: Code
    op: Code
    qty: Qty = 1


class Machine(_Base, tag="machine"):
    state: Literal["running", "idle", "off"]


class Downtime(_Base, tag="downtime"):
    reason: Code
    phase: Literal["start", "end"]


class Defect(_Base, tag="defect"):
    bundle: Code
    op: Code
    defect: Code
    qty: Qty = 1


RunS = Annotated[float, msgspec.Meta(ge=0, le=3600)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class Burst(_Base, tag="burst"):
    """One sewing burst seen by a motor sensor (compatible extension, protocol v1).

    `ts` is when the motor started; it ran `run_s` seconds. A retrofit sensor knows neither the
    bundle nor the operation, so the event carries neither: the counting projection
    (service_layer/counting.py) attributes it from the station's scans.
    """

    run_s: RunS
    stitches: Count | None = None  # needle pulses, when the sensor sees them
    trim: bool = False  # the burst ended with a thread trim


class Bursts(_Base, tag="bursts"):
    """Short aggregate of bursts (a sensor that reports every `period_s` instead of each burst):
    `n` bursts starting in [ts, ts + period_s), `run_s` seconds of motor run, `trims` trims."""

    period_s: Annotated[float, msgspec.Meta(gt=0, le=3600)]
    n: Count
    run_s: Annotated[float, msgspec.Meta(ge=0, le=3600)]
    trims: Count = 0
    stitches: Count | None = None


SensorEvent = Login | Logout | BundleIn | BundleOut | Piece | Machine | Downtime | Defect | Burst | Bursts
EVENT_TYPES: tuple[type[_Base], ...] = (
    Login,
    Logout,
    BundleIn,
    BundleOut,
    Piece,
    Machine,
    Downtime,
    Defect,
    Burst,
    Bursts,
)


def type_name(cls: type[_Base]) -> str:
    """The wire ``type`` of an event class (its msgspec tag: always a string here)."""
    return str(cls.__struct_config__.tag)


TYPE_NAMES: tuple[str, ...] = tuple(type_name(t) for t in EVENT_TYPES)

_decoder: msgspec.json.Decoder[SensorEvent] = msgspec.json.Decoder(SensorEvent)
_list_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_encoder = msgspec.json.Encoder()


class ProtocolError(ValueError):
    """A payload that does not follow the sensor protocol; the message says what is wrong."""


def decode_event(payload: bytes | str) -> SensorEvent:
    """Decode an event the store already accepted (replay, reports); raises ProtocolError.

    Deliberately without ``decode_wire``'s bounds: a store written before a bound existed must
    still replay. Input from outside goes through ``decode_wire``.
    """
    try:
        ev = _decoder.decode(payload)
    except msgspec.ValidationError as e:
        raise ProtocolError(f"invalid event: {e}") from None
    except msgspec.DecodeError as e:
        raise ProtocolError(f"malformed JSON: {e}") from None
    except (RecursionError, UnicodeDecodeError) as e:
        raise ProtocolError(f"malformed JSON: {e}") from None
    if ev.ts.tzinfo is None:
        raise ProtocolError("invalid event: `ts` must be RFC 3339 with an offset - at `$.ts`")
    return ev


def decode_wire(payload: bytes) -> SensorEvent:
    """Decode one event from a sensor, tablet or gateway, with every limit of the protocol.

    Whatever passes fits the event store on both databases (a 64-bit ``seq`` with room for +1, a
    timestamp every date type holds, text without NUL, no string wider than its column) and took
    bounded time and stack to decode; whatever does not raises ProtocolError with the reason the
    quarantine keeps. Bounds, not a list of known bad inputs: ingest must not depend on having
    foreseen the payload.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(payload)} bytes is over the limit of {MAX_PAYLOAD_BYTES} bytes")
    if not payload.isascii():  # ASCII is UTF-8; only the rest needs the full check
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError(f"payload is not valid UTF-8 ({e.reason} at byte {e.start})") from None
    if payload.count(b"[") + payload.count(b"{") > MAX_DEPTH:  # else it cannot nest deeper
        depth = nesting_depth(payload)
        if depth > MAX_DEPTH:
            raise ProtocolError(f"JSON nested {depth} deep; the limit is {MAX_DEPTH}")
    ev = decode_event(payload)
    if ev.seq > MAX_SEQ:
        raise ProtocolError(f"invalid event: `seq` must be from 0 to {MAX_SEQ} (2**53-1) - at `$.seq`")
    ts = ev.ts
    offset = ts.utcoffset()
    if offset is None or not -MAX_UTC_OFFSET <= offset <= MAX_UTC_OFFSET:
        raise ProtocolError(f"invalid event: `ts` {ts.isoformat()} has a UTC offset beyond ±14:00 - at `$.ts`")
    year = ts.year
    if year <= TS_MIN.year:  # the exact comparison only near the bound (a tz-aware one is slow)
        try:
            early = ts < TS_MIN
        except OverflowError:  # year 1 at +14:00 has no UTC time
            early = True
    else:
        early = False
    if early or year > 9998:  # (beyond 9998 an offset can overflow the date type)
        raise ProtocolError(
            f"invalid event: `ts` {ev.ts.isoformat()} is outside the accepted range (from {TS_MIN.isoformat()}"
            " up to the server's clock) - at `$.ts`"
        )
    # A decoded string holds NUL only from the escape `\u0000` (JSON forbids the raw byte);
    # most payloads have no backslash at all, which a one-byte search settles.
    if b"\\" in payload and b"\\u0000" in payload:
        for name in ev.__struct_fields__:
            v = getattr(ev, name)
            if isinstance(v, str) and "\x00" in v:
                raise ProtocolError(f"invalid event: `{name}` contains a NUL character - at `$.{name}`")
    return ev


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(payload: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (an object alone is 1).

    Strings are stripped and brackets counted without recursion (a decoder needs a stack frame
    per level: the RecursionError of issue #18). ``decode_wire`` calls it only when the payload
    has more brackets than the limit: counting them is a C-speed scan that settles the usual one.
    """
    depth = deepest = 0
    for m in _BRACKET.finditer(_STRING.sub(b"", payload)):
        if m.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def split_batch(payload: bytes | str) -> list[bytes]:
    """Split an HTTP batch (a JSON array) into raw per-event payloads without decoding them twice."""
    try:
        raws = _list_decoder.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise ProtocolError(f"the body must be a JSON array of events: {e}") from None
    except RecursionError:  # each event's own limit is checked later; this body is beyond any
        raise ProtocolError(
            f"the body nests deeper than a decoder allows; an event may nest {MAX_DEPTH} deep"
        ) from None
    except UnicodeDecodeError as e:
        raise ProtocolError(f"the body is not valid UTF-8 ({e.reason} at byte {e.start})") from None
    return [bytes(r) for r in raws]


def encode_event(ev: SensorEvent) -> bytes:
    return _encoder.encode(ev)


def topic_for(factory: str, station: str) -> str:
    return f"{TOPIC_PREFIX}{factory}/stations/{station}/events"


def parse_topic(topic: str) -> tuple[str, str]:
    """`seamline/v1/{factory}/stations/{station}/events` -> (factory, station)."""
    parts = topic.split("/")
    if (
        len(parts) != 6
        or parts[0] != "seamline"
        or parts[1] != "v1"
        or parts[3] != "stations"
        or (parts[5] != "events")
    ):
        raise ProtocolError(f"topic {topic!r} is not seamline/v1/{{factory}}/stations/{{station}}/events")
    if not parts[2] or not parts[4]:
        raise ProtocolError(f"topic {topic!r} has an empty factory or station")
    return parts[2], parts[4]
