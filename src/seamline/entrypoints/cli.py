"""The `seamline` command line.

Core commands live here; each feature adds its own commands from a module
``seamline.entrypoints.cli_<feature>`` exposing ``register(app)``, so features do not edit one
shared file.
"""

from __future__ import annotations

import sys

import typer

from seamline.plugins import optional_modules

app = typer.Typer(
    name="seamline",
    help="seamline: manufacturing execution for garment sewing lines.",
    no_args_is_help=True,
    add_completion=False,
)

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
    "seamline.entrypoints.cli_history",
)


# Commands whose callers count start-up time (`seamline solve` has a time limit, `aql` is asked
# interactively): only their own module is imported, not every feature's.
FAST_COMMANDS = {
    "solve": "seamline.entrypoints.cli_planning",
    "aql": "seamline.entrypoints.cli_quality",
}


def _register_features(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    fast = FAST_COMMANDS.get(argv[0]) if argv else None
    for mod in optional_modules([fast] if fast else FEATURE_CLIS):
        mod.register(app)


_register_features()


# Commands that change the factory's data by hand: each successful run goes to the audit log
# (accounts, tokens and pairing codes log themselves, with more detail, in seamline.auth).
AUDITED_COMMANDS = frozenset({"import", "materials-import", "hours-correct", "seal-hours"})


def main() -> None:
    argv = sys.argv[1:]
    code: object = 0
    try:
        app()
    except SystemExit as e:  # typer ends every run, good or bad, with SystemExit
        code = e.code
        raise
    finally:
        if code in (0, None) and argv and argv[0] in AUDITED_COMMANDS:
            _audit_cli(argv)


def _audit_cli(argv: list[str]) -> None:
    """Record `seamline <command> ...` (run by the OS user) in the audit log of its database."""
    import getpass
    from datetime import UTC, datetime

    from seamline.adapters.db import DEFAULT_URL, make_engine
    from seamline.auth.store import AuthStore

    db = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--db"), None)
    db = db or next((a.split("=", 1)[1] for a in argv if a.startswith("--db=")), DEFAULT_URL)

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
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
