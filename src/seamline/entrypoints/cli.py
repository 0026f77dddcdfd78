"""The `seamline` command line.

Core commands live here; each feature adds its own commands from a module
``seamline.entrypoints.cli_<feature>`` exposing ``register(app)``, so features do not edit one
shared file.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from seamline.plugins import optional_modules

app = typer.Typer(
    name="seamline",
    help="seamline: manufacturing execution for garment sewing lines.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """A root callback keeps `seamline` a group of commands even when the fast path below
    registers one command only: without it typer collapses a one-command app into that command,
    and `seamline aql 2000` would read "aql" as the lot size."""


FEATURE_CLIS = (
    "seamline.entrypoints.cli_core",
    "seamline.entrypoints.cli_sim",
    "seamline.entrypoints.cli_planning",
    "seamline.entrypoints.cli_quality",
    "seamline.entrypoints.cli_compliance",
    "seamline.entrypoints.cli_learning",
    "seamline.entrypoints.cli_materials",
    "seamline.entrypoints.cli_roi",
    "seamline.entrypoints.cli_production",
    "seamline.entrypoints.cli_auth",
    "seamline.entrypoints.cli_scaleout",
    "seamline.entrypoints.cli_gateway",
    "seamline.entrypoints.cli_history",
    "seamline.entrypoints.cli_pay",
    "seamline.entrypoints.cli_orders",
)


# Commands whose callers count start-up time (`seamline solve` has a time limit, `aql` is asked
# interactively): only their own module is imported, not every feature's.
FAST_COMMANDS = {
    "solve": "seamline.entrypoints.cli_planning",
    "aql": "seamline.entrypoints.cli_quality",
}


# Commands that change the factory's data by hand: each successful run goes to the audit log
# (accounts, tokens and pairing codes log themselves, with more detail, in seamline.auth).
AUDITED_COMMANDS = frozenset({"import", "materials-import", "hours-correct", "seal-hours", "rates-import"})

_argv: list[str] | None = None  # the command line, when run as the `seamline` program (main)


def _audited(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command so that it is audited after it returned normally, and only then: `--help`,
    bad arguments and failures (typer.Exit, exceptions) never reach the audit, and so never
    touch a database."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        from seamline.adapters.db import DEFAULT_URL

        argv = _argv if _argv is not None else [name, *(f"--{k}={v}" for k, v in kwargs.items() if v is not None)]
        _audit_cli(argv, str(kwargs.get("db") or DEFAULT_URL))
        return result

    return run


def _register_features(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    fast = FAST_COMMANDS.get(argv[0]) if argv else None
    for mod in optional_modules([fast] if fast else FEATURE_CLIS):
        mod.register(app)
    for info in app.registered_commands:
        if info.name in AUDITED_COMMANDS and info.callback is not None:
            info.callback = _audited(info.name, info.callback)


_register_features()


def main() -> None:
    global _argv
    _argv = sys.argv[1:]
    app()


def _audit_cli(argv: list[str], db: str) -> None:
    """Record `seamline <command> ...` (run by the OS user) in the audit log of its database."""
    import getpass
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from seamline.adapters.db import make_engine
    from seamline.auth.store import AuthStore

    engine = make_engine(db)
    try:
        AuthStore(engine).audit(
            {
                "at": datetime.now(UTC),
                "actor": f"cli:{getpass.getuser()}",
                "actor_kind": "cli",
                "roles": [],
                "action": f"cli {argv[0]}",
                "target": " ".join(argv[1:])[:400],
                "status": 0,
                "body_sha256": None,
                "detail": {"argv": argv},
            }
        )
    except SQLAlchemyError as e:  # the change is made; say loudly that it is not on record
        typer.echo(f"警告：未写入审计日志 / warning: not written to the audit log of {db}: {e}", err=True)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
