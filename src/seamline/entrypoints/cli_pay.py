"""`seamline rates-import`: store a factory's rate card (the tablets' earnings, the pay reports).

`seamline import FOLDER` stores the folder's ``rates.json`` too; this command replaces the card
alone, when the rates change and the layout does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..adapters.db import DEFAULT_URL

DbOpt = Annotated[str, typer.Option("--db", help="database URL (SQLite file or postgresql+psycopg://...)")]


def rates_import(
    path: Annotated[Path, typer.Argument(help="rate card JSON (docs/compliance.md)")],
    factory: Annotated[str, typer.Option("--factory")],
    db: DbOpt = DEFAULT_URL,
) -> None:
    """Store (replace) the factory's rate card; money as strings, checked before anything is stored."""
    from seamline.pay.rates import PayError
    from seamline.pay.store import read_rate_file, save_rate_card

    from .cli_db import open_db, require_tables

    try:
        doc = read_rate_file(path)
    except PayError as e:
        typer.echo(f"错误 / error: {e}", err=True)
        raise typer.Exit(2) from None
    engine = open_db(db)
    require_tables(engine, db, ["rate_cards", "factories"], "工价表", "rate cards")
    from sqlalchemy import select

    from seamline.adapters.tables import factories

    with engine.connect() as conn:
        known = conn.execute(select(factories.c.id).where(factories.c.id == factory)).first() is not None
    if not known:
        typer.echo(f"错误：没有工厂 {factory!r} / error: no factory {factory!r}: import it first", err=True)
        raise typer.Exit(2)
    save_rate_card(engine, factory, doc, str(path))
    typer.echo(f"工价表已保存 / rate card stored: {factory}, {len(doc)} rates")


def register(app: typer.Typer) -> None:
    app.command("rates-import")(rates_import)
