"""SIGTERM — what systemd, Docker and Kubernetes send to stop a service — ends `seamline serve`,
`seamline demo` and `seamline ingest` within 10 s, cleanly (issue #18 item 11).

Before: uvicorn shut down, then re-raised SIGTERM with the default handler, which killed `serve`
before it closed its runtime; the MQTT receiver child then printed tracebacks about a broken pipe.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

SEAMLINE = str(Path(sys.executable).parent / "seamline")
REPO = Path(__file__).resolve().parents[2]


def _wait_health(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode(errors="replace")[-3000:]
        try:
            h = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).json()
            if h.get("mqtt") == "connected":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("did not come up")


def _wait_stderr(log: Path, text: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared")


def _terminate(proc: subprocess.Popen[bytes], err: Path) -> None:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise AssertionError(f"still running 10 s after SIGTERM: {err.read_text(errors='replace')[-2000:]}") from None
    took = time.monotonic() - t0
    text = err.read_text(errors="replace")
    assert "Traceback" not in text, text[-4000:]
    assert rc == 0, (rc, text[-2000:])
    assert took < 10


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "demo", "ingest"])
def test_sigterm_stops_within_ten_seconds_without_a_traceback(command: str, mosquitto: str, tmp_path: Path) -> None:
    err = tmp_path / "stderr.log"
    port = free_port()
    db = f"sqlite:///{tmp_path}/s.db"
    args = {
        "serve": ["serve", "--db", db, "--mqtt", mosquitto, "--port", str(port), "--client-id", "sigterm-serve"],
        "demo": [
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
            "--broker-port",
            str(free_port()),
            "--speed",
            "600",
        ],
        "ingest": ["ingest", "--db", db, "--mqtt", mosquitto, "--client-id", "sigterm-ingest"],
    }[command]
    with err.open("wb") as f:
        proc = subprocess.Popen([SEAMLINE, *args], stdout=subprocess.DEVNULL, stderr=f, cwd=REPO)
    try:
        if command == "ingest":
            _wait_stderr(err, "MQTT connected", proc)
        else:
            _wait_health(port, proc)
        time.sleep(0.5)  # working, not just started
        _terminate(proc, err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
