"""Working-hour rule sets as data, and how a factory/customer combines them.

A rule set (``rulesets/*.json``) has the regular-hour caps that split regular from overtime, the
overtime premiums, and a list of limits, each a (metric, period, max, severity). Law and buyer codes
differ in their wording but all fit that shape, so a new code is a new JSON file, not new code.

Combining: a factory supplying a buyer is bound by the law *and* the buyer's code, so the strictest
wins, field by field: the smallest regular caps, the highest premiums, the earliest warning, and per
(metric, period, severity) the smallest limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Literal

Metric = Literal["overtime_h", "total_h", "regular_h", "days_worked"]
Period = Literal["day", "week", "month", "rolling7"]
Severity = Literal["violation", "notice"]

METRICS: tuple[str, ...] = ("overtime_h", "total_h", "regular_h", "days_worked")
PERIODS: tuple[str, ...] = ("day", "week", "month", "rolling7")
SEVERITIES: tuple[str, ...] = ("violation", "notice")
BUILTIN_RULESETS: tuple[str, ...] = ("prc_labour_law", "eti_base_code", "sa8000")


class RuleError(ValueError):
    """A rule-set file that does not follow the schema; the message says where."""


@dataclass(frozen=True, slots=True)
class Limit:
    id: str
    metric: str
    period: str
    max: float
    severity: str = "violation"
    warn: bool = True
    text_en: str = ""
    text_zh: str = ""
    ruleset: str = ""


@dataclass(frozen=True, slots=True)
class RuleSet:
    id: str
    name_en: str
    name_zh: str
    day_regular_h: float | None
    week_regular_h: float | None
    limits: tuple[Limit, ...]
    # Premiums as Decimal fractions of the base rate: 1.5 = 150 %.
    premium_workday: Decimal = Decimal("1.5")
    premium_rest_day: Decimal = Decimal("2")
    premium_holiday: Decimal = Decimal("3")
    warn_pct: float = 80.0
    parts: tuple[str, ...] = ()

    def premium(self, kind: str) -> Decimal:
        return {
            "workday": self.premium_workday,
            "rest_day": self.premium_rest_day,
            "holiday": self.premium_holiday,
        }[kind]


def _num(v: object, where: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        raise RuleError(f"{where}: expected a number >= 0 or null, got {v!r}")
    return float(v)


def parse_ruleset(doc: dict) -> RuleSet:
    """Validate and build a rule set from its JSON document."""
    try:
        rid = str(doc["id"])
        reg = doc.get("regular", {})
        prem = doc.get("premiums_pct", {"workday": 150, "rest_day": 200, "holiday": 300})
        limits: list[Limit] = []
        for i, lim in enumerate(doc.get("limits", [])):
            where = f"rule set {rid} limit #{i} ({lim.get('id', '?')})"
            if lim["metric"] not in METRICS:
                raise RuleError(f"{where}: unknown metric {lim['metric']!r}; one of {METRICS}")
            if lim["period"] not in PERIODS:
                raise RuleError(f"{where}: unknown period {lim['period']!r}; one of {PERIODS}")
            sev = lim.get("severity", "violation")
            if sev not in SEVERITIES:
                raise RuleError(f"{where}: unknown severity {sev!r}; one of {SEVERITIES}")
            mx = _num(lim["max"], where)
            if mx is None:
                raise RuleError(f"{where}: max is required")
            limits.append(
                Limit(
                    id=str(lim["id"]),
                    metric=lim["metric"],
                    period=lim["period"],
                    max=mx,
                    severity=sev,
                    warn=bool(lim.get("warn", True)),
                    text_en=lim.get("text_en", ""),
                    text_zh=lim.get("text_zh", ""),
                    ruleset=rid,
                )
            )
        warn_pct = _num(doc.get("warn_pct", 80), f"rule set {rid} warn_pct")
        return RuleSet(
            id=rid,
            name_en=doc.get("name_en", rid),
            name_zh=doc.get("name_zh", rid),
            day_regular_h=_num(reg.get("day_h"), f"rule set {rid} regular.day_h"),
            week_regular_h=_num(reg.get("week_h"), f"rule set {rid} regular.week_h"),
            limits=tuple(limits),
            premium_workday=Decimal(str(prem["workday"])) / 100,
            premium_rest_day=Decimal(str(prem["rest_day"])) / 100,
            premium_holiday=Decimal(str(prem["holiday"])) / 100,
            warn_pct=80.0 if warn_pct is None else warn_pct,
            parts=(rid,),
        )
    except KeyError as e:
        raise RuleError(f"rule set {doc.get('id', '?')}: missing field {e}") from None


def load_ruleset(name: str) -> RuleSet:
    """A rule set shipped with seamline (``prc_labour_law``, ``eti_base_code``, ``sa8000``)."""
    if name not in BUILTIN_RULESETS:
        raise RuleError(f"unknown rule set {name!r}; built in: {', '.join(BUILTIN_RULESETS)}")
    text = resources.files("seamline.compliance").joinpath("rulesets", f"{name}.json").read_text("utf-8")
    return parse_ruleset(json.loads(text))


def _min_opt(values: Iterable[float | None]) -> float | None:
    vs = [v for v in values if v is not None]
    return min(vs) if vs else None


def combine(rulesets: Sequence[RuleSet]) -> RuleSet:
    """One rule set that is at least as strict as each input: the strictest wins, field by field."""
    if not rulesets:
        raise RuleError("combine needs at least one rule set")
    if len(rulesets) == 1:
        return rulesets[0]
    best: dict[tuple[str, str, str], Limit] = {}
    for rs in rulesets:
        for lim in rs.limits:
            key = (lim.metric, lim.period, lim.severity)
            cur = best.get(key)
            if cur is None or lim.max < cur.max:
                best[key] = lim
    parts = tuple(p for rs in rulesets for p in rs.parts)
    return RuleSet(
        id="+".join(parts),
        name_en=" + ".join(rs.name_en for rs in rulesets),
        name_zh=" + ".join(rs.name_zh for rs in rulesets),
        day_regular_h=_min_opt(rs.day_regular_h for rs in rulesets),
        week_regular_h=_min_opt(rs.week_regular_h for rs in rulesets),
        limits=tuple(best.values()),
        premium_workday=max(rs.premium_workday for rs in rulesets),
        premium_rest_day=max(rs.premium_rest_day for rs in rulesets),
        premium_holiday=max(rs.premium_holiday for rs in rulesets),
        warn_pct=min(rs.warn_pct for rs in rulesets),
        parts=parts,
    )


def active_rules(names: Iterable[str]) -> RuleSet:
    """The combined rule set a factory (and the customer it produces for) picked by name."""
    return combine([load_ruleset(n.strip()) for n in names if n.strip()])


def resolve_rules(config: dict, factory: str, customer: str | None = None) -> RuleSet:
    """The rule set in force for a factory (and, for a customer's report or orders, that customer).

    ``config`` is data the factory keeps, e.g.::

        {"default": ["prc_labour_law"],
         "factories": {"F1": ["prc_labour_law"]},
         "customers": {"ACME": ["eti_base_code"], "BUYER_X": ["buyer_x"]},
         "rulesets": {"buyer_x": { ...a rule-set document like rulesets/*.json... }}}

    The factory's sets (else the default, else PRC law) plus the customer's, combined: strictest wins.
    """
    custom = {k: parse_ruleset({**v, "id": v.get("id", k)}) for k, v in config.get("rulesets", {}).items()}
    names = list(config.get("factories", {}).get(factory) or config.get("default") or ["prc_labour_law"])
    if customer is not None:
        names += config.get("customers", {}).get(customer, [])
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return combine([custom[n] if n in custom else load_ruleset(n) for n in seen])
