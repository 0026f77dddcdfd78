"""The floor as the sensors report it: who is logged in where, which style each line sews.

Built from decoded events only, the same way the service layer's live projection is; a
controller keeps one and feeds it everything it observes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from seamline.domain.events import Downtime, Login, Logout, Piece, SensorEvent
from seamline.domain.model import FactoryLayout


@dataclass
class FloorView:
    layout: FactoryLayout
    worker_at: dict[str, str] = field(default_factory=dict)  # station -> badge logged in
    style_on: dict[str, str] = field(default_factory=dict)  # line -> style of the latest piece
    no_work: set[str] = field(default_factory=set)  # stations with NO_WORK pressed
    pieces: dict[tuple[str, str], int] = field(default_factory=dict)  # (station, op) -> pieces

    def apply(self, events: Sequence[SensorEvent]) -> None:
        stations = self.layout.stations
        for ev in events:
            sid = ev.station
            if sid is None or sid not in stations:
                continue
            if isinstance(ev, Login):
                self.worker_at[sid] = ev.worker
            elif isinstance(ev, Logout):
                self.worker_at.pop(sid, None)
                self.no_work.discard(sid)
            elif isinstance(ev, Piece):
                style = self.layout.style_of_bundle(ev.bundle)
                if style is not None:
                    self.style_on[stations[sid].line_id] = style.code
                self.pieces[(sid, ev.op)] = self.pieces.get((sid, ev.op), 0) + ev.qty
                self.no_work.discard(sid)
            elif isinstance(ev, Downtime) and ev.reason == "NO_WORK":
                if ev.phase == "start":
                    self.no_work.add(sid)
                else:
                    self.no_work.discard(sid)

    def present(self, line_id: str) -> dict[str, str]:
        """Station → badge for the stations of ``line_id`` with someone logged in."""
        st = self.layout.stations
        return {sid: b for sid, b in sorted(self.worker_at.items()) if st[sid].line_id == line_id}
