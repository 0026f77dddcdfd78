"""Violations and near-breach warnings of a rule set over classified hours; ``check_plan``.

The same evaluator judges what happened (from attendance) and what a plan proposes (``check_plan``),
so the planner refuses exactly what the compliance report would later flag.

Periods: ``day``; ``week`` (Monday-Sunday); ``month`` (calendar month); ``rolling7`` (any 7
consecutive days, as the buyer codes and the one-day-off-in-seven rule count). For rolling windows a
run of consecutive offending windows is one finding: the window with the worst value.
A warning is raised when a value reaches ``warn_pct`` % of a limit without passing it, so the tablet
and dashboard can alert before the breach.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from seamline.compliance.days import DayCalendar
from seamline.compliance.hours import DayHours, classify, week_start
from seamline.compliance.rules import Limit, RuleSet


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding; ``severity`` is ``violation``, ``notice`` or ``warning`` (near breach)."""

    worker: str
    rule_id: str
    ruleset: str
    severity: str
    metric: str
    period: str
    start: date
    end: date
    value: float
    limit: float
    text_en: str
    text_zh: str

    def describe(self, lang: str = "en") -> str:
        span = self.start.isoformat() if self.start == self.end else f"{self.start}..{self.end}"
        text = self.text_zh if lang == "zh" else self.text_en
        unit = "" if self.metric == "days_worked" else " h"
        return f"{self.worker} {span}: {self.value:g}{unit} / {self.limit:g}{unit} - {text}"


def _metric(h: DayHours, metric: str) -> float:
    if metric == "overtime_h":
        return h.overtime_h
    if metric == "total_h":
        return h.worked_h
    if metric == "regular_h":
        return h.regular_h
    if metric == "days_worked":
        return 1.0 if h.worked_s > 0 else 0.0
    raise ValueError(metric)


def _buckets(days: Mapping[date, DayHours], metric: str, period: str) -> list[tuple[date, date, float]]:
    """(start, end, value) per period bucket; rolling windows are returned one per end day."""
    if period == "day":
        return [(d, d, _metric(h, metric)) for d, h in sorted(days.items())]
    if period in ("week", "month"):
        acc: dict[tuple[date, date], float] = defaultdict(float)
        for d, h in days.items():
            if period == "week":
                s = week_start(d)
                e = s + timedelta(days=6)
            else:
                s = d.replace(day=1)
                e = (s + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            acc[(s, e)] += _metric(h, metric)
        return [(s, e, v) for (s, e), v in sorted(acc.items())]
    # rolling7: windows ending on each day from the first worked day to 6 days after the last
    if not days:
        return []
    first, last = min(days), max(days)
    out: list[tuple[date, date, float]] = []
    d = first
    while d <= last + timedelta(days=6):
        s = d - timedelta(days=6)
        v = sum(_metric(days[x], metric) for x in (s + timedelta(days=i) for i in range(7)) if x in days)
        out.append((s, d, v))
        d += timedelta(days=1)
    return out


_EPS = 1e-9


def _check(
    worker: str, lim: Limit, rules: RuleSet, buckets: list[tuple[date, date, float]], warn_pct: float
) -> list[Violation]:
    def level(v: float) -> str | None:
        if v > lim.max + _EPS:
            return lim.severity
        if lim.warn and lim.severity == "violation" and v > 0 and v + _EPS >= lim.max * warn_pct / 100.0:
            return "warning"
        return None

    out: list[Violation] = []
    run: list[tuple[date, date, float]] = []
    run_level: str | None = None

    def flush() -> None:
        if run and run_level:
            s, e, v = max(run, key=lambda b: b[2])
            out.append(
                Violation(
                    worker,
                    lim.id,
                    lim.ruleset or rules.id,
                    run_level,
                    lim.metric,
                    lim.period,
                    s,
                    e,
                    round(v, 4),
                    lim.max,
                    lim.text_en,
                    lim.text_zh,
                )
            )

    for b in buckets:
        lv = level(b[2])
        if lim.period != "rolling7":
            if lv:
                run, run_level = [b], lv
                flush()
            continue
        if lv != run_level:
            flush()
            run, run_level = [], lv
        if lv:
            run.append(b)
    if lim.period == "rolling7":
        flush()
    return out


def evaluate(hours: Iterable[DayHours], rules: RuleSet, *, warn_pct: float | None = None) -> list[Violation]:
    """All findings of ``rules`` over classified hours, sorted by worker, start, rule."""
    wp = rules.warn_pct if warn_pct is None else warn_pct
    per: dict[str, dict[date, DayHours]] = defaultdict(dict)
    for h in hours:
        per[h.worker][h.day] = h
    out: list[Violation] = []
    for w in sorted(per):
        for lim in rules.limits:
            out.extend(_check(w, lim, rules, _buckets(per[w], lim.metric, lim.period), wp))
    sev_order = {"violation": 0, "notice": 1, "warning": 2}
    out.sort(key=lambda v: (v.worker, v.start, sev_order.get(v.severity, 3), v.rule_id))
    return out


def check_plan(
    worker_hours_by_day: Mapping[str, Mapping[date, float]],
    rules: RuleSet,
    *,
    days: DayCalendar | None = None,
    warn_pct: float | None = None,
) -> list[Violation]:
    """Findings for proposed hours (worker -> day -> hours worked, breaks excluded).

    Order loading calls this before accepting a plan: any finding with severity ``violation`` means
    refuse (or ask for an explicit override); ``warning`` and ``notice`` mean flag. Include the days
    already worked this month in the input so monthly and rolling limits see them.
    """
    dc = days or DayCalendar()
    attended = {(w, d): float(h) * 3600.0 for w, per_day in worker_hours_by_day.items() for d, h in per_day.items()}
    return evaluate(classify(attended, rules, lambda _w, d: dc.kind(d)), rules, warn_pct=warn_pct)
