"""Use cases over the database: seal days into the hash chain, verify it, compute a period.

Thin glue between ``repository`` (I/O) and the pure modules; the CLI and any API call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from seamline.compliance import repository as repo
from seamline.compliance.chain import (
    ChainRecord,
    Problem,
    day_payloads,
    day_range,
    extend,
    head,
    verify_against,
    verify_links,
)
from seamline.compliance.days import Holiday, load_holidays
from seamline.compliance.pipeline import Computed, Facts, compute
from seamline.compliance.rules import RuleSet, active_rules
from seamline.domain.model import FactoryLayout


def payloads_for(facts: Facts, days: Sequence[date]) -> dict[date, str]:
    """The canonical day payloads the chain stores, computed from facts (rules do not matter here).

    No ``until``: a sealed day is finished, and sealing and verifying must compute it identically
    whatever the clock says (seal after the night shift has ended).
    """
    c = compute(facts, active_rules(["prc_labour_law"]))
    tz = facts.layout.factory.tz
    return day_payloads(
        facts.layout.factory.id,
        days,
        c.sessions,
        c.pieces,
        c.defects,
        orphan_piece_days=[p.ts.astimezone(tz).date() for p in c.orphan_pieces],
    )


def seal(
    engine: Engine, factory: str, until_day: date | None = None, *, now: datetime | None = None
) -> list[ChainRecord]:
    """Append a record for every day after the last sealed one up to ``until_day`` (default yesterday)."""
    now = now or datetime.now(UTC)
    layout = repo.load_layout(engine, factory)
    until_day = until_day or (now.astimezone(layout.factory.tz).date() - timedelta(days=1))
    records = repo.load_chain(engine, factory)
    if records:
        first = max(r.day for r in records) + timedelta(days=1)
    else:
        fd = repo.first_event_day(engine, layout)
        if fd is None:
            return []
        first = fd
    if first > until_day:
        return []
    facts = repo.load_facts(engine, factory, first, until_day)
    new = extend(records, factory, payloads_for(facts, day_range(first, until_day)))
    repo.append_chain(engine, new, now)
    return new


def reseal(engine: Engine, factory: str, day: date, *, now: datetime | None = None) -> ChainRecord | None:
    """Append a new version of a sealed day (after a correction) if its facts changed; else None."""
    now = now or datetime.now(UTC)
    records = repo.load_chain(engine, factory)
    old = [r for r in records if r.day == day]
    if not old:
        raise repo.NotFound(f"{factory} {day} was never sealed; use seal")
    facts = repo.load_facts(engine, factory, day, day)
    payload = payloads_for(facts, [day])[day]
    if payload == old[-1].payload:
        return None
    new = extend(records, factory, {day: payload})
    repo.append_chain(engine, new, now)
    return new[0]


# verify-hours expects every day up to "today minus 1 minus this" to be sealed: seal-hours runs once a
# day (after the night shift), so a day that finished yesterday may not be sealed yet.
SEAL_GRACE_DAYS = 1


@dataclass(frozen=True, slots=True)
class VerifyResult:
    factory: str
    records: int
    head: str
    problems: tuple[Problem, ...]
    # Why the chain is shorter than it must be (records at its end or start removed, or seal-hours
    # not run): bilingual, and it fails the check.
    missing: tuple[str, ...] = ()
    sealed_through: date | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing

    @property
    def first_altered(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.record.seq) if self.problems else None


def verify(
    engine: Engine,
    factory: str,
    *,
    today: date | None = None,
    grace_days: int = SEAL_GRACE_DAYS,
) -> VerifyResult:
    """Check the chain's links, recompute every sealed day from the event store, and check that the
    chain is as long as it must be.

    Links and recomputation catch an edited record but not a removed one: deleting the newest records
    (or all of them) leaves a shorter chain that is intact. Two checks catch that. (1) Completeness:
    every day from the first fact in the event store through the last one — up to ``today`` minus one
    minus ``grace_days`` — must have a record, because seal-hours seals every day in turn. (2) Anchors:
    a head printed earlier (on a report, by `seamline hours-anchor`) must still be in the chain
    (`verify-hours --anchor`); that also catches removing the tail together with its events.
    """
    records = repo.load_chain(engine, factory)
    problems = verify_links(records)
    missing: list[str] = []
    try:
        layout: FactoryLayout | None = repo.load_layout(engine, factory)
    except repo.NotFound:  # sealed records of a factory no longer in the master data: links only
        layout = None
    if records and layout is not None:
        days = sorted({r.day for r in records})
        facts = repo.load_facts(engine, factory, days[0], days[-1])
        problems += verify_against(records, payloads_for(facts, days))
    problems.sort(key=lambda p: p.record.seq)
    sealed = {r.day for r in records}
    if layout is not None:
        first, last = repo.event_day_span(engine, layout)
        today = today or datetime.now(UTC).astimezone(layout.factory.tz).date()
        cutoff = today - timedelta(days=1 + grace_days)
        if first is not None and last is not None and first <= cutoff:
            due = day_range(first, min(last, cutoff))
            absent = [d for d in due if d not in sealed]
            if absent:
                missing.append(
                    f"缺少 {len(absent)} 天的封存记录（{_days(absent)}）：记录被删除或未运行 seal-hours / "
                    f"{len(absent)} day(s) with facts in the event store have no sealed record ({_days(absent)}): "
                    "records were removed, or seal-hours has not run"
                )
    return VerifyResult(
        factory, len(records), head(records), tuple(problems), tuple(missing), max(sealed) if sealed else None
    )


def _days(days: Sequence[date]) -> str:
    if len(days) <= 3:
        return ", ".join(d.isoformat() for d in days)
    return f"{days[0].isoformat()} … {days[-1].isoformat()}"


def anchor(engine: Engine, factory: str) -> dict[str, object]:
    """The chain's head as an anchor to keep outside the database (`seamline hours-anchor`)."""
    records = repo.load_chain(engine, factory)
    last = max(records, key=lambda r: r.seq) if records else None
    return {
        "factory": factory,
        "head": head(records),
        "seq": last.seq if last else 0,
        "day": last.day.isoformat() if last else None,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass(slots=True)
class Period:
    layout: FactoryLayout
    rules: RuleSet
    first: date
    last: date
    computed: Computed
    chain_head: str
    holidays: tuple[Holiday, ...]


def month_bounds(month: str) -> tuple[date, date]:
    """``2026-03`` -> (2026-03-01, 2026-03-31)."""
    first = date.fromisoformat(f"{month}-01")
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def compute_period(
    engine: Engine,
    factory: str,
    first: date,
    last: date,
    *,
    rules: RuleSet,
    holidays: Sequence[Holiday] | None = None,
    now: datetime | None = None,
) -> Period:
    hs = tuple(load_holidays() if holidays is None else holidays)
    facts = repo.load_facts(engine, factory, first, last)
    c = compute(facts, rules, holidays=hs, until=now or datetime.now(UTC))
    return Period(facts.layout, rules, first, last, c, head(repo.load_chain(engine, factory)), hs)
