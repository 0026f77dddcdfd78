"""From piece events to clean cycle times: the rules, with no I/O and no numpy.

A cycle is the time between two consecutive pieces of the same worker, operation and bundle at
one station. Not every such gap is work:

- a *double count* (a bouncing sensor) is a second piece of the same bundle and operation sooner
  than ``double_count_frac`` of the expected cycle: the piece is not counted at all;
- a gap with anything but pieces in between (login/logout, a machine going idle or off for a break,
  downtime, a bundle change, a defect followed by rework) is context, not a cycle; the piece is
  counted but its gap is dropped;
- a piece typed on a tablet or entered by hand (``source`` other than the sensor) counts, but its
  time is when it was entered, not when it was sewn: no cycle on either side of it;
- a gap longer than ``interrupt_k`` × the cell's robust reference cycle is an interruption nobody
  reported (a chat, a toilet break, a missing bundle); with too few cycles for a reference the cap
  is the time at ``efficiency_floor``.

The thresholds are parameters because factories differ; the defaults are argued in docs/learning.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    CYCLE = "cycle"
    DOUBLE_COUNT = "double_count"
    CONTEXT = "context"  # first piece after a login, break, downtime, bundle or op change
    INTERRUPTION = "interruption"
    NO_WORKER = "no_worker"


@dataclass(frozen=True, slots=True)
class Rules:
    double_count_frac: float = 0.2
    interrupt_k: float = 3.0
    efficiency_floor: float = 0.1
    min_cycles_for_ref: int = 5


def judge(
    rules: Rules,
    *,
    dt_s: float | None,
    qty: int,
    same_run: bool,
    clean: bool,
    sam_s: float,
    ref_cycle_s: float | None,
    expected_cycle_s: float,
) -> Verdict:
    """Classify one piece given the gap ``dt_s`` since the station's previous piece.

    ``same_run``: the previous piece was the same worker, bundle and operation. ``clean``: no other
    event came between the two. ``ref_cycle_s`` is the cell's robust recent cycle (None while it has
    too few cycles); ``expected_cycle_s`` is the best guess of a cycle now (data or prior).
    """
    if dt_s is None or dt_s < 0:  # nothing before, or out of order: no gap to measure
        return Verdict.CONTEXT
    if same_run and dt_s < rules.double_count_frac * expected_cycle_s * qty:
        return Verdict.DOUBLE_COUNT
    if not (same_run and clean):
        return Verdict.CONTEXT
    cycle = dt_s / qty
    cap = sam_s / rules.efficiency_floor
    if ref_cycle_s is not None:
        cap = min(cap, rules.interrupt_k * ref_cycle_s)
    if cycle > cap:
        return Verdict.INTERRUPTION
    return Verdict.CYCLE
