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
        from ..adapters.mosquitto_auth import provision_station as provision
        from ..adapters.mosquitto_auth import station_user
        from ..domain.events import topic_for

        password = provision(factory, station, passwd_file, acl_file)
        typer.echo(
            json.dumps(
                {"username": station_user(factory, station), "password": password, "topic": topic_for(factory, station)}
            )
        )

    @app.command("provision-ingest")
    def provision_ingest(
        passwd_file: PasswdOpt = Path("/etc/mosquitto/seamline.passwd"),
        acl_file: AclOpt = Path("/etc/mosquitto/seamline.acl"),
    ) -> None:
        """Issue the ingest service's broker user (reads every station's events)."""
        from ..adapters.mosquitto_auth import INGEST_USER
        from ..adapters.mosquitto_auth import provision_ingest as provision

        typer.echo(json.dumps({"username": INGEST_USER, "password": provision(passwd_file, acl_file)}))

    @app.command("broker-config")
    def broker_config(
        port: int = 1883,
        bind: str = "0.0.0.0",
        passwd_file: PasswdOpt = Path("/etc/mosquitto/seamline.passwd"),
        acl_file: AclOpt = Path("/etc/mosquitto/seamline.acl"),
    ) -> None:
        """Print a Mosquitto configuration with anonymous access off and the ACLs on."""
        from ..adapters.mosquitto_auth import broker_config as config

        typer.echo(config(port, passwd_file, acl_file, bind), nl=False)
