"""Accounts, sign-in, tokens, pairing and the audit trail, against the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from seamline.adapters.db import make_engine
from seamline.adapters.migrate import upgrade
from seamline.auth.roles import Role
from seamline.auth.service import LOCKOUT, MAX_FAILED_LOGINS, PAIRING_CODE_TTL, AuthError, AuthService

PW = "sew-fast-7-hems"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def svc(db_url: str) -> tuple[AuthService, Clock]:
    engine = make_engine(db_url)
    upgrade(engine)
    clock = Clock()
    yield AuthService(engine, lambda f: {"S1": "L1", "S2": "L2"} if f == "f1" else {}, clock), clock
    engine.dispose()


def test_no_default_account_and_passwords_must_be_real(svc: tuple[AuthService, Clock]) -> None:
    s, _ = svc
    assert not s.has_users()
    for bad in ("short", "adaada-adaada", "aaaaaaaaaaaaa"):
        with pytest.raises(AuthError):
            s.add_user("ada", bad, ["admin"], actor="t")
    s.add_user("ada", PW, ["admin"], actor="t")
    with pytest.raises(AuthError) as e:
        s.add_user("ada", PW, ["admin"], actor="t")
    assert e.value.status == 409
    with pytest.raises(AuthError, match="lines"):
        s.add_user("sam", PW, ["supervisor"], actor="t", factory="f1")
    with pytest.raises(AuthError, match="unknown lines"):
        s.add_user("sam", PW, ["supervisor"], actor="t", factory="f1", lines=["L9"])
    with pytest.raises(AuthError, match="tablet"):
        s.add_user("wu", PW, ["worker"], actor="t")


def test_login_locks_after_repeated_failures_and_unlocks_later(svc: tuple[AuthService, Clock]) -> None:
    s, clock = svc
    s.add_user("ada", PW, ["admin"], actor="t")
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AuthError) as e:
            s.login("ada", "wrong-password-1")
        assert e.value.status == 401
    with pytest.raises(AuthError) as e:
        s.login("ada", PW)  # even the right password waits out the lock
    assert e.value.status == 429
    clock.now += LOCKOUT + timedelta(seconds=1)
    secret, p = s.login("ada", PW)
    assert p.roles == {Role.ADMIN} and s.session_principal(secret) is not None
    with pytest.raises(AuthError) as e:
        s.login("nobody", PW)
    assert e.value.status == 401 and "wrong user name or password" in str(e.value)


def test_disabling_or_changing_roles_ends_sessions_at_once(svc: tuple[AuthService, Clock]) -> None:
    s, _ = svc
    s.add_user("sam", PW, ["supervisor"], actor="t", factory="f1", lines=["L1"])
    secret, p = s.login("sam", PW)
    assert p.lines == {"L1"}
    s.update_user("sam", actor="ada", lines=["L1", "L2"])
    assert s.session_principal(secret) is None
    secret, p = s.login("sam", PW)
    assert p.lines == {"L1", "L2"}
    s.update_user("sam", actor="ada", active=False)
    assert s.session_principal(secret) is None
    with pytest.raises(AuthError):
        s.login("sam", PW)


def test_sessions_expire(svc: tuple[AuthService, Clock]) -> None:
    s, clock = svc
    s.add_user("ada", PW, ["admin"], actor="t")
    secret, _ = s.login("ada", PW)
    clock.now += timedelta(hours=12, seconds=1)
    assert s.session_principal(secret) is None


def test_tokens_are_shown_once_stored_hashed_and_revocable(svc: tuple[AuthService, Clock]) -> None:
    s, clock = svc
    tid, secret = s.create_token("gateway hall 2", ["gateway"], actor="ada", expires_days=30)
    p = s.token_principal(secret)
    assert p is not None and p.roles == {Role.GATEWAY}
    assert all(secret not in str(v) for t in s.tokens() for v in t.values())
    assert s.token_principal(secret + "x") is None
    s.revoke_token(tid, actor="ada")
    assert s.token_principal(secret) is None
    with pytest.raises(AuthError):
        s.revoke_token(tid, actor="ada")
    _tid, later = s.create_token("short", ["planner"], actor="ada", expires_days=1)
    clock.now += timedelta(days=1, seconds=1)
    assert s.token_principal(later) is None
    with pytest.raises(AuthError):
        s.create_token("x", ["worker"], actor="ada")


def test_a_pairing_code_binds_one_tablet_once_and_replaces_the_previous_one(svc: tuple[AuthService, Clock]) -> None:
    s, clock = svc
    first = s.issue_pairing_code("f1", "S1", actor="sam")
    assert len(first.code) == 6 and first.code.isdigit()
    t1, p1 = s.pair(first.code)
    assert (p1.station, p1.factory, p1.roles) == ("S1", "f1", {Role.WORKER})
    with pytest.raises(AuthError):
        s.pair(first.code)  # single use
    second = s.issue_pairing_code("f1", "S1", actor="sam")
    t2, _ = s.pair(second.code)
    assert s.session_principal(t1) is None and s.session_principal(t2) is not None
    late = s.issue_pairing_code("f1", "S2", actor="sam")
    clock.now += PAIRING_CODE_TTL + timedelta(seconds=1)
    with pytest.raises(AuthError):
        s.pair(late.code)
    with pytest.raises(AuthError) as e:
        s.issue_pairing_code("f1", "S9", actor="sam")
    assert e.value.status == 404
    assert [t["station"] for t in s.tablets()] == ["S1"]


def test_every_account_change_is_in_the_audit_log(svc: tuple[AuthService, Clock]) -> None:
    s, _ = svc
    s.add_user("ada", PW, ["admin"], actor="cli:root")
    s.update_user("ada", actor="cli:root", password="another-long-pw-9")
    with pytest.raises(AuthError):
        s.login("ada", PW)
    s.create_token("gw", ["gateway"], actor="ada")
    total, items = s.audit_entries()
    actions = [(i["actor"], i["action"], i["target"]) for i in reversed(items)]
    assert actions[:2] == [("cli:root", "add user", "ada"), ("cli:root", "update user", "ada")]
    assert ("ada", "login failed", "ada") in actions and ("ada", "create token", "token 1") in actions
    assert total == len(items) == 4
    assert all(PW not in str(i) and "another-long-pw-9" not in str(i) for i in items)


def test_guessing_pairing_codes_is_cut_off(svc: tuple[AuthService, Clock]) -> None:
    from seamline.auth.service import BAD_PAIRING_WINDOW, MAX_BAD_PAIRINGS

    s, clock = svc
    live = s.issue_pairing_code("f1", "S1", actor="sam")
    wrong = "000000" if live.code != "000000" else "000001"
    for _ in range(MAX_BAD_PAIRINGS):
        with pytest.raises(AuthError) as e:
            s.pair(wrong)
        assert e.value.status == 401
    with pytest.raises(AuthError) as e:
        s.pair(live.code)  # even the right code waits: the guesser cannot tell which one it was
    assert e.value.status == 429
    clock.now += BAD_PAIRING_WINDOW  # the window has passed (and with it that code's ten minutes)
    _t, p = s.pair(s.issue_pairing_code("f1", "S1", actor="sam").code)
    assert p.station == "S1"
