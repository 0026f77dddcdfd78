"""SQL for accounts, tokens, sessions, pairing codes and the audit log (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from ..adapters.tables_auth import api_tokens, audit_log, pairing_codes, sessions, users


class AuthStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- users --------------------------------------------------------------------------------
    def user(self, username: str) -> Mapping[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(users).where(users.c.username == username)).mappings().first()
            return dict(row) if row else None

    def users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(users).order_by(users.c.username)).mappings()]

    def count_users(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(users)).scalar_one())

    def add_user(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(insert(users).values(**row))

    def update_user(self, username: str, **values: Any) -> int:
        with self.engine.begin() as c:
            return c.execute(update(users).where(users.c.username == username).values(**values)).rowcount

    # --- tokens -------------------------------------------------------------------------------
    def add_token(self, row: dict[str, Any]) -> int:
        with self.engine.begin() as c:
            return int(c.execute(insert(api_tokens).values(**row).returning(api_tokens.c.id)).scalar_one())

    def token_by_hash(self, token_hash: str) -> Mapping[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash)).mappings().first()
            return dict(row) if row else None

    def tokens(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            q = select(api_tokens).order_by(api_tokens.c.id)
            return [{k: v for k, v in dict(r).items() if k != "token_hash"} for r in c.execute(q).mappings()]

    def revoke_token(self, token_id: int, at: datetime) -> int:
        with self.engine.begin() as c:
            q = update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            return c.execute(q.values(revoked_at=at)).rowcount

    # --- sessions -----------------------------------------------------------------------------
    def add_session(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(insert(sessions).values(**row))

    def session(self, id_hash: str) -> Mapping[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(sessions).where(sessions.c.id_hash == id_hash)).mappings().first()
            return dict(row) if row else None

    def revoke_session(self, id_hash: str, at: datetime) -> int:
        with self.engine.begin() as c:
            q = update(sessions).where(sessions.c.id_hash == id_hash, sessions.c.revoked_at.is_(None))
            return c.execute(q.values(revoked_at=at)).rowcount

    def revoke_sessions_of(self, username: str, at: datetime) -> int:
        with self.engine.begin() as c:
            q = update(sessions).where(sessions.c.username == username, sessions.c.revoked_at.is_(None))
            return c.execute(q.values(revoked_at=at)).rowcount

    def revoke_tablets_at(self, factory: str, station: str, at: datetime) -> int:
        with self.engine.begin() as c:
            q = update(sessions).where(
                sessions.c.kind == "tablet",
                sessions.c.factory_id == factory,
                sessions.c.station_id == station,
                sessions.c.revoked_at.is_(None),
            )
            return c.execute(q.values(revoked_at=at)).rowcount

    def tablets(self, now: datetime) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            q = (
                select(sessions)
                .where(sessions.c.kind == "tablet", sessions.c.revoked_at.is_(None), sessions.c.expires_at > now)
                .order_by(sessions.c.factory_id, sessions.c.station_id)
            )
            return [dict(r) for r in c.execute(q).mappings()]

    def purge_expired(self, now: datetime) -> None:
        with self.engine.begin() as c:
            c.execute(delete(sessions).where(sessions.c.expires_at < now))
            c.execute(delete(pairing_codes).where(pairing_codes.c.expires_at < now))

    # --- pairing codes --------------------------------------------------------------------------
    def add_pairing_code(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(insert(pairing_codes).values(**row))

    def use_pairing_code(self, code_hash: str, now: datetime) -> Mapping[str, Any] | None:
        """Mark a live, unused code used and return it; None if there is no such code. The
        conditional UPDATE makes a code single-use even when two tablets race for it."""
        with self.engine.begin() as c:
            row = c.execute(select(pairing_codes).where(pairing_codes.c.code_hash == code_hash)).mappings().first()
            if row is None or row["used_at"] is not None or row["expires_at"] <= now:
                return None
            q = update(pairing_codes).where(pairing_codes.c.code_hash == code_hash, pairing_codes.c.used_at.is_(None))
            if c.execute(q.values(used_at=now)).rowcount != 1:
                return None
            return dict(row)

    # --- audit --------------------------------------------------------------------------------
    def audit(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(insert(audit_log).values(**row))

    def audit_entries(
        self, limit: int, offset: int, actor: str | None = None, since: datetime | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        q = select(audit_log)
        n = select(func.count()).select_from(audit_log)
        if actor is not None:
            q, n = q.where(audit_log.c.actor == actor), n.where(audit_log.c.actor == actor)
        if since is not None:
            q, n = q.where(audit_log.c.at >= since), n.where(audit_log.c.at >= since)
        with self.engine.connect() as c:
            total = int(c.execute(n).scalar_one())
            rows = c.execute(q.order_by(audit_log.c.id.desc()).limit(limit).offset(offset)).mappings()
            return total, [dict(r) for r in rows]
