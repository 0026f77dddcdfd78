"""Hours alerts while the day is running: the compliance rules applied to live attended time.

The live state already knows every worker's attended seconds per hour (login → logout minus
breaks). This use-case sums them per local day for the month so far, adds the rest of today's
shift for workers still logged in (the "projected" case: what happens if they stay to the shift
end), and asks the compliance evaluator which limits are near or broken. The tablet and the
supervisor's dashboard show the result, so a line leader can act before the breach.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timedelta

from ..compliance.alerts import alerts_for_day
from ..compliance.days import DayCalendar
from ..compliance.evaluate import check_plan
from ..compliance.rules import RuleSet, active_rules
from ..domain.live import LiveState
from ..domain.model import FactoryLayout

log = logging.getLogger(__name__)

DEFAULT_RULES = "prc_labour_law"


def factory_rules() -> RuleSet:
    """The rule sets in force: ``SEAMLINE_RULES`` (comma-separated names), PRC Labour Law by default."""
    return active_rules(os.environ.get("SEAMLINE_RULES", DEFAULT_RULES).split(","))


def hours_by_day(
    live: LiveState, layout: FactoryLayout, as_of: datetime, *, project_to_shift_end: bool
) -> dict[str, dict[date, float]]:
    """worker -> local day -> attended hours, from the 1st of the month (and the week before it,
    for rolling seven-day limits) to ``as_of``; optionally today's open sessions run to the shift end."""
    f = layout.factory.id
    tz = layout.factory.tz
    local = as_of.astimezone(tz)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=7)
    day_end = live.day_bounds(f, as_of)[1]
    out: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for worker, by_hour in live.tallies(f, "worker", first, day_end, as_of).items():
        for h, t in by_hour.items():
            if t.attended_s > 0:
                out[worker][h.astimezone(tz).date()] += t.attended_s / 3600.0
    if project_to_shift_end:
        for st in live.stations.values():
            if st.factory != f or st.worker is None or st.login_ts is None:
                continue
            cal = layout.calendar_for_line(st.line)
            shift_end = datetime.combine(local.date(), cal.shift_end, tz)
            if cal.shift_end <= cal.shift_start:
                shift_end += timedelta(days=1)
            if shift_end > as_of:
                out[st.worker][local.date()] += cal.attended_s(as_of, shift_end) / 3600.0
    return {w: dict(d) for w, d in out.items()}


def hours_alerts(
    live: LiveState, layout: FactoryLayout, rules: RuleSet | None = None, as_of: datetime | None = None
) -> list[dict[str, object]]:
    """Today's findings per worker: actual ones, and (``projected``) the ones staying to the shift
    end would add. Each alert carries the rule, the value, the limit and a message in zh and en."""
    rules = rules or factory_rules()
    now = live.as_of(layout.factory.id, as_of)
    today = now.astimezone(layout.factory.tz).date()
    line = next(iter(layout.lines), None)
    workdays = layout.calendar_for_line(line).workdays if line else (0, 1, 2, 3, 4, 5)
    calendar = DayCalendar.of(workdays)
    actual = alerts_for_day(
        check_plan(hours_by_day(live, layout, now, project_to_shift_end=False), rules, days=calendar), today
    )
    seen = {(a["worker"], a["rule"], a["severity"]) for a in actual}
    projected = [
        a
        for a in alerts_for_day(
            check_plan(hours_by_day(live, layout, now, project_to_shift_end=True), rules, days=calendar), today
        )
        if (a["worker"], a["rule"], a["severity"]) not in seen
    ]
    return [{**a, "projected": False} for a in actual] + [{**a, "projected": True} for a in projected]


class HoursAlertCache:
    """Pages refresh every second on every tablet; the alerts change with minutes, so they are
    computed at most every ``ttl_s`` per factory.

    Once computed, an expired entry is still answered while one background thread computes the
    new one from the page's frozen view (stale-while-revalidate): the computation reads the month
    so far (tens of milliseconds) and used to land on whichever page read came after the expiry,
    twice a minute. Only views are handed to the thread; live state itself is computed in place.
    """

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, list[dict[str, object]]]] = {}
        self._lock = threading.Lock()
        self._refreshing: set[str] = set()

    def get(self, live: LiveState, layout: FactoryLayout) -> list[dict[str, object]]:
        f = layout.factory.id
        with self._lock:
            hit = self._cache.get(f)
            if hit is not None and time.monotonic() - hit[0] <= self.ttl_s:
                return hit[1]
            if hit is not None and live.view_memo is not None:  # a frozen view: safe in a thread
                if f not in self._refreshing:
                    self._refreshing.add(f)
                    threading.Thread(
                        target=self._refresh, args=(f, live, layout), name="hours-alerts", daemon=True
                    ).start()
                return hit[1]
        value = hours_alerts(live, layout)
        with self._lock:
            self._cache[f] = (time.monotonic(), value)
        return value

    def _refresh(self, f: str, live: LiveState, layout: FactoryLayout) -> None:
        try:
            value = hours_alerts(live, layout)
            with self._lock:
                self._cache[f] = (time.monotonic(), value)
        except Exception:  # the old alerts stay; the next page read after the ttl tries again
            log.exception("hours alerts for %s could not be computed", f)
        finally:
            with self._lock:
                self._refreshing.discard(f)


CACHE = HoursAlertCache()
