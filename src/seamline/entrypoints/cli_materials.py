"""Materials commands: `seamline cut-plan`, `tickets`, `materials-import`, `materials-check`, `small-lots`.

Each reads the factory either from a folder (``--layout examples/factory``: layout, ``bom.csv``
and ``materials.csv``, with the ledger in a throw-away in-memory database) or from the database
(``--db``, after ``seamline import`` and ``seamline materials-import``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..adapters.db import DEFAULT_URL

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ..domain.model import FactoryLayout
    from ..materials.service import Materials

LayoutOpt = Annotated[Path | None, typer.Option("--layout", help="factory folder (CSV) instead of the database")]
DbOpt = Annotated[str, typer.Option("--db", help="database URL (SQLite file or postgresql+psycopg://...)")]
FactoryOpt = Annotated[str | None, typer.Option("--factory", help="factory id (when the database holds several)")]


def _fail(msg: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(code)


def _open(layout_dir: Path | None, db: str, factory: str | None) -> tuple[Engine, FactoryLayout, Materials]:
    """(engine, layout, Materials): from a folder with an in-memory ledger, or from the database."""
    from ..adapters import master_data
    from ..adapters.db import make_engine
    from ..adapters.tables import all_tables
    from ..materials.service import Materials, load_bom, receive_lots_csv

    if layout_dir is not None:
        from ..adapters.layout_files import LayoutFileError, load_factory

        try:
            lay = load_factory(layout_dir)
        except (LayoutFileError, OSError) as e:
            raise _fail(str(e)) from None
        engine: Engine = make_engine("sqlite://")
        all_tables().create_all(engine)
        mat = Materials(engine, lay, load_bom(layout_dir))
        if (layout_dir / "materials.csv").exists():
            receive_lots_csv(mat.store, layout_dir / "materials.csv")
        return engine, lay, mat
    from ..adapters import tables_materials as tm
    from .cli_db import open_db, require_tables

    engine = open_db(db)
    tables = (tm.material_lots, tm.material_moves, tm.cut_bundles, tm.cartons, tm.carton_lines, tm.bom_lines)
    require_tables(engine, db, ["factories", *(t.name for t in tables)], "物料", "materials")
    layouts = master_data.load_layouts(engine)
    if not layouts:
        raise _fail(
            f"数据库 {db} 里没有工厂 / no factory in {db}: run `seamline import DIR --db {db}` first,"
            " or pass --layout DIR"
        )
    if factory is None:
        if len(layouts) != 1:
            raise _fail(f"pass --factory, one of {sorted(layouts)}")
        factory = next(iter(layouts))
    if factory not in layouts:
        raise _fail(f"unknown factory {factory!r}; known: {sorted(layouts)}")
    lay = layouts[factory]
    return engine, lay, Materials.from_db(engine, lay)


def register(app: typer.Typer) -> None:
    @app.command("cut-plan")
    def cut_plan(
        order: Annotated[str, typer.Argument(help="order id, e.g. SO-2611-03")],
        layout: LayoutOpt = None,
        db: DbOpt = DEFAULT_URL,
        factory: FactoryOpt = None,
        max_plies: Annotated[int, typer.Option(min=1, help="highest lay the table and knife allow")] = 60,
        max_marker: Annotated[int, typer.Option(min=1, help="most garments in one marker")] = 6,
        bundle_size: Annotated[int | None, typer.Option(min=1, help="default: the style's bundle size")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
    ) -> None:
        """Lays (colour, plies, marker ratio) and bundles of an order, and the fabric it needs."""
        from ..domain.model import DomainError
        from ..materials.cutting import CutRules

        _, lay, mat = _open(layout, db, factory)
        if order not in lay.orders:
            raise _fail(f"unknown order {order!r}")
        try:
            plan = mat.cut_plan(order, CutRules(max_plies, max_marker, bundle_size))
        except DomainError as e:
            raise _fail(str(e)) from None
        if as_json:
            typer.echo(json.dumps(plan.as_dict(), ensure_ascii=False, indent=1))
            return
        typer.echo(
            f"order {order}: {plan.order.quantity} x {plan.style.code}, {len(plan.lays)} lays, "
            f"{len(plan.bundles)} bundles of up to {plan.bundle_size}"
        )
        for x in plan.lays:
            ratio = " ".join(f"{s}:{n}" for s, n in x.ratio.items())
            typer.echo(f"  lay {x.no:>2}  {x.colour:<14} {x.plies:>3} plies  marker {ratio:<24} = {x.garments}")
        for m, (unit, q) in plan.fabric.items():
            typer.echo(f"  fabric {m}: {q} {unit}")

    @app.command("tickets")
    def tickets(
        order: Annotated[str, typer.Argument(help="order id")],
        out: Annotated[Path, typer.Option("--out", help="PDF file to write")],
        labels: Annotated[bool, typer.Option("--labels", help="60 x 40 mm labels instead of A4 sheets")] = False,
        layout: LayoutOpt = None,
        db: DbOpt = DEFAULT_URL,
        factory: FactoryOpt = None,
        bundle_size: Annotated[int | None, typer.Option(min=1)] = None,
    ) -> None:
        """Bundle tickets of an order as PDF, each with a QR code carrying the bundle id."""
        from ..materials.cutting import CutRules
        from ..materials.tickets import labels_pdf, sheets_pdf, tickets_of

        _, lay, mat = _open(layout, db, factory)
        if order not in lay.orders:
            raise _fail(f"unknown order {order!r}")
        ts = tickets_of(mat.cut_plan(order, CutRules(bundle_size=bundle_size)), lay)
        out.write_bytes(labels_pdf(ts) if labels else sheets_pdf(ts))
        typer.echo(f"{len(ts)} bundle tickets of {order} -> {out}")

    @app.command("materials-import")
    def materials_import(
        folder: Annotated[Path, typer.Argument(help="factory folder with bom.csv and/or materials.csv")],
        db: DbOpt = DEFAULT_URL,
        factory: FactoryOpt = None,
    ) -> None:
        """Store the BOM (bom.csv) and receive the material lots (materials.csv) not yet in the ledger."""
        from ..domain.model import DomainError
        from ..materials.service import load_bom, receive_lots_csv

        _, _lay, mat = _open(None, db, factory)
        try:
            n_bom = mat.store.save_bom(load_bom(folder))
            n_lots = receive_lots_csv(mat.store, folder / "materials.csv") if (folder / "materials.csv").exists() else 0
        except (DomainError, OSError, KeyError) as e:
            raise _fail(str(e)) from None
        typer.echo(f"{n_bom} BOM lines, {n_lots} new material lots")

    @app.command("materials-check")
    def materials_check(
        orders: Annotated[list[str], typer.Argument(help="orders in the sequence they would be loaded")],
        layout: LayoutOpt = None,
        db: DbOpt = DEFAULT_URL,
        factory: FactoryOpt = None,
    ) -> None:
        """Say what is missing to load the orders; exit code 1 when something is short."""
        from ..domain.model import DomainError

        _, lay, mat = _open(layout, db, factory)
        unknown = [o for o in orders if o not in lay.orders]
        if unknown:
            raise _fail(f"unknown order(s) {unknown}")
        try:
            found = mat.check_materials(orders)
        except DomainError as e:
            raise _fail(str(e)) from None
        for s in found:
            typer.echo(s.message)
        if found:
            raise typer.Exit(1)
        typer.echo(f"all materials available for {', '.join(orders)}")

    @app.command("small-lots")
    def small_lots(
        layout: LayoutOpt = None,
        db: DbOpt = DEFAULT_URL,
        factory: FactoryOpt = None,
        max_lot: Annotated[int, typer.Option(min=1, help="most pieces in one lot")] = 500,
        small_below: Annotated[int | None, typer.Option(min=1, help="orders below this are merged")] = None,
    ) -> None:
        """Orders as production lots: large orders split, small orders of one style merged."""
        from ..materials.lots import merge_orders

        _, lay, _ = _open(layout, db, factory)
        for x in merge_orders(lay.orders.values(), max_lot, small_below):
            typer.echo(f"{x.id:<36} {x.style_code:<10} {x.quantity:>5}  due {x.due}  orders {','.join(x.order_ids)}")
