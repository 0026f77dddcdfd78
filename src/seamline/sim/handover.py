"""A bundle in an absent operator's hands: the line leader hands it on at the shift start.

A station sews a bundle piece by piece, so at the shift end it usually has one half done. When
its operator is back the next working day she carries on; when she is absent (and no spare sits
at her station), a real leader does not let the bundle wait for her: at the start of the shift
she gives it to someone who does the operation today. The engine does the same — the station's
sewing stops with ``HandedOn`` at that shift's start and the bundle goes back to the queues of the
operations left on it (``LineSim.hand_on``), its pieces already sewn kept (``BundleSim.sewn``).
The plant does this for every controller alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Protocol

from seamline.domain.model import ShiftCalendar


class HandedOn(Exception):  # a turn of events on the floor, not an error
    """Raised in a station's sewing when its bundle in hand goes to another station."""


class _Window(Protocol):
    """A station's stretch of working time (``engine.Window``)."""

    last: bool  # the day's last stretch: the operator logs out at its end
    day: date | None  # the working day; None: nobody ever works here again


def missed_shift_start(
    cal: ShiftCalendar, sim_s: Callable[[datetime], float], ended: _Window, nxt: _Window
) -> float | None:
    """When the window ``ended`` closed a station's working day and its next window ``nxt`` is not
    on the line's next working day (its operator is absent then, or nobody works here again): the
    simulated second that day's shift starts. None when the station works the next working day."""
    if not ended.last or ended.day is None:
        return None
    d = ended.day + timedelta(days=1)
    for _ in range(14):
        if d.weekday() in cal.workdays:
            break
        d += timedelta(days=1)
    else:
        return None  # a calendar without workdays: nobody comes
    if nxt.day is not None and nxt.day <= d:
        return None
    return sim_s(datetime.combine(d, cal.shift_start, cal.tz))
