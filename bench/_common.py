"""Shared set-up of the benchmarks: the installed `seamline` command, Mosquitto, a logged-in server.

Benchmarks start seamline the way README.md and docs/access.md tell a user to: `seamline import`,
an API token from `seamline token`, then `seamline serve` (login required, the default), and read
the API with that token. A helper module, not a benchmark: `make bench` skips files named `_*`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def add_quick(ap: argparse.ArgumentParser) -> None:
    """``--quick``: the smallest size (`make bench-quick`), same JSON shape; also SEAMLINE_BENCH_QUICK=1."""
    ap.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("SEAMLINE_BENCH_QUICK", "") not in ("", "0"),
        help="smallest size, a smoke run of a few seconds to a minute (same JSON shape)",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seamline_exe() -> str:
    """The installed `seamline` of this interpreter's environment (.venv/bin/seamline)."""
    exe = Path(sys.executable).parent / "seamline"
    if exe.exists():
        return str(exe)
    found = shutil.which("seamline")
    if found is None:
        raise RuntimeError("the `seamline` command is not installed: run `make venv`")
    return found


def seamline(*args: str, cwd: Path | None = None) -> str:
    """Run `seamline ARGS...`; its stdout, or an error with its stderr."""
    out = subprocess.run([seamline_exe(), *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"seamline {' '.join(args)} exited {out.returncode}: {out.stderr[-2000:]}")
    return out.stdout


def start_mosquitto(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 0\nmax_queued_bytes 0\n"
    )
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("mosquitto did not start")


def stop(proc: subprocess.Popen[Any] | None, timeout_s: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def prepare_db(db: str, factory: Path | None = None) -> str:
    """`seamline import FACTORY` then `seamline token bench --role admin`: the token's secret."""
    seamline("import", str(factory or REPO / "examples" / "factory"), "--db", db)
    return str(json.loads(seamline("token", "bench", "--role", "admin", "--db", db))["token"])


@dataclass
class Server:
    """A running `seamline serve` and a client logged in with an API token."""

    proc: subprocess.Popen[bytes]
    url: str
    token: str
    log: Path
    _log_file: IO[str] | None = field(default=None, repr=False)

    def client(self, timeout_s: float = 10) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout_s, headers={"Authorization": f"Bearer {self.token}"})

    def close(self) -> None:
        stop(self.proc)
        if self._log_file is not None:
            self._log_file.close()


def start_serve(tmp: Path, db: str, token: str, *args: str, ready_s: float = 120, mqtt: bool = True) -> Server:
    """`seamline serve --db DB --port P ARGS` (login required), ready when /api/v1/health says so
    (and, with ``mqtt``, the broker is connected); the token is checked against an admin route."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    log_file = open(log, "w")  # noqa: SIM115 - the server writes to it until close()
    proc = subprocess.Popen(
        [seamline_exe(), "serve", "--db", db, "--port", str(port), "--log-level", "WARNING", *args],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    srv = Server(proc, f"http://127.0.0.1:{port}", token, log, log_file)
    deadline = time.monotonic() + ready_s
    with srv.client() as c:
        while True:
            if proc.poll() is not None:
                srv.close()
                raise RuntimeError(f"seamline serve exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                h = c.get("/api/v1/health").json()
                if not mqtt or h.get("mqtt") == "connected":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                srv.close()
                raise RuntimeError(f"seamline serve not ready in {ready_s} s: see {log}")
            time.sleep(0.1)
        r = c.get("/api/v1/ingest/status")
        if r.status_code != 200:
            srv.close()
            raise RuntimeError(f"the bench token was refused: {r.status_code} {r.text[:300]}")
    return srv
