"""Core commands: serve, import and export of factory files."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..adapters.db import DEFAULT_URL

if TYPE_CHECKING:
    from ..bootstrap import Runtime

DbOpt = Annotated[str, typer.Option("--db", help="database URL (SQLite file or postgresql+psycopg://...)")]


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        db: Annotated[str | None, typer.Option("--db", help=f"database URL (default {DEFAULT_URL})")] = None,
        mqtt: Annotated[
            str | None, typer.Option(help="broker URL, e.g. mqtt://127.0.0.1:1883; default: start an embedded one")
        ] = None,
        host: Annotated[str | None, typer.Option(help="default 127.0.0.1")] = None,
        port: Annotated[int | None, typer.Option(help="default 8000")] = None,
        client_id: Annotated[
            str | None, typer.Option(help="MQTT client id of the persistent ingest session (default seamline-ingest)")
        ] = None,
        config: Annotated[
            Path | None, typer.Option(help="TOML file for a real deployment (see docs/deploy.md); flags win over it")
        ] = None,
        log_level: str = "INFO",
        auth: Annotated[
            str | None,
            typer.Option(help="required (default: log in, tokens, roles) or open (no login; loopback only)"),
        ] = None,
        no_ingest: Annotated[
            bool,
            typer.Option(
                "--no-ingest",
                help="scale-out read side: no MQTT; live state from the event store, which `seamline ingest`"
                " processes fill (docs/deploy.md)",
            ),
        ] = False,
    ) -> None:
        """Run ingest (MQTT and HTTP) and the API."""
        from .serve import ServeConfig, exit_on_sigterm, start_runtime
        from .serve import serve as run

        exit_on_sigterm()

        try:
            cfg = ServeConfig.from_toml(config) if config else ServeConfig()
        except (OSError, ValueError) as e:
            typer.echo(f"error: {config}: {e}", err=True)
            raise typer.Exit(2) from None
        cfg = cfg.override(db=db, mqtt=mqtt, host=host, port=port, client_id=client_id, auth=auth)
        try:
            auth_cfg = cfg.auth_config()
        except ValueError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        rt: Runtime
        if no_ingest:
            from ..bootstrap_scaleout import bootstrap_read

            rt = bootstrap_read(cfg.db)
        else:
            rt = start_runtime(cfg.db, cfg.mqtt, cfg.client_id, cfg.mqtt_username, cfg.mqtt_password)
        typer.echo(
            f"seamline: API on http://{cfg.host}:{cfg.port}  MQTT {rt.receiver.settings.url if rt.receiver else '-'}"
        )
        if auth_cfg.mode == "required" and not _has_users(rt):
            typer.echo("seamline: no user accounts yet: create an admin with `seamline users add NAME --role admin`")
        run(rt, cfg.host, cfg.port, auth=auth_cfg)

    @app.command()
    def demo(
        data_dir: Annotated[Path, typer.Option(help="where the demo keeps its database")] = Path("data/demo"),
        factory: Annotated[Path | None, typer.Option(help="factory folder or .xlsx; default examples/factory")] = None,
        host: str = "127.0.0.1",
        port: int = 8000,
        broker_port: Annotated[int, typer.Option(help="port of the embedded MQTT broker")] = 1883,
        mqtt: Annotated[str | None, typer.Option(help="use this broker instead of the embedded one")] = None,
        speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 60.0,
        seed: int = 1,
        fresh: Annotated[bool, typer.Option("--fresh", help="delete the demo's data and start over")] = False,
        motor_lines: Annotated[
            str,
            typer.Option(help="lines on raw motor bursts + tablet scans, comma-separated; 'first' or '' for none"),
        ] = "first",
    ) -> None:
        """Run everything on the sample factory: embedded broker, ingest, simulator and web app."""
        from .demo import DemoOptions, run_demo
        from .serve import exit_on_sigterm

        exit_on_sigterm()
        logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        lines = None if motor_lines == "first" else tuple(x.strip() for x in motor_lines.split(",") if x.strip())
        run_demo(DemoOptions(data_dir, factory, host, port, broker_port, mqtt, speed, seed, fresh, lines))

    @app.command("import")
    def import_(
        path: Annotated[Path, typer.Argument(help="a factory folder of CSV files or an .xlsx workbook")],
        db: DbOpt = DEFAULT_URL,
    ) -> None:
        """Load a factory (layout, workers, styles, orders) from CSV or Excel into the database."""
        from ..adapters import master_data, migrate
        from ..adapters.db import make_engine
        from ..adapters.layout_files import LayoutFileError, load_factory

        try:
            layout = load_factory(path)
        except (LayoutFileError, FileNotFoundError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        from ..pay.rates import PayError
        from ..pay.store import RATES_FILE, read_rate_file, save_rate_card

        rates = path / RATES_FILE if path.is_dir() else None
        try:  # checked before anything is stored: a bad card stops the import, not half of it
            card = read_rate_file(rates) if rates is not None and rates.is_file() else None
        except PayError as e:
            typer.echo(f"错误 / error: {e}", err=True)
            raise typer.Exit(2) from None
        engine = make_engine(db)
        migrate.upgrade(engine)
        master_data.save_layout(engine, layout)
        typer.echo(
            f"imported factory {layout.factory.id}: {len(layout.lines)} lines, {len(layout.stations)} stations, "
            f"{len(layout.workers)} workers, {len(layout.styles)} styles, {len(layout.orders)} orders, "
            f"{len(layout.bundles)} bundles"
        )
        if card is not None:
            save_rate_card(engine, layout.factory.id, card, str(rates))
            typer.echo(f"工价表 / rate card: {len(card)} rates from {rates}")

    @app.command()
    def export(
        factory: str,
        path: Annotated[Path, typer.Argument(help="a folder (CSV files) or a file ending in .xlsx")],
        db: DbOpt = DEFAULT_URL,
    ) -> None:
        """Write a factory's master data to CSV files or an Excel workbook."""
        from ..adapters import master_data
        from ..adapters.layout_files import save_factory
        from .cli_db import open_db, require_tables

        engine = open_db(db)
        require_tables(engine, db, ["factories", "stations", "workers"], "工厂主数据", "factory master data")
        layouts = master_data.load_layouts(engine)
        if factory not in layouts:
            typer.echo(f"error: unknown factory {factory!r}; known: {sorted(layouts)}", err=True)
            raise typer.Exit(2)
        save_factory(layouts[factory], path)
        typer.echo(f"wrote {path}")


def _has_users(rt: Runtime) -> bool:
    from ..auth.store import AuthStore

    return AuthStore(rt.engine).count_users() > 0
