"""`seamline demo` as a user runs it: live numbers move, Ctrl-C stops cleanly, a second run resumes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import free_port


def start_demo(data_dir, port: int, broker_port: int, fresh: bool) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "seamline.entrypoints.cli",
        "demo",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--broker-port",
        str(broker_port),
        "--speed",
        "120",
    ]
    if fresh:
        cmd.append("--fresh")
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_ready(port: int, proc: subprocess.Popen, timeout_s: float) -> float:
    """Wait for /api/v1/health; ``timeout_s`` only guards against a hang (how fast a restart is
    ready is measured by bench/demo_restart.py, not asserted here)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"demo not ready in {timeout_s} s")


def pieces(port: int) -> int:
    r = httpx.get(f"http://127.0.0.1:{port}/api/v1/efficiency", params={"scope": "factory"}, timeout=5).json()
    return sum(row["pieces"] for row in r["rows"])


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)  # hang guard
    return out


@pytest.mark.timeout(400)
def test_demo_numbers_move_and_second_run_resumes(tmp_path):
    port, broker_port = free_port(), free_port()
    proc = start_demo(tmp_path / "demo", port, broker_port, fresh=True)
    try:
        wait_ready(port, proc, 120)
        t0 = time.monotonic()
        first = pieces(port)
        while pieces(port) == first:
            assert time.monotonic() - t0 < 90, "live numbers did not change within 90 s"  # hang guard
            time.sleep(0.25)
        seen = pieces(port)
    finally:
        out = stop(proc)
    assert proc.returncode in (0, 130), out  # 130: the conventional exit after Ctrl-C
    assert "seamline demo stopped." in out

    proc = start_demo(tmp_path / "demo", port, broker_port, fresh=False)
    try:
        wait_ready(port, proc, 120)
        assert pieces(port) >= seen  # resumed from the stored events, not from zero
    finally:
        out = stop(proc)
    assert proc.returncode in (0, 130), out  # 130: the conventional exit after Ctrl-C
