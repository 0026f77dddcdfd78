"""A current trace with known bursts, served by a real pymodbus server, and matching by time."""

from __future__ import annotations

import os
import pty
import select
import threading
import tty
from pathlib import Path

import numpy as np

from seamline.sim.meters import TraceServer
from seamline.sim.motor import BurstTruth, current_trace, op_motor_profile, rng_for, sew_bundle
from tests.conftest import free_port

HZ = 10.0


def traces(n_meters: int, seconds: float, seed: int) -> tuple[dict[int, np.ndarray], dict[int, list[BurstTruth]]]:
    out, truth = {}, {}
    for u in range(1, n_meters + 1):
        prof = op_motor_profile(seed, "TEE-BASIC", f"T0{u % 9 + 1}", 0.15 + 0.05 * (u % 4), "SNLS")
        r = rng_for(seed, "meter", u)
        bursts: list[BurstTruth] = []
        t = 0.5
        while t < seconds:
            run = sew_bundle(prof, 5, t, 1.0, r)
            bursts += [b for b in run.bursts if b.start_s + b.run_s < seconds - 1.0]
            t = run.end_s
        out[u] = current_trace(bursts, seconds, HZ, r)
        truth[u] = bursts
    return out, truth


def serve(tr: dict[int, np.ndarray], serial: str | None = None) -> TraceServer:
    return TraceServer(tr, HZ, free_port(), serial=serial).start()


class PtyLink:
    """Two pseudo-terminals joined by a relay thread: an RS-485 bus in software. The meter server
    opens one end, the gateway the other, and Modbus RTU frames pass byte for byte."""

    def __init__(self) -> None:
        self.ma, self.sa = pty.openpty()
        self.mb, self.sb = pty.openpty()
        for fd in (self.sa, self.sb):
            tty.setraw(fd)
        self.server_port, self.gateway_port = os.ttyname(self.sa), os.ttyname(self.sb)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._relay, daemon=True)
        self._t.start()

    def _relay(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.ma, self.mb], [], [], 0.2)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                os.write(self.mb if fd == self.ma else self.ma, data)

    def close(self) -> None:
        self._stop.set()
        self._t.join(2)
        for fd in (self.ma, self.sa, self.mb, self.sb):
            os.close(fd)


def write_map(path: Path, port: int, units: list[int], poll_hz: float = 5.0, serial: str | None = None) -> Path:
    link = f'serial = "{serial}"\nbaudrate = 9600\n' if serial else f'host = "127.0.0.1"\nport = {port}\n'
    lines = [f'[gateway]\nfactory = "F1"\ntz = "Asia/Shanghai"\npoll_hz = {poll_hz}\n{link}']
    lines += [f'[[meter]]\nstation = "S{u:02d}"\nunit = {u}\nregister = 0\nscale = 0.01\n' for u in units]
    path.write_text("\n".join(lines))
    return path


def f1(found: list[tuple[float, float]], truth: list[BurstTruth], tol_s: float = 0.45) -> tuple[float, int, int, int]:
    """Match detected (start, run_s) to true bursts by start time within ``tol_s``; (F1, tp, fp, fn)."""
    ts = sorted(b.start_s for b in truth)
    used = [False] * len(ts)
    tp = 0
    for s, _run in sorted(found):
        best, bj = tol_s, -1
        for j, t in enumerate(ts):
            if not used[j] and abs(t - s) <= best:
                best, bj = abs(t - s), j
        if bj >= 0:
            used[bj] = True
            tp += 1
    fp, fn = len(found) - tp, len(ts) - tp
    return (2 * tp / (2 * tp + fp + fn) if tp else 0.0), tp, fp, fn
