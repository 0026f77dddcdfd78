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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
