"""Accounts and devices from the command line: the first admin, gateway tokens, pairing codes.

There is no default password: the first admin is created here, with a password typed at the
prompt (or read from a file for scripted installs), and every command lands in the audit log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..adapters.db import DEFAULT_URL

if TYPE_CHECKING:
    from ..auth.service import AuthService

DbOpt = Annotated[str, typer.Option("--db", help=f"database URL (default {DEFAULT_URL})")]
ACTOR = f"cli:{os.environ.get('USER', 'unknown')}"


def _service(db: str, *, create: bool = False) -> AuthService:
    """The account service on ``db``; only the commands that set a server up (the first admin, a
    token) may create the database, the others need it to exist."""
    from ..adapters import master_data, migrate
    from ..adapters.db import make_engine
    from ..auth.service import AuthService
    from .cli_db import open_db

    engine = make_engine(db) if create else open_db(db)
    migrate.upgrade(engine)
    layouts = master_data.load_layouts(engine)

    def station_lines(factory: str) -> dict[str, str]:
        lay = layouts.get(factory)
        return {s: st.line_id for s, st in lay.stations.items()} if lay else {}

    return AuthService(engine, station_lines)


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        return password_file.read_text("utf-8").strip()
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


def _split(s: str | None) -> list[str]:
    return [x.strip() for x in (s or "").split(",") if x.strip()]


def _auth_error() -> type[Exception]:
    """AuthError, imported when a command fails: seamline.auth.service hashes a dummy password at
    import (constant-time logins), a second of CPU that every other command would pay at start-up."""
    from ..auth.service import AuthError

    return AuthError


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="User accounts (people who log in to the pages and API).", no_args_is_help=True)
    app.add_typer(users, name="users")

    def fail(e: Exception) -> None:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)

    @users.command("add")
    def add(
        username: str,
        role: Annotated[list[str], typer.Option("--role", help="supervisor, planner, qa, auditor, owner, admin")],
        lines: Annotated[str | None, typer.Option(help="a supervisor's lines, comma-separated")] = None,
        factory: Annotated[str | None, typer.Option(help="the factory the lines belong to")] = None,
        name: Annotated[str | None, typer.Option(help="display name")] = None,
        password_file: Annotated[Path | None, typer.Option(help="read the password from this file")] = None,
        db: DbOpt = DEFAULT_URL,
    ) -> None:
        """Create an account; the password is asked for (never a default)."""
        svc = _service(db, create=True)
        try:
            u = svc.add_user(
                username,
                _password(password_file),
                role,
                actor=ACTOR,
                display_name=name,
                factory=factory,
                lines=_split(lines),
            )
        except _auth_error() as e:
            fail(e)
        typer.echo(json.dumps(u, ensure_ascii=False))

    @users.command("list")
    def list_(db: DbOpt = DEFAULT_URL) -> None:
        for u in _service(db).users():
            typer.echo(json.dumps(u, ensure_ascii=False))

    @users.command("set")
    def set_(
        username: str,
        role: Annotated[list[str] | None, typer.Option("--role")] = None,
        lines: Annotated[str | None, typer.Option()] = None,
        active: Annotated[bool | None, typer.Option("--active/--disabled")] = None,
        new_password: Annotated[bool, typer.Option("--new-password", help="ask for a new password")] = False,
        password_file: Annotated[Path | None, typer.Option()] = None,
        db: DbOpt = DEFAULT_URL,
    ) -> None:
        """Change roles, lines, password, or disable an account (its sessions end at once)."""
        svc = _service(db)
        pw = _password(password_file) if new_password or password_file else None
        try:
            u = svc.update_user(
                username,
                actor=ACTOR,
                roles=role or None,
                lines=_split(lines) if lines is not None else None,
                active=active,
                password=pw,
            )
        except _auth_error() as e:
            fail(e)
        typer.echo(json.dumps(u, ensure_ascii=False))

    @app.command("token")
    def token(
        name: str,
        role: Annotated[list[str], typer.Option("--role", help="gateway for a sensor gateway; any account role")],
        factory: Annotated[str | None, typer.Option()] = None,
        lines: Annotated[str | None, typer.Option()] = None,
        expires_days: Annotated[int | None, typer.Option()] = None,
        db: DbOpt = DEFAULT_URL,
    ) -> None:
        """Issue an API bearer token; it is printed once and only its hash is kept."""
        svc = _service(db, create=True)
        try:
            tid, secret = svc.create_token(
                name, role, actor=ACTOR, factory=factory, lines=_split(lines), expires_days=expires_days
            )
        except _auth_error() as e:
            fail(e)
        typer.echo(json.dumps({"id": tid, "token": secret}))

    @app.command("pair-code")
    def pair_code(station: str, factory: str, db: DbOpt = DEFAULT_URL) -> None:
        """A six-digit code (valid 10 minutes) to type on a tablet at /pair to bind it to a station."""
        try:
            p = _service(db).issue_pairing_code(factory, station, actor=ACTOR)
        except _auth_error() as e:
            fail(e)
        typer.echo(json.dumps({"code": p.code, "station": p.station, "expires_at": p.expires_at.isoformat()}))
