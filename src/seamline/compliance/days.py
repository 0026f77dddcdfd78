"""What kind of day a date is for one worker: a workday, a rest day or a statutory holiday.

The kind decides two things: under PRC law every hour worked on a rest day or holiday is overtime
(paid 200 % / 300 %), and the rest-day rule counts days worked. Rest days come from the worker's
shift calendar (``ShiftCalendar.workdays``); holidays are data the factory edits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources


class DayKind(StrEnum):
    WORKDAY = "workday"
    REST_DAY = "rest_day"
    HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True)
class Holiday:
    day: date
    name_en: str
    name_zh: str


def load_holidays(name: str = "holidays_cn_2026") -> tuple[Holiday, ...]:
    """Holidays shipped as package data (``compliance/data/<name>.json``); example data to edit."""
    text = resources.files("seamline.compliance").joinpath("data", f"{name}.json").read_text("utf-8")
    return parse_holidays(json.loads(text))


def parse_holidays(doc: dict) -> tuple[Holiday, ...]:
    return tuple(
        Holiday(date.fromisoformat(h["date"]), h.get("name_en", ""), h.get("name_zh", "")) for h in doc["holidays"]
    )


@dataclass(frozen=True, slots=True)
class DayCalendar:
    """Rest weekdays and holiday dates: enough to classify any date."""

    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4, 5})
    holidays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, workdays: Iterable[int], holidays: Iterable[Holiday | date] = ()) -> DayCalendar:
        hs = frozenset(h.day if isinstance(h, Holiday) else h for h in holidays)
        return cls(frozenset(workdays), hs)

    def kind(self, day: date) -> DayKind:
        if day in self.holidays:
            return DayKind.HOLIDAY
        if day.weekday() not in self.workdays:
            return DayKind.REST_DAY
        return DayKind.WORKDAY
