"""What a retrofit sensor puts on the wire: the payload structs, without factory/station.

The contract is ``seamline.domain.events``; these mirror its per-type fields but leave out
``factory`` and ``station`` (on MQTT the topic carries them), which the domain structs would
encode as ``null``. The tests decode every payload with ``decode_event`` to keep the two in step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

import msgspec

from seamline.domain.events import topic_for


class _W(msgspec.Struct, tag_field="type", kw_only=True):
    id: str
    seq: int
    ts: datetime


class WLogin(_W, tag="login"):
    worker: str


class WLogout(_W, tag="logout"):
    worker: str


class WBundleIn(_W, tag="bundle_in"):
    bundle: str


class WBundleOut(_W, tag="bundle_out"):
    bundle: str


class WPiece(_W, tag="piece"):
    bundle: str
    op: str
    qty: int = 1


class WMachine(_W, tag="machine"):
    state: Literal["running", "idle", "off"]


class WDowntime(_W, tag="downtime"):
    reason: str
    phase: Literal["start", "end"]


class WBurst(_W, tag="burst"):
    run_s: float
    trim: bool = False


class WDefect(_W, tag="defect"):
    bundle: str
    op: str
    defect: str
    qty: int = 1


_encoder = msgspec.json.Encoder()

# (topic, payload, ts, type) - the type saves re-decoding for progress counts.
Emitted = tuple[str, bytes, datetime, str]


class StationWire:
    """One station's sensor: numbers its events and encodes them in time order."""

    __slots__ = ("_sink", "_ts", "run_id", "seq", "station_id", "topic")

    def __init__(
        self,
        factory_id: str,
        station_id: str,
        run_id: str,
        seq_base: int,
        sink: list[Emitted],
        ts_of: Callable[[float], datetime],
    ) -> None:
        self.station_id = station_id
        self.topic = topic_for(factory_id, station_id)
        self.run_id = run_id
        self.seq = seq_base
        self._sink = sink
        self._ts = ts_of

    def emit(self, cls: type[_W], t_s: float, **fields: object) -> str:
        """Encode and queue one event at simulated second ``t_s``; returns its id."""
        seq = self.seq
        self.seq += 1
        ev_id = f"{self.station_id}-{seq}-{self.run_id}"
        ts = self._ts(t_s)
        payload = _encoder.encode(cls(id=ev_id, seq=seq, ts=ts, **fields))
        self._sink.append((self.topic, payload, ts, str(cls.__struct_config__.tag)))
        return ev_id
