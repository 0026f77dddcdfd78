"""Alerts for the tablet and the dashboard: the findings that concern a worker today.

The evaluator already raises ``warning`` at ``warn_pct`` of a cap; an alert is any finding whose period
contains the day, as a plain dict (JSON-ready, both languages) so the tablet and dashboard only
display it. A ``warning`` on a rolling window ending today means: one more long day breaches it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from seamline.compliance.evaluate import Violation


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
