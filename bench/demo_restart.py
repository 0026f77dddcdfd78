"""Demo restart benchmark: how soon a second `seamline demo` answers after a first one stored events.

`seamline demo --fresh` runs the sample factory for ``--run-s`` seconds (simulator at ``--speed``),
is stopped with Ctrl-C (SIGINT), and started again on the same data folder: the second start
replays the stored events into live state before it answers. Measured in the same run: the first
(fresh) start's time to a healthy API, the baseline of the ratio. Behaviour (numbers move, the
restart resumes) is asserted in tests/integration/test_demo.py; the time lives here.

The last line printed is one JSON object:
{"run_s": .., "pieces_before_restart": .., "first_ready_s": .., "restart_ready_s": .., "restart_to_first_ratio": ..}

Run: `.venv/bin/python bench/demo_restart.py [--run-s 60] [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_quick, free_port, seamline_exe


def start_demo(data_dir: Path, port: int, broker_port: int, speed: float, fresh: bool) -> subprocess.Popen[str]:
    cmd = [seamline_exe(), "demo", "--data-dir", str(data_dir), "--port", str(port)]
    cmd += ["--broker-port", str(broker_port), "--speed", str(speed)] + (["--fresh"] if fresh else [])
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=data_dir.parent)


def ready_after(port: int, proc: subprocess.Popen[str], t0: float, timeout_s: float = 300) -> float:
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"seamline demo exited {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"seamline demo not ready in {timeout_s} s")


def pieces(port: int) -> int:
    r = httpx.get(f"http://127.0.0.1:{port}/api/v1/efficiency", params={"scope": "factory"}, timeout=10).json()
    return int(sum(row["pieces"] for row in r["rows"]))


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    if proc.returncode not in (0, 130):
        raise RuntimeError(f"seamline demo stopped with exit code {proc.returncode}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-s", type=float, default=60.0, help="seconds the first run stores events")
    ap.add_argument("--speed", type=float, default=120.0, help="simulated seconds per real second")
    add_quick(ap)
    args = ap.parse_args()
    if args.quick:
        args.run_s = 10.0

    tmp = Path(tempfile.mkdtemp(prefix="seamline-bench-demo-"))
    data = tmp / "demo"
    port, broker_port = free_port(), free_port()
    try:
        t0 = time.monotonic()
        proc = start_demo(data, port, broker_port, args.speed, fresh=True)
        try:
            first = ready_after(port, proc, t0)
            print(f"first start ready in {first:.2f} s; running {args.run_s:.0f} s ...", file=sys.stderr)
            time.sleep(args.run_s)
            before = pieces(port)
        finally:
            stop(proc)
        t0 = time.monotonic()
        proc = start_demo(data, port, broker_port, args.speed, fresh=False)
        try:
            again = ready_after(port, proc, t0)
            after = pieces(port)
        finally:
            stop(proc)
        print(f"restart ready in {again:.2f} s ({before} pieces before, {after} after)", file=sys.stderr)
        if after < before:
            raise RuntimeError(f"the restart did not resume: {after} pieces < {before}")
        print(
            json.dumps(
                {
                    "run_s": args.run_s,
                    "pieces_before_restart": before,
                    "first_ready_s": round(first, 2),
                    "restart_ready_s": round(again, 2),
                    "restart_to_first_ratio": round(again / first, 2),
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
