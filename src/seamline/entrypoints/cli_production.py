"""Production set-up commands: broker credentials per station, the ingest user, a broker config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

PasswdOpt = Annotated[Path, typer.Option(help="Mosquitto password file (created if missing)")]
AclOpt = Annotated[Path, typer.Option(help="Mosquitto ACL file (regenerated)")]


def register(app: typer.Typer) -> None:
    @app.command("provision-station")
    def provision_station(
        factory: str,
        station: str,
        passwd_file: PasswdOpt = Path("/etc/mosquitto/seamline.passwd"),
        acl_file: AclOpt = Path("/etc/mosquitto/seamline.acl"),
    ) -> None:
        """Issue a station's broker credentials: it may publish only to its own topic.
        Prints them once as JSON; send the broker SIGHUP afterwards."""
        from ..adapters.mosquitto_auth import ProvisioningError, station_user
        from ..adapters.mosquitto_auth import provision_station as provision
        from ..domain.events import topic_for

        try:
            password = provision(factory, station, passwd_file, acl_file)
        except ProvisioningError as e:
            typer.echo(f"错误 / error: {e}", err=True)
            raise typer.Exit(2) from None
        typer.echo(
            json.dumps(
                {"username": station_user(factory, station), "password": password, "topic": topic_for(factory, station)}
            )
        )

    @app.command("provision-ingest")
    def provision_ingest(
        passwd_file: PasswdOpt = Path("/etc/mosquitto/seamline.passwd"),
        acl_file: AclOpt = Path("/etc/mosquitto/seamline.acl"),
        user: Annotated[
            str,
            typer.Option(help="seamline-ingest, or seamline-ingest-<name>: one per ingest process (scale-out)"),
        ] = "seamline-ingest",
    ) -> None:
        """Issue an ingest process's broker user (reads every station's events).

        The generated broker config makes the user name the MQTT client id, so each process of a
        scale-out group needs its own user (`--user seamline-ingest-2`)."""
        from ..adapters.mosquitto_auth import ProvisioningError
        from ..adapters.mosquitto_auth import provision_ingest as provision

        try:
            password = provision(passwd_file, acl_file, user)
        except ProvisioningError as e:
            typer.echo(f"错误 / error: {e}", err=True)
            raise typer.Exit(2) from None
        typer.echo(json.dumps({"username": user, "password": password}))

    @app.command("broker-config")
    def broker_config(
        port: int = 1883,
        bind: str = "0.0.0.0",
        passwd_file: PasswdOpt = Path("/etc/mosquitto/seamline.passwd"),
        acl_file: AclOpt = Path("/etc/mosquitto/seamline.acl"),
        persistence_dir: Annotated[
            Path | None,
            typer.Option(help="where Mosquitto keeps its database (default: the main mosquitto.conf's)"),
        ] = None,
    ) -> None:
        """Print a Mosquitto configuration: anonymous access off, ACLs on, client ids bound to user
        names, the queue saved to disk on every change, payloads limited to 64 KiB."""
        from ..adapters.mosquitto_auth import broker_config as config

        typer.echo(config(port, passwd_file, acl_file, bind, persistence_dir), nl=False)
