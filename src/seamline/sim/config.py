"""Knobs of the simulated factory, and the progress report of a live run.

Every rate is a plain number with its unit in the name so a test or the demo can make a factory
sicker or healthier without touching the model. Defaults follow the trade's typical figures
(docs/simulator.md explains each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from seamline.domain.model import DomainError, FactoryLayout

# style code -> {station_id: [op_code, ...]}: a balance the planning engine hands over.
Balances = Mapping[str, Mapping[str, Sequence[str]]]


@dataclass(frozen=True, slots=True)
class SimConfig:
    seed: int = 1
    # Aware datetime the simulation starts at; None = the latest past shift start (see default_start).
    start: datetime | None = None
    # Simulated duration for the offline generator.
    hours: float = 8.0
    # Makes event ids unique across runs; None = derived from seed and start (so a rerun of the same
    # seed and start produces the same ids and an idempotent ingest drops the repeats).
    run_id: str | None = None
    seq_base: int = 0

    absence_rate: float = 0.04
    late_rate: float = 0.08
    late_max_min: float = 20.0
    cycle_sigma: float = 0.2
    # Chance an operation is new to a worker who has some skill on its machine type
    # (a worker without the machine skill always starts new).
    new_op_rate: float = 0.2
    learning_r_median: float = 60.0
    defect_rate_mean: float = 0.015
    rework_factor: float = 0.6
    double_count_rate: float = 0.002
    double_count_delay_s: float = 0.3
    # Mean staffed working hours between stoppages of a station's machine (the clock runs while the
    # station is staffed and in shift, whatever it sews, so policies see the same stoppages).
    mtbf_staffed_h: float = 5.0
    changeover_min: float = 15.0
    no_work_after_min: float = 10.0
    wip_bundles_per_station: float = 1.5
    # Work in progress on the line before the first shift (sim/wip.py): 0 = lines start empty;
    # the demo puts this many bundles per station along each line, spread over the operations.
    preload_wip_bundles_per_station: float = 0.0
    # Bundles already under way, with the operations done on them (a resumed demo): these start
    # on the line instead of the preload.
    wip: Mapping[str, Sequence[str]] = field(default_factory=dict)
    balances: Balances = field(default_factory=dict)
    # Keep every piece in the ground truth (offline runs); live runs may turn it off to save memory.
    record_pieces: bool = True
    # Lines whose stations have a motor sensor and a tablet instead of a piece counter: they report
    # `burst` events (sim/motor.py) and, at each bundle's end, the tablet's `piece` of its quantity.
    motor_lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.start is not None and self.start.tzinfo is None:
            raise DomainError("SimConfig.start must be timezone-aware")
        if self.hours <= 0:
            raise DomainError(f"SimConfig.hours must be > 0, got {self.hours}")
        for name in ("absence_rate", "late_rate", "new_op_rate", "double_count_rate", "defect_rate_mean"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise DomainError(f"SimConfig.{name} must be within 0..1, got {v}")


@dataclass(frozen=True, slots=True)
class SimProgress:
    """What a live run reports about once a second."""

    sim_clock: datetime
    events_published: int
    pieces_today: int
    events_per_s: float = 0.0


def default_start(layout: FactoryLayout, now: datetime | None = None) -> datetime:
    """The latest shift start (of the first line's calendar) at or before ``now`` on a workday."""
    tz = layout.factory.tz
    now = (now or datetime.now(tz)).astimezone(tz)
    line_id = next(iter(sorted(layout.lines)), "")
    cal = layout.calendar_for_line(line_id)
    day: date = now.date()
    for _ in range(14):
        s = datetime.combine(day, cal.shift_start, cal.tz)
        if s <= now and day.weekday() in cal.workdays:
            return s
        day -= timedelta(days=1)
    raise DomainError(f"calendar {cal.id} has no workday in the last two weeks")
