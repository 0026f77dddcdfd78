"""`seamline aql`: the ISO 2859-1 single-sampling plan for a lot, as one JSON object."""

from __future__ import annotations

import json

import typer

from seamline.quality.aql import AqlError, sampling_plan


def aql(
    lot_size: str = typer.Argument(..., metavar="LOT_SIZE", help="Pieces in the lot."),
    level: str = typer.Option("II", "--level", help="Inspection level: S-1..S-4, I, II, III."),
    aql_value: str = typer.Option("2.5", "--aql", help="Acceptance quality limit, e.g. 1.0, 1.5, 2.5, 4.0, 6.5."),
    inspection: str = typer.Option("normal", "--inspection", help="normal, tightened or reduced."),
) -> None:
    """Print the sampling plan: code letter, sample size, accept and reject numbers.

    Where the standard's table points with an arrow to another plan, that plan (and its sample
    size) is printed. When the sample is as large as the lot, "inspect_100_percent" is added.
    """
    try:
        size = int(lot_size.replace(",", "").replace("_", "").strip())
    except ValueError:
        typer.echo(f"error: LOT_SIZE must be a whole number of pieces, got {lot_size!r}", err=True)
        raise typer.Exit(2) from None
    try:
        plan = sampling_plan(size, level, aql_value, inspection)
    except AqlError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(plan.as_dict()))


def register(app: typer.Typer) -> None:
    app.command("aql")(aql)
