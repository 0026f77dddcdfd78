"""`seamline skills`: the skill matrix from the event store, printed and saved as a snapshot."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..adapters.db import DEFAULT_URL

DbOpt = Annotated[str, typer.Option("--db", help="database URL (SQLite file or postgresql+psycopg://...)")]


def skills(
    db: DbOpt = DEFAULT_URL,
    factory: Annotated[str | None, typer.Option("--factory", help="factory id (needed if several)")] = None,
    line: Annotated[str | None, typer.Option("--line", help="only this line's workers")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the matrix as JSON")] = False,
    save: Annotated[bool, typer.Option("--save/--no-save", help="write the learning_skills snapshot")] = True,
) -> None:
    """Replay the event store, estimate every worker × operation, print the matrix."""
    from ..bootstrap import bootstrap
    from ..learning.matrix import skill_matrix
    from ..learning.projection import LearningProjection
    from .cli_db import require_db

    require_db(db)
    rt = bootstrap(db, start_worker=False)
    try:
        proj = rt.projection("learning")
        if not isinstance(proj, LearningProjection):
            typer.echo("error: the learning projection is not available", err=True)
            raise typer.Exit(1)
        if factory is None:
            if len(rt.layouts) != 1:
                typer.echo(f"error: pass --factory, one of {sorted(rt.layouts)}", err=True)
                raise typer.Exit(2)
            factory = next(iter(rt.layouts))
        lay = rt.layouts.get(factory)
        if lay is None:
            typer.echo(f"error: unknown factory {factory!r}; known: {sorted(rt.layouts)}", err=True)
            raise typer.Exit(2)
        ests = proj.estimates(factory, line)
        if save:
            from ..learning.projection import SnapshotError

            try:
                proj.snapshot()
            except SnapshotError as err:
                typer.echo(f"warning: {err}", err=True)
        if as_json:
            typer.echo(json.dumps(skill_matrix(lay, ests, line), ensure_ascii=False))
            return
        typer.echo(
            f"{'worker':<10}{'style/op':<18}{'pieces':>7}{'eff %':>8}{'95 % interval':>16}"
            f"{'steady %':>10}  {'trend':<9}{'conf.':<7}"
        )
        for e in ests:
            typer.echo(
                f"{e.worker:<10}{e.style + '/' + e.op:<18}{e.n_pieces:>7}{e.efficiency * 100:>8.1f}"
                f"{f'{e.lo * 100:.0f}-{e.hi * 100:.0f}':>16}{e.steady_state * 100:>10.1f}  "
                f"{e.trend:<9}{e.confidence:<7}"
            )
    finally:
        rt.close()


def register(app: typer.Typer) -> None:
    app.command("skills")(skills)
