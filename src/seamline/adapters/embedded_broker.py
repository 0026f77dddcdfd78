"""The embedded MQTT broker (amqtt) for the demo and single-machine trials.

It runs in a child process so that its asyncio loop does not compete with ingest for the GIL.
Production uses Mosquitto (docs/deploy.md); this is for "no server to install by hand".
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import socket
import time
from multiprocessing.process import BaseProcess


def _broker_main(host: str, port: int) -> None:
    from amqtt.broker import Broker

    logging.basicConfig(level=logging.WARNING)
    for name in ("amqtt", "transitions"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }

    async def run() -> None:
        broker = Broker(config)
        await broker.start()
        while True:
            await asyncio.sleep(3600)

    asyncio.run(run())


def wait_for_port(host: str, port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answers on {host}:{port} after {timeout_s} s")


def port_in_use(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def start_embedded_broker(host: str = "127.0.0.1", port: int = 1883) -> BaseProcess:
    """Start amqtt in a child process and wait until it accepts connections."""
    if port_in_use(host, port):
        raise RuntimeError(
            f"port {host}:{port} is taken: another broker runs there; pass --mqtt mqtt://{host}:{port} to use it"
        )
    proc = mp.get_context("spawn").Process(target=_broker_main, args=(host, port), daemon=True, name="amqtt")
    proc.start()
    wait_for_port(host, port)
    return proc
