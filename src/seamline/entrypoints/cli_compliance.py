"""CLI of seamline.compliance: seal and verify the hours chain, record corrections, reports, alerts."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from seamline.compliance.rules import RuleSet
    from seamline.pay.payslip import PayPolicy
    from seamline.pay.rates import RateCard

DB_OPT = typer.Option("--db", help="database URL")
DEFAULT_DB = "sqlite:///data/seamline.db"


def _engine(db: str, *, writing: bool = False) -> Engine:
    """An engine on ``db``, which must exist (the hours of a factory never imported are nowhere);
    writers first bring the schema up to date (the Alembic migrations)."""
    from seamline.adapters import migrate
    from seamline.adapters.tables import all_tables

    from .cli_db import open_db

    engine = open_db(db)
    all_tables()
    if writing:
        migrate.upgrade(engine)
    return engine


def _has_chain(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table("hours_chain")


def _aware(s: str | None, name: str) -> datetime | None:
    if s is None:
        return None
    d = datetime.fromisoformat(s)
    if d.tzinfo is None:
        raise typer.BadParameter(f"{name} needs an offset, e.g. 2026-03-02T08:00:00+08:00")
    return d


def verify_hours(
    db: Annotated[str, DB_OPT] = DEFAULT_DB,
    factory: Annotated[str | None, typer.Option("--factory", help="one factory (default: all)")] = None,
    anchor: Annotated[
        list[str] | None,
        typer.Option("--anchor", help="a chain head kept earlier (hours-anchor, a report): must still be in the chain"),
    ] = None,
    grace_days: Annotated[
        int, typer.Option("--grace-days", help="days after yesterday that may still be unsealed")
    ] = 1,
) -> None:
    """Check the hours hash chain, recompute it from the event store, and check it is complete:
    every day with facts must be sealed and every anchor given must still be in the chain."""
    from seamline.compliance import repository as repo
    from seamline.compliance.service import verify

    engine = _engine(db)
    if not _has_chain(engine):
        if _has_facts(engine):
            typer.echo(
                "已篡改 / ALTERED: 封存记录表 hours_chain 不存在，但事件库中有考勤数据 / the hours_chain table "
                "is missing although the event store holds attendance facts"
            )
            raise typer.Exit(1)
        typer.echo(f"OK: no sealed hours records in {db} (no hours_chain table)")
        return
    factories = [factory] if factory else repo.known_factories(engine)
    if not factories:
        typer.echo("OK: no sealed hours records yet")
        return
    anchors = [a.strip().lower() for a in anchor or []]
    found: set[str] = set()
    bad = False
    for f in factories:
        res = verify(engine, f, grace_days=grace_days)
        found |= {a for a in anchors if _holds(engine, f, a)}
        if res.ok:
            if res.records:
                typer.echo(
                    f"完好 / OK {f}: {res.records} records, chain head {res.head}, sealed through {res.sealed_through}"
                )
            else:
                typer.echo(f"完好 / OK {f}: no sealed hours records yet")
            continue
        bad = True
        first = res.first_altered
        if first is not None:
            typer.echo(f"已篡改 / ALTERED {f}: first altered record: {first.record.label}: {first.reason}")
            for p in res.problems:
                if p is not first:
                    typer.echo(f"  also: {p.record.label}: {p.reason}")
        for m in res.missing:
            typer.echo(f"已篡改 / ALTERED {f}: {m}")
    for a in anchors:
        if a not in found:
            bad = True
            typer.echo(
                f"已篡改 / ALTERED: 链中已没有锚定的链头 {a}：其后的记录被删除或改写 / the chain no longer "
                f"holds the anchored head {a}: records were removed or rewritten since it was taken"
            )
    if bad:
        raise typer.Exit(1)


def _holds(engine: Engine, factory: str, head: str) -> bool:
    from seamline.compliance import repository as repo

    return any(r.hash == head for r in repo.load_chain(engine, factory))


def _has_facts(engine: Engine) -> bool:
    from sqlalchemy import inspect, select

    from seamline.adapters import tables as t
    from seamline.compliance.repository import FACT_TYPES

    if not inspect(engine).has_table("events"):
        return False
    with engine.connect() as conn:
        return conn.execute(select(t.events.c.pos).where(t.events.c.type.in_(FACT_TYPES)).limit(1)).first() is not None


def hours_anchor(
    db: Annotated[str, DB_OPT] = DEFAULT_DB,
    factory: Annotated[str | None, typer.Option("--factory", help="one factory (default: all sealed)")] = None,
) -> None:
    """Print each factory's chain head as JSON, to keep outside the database (a ticket, an e-mail, a
    printed report): `verify-hours --anchor HEAD` later fails if records up to it were removed."""
    from seamline.compliance import repository as repo
    from seamline.compliance.service import anchor

    engine = _engine(db)
    if not _has_chain(engine):
        typer.echo("错误 / error: 没有封存记录 / no sealed hours records (no hours_chain table)", err=True)
        raise typer.Exit(2)
    for f in [factory] if factory else repo.chain_factories(engine):
        typer.echo(json.dumps(anchor(engine, f), ensure_ascii=False))


def seal_hours(
    factory: Annotated[str, typer.Option("--factory")],
    until: Annotated[str | None, typer.Option("--until", help="last work day to seal (default yesterday)")] = None,
    reseal: Annotated[str | None, typer.Option("--reseal", help="append a new version of this day")] = None,
    db: Annotated[str, DB_OPT] = DEFAULT_DB,
) -> None:
    """Append each finished day's attendance and piece totals to the factory's hash chain."""
    from seamline.compliance.service import reseal as do_reseal
    from seamline.compliance.service import seal

    engine = _engine(db, writing=True)
    if reseal:
        r = do_reseal(engine, factory, date.fromisoformat(reseal))
        typer.echo(f"unchanged: {reseal}" if r is None else f"sealed {r.label} {r.hash}")
        return
    new = seal(engine, factory, date.fromisoformat(until) if until else None)
    for r in new:
        typer.echo(f"sealed {r.label} {r.hash}")
    if not new:
        typer.echo("nothing to seal")


def hours_correct(
    factory: Annotated[str, typer.Option("--factory")],
    worker: Annotated[str, typer.Option("--worker")],
    action: Annotated[str, typer.Option("--action", help="add | adjust | void")],
    who: Annotated[str, typer.Option("--who", help="who makes the correction")],
    why: Annotated[str, typer.Option("--why", help="the reason, kept with the record")],
    session: Annotated[str | None, typer.Option("--session", help="session id (login event id)")] = None,
    station: Annotated[str | None, typer.Option("--station")] = None,
    start: Annotated[str | None, typer.Option("--start", help="aware ISO time")] = None,
    end: Annotated[str | None, typer.Option("--end", help="aware ISO time")] = None,
    db: Annotated[str, DB_OPT] = DEFAULT_DB,
) -> None:
    """Record a manual attendance correction (never an edit in place)."""
    from seamline.compliance.attendance import Correction, CorrectionError
    from seamline.compliance.repository import add_correction

    try:
        c = Correction(
            id=f"corr-{uuid.uuid4().hex[:12]}",
            worker=worker,
            who=who,
            # Correction checks the action itself (CorrectionError below), so the cast cannot lie.
            action=cast(Literal["add", "adjust", "void"], action),
            at=datetime.now(UTC),
            why=why,
            session_id=session,
            station=station,
            start=_aware(start, "--start"),
            end=_aware(end, "--end"),
        )
    except CorrectionError as e:
        raise typer.BadParameter(str(e)) from None
    add_correction(_engine(db, writing=True), factory, c)
    typer.echo(f"recorded {c.id}: {action} {worker} by {who}")


def _policy(
    rates: Path | None, region: str | None, deduct: bool, basis: str, stored: Callable[[], RateCard | None]
) -> PayPolicy | None:
    """``--rates FILE`` wins; without it the factory's stored card (``seamline rates-import``), if any."""
    from seamline.pay.payslip import PayPolicy
    from seamline.pay.rates import parse_rate_card
    from seamline.pay.wage_floor import Basis, load_min_wage

    if basis not in ("monthly", "hourly"):
        # Anything but "hourly" used to fall back to the monthly floor without a word.
        raise typer.BadParameter(
            f"工资下限基准只能是 monthly 或 hourly / --floor-basis is monthly or hourly, not {basis!r}"
        )
    card = parse_rate_card(json.loads(rates.read_text("utf-8"))) if rates is not None else stored()
    if card is None:
        return None
    return PayPolicy(
        rates=card,
        deduct_defects=deduct,
        min_wage=load_min_wage(region) if region else None,
        floor_basis=cast(Basis, basis),
    )


