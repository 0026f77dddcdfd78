"""The JSON-lines replay file: one ``{"topic": ..., "payload": {...}}`` per line.

The payload is embedded as a JSON object byte for byte as it went on the wire, so a replay
publishes exactly what the simulator (or a recorded real floor) sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import msgspec

from seamline.domain.events import ProtocolError


class _Line(msgspec.Struct):
    topic: str
    payload: msgspec.Raw


class _Ts(msgspec.Struct):
    ts: datetime


_line_dec = msgspec.json.Decoder(_Line)
_ts_dec = msgspec.json.Decoder(_Ts)
_enc = msgspec.json.Encoder()


def write_jsonl(events: Iterable[tuple[str, bytes, datetime]], path: str | Path) -> int:
    n = 0
    with open(path, "wb") as f:
        for topic, payload, _ts in events:
            f.write(b'{"topic":' + _enc.encode(topic) + b',"payload":' + payload + b"}\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> Iterator[tuple[str, bytes, datetime]]:
    """Yield (topic, payload, ts) per line; blank lines are skipped, bad ones raise with the line number."""
    with open(path, "rb") as f:
        for no, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                line = _line_dec.decode(raw)
                payload = bytes(line.payload)
                ts = _ts_dec.decode(payload).ts
            except (msgspec.ValidationError, msgspec.DecodeError) as e:
                raise ProtocolError(f"{path}:{no}: {e}") from None
            if ts.tzinfo is None:
                raise ProtocolError(f"{path}:{no}: ts has no offset")
            yield line.topic, payload, ts
