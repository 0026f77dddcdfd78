"""Alerts for the tablet and the dashboard: the findings that concern a worker today.

The evaluator already raises ``warning`` at ``warn_pct`` of a cap; an alert is any finding whose period
contains the day, as a plain dict (JSON-ready, both languages) so the tablet and dashboard only
display it. A ``warning`` on a rolling window ending today means: one more long day breaches it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from seamline.compliance.days import Holiday
from seamline.compliance.evaluate import Violation
from seamline.compliance.pipeline import Facts, compute
from seamline.compliance.rules import RuleSet


def alerts_for_day(findings: Iterable[Violation], day: date) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for v in findings:
        if not v.start <= day <= v.end:
            continue
        out.append(
            {
                "worker": v.worker,
                "severity": v.severity,
                "rule": v.rule_id,
                "ruleset": v.ruleset,
                "period": v.period,
                "start": v.start.isoformat(),
                "end": v.end.isoformat(),
                "value": v.value,
                "limit": v.limit,
                "message_en": v.describe("en"),
                "message_zh": v.describe("zh"),
            }
        )
    return out


def live_alerts(
    facts: Facts,
    rules: RuleSet,
    day: date,
    *,
    now: datetime | None = None,
    holidays: Sequence[Holiday | date] = (),
) -> list[dict[str, object]]:
    """Alerts for ``day``: the findings as of ``now``, plus the ones that follow if every session still
    open runs to its shift end (marked ``"projected": true``) - the warning a line leader can act on
    before the breach happens. Without ``now`` (a past day) there is nothing to project.
    """
    actual = compute(facts, rules, holidays=holidays, until=now).findings
    out = [{**a, "projected": False} for a in alerts_for_day(actual, day)]
    if now is None:
        return out
    seen = {(v.worker, v.rule_id, v.severity, v.start, v.end) for v in actual}
    seen_rule = {(v.worker, v.rule_id, v.severity) for v in actual if v.start <= day <= v.end}
    projected = compute(facts, rules, holidays=holidays, until=None).findings
    extra = [
        v
        for v in projected
        if (v.worker, v.rule_id, v.severity, v.start, v.end) not in seen
        and (v.worker, v.rule_id, v.severity) not in seen_rule
    ]
    out += [{**a, "projected": True} for a in alerts_for_day(extra, day)]
    return out
