"""Tables of seamline.auth: user accounts, API tokens, sessions (people and paired tablets),
pairing codes and the append-only audit log. Secrets are stored only as hashes."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from .tables import UtcDateTime, metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("roles", JSON, nullable=False),  # list of role names
    Column("factory_id", String(64)),
    Column("lines", JSON, nullable=False),  # a supervisor's lines
    Column("active", Boolean, nullable=False),
    # No longer used (kept for the schema): accounts are not locked, wrong passwords slow down
    # the address they come from instead (auth/throttle.py).
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("factory_id", String(64)),
    Column("lines", JSON, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("revoked_at", UtcDateTime()),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # user | tablet
    Column("username", String(64)),
    Column("factory_id", String(64)),
    Column("station_id", String(64)),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
    Column("paired_by", String(64)),
    Index("ix_sessions_station", "factory_id", "station_id"),
)

pairing_codes = Table(
    "pairing_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("factory_id", String(64), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime()),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("action", String(200), nullable=False),  # e.g. "POST /api/v1/materials/moves" or "cli users add"
    Column("target", String(400)),
    Column("status", Integer),
    Column("body_sha256", String(64)),
    Column("detail", JSON),
    Index("ix_audit_at", "at"),
)
