"""AQL final audit by ISO 2859-1 single sampling: plan lookup and the lot decision.

The standard's tables live as data in ``data/iso2859_*.json`` (code letters; normal, tightened
and reduced master tables with every arrow already followed to the plan it points to, so a cell
is always a usable ``[sample_size, Ac, Re]``). Keeping them as data means a reviewer can check a
cell against the printed standard without reading code, and the code cannot drift from them.

Pure functions: no clock, no I/O beyond reading the packaged tables once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Literal

Inspection = Literal["normal", "tightened", "reduced"]
INSPECTIONS: tuple[Inspection, ...] = ("normal", "tightened", "reduced")
LEVELS: tuple[str, ...] = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
# The AQLs apparel buyers actually use; the tables carry all 26 of the standard.
COMMON_AQLS: tuple[str, ...] = ("0.65", "1.0", "1.5", "2.5", "4.0", "6.5")


class AqlError(ValueError):
    """Bad input to a plan lookup (lot size, level, AQL or inspection); the message says which."""


@cache
def _load(name: str) -> dict[str, Any]:
    text = resources.files("seamline.quality").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


def code_letter_table() -> dict[str, Any]:
    return _load("iso2859_code_letters.json")


def sampling_tables() -> dict[str, Any]:
    return _load("iso2859_single_sampling.json")


def aql_values() -> list[str]:
    """The AQL column headings of the master tables, as printed ("0.010" … "1000")."""
    return list(sampling_tables()["aqls"])


def normalize_level(level: str) -> str:
    lv = level.strip().upper().replace("G-", "")
    if lv.startswith("S") and not lv.startswith("S-"):
        lv = "S-" + lv[1:]
    if lv in ("1", "2", "3"):
        lv = "I" * int(lv)
    if lv not in LEVELS:
        raise AqlError(f"inspection level {level!r} is not one of {', '.join(LEVELS)}")
    return lv


def normalize_aql(aql: str | float | Decimal) -> str:
    """Map "2.5", "2.50", 2.5 or ".65" to the table's heading ("2.5", "0.65")."""
    try:
        want = Decimal(str(aql).strip())
    except InvalidOperation:
        raise AqlError(f"AQL {aql!r} is not a number") from None
    for heading in aql_values():
        if Decimal(heading) == want:
            return heading
    raise AqlError(f"AQL {aql} is not in the ISO 2859-1 series ({', '.join(aql_values())})")


def normalize_inspection(inspection: str) -> Inspection:
    insp = inspection.strip().lower()
    for name in INSPECTIONS:
        if insp == name:
            return name
    raise AqlError(f"inspection {inspection!r} is not one of {', '.join(INSPECTIONS)}")


def code_letter(lot_size: int, level: str = "II") -> str:
    """Table 1: the sample size code letter for a lot size and inspection level."""
    if isinstance(lot_size, bool) or not isinstance(lot_size, int) or lot_size < 1:
        raise AqlError(f"lot size must be a whole number of pieces >= 1, got {lot_size!r}")
    lv = normalize_level(level)
    table = code_letter_table()
    col = table["levels"].index(lv)
    # Rows ascend; the first whose upper bound holds the lot is the one. A lot of one piece is
    # below the first range (2-8): it gets that row, and is inspected whole anyway.
    for row in table["rows"]:
        hi = row[1]
        if hi is None or lot_size <= hi:
            return str(row[2 + col])
    raise AqlError(f"no code letter for lot size {lot_size}")  # unreachable: the last row is open


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    """One single-sampling plan, already resolved through the table's arrows.

    ``code_letter`` is the letter the lot size gives; ``sample_size`` belongs to the plan the
    arrow points to, which may be another letter's. ``inspect_all`` is set when the sample
    would be as large as the lot: the standard then says inspect every piece.
    """

    lot_size: int
    level: str
    aql: str
    inspection: Inspection
    code_letter: str
    sample_size: int
    accept: int
    reject: int

    @property
    def inspect_all(self) -> bool:
        return self.sample_size >= self.lot_size

    @property
    def pieces_to_inspect(self) -> int:
        return min(self.sample_size, self.lot_size)

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON object; ``inspect_100_percent`` appears only when it is true."""
        out: dict[str, Any] = {
            "code_letter": self.code_letter,
            "sample_size": self.sample_size,
            "accept": self.accept,
            "reject": self.reject,
        }
        if self.inspect_all:
            out["inspect_100_percent"] = True
        return out

    def decide(self, nonconforming: int) -> bool:
        """True = accept the lot: at most Ac nonconforming in the sample; Re or more rejects."""
        if nonconforming < 0:
            raise AqlError(f"nonconforming count must be >= 0, got {nonconforming}")
        return nonconforming <= self.accept


def plan_for_letter(
    letter: str, aql: str | float | Decimal = "2.5", inspection: str = "normal"
) -> tuple[int, int, int]:
    """(sample_size, Ac, Re) from a master table for a code letter and AQL."""
    insp = normalize_inspection(inspection)
    heading = normalize_aql(aql)
    plans = sampling_tables()["plans"][insp]
    if letter not in plans:
        raise AqlError(f"code letter {letter!r} is not in the {insp} table")
    n, ac, re = plans[letter][heading]
    return int(n), int(ac), int(re)


def sampling_plan(
    lot_size: int, level: str = "II", aql: str | float | Decimal = "2.5", inspection: str = "normal"
) -> SamplingPlan:
    """Lot size → code letter → single-sampling plan (Ac/Re), arrows followed."""
    lv = normalize_level(level)
    heading = normalize_aql(aql)
    insp = normalize_inspection(inspection)
    letter = code_letter(lot_size, lv)
    n, ac, re = plan_for_letter(letter, heading, insp)
    return SamplingPlan(lot_size, lv, heading, insp, letter, n, ac, re)


def tighter_acceptance_number(letter: str, aql: str | float | Decimal) -> int | None:
    """Ac of the normal plan one AQL step tighter with the same sample size, for the switching score.

    ISO 2859-1:1999 9.3.3 adds 3 to the switching score when Ac >= 2 and the lot would still
    have been accepted "had the AQL been one step tighter". None when no such plan exists
    (the first column, or the tighter cell points to a different sample size).
    """
    headings = aql_values()
    heading = normalize_aql(aql)
    idx = headings.index(heading)
    if idx == 0:
        return None
    n, _, _ = plan_for_letter(letter, heading, "normal")
    n2, ac2, _ = plan_for_letter(letter, headings[idx - 1], "normal")
    return ac2 if n2 == n else None
