"""Finished orders out of memory: what order progress hands to the database (issue #19).

An order whose every garment is made and every standard minute earned, and that nothing has
touched within the retention window, leaves the in-memory order progress; its figures (garments
done, minutes earned, the line that sewed most of it, when it was sewn) go to ``finished_orders``
and are read back from there by the pages that list past orders (the planner's board).

Types only: the order-progress read model (``web``) and the database (``adapters``) both use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FinishedOrderRow:
    factory: str
    order: str
    done: int  # garments finished (pieces at the style's final operations)
    earned_min: float  # standard minutes earned on the order, every line
    line: str  # the line that earned most on it (ties: the greater line id), as the board shows
    line_earned_min: float  # what that line earned (a later rework on another line is compared to it)
    first_ts: datetime
    last_ts: datetime

    def merged(self, other: FinishedOrderRow) -> FinishedOrderRow:
        """The same order evicted twice (a late rework reopened it in memory): one row of both."""
        a, b = (self.line_earned_min, self.line), (other.line_earned_min, other.line)
        best = max(a, b) if self.line != other.line else (a[0] + b[0], self.line)
        return FinishedOrderRow(
            self.factory,
            self.order,
            self.done + other.done,
            self.earned_min + other.earned_min,
            best[1],
            best[0],
            min(self.first_ts, other.first_ts),
            max(self.last_ts, other.last_ts),
        )
