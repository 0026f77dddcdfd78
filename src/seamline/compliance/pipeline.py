"""From facts (events, corrections, layout) to hours, findings and attributed pieces: one pure pass.

Every consumer (reports, payslips, the hash chain, alerts) goes through ``compute`` so they cannot
disagree about who worked when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from seamline.compliance.attendance import (
    Correction,
    Session,
    WorkerDefect,
    WorkerPiece,
    apply_corrections,
    attended_by_day,
    attribute_defects,
    attribute_pieces,
    build_sessions,
)
from seamline.compliance.days import Holiday
from seamline.compliance.evaluate import Violation, evaluate
from seamline.compliance.hours import DayHours, classify, kinds_from_layout, overtime_starts
from seamline.compliance.rules import RuleSet
from seamline.domain.events import Defect, Piece
from seamline.domain.model import FactoryLayout


@dataclass(slots=True)
class Facts:
    layout: FactoryLayout
    events: Sequence[object]
    corrections: Sequence[Correction] = ()


@dataclass(slots=True)
class Computed:
    sessions: list[Session]
    attended_s: dict[tuple[str, date], float]
    hours: list[DayHours]
    ot_starts: dict[tuple[str, date], datetime]
    pieces: list[WorkerPiece]
    orphan_pieces: list[Piece]
    defects: list[WorkerDefect]
    orphan_defects: list[Defect]
    findings: list[Violation] = field(default_factory=list)

    def hours_in(self, start: date, end: date) -> list[DayHours]:
        return [h for h in self.hours if start <= h.day <= end]

    def findings_in(self, start: date, end: date) -> list[Violation]:
        """Findings whose period overlaps [start, end]."""
        return [v for v in self.findings if v.start <= end and v.end >= start]


def compute(
    facts: Facts,
    rules: RuleSet,
    *,
    holidays: Sequence[Holiday | date] = (),
    until: datetime | None = None,
    warn_pct: float | None = None,
) -> Computed:
    sessions = apply_corrections(
        build_sessions(facts.events, facts.layout, until=until), facts.corrections, facts.layout
    )
    attended = attended_by_day(sessions)
    hours = classify(attended, rules, kinds_from_layout(facts.layout, holidays))
    pieces, orphan_pieces = attribute_pieces((e for e in facts.events if isinstance(e, Piece)), sessions)
    defects, orphan_defects = attribute_defects(
        (e for e in facts.events if isinstance(e, Defect)), pieces, facts.layout
    )
    return Computed(
        sessions=sessions,
        attended_s=attended,
        hours=hours,
        ot_starts=overtime_starts(sessions, hours),
        pieces=pieces,
        orphan_pieces=orphan_pieces,
        defects=defects,
        orphan_defects=orphan_defects,
        findings=evaluate(hours, rules, warn_pct=warn_pct),
    )
