"""The hours hash chain: sealing, `seamline verify-hours`, and naming the first altered record."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from seamline.adapters.tables_compliance import hours_chain
from seamline.compliance.attendance import Correction
from seamline.compliance.chain import GENESIS, link_hash
from seamline.compliance.repository import add_correction, load_chain
from seamline.compliance.service import reseal, seal, verify
from seamline.entrypoints.cli import app

from .builders import FACTORY, Ev, at, make_layout
from .dbutil import delete_event

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def week_of_work() -> Ev:
    ev = Ev()
    for day in ("02", "03", "04", "05", "06"):
        ev.shift("W1", "S1", f"2026-03-{day}", "08:00", "17:00")
        ev.piece("S1", at(f"2026-03-{day}", "10:00"), qty=50)
        ev.shift("W2", "S2", f"2026-03-{day}", "08:00", "18:00")
        ev.piece("S2", at(f"2026-03-{day}", "11:00"), op="B", qty=30)
    return ev


@pytest.fixture()
def sealed(make_db):  # type: ignore[no-untyped-def]
    ev = week_of_work()
    url, engine = make_db(make_layout(), ev.events)
    new = seal(engine, FACTORY, date(2026, 3, 6), now=NOW)
    return url, engine, ev, new


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_seal_writes_one_chained_record_per_day(sealed) -> None:  # type: ignore[no-untyped-def]
    _url, engine, _ev, new = sealed
    assert [r.day.day for r in new] == [2, 3, 4, 5, 6]
    assert new[0].prev_hash == GENESIS
    for a, b in pairwise(new):
        assert b.prev_hash == a.hash == link_hash(a.prev_hash, a.payload)
    p = json.loads(new[0].payload)
    assert p["workers"]["W1"]["attended_s"] == 8 * 3600 and p["workers"]["W1"]["pieces"] == {"A": 50}
    assert p["workers"]["W2"]["attended_s"] == 9 * 3600 and p["workers"]["W2"]["pieces"] == {"B": 30}
    # sealing again adds nothing; the next day appends after the head
    assert seal(engine, FACTORY, date(2026, 3, 6), now=NOW) == []
    more = seal(engine, FACTORY, date(2026, 3, 7), now=NOW)
    assert [(r.day.day, r.seq, r.prev_hash) for r in more] == [(7, 6, new[-1].hash)]


def test_verify_hours_ok_prints_the_head(sealed) -> None:  # type: ignore[no-untyped-def]
    url, _engine, _ev, new = sealed
    res = run("verify-hours", "--db", url)
    assert res.exit_code == 0, res.output
    assert f"OK {FACTORY}: 5 records, chain head {new[-1].hash}" in res.output


def test_an_edited_past_record_is_named(sealed) -> None:  # type: ignore[no-untyped-def]
    url, engine, _ev, _new = sealed
    with engine.begin() as conn:
        payload = conn.execute(select(hours_chain.c.payload).where(hours_chain.c.seq == 2)).scalar_one()
        forged = payload.replace('"attended_s":32400.0', '"attended_s":28800.0')
        assert forged != payload
        conn.execute(update(hours_chain).where(hours_chain.c.seq == 2).values(payload=forged))
    res = run("verify-hours", "--db", url, "--factory", FACTORY)
    assert res.exit_code == 1
    assert "first altered record: F1 2026-03-03 (record #2, version 1)" in res.output


def test_a_consistently_rechained_history_is_still_caught_by_the_event_store(sealed) -> None:  # type: ignore[no-untyped-def]
    url, engine, _ev, _new = sealed
    recs = load_chain(engine, FACTORY)
    prev = recs[2].prev_hash
    with engine.begin() as conn:
        for r in recs[2:]:  # forge day 4 and recompute every hash after it
            payload = r.payload.replace('"pieces":{"A":50}', '"pieces":{"A":70}')
            h = link_hash(prev, payload)
            conn.execute(
                update(hours_chain).where(hours_chain.c.seq == r.seq).values(payload=payload, prev_hash=prev, hash=h)
            )
            prev = h
    res = run("verify-hours", "--db", url)
    assert res.exit_code == 1
    assert "first altered record: F1 2026-03-04 (record #3, version 1): it differs from the event store" in res.output
    assert "worker W1 pieces: recorded {'A': 70}, events give {'A': 50}" in res.output


def test_a_hash_rewritten_record_is_named_not_its_successor(sealed) -> None:  # type: ignore[no-untyped-def]
    _url, engine, _ev, _new = sealed
    recs = load_chain(engine, FACTORY)
    r = recs[1]
    payload = r.payload.replace('"sessions":1', '"sessions":2', 1)
    with engine.begin() as conn:
        conn.execute(
            update(hours_chain)
            .where(hours_chain.c.seq == r.seq)
            .values(payload=payload, hash=link_hash(r.prev_hash, payload))
        )
    res = verify(engine, FACTORY)
    assert not res.ok and res.first_altered is not None
    assert res.first_altered.record.seq == 2
    assert "rewritten" in res.first_altered.reason


def test_a_deleted_event_is_detected(sealed) -> None:  # type: ignore[no-untyped-def]
    url, engine, ev, _new = sealed
    piece = next(e for e in ev.events if type(e).__name__ == "Piece" and e.ts.day == 5)
    delete_event(engine, piece.id)
    res = run("verify-hours", "--db", url)
    assert res.exit_code == 1
    assert "F1 2026-03-05 (record #4, version 1): it differs from the event store" in res.output


def test_a_correction_after_sealing_needs_a_new_version(sealed) -> None:  # type: ignore[no-untyped-def]
    url, engine, ev, _new = sealed
    login = next(e for e in ev.events if type(e).__name__ == "Login" and e.worker == "W1" and e.ts.day == 3)
    add_correction(
        engine,
        FACTORY,
        Correction(
            id="c1",
            action="adjust",
            worker="W1",
            who="supervisor Chen",
            at=NOW,
            why="left early, badge forgotten",
            session_id=login.id,
            end=at("2026-03-03", "16:00"),
        ),
    )
    assert run("verify-hours", "--db", url).exit_code == 1
    new = reseal(engine, FACTORY, date(2026, 3, 3), now=NOW)
    assert new is not None and (new.day, new.version, new.seq) == (date(2026, 3, 3), 2, 6)
    assert json.loads(new.payload)["workers"]["W1"]["attended_s"] == 7 * 3600
    res = run("verify-hours", "--db", url)
    assert res.exit_code == 0, res.output
    assert f"chain head {new.hash}" in res.output


def test_seal_and_correct_through_the_cli(make_db) -> None:  # type: ignore[no-untyped-def]
    ev = week_of_work()
    url, engine = make_db(make_layout(), ev.events)
    res = run("seal-hours", "--db", url, "--factory", FACTORY, "--until", "2026-03-03")
    assert res.exit_code == 0, res.output
    assert res.output.count("sealed F1") == 2
    bad = run(
        "hours-correct",
        "--db",
        url,
        "--factory",
        FACTORY,
        "--worker",
        "W1",
        "--action",
        "add",
        "--who",
        "Chen",
        "--why",
        "forgot badge",
        "--start",
        "2026-03-07T08:00:00",
    )
    assert bad.exit_code != 0
    ok = run(
        "hours-correct",
        "--db",
        url,
        "--factory",
        FACTORY,
        "--worker",
        "W1",
        "--action",
        "add",
        "--who",
        "Chen",
        "--why",
        "forgot badge",
        "--station",
        "S1",
        "--start",
        "2026-03-07T08:00:00+08:00",
        "--end",
        "2026-03-07T10:00:00+08:00",
    )
    assert ok.exit_code == 0, ok.output
    assert run("seal-hours", "--db", url, "--factory", FACTORY, "--until", "2026-03-07").exit_code == 0
    day7 = json.loads(load_chain(engine, FACTORY)[-1].payload)
    assert day7["day"] == "2026-03-07" and day7["workers"]["W1"]["attended_s"] == 2 * 3600
    assert day7["workers"]["W1"]["flags"] == ["manual"]
    assert run("verify-hours", "--db", url).exit_code == 0


def test_verify_on_a_database_without_sealed_records(db_url: str) -> None:
    from seamline.adapters import migrate
    from seamline.adapters.db import make_engine

    engine = make_engine(db_url)
    migrate.upgrade(engine)
    engine.dispose()
    res = run("verify-hours", "--db", db_url)
    assert res.exit_code == 0 and "no sealed hours records" in res.output


def _cli(*args: str):  # type: ignore[no-untyped-def]
    """The installed executable, as an auditor runs it."""
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run(
        [str(Path(sys.executable).parent / "seamline"), *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_a_shortened_chain_fails_and_an_anchor_catches_what_completeness_cannot(sealed) -> None:  # type: ignore[no-untyped-def]
    """Issue #18 item 7: deleting the tail (or all) of the chain used to print `OK … 0 records`."""
    from datetime import time as dtime

    from sqlalchemy import delete

    from seamline.adapters import tables as t

    from .builders import make_layout as layout

    url, engine, _ev, new = sealed
    r = _cli("hours-anchor", "--db", url, "--factory", FACTORY)
    assert r.returncode == 0, r.stderr
    a = json.loads(r.stdout)
    assert a["head"] == new[-1].hash and a["seq"] == 5 and a["day"] == "2026-03-06"
    r = _cli("verify-hours", "--db", url, "--anchor", a["head"])
    assert r.returncode == 0 and "sealed through 2026-03-06" in r.stdout, r.stdout + r.stderr

    # the tail removed: the event store still has facts for those days
    with engine.begin() as conn:
        conn.execute(delete(hours_chain).where(hours_chain.c.seq >= 4))
    r = run("verify-hours", "--db", url)
    assert r.exit_code == 1, r.output
    assert "缺少 2 天" in r.output and "2026-03-05, 2026-03-06" in r.output and "no sealed record" in r.output
    r = run("verify-hours", "--db", url, "--anchor", a["head"])
    assert r.exit_code == 1 and "no longer holds the anchored head" in r.output

    # ... and with their events too: the chain is complete for what is left, only the anchor tells
    tz = layout().factory.tz
    with engine.begin() as conn:
        conn.execute(delete(t.events).where(t.events.c.ts >= datetime.combine(date(2026, 3, 5), dtime(0), tz)))
    assert run("verify-hours", "--db", url).exit_code == 0
    r = run("verify-hours", "--db", url, "--anchor", a["head"])
    assert r.exit_code == 1 and a["head"] in r.output and "已篡改" in r.output
    assert run("verify-hours", "--db", url, "--anchor", new[2].hash).exit_code == 0  # an older anchor holds

    # everything removed: not "OK … 0 records"
    with engine.begin() as conn:
        conn.execute(delete(hours_chain))
    r = _cli("verify-hours", "--db", url)
    assert r.returncode == 1 and "缺少 3 天" in r.stdout and "2026-03-02, 2026-03-03, 2026-03-04" in r.stdout
    # days still inside the grace period need no record yet
    assert run("verify-hours", "--db", url, "--grace-days", "100000").exit_code == 0


def test_verify_on_a_missing_database_file_is_an_error_not_an_ok(tmp_path: Path) -> None:
    """An audit tool pointed at a wrong path must not answer "OK", nor leave an empty file there."""
    res = run("verify-hours", "--db", f"sqlite:///{tmp_path}/data/nothing.db")
    assert res.exit_code == 2
    assert "找不到数据库" in res.output and "database not found" in res.output and "data/demo" in res.output
    assert not (tmp_path / "data").exists()
