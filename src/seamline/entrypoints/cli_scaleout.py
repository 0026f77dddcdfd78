"""`seamline ingest`: one ingest-only process of a scale-out deployment (docs/deploy.md)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        db: Annotated[str | None, typer.Option("--db", help="database URL (PostgreSQL for several processes)")] = None,
        mqtt: Annotated[str | None, typer.Option(help="broker URL, e.g. mqtt://broker:1883")] = None,
        client_id: Annotated[
            str | None,
            typer.Option(help="MQTT client id of this process's persistent session: stable and distinct per process"),
        ] = None,
        group: Annotated[
            str, typer.Option(help="shared-subscription group: the processes of one group share the load")
        ] = "seamline",
        config: Annotated[
            Path | None, typer.Option(help="the TOML file of `seamline serve --config` (database and mqtt sections)")
        ] = None,
        stats_file: Annotated[
            Path | None, typer.Option(help="write this process's counters here as JSON, every second")
        ] = None,
        per_station_stats: Annotated[
            bool, typer.Option(help="also count received messages per station in the stats file")
        ] = False,
        log_level: str = "INFO",
    ) -> None:
        """Receive over an MQTT 5 shared subscription, validate, deduplicate and store; no API, no live state.

        Run several (each with its own broker user and --client-id, see `provision-ingest --user`)
        against one PostgreSQL, and one
        `seamline serve --no-ingest` for the API and pages.
        """
        from ..adapters.mqtt_receiver import MqttSettings
        from ..bootstrap_scaleout import run_ingest
        from .serve import ServeConfig

        try:
            cfg = ServeConfig.from_toml(config) if config else ServeConfig()
        except (OSError, ValueError) as e:
            typer.echo(f"error: {config}: {e}", err=True)
            raise typer.Exit(2) from None
        cfg = cfg.override(db=db, mqtt=mqtt)
        if cfg.mqtt is None:
            typer.echo("error: --mqtt (or [mqtt] url in --config) is required", err=True)
            raise typer.Exit(2)
        cid = client_id or (cfg.client_id if config and cfg.client_id != "seamline-ingest" else None)
        if cid is None and cfg.mqtt_username and cfg.mqtt_username != "seamline-ingest":
            # The generated broker config uses the user name as the client id anyway: a member
            # with its own user (`provision-ingest --user seamline-ingest-2`) is its own session.
            cid = cfg.mqtt_username
        if cid is None:
            # Two members with one client id throw each other off the broker, and a changing id
            # strands the session's unacknowledged messages: each process needs its own, kept.
            typer.echo(
                f"error: give each ingest process its own stable --client-id, e.g. seamline-ingest-"
                f"{socket.gethostname()}-1",
                err=True,
            )
            raise typer.Exit(2)
        logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = MqttSettings(
            url=cfg.mqtt, client_id=cid, username=cfg.mqtt_username, password=cfg.mqtt_password, share_group=group
        )
        typer.echo(f"seamline ingest: {settings.subscription} on {cfg.mqtt} as {cid}")
        run_ingest(cfg.db, settings, stats_file=stats_file, per_station_stats=per_station_stats)
