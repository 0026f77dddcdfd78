"""`seamline serve`: ingest (MQTT + HTTP) and the API in one process tree.

Without an MQTT URL an embedded amqtt broker is started on 127.0.0.1:1883, so a trial needs no
broker installed by hand; production points at Mosquitto.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from socket import socket
from types import FrameType
from typing import Any

import uvicorn

from ..adapters.db import DEFAULT_URL
from ..adapters.embedded_broker import start_embedded_broker
from ..adapters.mqtt_receiver import MqttSettings
from ..bootstrap import Runtime, bootstrap
from .api import create_app
from .auth_http import AuthConfig

log = logging.getLogger(__name__)

EMBEDDED_MQTT = "mqtt://127.0.0.1:1883"


@dataclass(frozen=True)
class ServeConfig:
    """What `seamline serve --config FILE` reads. The file is TOML::

    [database]
    url = "postgresql+psycopg://seamline@db/seamline"
    [mqtt]
    url = "mqtt://broker:1883"
    client_id = "seamline-ingest"
    username = "seamline-ingest"
    password_file = "/etc/seamline/mqtt-password"   # or password = "..."
    [http]
    host = "0.0.0.0"
    port = 8000
    [auth]
    mode = "required"          # "open" (no login) is refused on anything but a loopback address
    secure_cookies = true      # behind HTTPS (a reverse proxy): the session cookie is never sent in clear
    """

    db: str = DEFAULT_URL
    mqtt: str | None = None
    client_id: str = "seamline-ingest"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    auth: str = "required"
    secure_cookies: bool = False

    @classmethod
    def from_toml(cls, path: Path) -> ServeConfig:
        doc = tomllib.loads(path.read_text("utf-8"))
        unknown = set(doc) - {"database", "mqtt", "http", "auth"}
        if unknown:
            raise ValueError(f"unknown sections {sorted(unknown)}; expected database, mqtt, http, auth")
        db, mq, http = doc.get("database", {}), doc.get("mqtt", {}), doc.get("http", {})
        auth = doc.get("auth", {})
        password = mq.get("password")
        if "password_file" in mq:
            password = Path(mq["password_file"]).read_text("utf-8").strip()
        return cls(
            db=db.get("url", DEFAULT_URL),
            mqtt=mq.get("url"),
            client_id=mq.get("client_id", "seamline-ingest"),
            mqtt_username=mq.get("username"),
            mqtt_password=password,
            host=http.get("host", "127.0.0.1"),
            port=int(http.get("port", 8000)),
            auth=str(auth.get("mode", "required")),
            secure_cookies=bool(auth.get("secure_cookies", False)),
        )

    def auth_config(self) -> AuthConfig:
        """Open access only where nobody else can reach the server: a loopback address."""
        cfg = AuthConfig(mode=self.auth, secure_cookies=self.secure_cookies)
        if cfg.mode == "open" and self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"auth mode 'open' is refused on {self.host}: it would let anyone on the network in")
        return cfg

    def override(self, **flags: Any) -> ServeConfig:
        return replace(self, **{k: v for k, v in flags.items() if v is not None})


def exit_on_sigterm() -> None:
    """Make SIGTERM (a service manager's stop) end the process like Ctrl-C: cleanly, exit code 0.

    Without this, SIGTERM during start-up kills the process mid-way, and during `serve` uvicorn
    shuts down gracefully but then re-raises SIGTERM with the default handler, which kills the
    process before the runtime is closed: the MQTT receiver child then finds its pipe gone and
    prints tracebacks. With it, the re-raised signal becomes ``SystemExit(0)``, which unwinds
    through every ``finally`` (the runtime is closed, the receiver stopped)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_cleanly)


def _exit_cleanly(_sig: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def start_runtime(
    db_url: str,
    mqtt_url: str | None,
    client_id: str = "seamline-ingest",
    username: str | None = None,
    password: str | None = None,
) -> Runtime:
    rt = bootstrap(db_url)
    try:
        if mqtt_url is None:
            rt.broker = start_embedded_broker("127.0.0.1", 1883)
            mqtt_url = EMBEDDED_MQTT
        rt.start_mqtt(MqttSettings(url=mqtt_url, client_id=client_id, username=username, password=password))
    except BaseException:
        rt.close()
        raise
    return rt


def serve(
    rt: Runtime,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_started: Callable[[], None] | None = None,
    close_runtime: bool = True,
    auth: AuthConfig | None = None,
) -> None:
    """Run the web server until Ctrl-C / SIGTERM, then (unless told not to) close everything.
    ``auth`` defaults to required: only the demo passes an open one."""
    app = create_app(rt, auth or AuthConfig(mode="required"))
    # Pages are computed in threads beside ingest (docs/pages.md); with the default 5 ms GIL switch
    # interval an ingest request waits up to that at every hand-over while a page is computed.
    sys.setswitchinterval(0.001)
    # What start-up built (the window's read models, master data, imports) lives as long as the
    # server: moved out of the collector's generations, a full collection no longer walks it, so
    # its pauses (felt by ingest and pages alike) stay the size of a page's garbage, not of the state.
    gc.collect()
    gc.freeze()
    # A request still running 5 s after Ctrl-C / SIGTERM is cut off rather than holding the shutdown.
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    if on_started is not None:
        orig = server.startup

        async def startup(sockets: list[socket] | None = None) -> None:
            await orig(sockets)
            on_started()

        # uvicorn has no started hook: wrap its startup so the caller hears when the port is bound.
        server.startup = startup  # type: ignore[method-assign]
    try:
        server.run()
    finally:
        if close_runtime:
            rt.close()
