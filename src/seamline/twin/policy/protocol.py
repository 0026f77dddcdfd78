"""What passes between the plant and a controller: sensor events in, directives out.

A controller is told only what the floor's sensors and tablets report (``SensorEvent`` from
``seamline.domain.events``) plus the factory's master data it was built with. It answers with
``Directive`` (a station → operations balance for a line, optionally the line's WIP cap, and the
trials in it: an operation a station is to try for a bundle beside the plan, so that the
controller learns a pair it has not seen) and, when a free station has a choice, with the index
of the operation to take next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from seamline.domain.events import SensorEvent

# (operation, oldest bundle waiting for it at the station, seconds it has waited, bundles waiting)
Option = tuple[str, str, float, int]


@dataclass(frozen=True, slots=True)
class Directive:
    """A balance for one line's runs of ``style``: station id → operation codes.

    ``trials`` (station → operations) are already in ``balance``; they name the operations a
    station has only to try (a bundle when its own work leaves it free), for a tablet to show
    them as such ("试做 / trial")."""

    line: str
    style: str
    balance: Mapping[str, tuple[str, ...]]
    wip_cap_bundles: int | None = None
    reason: str = ""
    trials: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class Controller(Protocol):
    name: str

    def observe(self, events: Sequence[SensorEvent]) -> None:
        """Take the events reported since the last call (in time order)."""

    def decide(self, now: datetime) -> list[Directive]:
        """At a decision point: new balances to hand out (empty: keep what the floor has)."""

    def dispatch(self, station: str, options: Sequence[Option], waiting: Mapping[str, int]) -> int:
        """A free station may take one of several operations: the index of the one to take."""

    def order_priority(self, order_id: str) -> float:
        """How urgent the order's bundles are at every station (lower first; equal: oldest ticket)."""
