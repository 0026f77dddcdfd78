from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seamline.domain.model import FactoryLayout
from seamline.sim import SimConfig, SimResult, simulate

from .layouts import MONDAY_8, small_factory

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@pytest.fixture(scope="session")
def layout() -> FactoryLayout:
    return small_factory()


@pytest.fixture(scope="session")
def day_result(layout: FactoryLayout) -> SimResult:
    """A full shift (08:00-17:00 with breaks) of two lines, with a style change on both."""
    return simulate(layout, SimConfig(seed=7, start=MONDAY_8, hours=9.5))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def broker(tmp_path: Path) -> Iterator[str]:
    """A private Mosquitto on a free port; yields its mqtt:// URL."""
    if not Path(MOSQUITTO).exists():
        pytest.fail(f"mosquitto not found at {MOSQUITTO}")
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                proc.kill()
                pytest.fail(f"mosquitto did not start: {err}")
            time.sleep(0.05)
    try:
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