def _stored_card(db: str, factory: str) -> RateCard | None:
    from seamline.pay.store import RateCards

    return RateCards(_engine(db)).get(factory)


def _rules(names: str, config: Path | None, factory: str, customer: str | None) -> RuleSet:
    """``--rules-config`` (per factory and customer) wins over the plain ``--rules`` list."""
    from seamline.compliance.rules import active_rules, resolve_rules

    if config is not None:
        return resolve_rules(json.loads(config.read_text("utf-8")), factory, customer)
    return active_rules(names.split(","))


def hours_report(
    factory: Annotated[str, typer.Option("--factory")],
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    worker: Annotated[str | None, typer.Option("--worker")] = None,
    customer: Annotated[str | None, typer.Option("--customer")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh | en (as on the pages; zh_CN also)")] = "zh",
    fmt: Annotated[str, typer.Option("--format", help="pdf | csv")] = "pdf",
    out: Annotated[Path | None, typer.Option("--out", help="file (default: stdout for csv)")] = None,
    rules: Annotated[str, typer.Option("--rules", help="comma-separated rule sets")] = "prc_labour_law",
    rates: Annotated[Path | None, typer.Option("--rates", help="rate card JSON (omit: stored card)")] = None,
    region: Annotated[str | None, typer.Option("--region", help="minimum-wage region, e.g. zhejiang_1")] = None,
    deduct_defects: Annotated[bool, typer.Option("--deduct-defects/--no-deduct-defects")] = True,
    floor_basis: Annotated[str, typer.Option("--floor-basis", help="monthly | hourly")] = "monthly",
    rules_config: Annotated[Path | None, typer.Option("--rules-config", help="rules per factory/customer JSON")] = None,
    db: Annotated[str, DB_OPT] = DEFAULT_DB,
) -> None:
    """Monthly hours / overtime / pay / violations report for one worker or one customer."""
    from seamline.compliance.service import compute_period, month_bounds
    from seamline.reports.labels import norm_lang
    from seamline.reports.model import customer_report, worker_report
    from seamline.reports.output import to_csv, to_pdf

    if (worker is None) == (customer is None):
        raise typer.BadParameter("give exactly one of --worker or --customer")
    try:
        lang = norm_lang(lang)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    from seamline.compliance.repository import NotFound
    from seamline.compliance.rules import RuleError
    from seamline.pay.rates import PayError

    first, last = month_bounds(month)
    try:
        period = compute_period(_engine(db), factory, first, last, rules=_rules(rules, rules_config, factory, customer))
        policy = _policy(rates, region, deduct_defects, floor_basis, lambda: _stored_card(db, factory))
        rep = worker_report(period, worker, policy) if worker else customer_report(period, customer or "", policy)
    except (PayError, RuleError, NotFound, KeyError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if fmt == "csv":
        text = to_csv(rep, lang)
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, "utf-8")
    elif fmt == "pdf":
        if out is None:
            raise typer.BadParameter("a PDF needs --out")
        from seamline.adapters.pdf_fonts import PdfError

        try:
            out.write_bytes(to_pdf(rep, lang))
        except PdfError as e:
            typer.echo(f"错误 / error: {e}", err=True)
            raise typer.Exit(2) from None
    else:
        raise typer.BadParameter("--format is pdf or csv")
    if out is not None:
        typer.echo(f"wrote {out} (chain head {rep.chain_head})")


def hours_alerts(
    factory: Annotated[str, typer.Option("--factory")],
    day: Annotated[str | None, typer.Option("--day", help="factory-local date (default today)")] = None,
    rules: Annotated[str, typer.Option("--rules")] = "prc_labour_law",
    rules_config: Annotated[Path | None, typer.Option("--rules-config", help="rules per factory/customer JSON")] = None,
    db: Annotated[str, DB_OPT] = DEFAULT_DB,
) -> None:
    """Findings touching a day as JSON lines: what the tablet and dashboard show before a breach.

    For today, sessions still open are also projected to their shift end (``"projected": true``).
    """
    from seamline.compliance import repository as repo
    from seamline.compliance.alerts import live_alerts
    from seamline.compliance.days import load_holidays

    engine = _engine(db)
    now = datetime.now(UTC)
    today = now.astimezone(repo.load_layout(engine, factory).factory.tz).date()
    d = date.fromisoformat(day) if day else today
    facts = repo.load_facts(engine, factory, d.replace(day=1), d)
    rs = _rules(rules, rules_config, factory, None)
    for a in live_alerts(facts, rs, d, now=now if d == today else None, holidays=load_holidays()):
        typer.echo(json.dumps(a, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command("verify-hours")(verify_hours)
    app.command("seal-hours")(seal_hours)
    app.command("hours-anchor")(hours_anchor)
    app.command("hours-correct")(hours_correct)
    app.command("hours-report")(hours_report)
    app.command("hours-alerts")(hours_alerts)
