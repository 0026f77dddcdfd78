"""What a retrofit sensor puts on the wire: the domain's event structs, numbered per station.

The contract is ``seamline.domain.events``; its encoder leaves out fields at their defaults, so
``factory`` and ``station`` (on MQTT the topic carries them) never reach the payload.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from seamline.domain.events import SensorEvent, encode_event, topic_for

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

    def emit(self, cls: type[SensorEvent], t_s: float, **fields: object) -> str:
        """Encode and queue one event at simulated second ``t_s``; returns its id."""
        seq = self.seq
        self.seq += 1
        ev_id = f"{self.station_id}-{seq}-{self.run_id}"
        ts = self._ts(t_s)
        payload = encode_event(cls(id=ev_id, seq=seq, ts=ts, **fields))
        self._sink.append((self.topic, payload, ts, cls.__struct_config__.tag))  # type: ignore[attr-defined]
        return ev_id
