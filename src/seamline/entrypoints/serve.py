"""`seamline serve`: ingest (MQTT + HTTP) and the API in one process tree.

Without an MQTT URL an embedded amqtt broker is started on 127.0.0.1:1883, so a trial needs no
broker installed by hand; production points at Mosquitto.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import uvicorn

from ..adapters.embedded_broker import start_embedded_broker
from ..adapters.mqtt_receiver import MqttSettings
from ..bootstrap import Runtime, bootstrap
from .api import create_app

log = logging.getLogger(__name__)

EMBEDDED_MQTT = "mqtt://127.0.0.1:1883"


def start_runtime(db_url: str, mqtt_url: str | None, client_id: str = "seamline-ingest") -> Runtime:
    rt = bootstrap(db_url)
    try:
        if mqtt_url is None:
            rt.broker = start_embedded_broker("127.0.0.1", 1883)
            mqtt_url = EMBEDDED_MQTT
        rt.start_mqtt(MqttSettings(url=mqtt_url, client_id=client_id))
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
) -> None:
    """Run the web server until Ctrl-C / SIGTERM, then (unless told not to) close everything."""
    app = create_app(rt)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if on_started is not None:
        orig = server.startup

        async def startup(sockets=None) -> None:  # type: ignore[no-untyped-def]
            await orig(sockets)
            on_started()

        server.startup = startup  # type: ignore[method-assign]
    try:
        server.run()
    finally:
        if close_runtime:
            rt.close()
