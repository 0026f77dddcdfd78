"""`seamline gateway`: poll Modbus meters, publish motor bursts over MQTT (docs/gateway.md)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("provision-gateway")
    def provision_gateway(
        factory: str,
        name: str,
        passwd_file: Annotated[Path, typer.Option(help="Mosquitto password file")] = Path(
            "/etc/mosquitto/seamline.passwd"
        ),
        acl_file: Annotated[Path, typer.Option(help="Mosquitto ACL file (regenerated)")] = Path(
            "/etc/mosquitto/seamline.acl"
        ),
    ) -> None:
        """Issue a gateway's broker credentials: it may publish to the stations of its factory only.
        Prints them once as JSON; send the broker SIGHUP afterwards."""
        from ..adapters.mosquitto_auth import gateway_user
        from ..adapters.mosquitto_auth import provision_gateway as provision
        from ..domain.events import topic_for

        try:
            user = gateway_user(factory, name)
        except ValueError as e:
            typer.echo(f"错误 / error: {e}", err=True)
            raise typer.Exit(2) from None
        password = provision(factory, name, passwd_file, acl_file)
        typer.echo(json.dumps({"username": user, "password": password, "topic": topic_for(factory, "+")}))

    @app.command("gateway")
    def gateway(
        meter_map: Annotated[Path, typer.Option("--map", help="meter map (TOML): meter -> station")],
        mqtt: Annotated[
            str, typer.Option(help="broker URL with the gateway's own credentials, mqtt://user:pass@host:1883")
        ] = "mqtt://127.0.0.1:1883",
        queue: Annotated[Path, typer.Option(help="local durable queue (SQLite file)")] = Path("gateway-queue.sqlite"),
        seconds: Annotated[float, typer.Option(help="stop after this many seconds (0 = run until Ctrl-C)")] = 0.0,
        password_env: Annotated[
            str, typer.Option(help="take the MQTT password from this environment variable instead of the URL")
        ] = "",
    ) -> None:
        """Poll power/current meters (Modbus TCP/RTU) at the map's rate, detect sewing bursts,
        queue them locally and publish them as sensor-protocol `burst` events."""
        from urllib.parse import quote, urlparse

        from ..adapters.modbus_gateway import Gateway, MapError, Outbox, Publisher, load_map

        try:
            mmap = load_map(meter_map)
        except MapError as e:
            typer.echo(f"错误 / error: {e}", err=True)
            raise typer.Exit(2) from None
        url = mqtt
        if password_env:
            pw = os.environ.get(password_env)
            if pw is None:
                typer.echo(f"错误 / error: 环境变量 {password_env} 未设置 / {password_env} is not set", err=True)
                raise typer.Exit(2)
            u = urlparse(mqtt)
            url = u._replace(netloc=f"{u.username or ''}:{quote(pw, safe='')}@{u.hostname}:{u.port or 1883}").geturl()
        outbox = Outbox(queue)
        try:
            pub = Publisher(outbox, url, client_id=f"seamline-gw-{outbox.gateway_id}")
        except MapError as e:
            typer.echo(f"错误 / error: {e}", err=True)
            raise typer.Exit(2) from None
        gw = Gateway(mmap, outbox)
        typer.echo(
            f"网关启动 / gateway up: {len(mmap.meters)} meters at {mmap.poll_hz:g} Hz, "
            f"queue {queue} ({outbox.size()} waiting)",
            err=True,
        )
        pub.start()
        t0 = time.monotonic()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, gw.stop)
            await gw.run(pub, seconds or None)

        asyncio.run(main())
        # Give the broker a moment to acknowledge what is in flight; the rest stays queued.
        deadline = time.monotonic() + 3
        while outbox.size() and pub.connected.is_set() and time.monotonic() < deadline:
            pub.pump()
            time.sleep(0.05)
        pub.pump()
        pub.stop()
        s = gw.stats
        report = {
            "seconds": round(time.monotonic() - t0, 1),
            "polls": s.polls,
            "bursts": s.bursts,
            "read_errors": s.read_errors,
            "late_ticks": s.late_ticks,
            "published": pub.published,
            "queued": outbox.size(),
        }
        outbox.close()
        print(json.dumps(report), file=sys.stdout, flush=True)
