"""Accounts, sign-in, tokens, pairing and the audit trail, against the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from seamline.adapters.db import make_engine
from seamline.adapters.migrate import upgrade
from seamline.auth.roles import Role
from seamline.auth.service import (
    LOGIN_ACCOUNT_BUDGET,
    LOGIN_PER_ACCOUNT_AT_ADDRESS,
    PAIRING_BUDGET,
    PAIRING_CODE_TTL,
    PAIRING_PER_ADDRESS,
    AuthError,
    AuthService,
)

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


def test_wrong_passwords_slow_down_their_address_not_the_account(
    svc: tuple[AuthService, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #18 item 10: five wrong passwords used to lock any account (the only admin too) for
    15 minutes, from anywhere. Now the guesser's address waits, growing, and the admin elsewhere
    signs in at once."""
    from argon2 import PasswordHasher

    from seamline.auth import passwords

    # ~70 failed logins follow: a cheap Argon2 (the hash carries its parameters) keeps this fast
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    s, clock = svc
    s.add_user("ada", PW, ["admin"], actor="t")
    attacker, admin = "203.0.113.9", "192.0.2.10"
    for _ in range(LOGIN_PER_ACCOUNT_AT_ADDRESS.free):
        with pytest.raises(AuthError) as e:
            s.login("ada", "wrong-password-1", client=attacker)
        assert e.value.status == 401
    waits = []
    for _ in range(6):  # each further failure doubles the wait; throttled tries are not even checked
        with pytest.raises(AuthError) as e:
            s.login("ada", PW, client=attacker)  # even the right password is not heard while waiting
        assert e.value.status == 429 and e.value.retry_after_s is not None and "秒" in str(e.value)
        waits.append(e.value.retry_after_s)
        clock.now += timedelta(seconds=e.value.retry_after_s)
        with pytest.raises(AuthError) as e:
            s.login("ada", "wrong-password-1", client=attacker)
        assert e.value.status == 401
    assert waits == [1, 2, 4, 8, 16, 32]
    secret, p = s.login("ada", PW, client=admin)  # another address: no wait at all
    assert p.roles == {Role.ADMIN} and s.session_principal(secret) is not None
    # a guesser spread over many addresses: once the account's budget is spent, every address that
    # has failed waits the cap; a clean address (the admin's) still signs in
    for i in range(LOGIN_ACCOUNT_BUDGET):
        with pytest.raises(AuthError):
            s.login("ada", "wrong-password-1", client=f"198.51.100.{i}")
    with pytest.raises(AuthError) as e:
        s.login("ada", "wrong-password-1", client="198.51.100.1")
    assert e.value.status == 429 and e.value.retry_after_s == int(LOGIN_PER_ACCOUNT_AT_ADDRESS.cap_s)
    s.login("ada", PW, client=admin)
    # IPv6 addresses of one /64 count as one address
    for i in range(LOGIN_PER_ACCOUNT_AT_ADDRESS.free):
        with pytest.raises(AuthError):
            s.login("ada", "wrong-password-1", client=f"2001:db8:1:2::{i + 1:x}")
    with pytest.raises(AuthError) as e:
        s.login("ada", "wrong-password-1", client="2001:db8:1:2::ffff")
    assert e.value.status == 429
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


def test_guessing_pairing_codes_is_slowed_per_address_and_never_blocks_a_clean_tablet(
    svc: tuple[AuthService, Clock],
) -> None:
    s, clock = svc
    live = s.issue_pairing_code("f1", "S1", actor="sam")
    wrong = "000000" if live.code != "000000" else "000001"
    for _ in range(PAIRING_PER_ADDRESS.free):
        with pytest.raises(AuthError) as e:
            s.pair(wrong, client="10.0.0.66")
        assert e.value.status == 401
    with pytest.raises(AuthError) as e:
        s.pair(live.code, client="10.0.0.66")  # even the right code waits: the guesser cannot tell
    assert e.value.status == 429 and e.value.retry_after_s == int(PAIRING_PER_ADDRESS.base_s)
    _t, p = s.pair(live.code, client="10.0.0.7")  # the real tablet, elsewhere, pairs at once
    assert p.station == "S1"
    # many addresses together spend the shared budget: those that guessed wrong wait the cap,
    # a tablet with a clean record still pairs
    for i in range(PAIRING_BUDGET):
        with pytest.raises(AuthError):
            s.pair(wrong, client=f"10.1.0.{i}")
    with pytest.raises(AuthError) as e:
        s.pair(wrong, client="10.1.0.3")
    assert e.value.status == 429 and e.value.retry_after_s == int(PAIRING_PER_ADDRESS.cap_s)
    _t, p = s.pair(s.issue_pairing_code("f1", "S2", actor="sam").code, client="10.0.0.8")
    assert p.station == "S2"
    clock.now += PAIRING_PER_ADDRESS.forget_after  # an hour later the guessers start from zero
    with pytest.raises(AuthError) as e:
        s.pair(wrong, client="10.1.0.3")
    assert e.value.status == 401


def test_a_live_tokens_row_is_reused_for_a_few_seconds_and_revocation_here_is_at_once(
    svc: tuple[AuthService, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway's posts do not read its token's row each time (auth/service.py
    ``cached_token_principal``), but nothing that should refuse a token is delayed by it here."""
    import seamline.auth.service as service_mod

    s, clock = svc
    tid, secret = s.create_token("gateway hall 2", ["gateway"], actor="ada", expires_days=1)
    assert s.cached_token_principal(secret) is False  # never read: must be read
    assert s.token_principal(secret) is not None
    reads = []
    monkeypatch.setattr(s.store, "token_by_hash", lambda h: reads.append(h))
    p = s.cached_token_principal(secret)
    assert p and p.roles == {Role.GATEWAY} and reads == []  # from the row read a moment ago
    assert s.cached_token_principal(secret + "x") is False  # an unknown secret is never cached
    clock.now += timedelta(days=1, seconds=1)
    assert s.cached_token_principal(secret) is None  # expiry is checked on every use
    clock.now -= timedelta(days=1, seconds=1)
    monkeypatch.undo()
    s.revoke_token(tid, actor="ada")
    assert s.cached_token_principal(secret) is False and s.token_principal(secret) is None
    # revoked by another process (the CLI): refused once the row is older than the TTL
    _tid2, other = s.create_token("gateway hall 3", ["gateway"], actor="ada")
    assert s.token_principal(other) is not None
    s.store.revoke_token(_tid2, clock.now)  # as `seamline token revoke` does, beside this server
    monkeypatch.setattr(service_mod, "TOKEN_ROW_TTL_S", 0.0)
    assert s.cached_token_principal(other) is False and s.token_principal(other) is None
