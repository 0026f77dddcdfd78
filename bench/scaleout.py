"""Scale-out benchmark (issue 11): a big factory through Mosquitto into 1 or 2 `seamline ingest`
processes (MQTT 5 shared subscription) writing one PostgreSQL.

Everything is started here: a throwaway PostgreSQL cluster (initdb in a temp dir; as the
`postgres` user when run as root), Mosquitto, and the publishers. Every station logs in, then sends
one piece event per second (``--rate``), each stamped with its publish time; the publishers are
several processes writing pre-built MQTT packets (bench/mqtt_load.py), paced per 50 ms tick.

Phases, in one run:
1. broker-only ceiling: bare paho subscribers (as many as ingest processes, in the same shared
   group shape) receive the same offered load for ``--baseline-s`` seconds: the rate Python MQTT
   clients alone can take on this machine, the baseline of the ratio;
2. ingest: ``--processes`` `seamline ingest` processes for ``--minutes``; the sustained rate is the
   committed rate (sum of the processes' counters) between 10 % and 100 % of the publishing time;
   after publishing the backlog drains (at most ``--drain-s``);
3. optionally (``--live``) the read side tails the store meanwhile and folds everything into
   live state, in a process of its own (what `seamline serve --no-ingest` does).

Latency: publish → commit, sampled by the ingest processes (every 50th message: commit time minus
the event's timestamp, which is the publish time); → visible in live state, sampled the same way by
the read side. Peak RSS (VmHWM) of every ingest process and its MQTT receiver child, and of the
read side.

The last line printed is one JSON object. Run: `.venv/bin/python bench/scaleout.py` (3,000 stations,
1 minute: the `make bench` size; `--quick`: 300 stations, 15 s); the 20,000-station runs of
docs/deploy.md: `--stations 20000 --minutes 10`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_quick, free_port, seamline_exe, start_mosquitto
from mqtt_load import RawPublisher

FACTORY = "big"
TICK_S = 0.05


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- services --------------------------------------------------------------------------------------
def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def start_postgres(tmp: Path, durable: bool) -> tuple[str, callable]:  # type: ignore[valid-type]
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (scripts/install-system-deps.sh)")
    bindir = found[-1].parent
    d = tmp / "pg"
    d.mkdir()
    d.chmod(0o777)
    if os.geteuid() == 0:
        shutil.chown(d, "postgres")
    data = d / "data"
    port = free_port()
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "seamline", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c max_connections=50 -c shared_buffers=512MB"
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off"
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(d / "log"), "start"]),
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), capture_output=True
        )

    import psycopg

    with psycopg.connect(f"postgresql://seamline@127.0.0.1:{port}/postgres", autocommit=True) as c:
        c.execute("CREATE DATABASE bench")
    return f"postgresql+psycopg://seamline@127.0.0.1:{port}/bench", stop


def rss_peak_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_pids() -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                if (d / "comm").read_text().strip() == "postgres":
                    out.append(int(d.name))
    return out


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# --- the factory -----------------------------------------------------------------------------------
def build_layout(n_stations: int):  # type: ignore[no-untyped-def]
    from seamline.domain.cutting import cut_order
    from seamline.domain.model import (
        Factory,
        FactoryLayout,
        Line,
        Operation,
        Order,
        ShiftCalendar,
        Station,
        Style,
        Worker,
    )

    lay = FactoryLayout(factory=Factory(id=FACTORY, name="Big", timezone="UTC"))
    lay.calendars["day"] = ShiftCalendar(
        id="day", timezone="UTC", shift_start=dtime(0, 0), shift_end=dtime(23, 59), breaks=()
    )
    style = Style(
        code="TEE",
        name_zh="T恤",
        name_en="Tee",
        operations=tuple(Operation(f"OP{i}", f"工序{i}", f"op {i}", 0.5, "SNLS") for i in range(1, 11)),
        bundle_size=50,
    )
    lay.styles["TEE"] = style
    order = Order(id="O1", customer="ACME", style_code="TEE", quantities={("M", "Blue"): 50_000}, due=date(2027, 1, 1))
    lay.orders["O1"] = order
    for b in cut_order(order, style):
        lay.bundles[b.id] = b
    per_line = 50
    for i in range(n_stations):
        line = f"L{i // per_line:03d}"
        if line not in lay.lines:
            lay.lines[line] = Line(id=line, factory_id=FACTORY, name=line, calendar_id="day", target_efficiency_pct=60)
        sid = f"S{i:05d}"
        lay.stations[sid] = Station(sid, FACTORY, line, f"SEN{i:05d}", "SNLS", i % per_line + 1)
        lay.workers[f"W{i:05d}"] = Worker(f"W{i:05d}", f"worker {i}", line, {"SNLS": 3})
    return lay


# --- publishers ------------------------------------------------------------------------------------
def _publisher(
    port: int,
    first: int,
    last: int,
    rate: float,
    seconds: float,
    run: str,
    t_start: float,
    bundles: list[str],
    sent,
    done,
) -> None:  # type: ignore[no-untyped-def]
    """Stations [first, last): login, then `rate` pieces per station per second, paced per tick."""
    pub = RawPublisher("127.0.0.1", port, f"bench-pub-{run}-{first}")
    stations = list(range(first, last))
    topics = [f"seamline/v1/{FACTORY}/stations/S{i:05d}/events".encode() for i in stations]
    seq = [0] * len(stations)
    pid = 0

    def packet(k: int, body: bytes) -> bytes:
        nonlocal pid
        pid = pid % 65535 + 1
        t = topics[k]
        b = len(t).to_bytes(2, "big") + t + pid.to_bytes(2, "big") + body
        n = len(b)
        head = bytearray(b"\x32")
        while True:
            x = n % 128
            n //= 128
            head.append(x | 0x80 if n else x)
            if not n:
                break
        return bytes(head) + b

    while time.time() < t_start:
        time.sleep(0.005)
    now = datetime.now(UTC).isoformat()
    logins = [
        packet(k, f'{{"id":"{run}-{i}-0","seq":0,"ts":"{now}","type":"login","worker":"W{i:05d}"}}'.encode())
        for k, i in enumerate(stations)
    ]
    pub.sock.sendall(b"".join(logins))
    n_sent = len(logins)
    sent.value = n_sent
    per_tick = rate * len(stations) * TICK_S
    carry = 0.0
    cursor = 0
    t0 = time.perf_counter()
    tick = 0
    nb = len(bundles)
    while True:
        tick += 1
        due = t0 + tick * TICK_S
        if due - t0 > seconds:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        carry += per_tick
        n = int(carry)
        carry -= n
        ts = datetime.now(UTC).isoformat()
        out = []
        for _ in range(n):
            k = cursor
            cursor = (cursor + 1) % len(stations)
            seq[k] += 1
            s = seq[k]
            i = stations[k]
            out.append(
                packet(
                    k,
                    (
                        f'{{"id":"{run}-{i}-{s}","seq":{s},"ts":"{ts}","type":"piece",'
                        f'"bundle":"{bundles[(i + s) % nb]}","op":"OP{s % 10 + 1}"}}'
                    ).encode(),
                )
            )
        pub.sock.sendall(b"".join(out))
        n_sent += n
        sent.value = n_sent
    deadline = time.monotonic() + 120
    while pub.acked < n_sent and time.monotonic() < deadline:
        time.sleep(0.05)
    done.value = time.time()
    pub.close()


def run_publishers(
    port: int, n_stations: int, rate: float, seconds: float, run: str, n_pub: int, bundles: list[str]
) -> tuple[list, list, float]:  # type: ignore[type-arg]
    ctx = mp.get_context("spawn")
    t_start = time.time() + 1.5  # all start together, after their imports
    procs, sents, dones = [], [], []
    step = -(-n_stations // n_pub)
    for j in range(n_pub):
        a, b = j * step, min(n_stations, (j + 1) * step)
        sent, done = ctx.RawValue("q", 0), ctx.RawValue("d", 0.0)
        p = ctx.Process(target=_publisher, args=(port, a, b, rate, seconds, run, t_start, bundles, sent, done))
        p.start()
        p.refs = (sent, done)  # type: ignore[attr-defined]  # keep the shared values alive with the process
        procs.append(p)
        sents.append(sent)
        dones.append(done)
    return procs, sents, t_start


# --- phase 1: bare subscribers ---------------------------------------------------------------------
def _bare(port: int, idx: int, group: str, count, ready) -> None:  # type: ignore[no-untyped-def]
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{idx}", protocol=mqtt.MQTTv5)
    n = 0

    def on_connect(cl, _u, _f, _rc, _p):  # type: ignore[no-untyped-def]
        cl.subscribe(f"$share/{group}/seamline/v1/+/stations/+/events", qos=1)

    def on_subscribe(*_a):  # type: ignore[no-untyped-def]
        ready.set()

    def on_message(_c, _u, _m):  # type: ignore[no-untyped-def]
        nonlocal n
        n += 1
        if n % 500 == 0:
            count.value = n

    c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
    c.connect("127.0.0.1", port)
    signal.signal(signal.SIGTERM, lambda *_a: c.disconnect())
    c.loop_forever()


def phase_baseline(port: int, args, bundles: list[str]) -> dict:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    counts, procs = [], []
    for i in range(args.processes):
        count, ready = ctx.RawValue("q", 0), ctx.Event()
        p = ctx.Process(target=_bare, args=(port, i, "bare", count, ready), daemon=True)
        p.start()
        if not ready.wait(30):
            raise RuntimeError("bare subscriber did not subscribe")
        counts.append(count)
        procs.append(p)
    pubs, sents, t_start = run_publishers(
        port, args.stations, args.rate, args.baseline_s, "base", args.publishers, bundles
    )
    series = sample_series(
        lambda: sum(c.value for c in counts), lambda: sum(s.value for s in sents), t_start, args.baseline_s
    )
    for p in pubs:
        p.join(150)
    time.sleep(1.0)
    received = sum(c.value for c in counts)
    offered = sum(s.value for s in sents)
    for p in procs:
        p.terminate()
        p.join(5)
    return {"received": received, "offered": offered, **window_rates(series, args.baseline_s)}


def sample_series(
    done_count, offered_count, t_start: float, seconds: float, every_s: float = 1.0, on_sample=None
) -> list[tuple[float, int, int]]:  # type: ignore[no-untyped-def]
    """(seconds since start, done, offered) every second until the publishing ends."""
    out = []
    while time.time() < t_start:
        time.sleep(0.01)
    while True:
        t = time.time() - t_start
        out.append((t, done_count(), offered_count()))
        if on_sample is not None:
            on_sample(t)
        if t > seconds + 0.5:
            return out
        time.sleep(every_s)


def percentiles(samples: list, t_from: float, t_to: float) -> dict:  # type: ignore[type-arg]
    """p50/p99/max in ms of the lags of events stamped in [t_from, t_to] (epoch seconds)."""
    xs = sorted(lag for t, lag in samples if t_from <= t <= t_to)
    n = len(xs)
    if not n:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {
        "n": n,
        "p50": round(xs[n // 2] * 1000, 1),
        "p99": round(xs[int(0.99 * (n - 1))] * 1000, 1),
        "max": round(xs[-1] * 1000, 1),
    }


def window_rates(series: list[tuple[float, int, int]], seconds: float) -> dict:
    """Rates between 10 % and 100 % of the publishing time (steady state, no start-up)."""
    a = next(x for x in series if x[0] >= 0.1 * seconds)
    b = [x for x in series if x[0] <= seconds][-1]
    dt = b[0] - a[0]
    return {"per_s": round((b[1] - a[1]) / dt), "offered_per_s": round((b[2] - a[2]) / dt)}


# --- phase 3: the read side ------------------------------------------------------------------------
def _reader(db: str, out: str, stop) -> None:  # type: ignore[no-untyped-def]
    """`serve --no-ingest` without the web server: tail the store into live state, sample latency."""
    from seamline.bootstrap_scaleout import bootstrap_read

    lags: list[tuple[float, float]] = []
    k = 0

    def on_applied(evs) -> None:  # type: ignore[no-untyped-def]
        nonlocal k
        now = time.time()
        for ev in evs[::50]:
            t = ev.ts.timestamp()
            lags.append((t, now - t))
        k += len(evs)

    rt = bootstrap_read(db, start=False)
    assert rt.tailer is not None
    rt.tailer.on_applied = on_applied
    rt.tailer.start()
    while not stop.wait(1.0):
        Path(out).write_text(json.dumps({"applied": k, "pid": os.getpid()}))
    rt.tailer.stop()
    Path(out).write_text(
        json.dumps(
            {
                "applied": k,
                "pid": os.getpid(),
                "lag_samples": lags,
                "tail": rt.tailer.status(),
                "rss_peak_mb": rss_peak_mb(os.getpid()),
            }
        )
    )
    rt.close()


# --- main ------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stations", type=int, default=3_000, help="the 20,000-station runs: --stations 20000")
    ap.add_argument("--rate", type=float, default=1.0, help="events per station per second")
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--processes", type=int, default=2, choices=(1, 2, 3, 4))
    ap.add_argument("--publishers", type=int, default=2, help="publisher processes")
    ap.add_argument("--baseline-s", type=float, default=20.0)
    ap.add_argument("--drain-s", type=float, default=120.0)
    ap.add_argument("--live", action="store_true", help="also run the read side (live state from the store)")
    ap.add_argument("--durable", action="store_true", help="PostgreSQL with fsync and synchronous commit")
    add_quick(ap)
    args = ap.parse_args()
    if args.quick:
        args.stations, args.minutes, args.baseline_s, args.drain_s, args.publishers = 300, 0.25, 5.0, 60.0, 1

    from seamline.adapters import master_data, migrate
    from seamline.adapters.db import make_engine

    tmp = Path(tempfile.mkdtemp(prefix="seamline-scaleout-"))
    tmp.chmod(0o777)
    broker = None
    stop_pg = None
    ingest: list[subprocess.Popen] = []
    reader = None
    try:
        db, stop_pg = start_postgres(tmp, args.durable)
        broker, port = start_mosquitto(tmp)
        layout = build_layout(args.stations)
        engine = make_engine(db)
        migrate.upgrade(engine)
        master_data.save_layout(engine, layout)
        engine.dispose()
        bundles = sorted(layout.bundles)
        seconds = args.minutes * 60
        log(
            f"{args.stations} stations x {args.rate}/s = {args.stations * args.rate:,.0f} events/s offered, "
            f"{seconds:.0f} s, {args.processes} ingest process(es), {args.publishers} publishers"
        )

        log(f"phase 1: bare subscribers for {args.baseline_s:.0f} s ...")
        base = phase_baseline(port, args, bundles)
        log(f"  broker-only: {base}")

        log("phase 2: seamline ingest ...")
        stats = [tmp / f"ingest{i}.json" for i in range(args.processes)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for i, s in enumerate(stats):
            ingest.append(
                subprocess.Popen(
                    [
                        seamline_exe(),  # the installed command, as docs/deploy.md runs it
                        "ingest",
                        "--db",
                        db,
                        "--mqtt",
                        f"mqtt://127.0.0.1:{port}",
                        "--client-id",
                        f"bench-ingest-{i}",
                        "--group",
                        "bench",
                        "--stats-file",
                        str(s),
                        "--log-level",
                        "INFO",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=open(tmp / f"ingest{i}.log", "w"),  # noqa: SIM115
                )
            )

        def read(s: Path) -> dict:
            try:
                return json.loads(s.read_text())
            except (OSError, ValueError):
                return {}

        deadline = time.monotonic() + 60
        while not all(read(s).get("mqtt") == "connected" for s in stats):
            if time.monotonic() > deadline or any(p.poll() is not None for p in ingest):
                raise RuntimeError(f"ingest did not come up: see {tmp}/ingest*.log")
            time.sleep(0.1)
        ctx = mp.get_context("spawn")
        reader_stop = ctx.Event()
        reader_out = tmp / "reader.json"
        if args.live:
            reader = ctx.Process(target=_reader, args=(db, str(reader_out), reader_stop))
            reader.start()
            time.sleep(3)

        def committed() -> int:
            return sum(read(s).get("counters", {}).get("accepted", 0) for s in stats)

        rss: dict[int, float] = {}
        kids_of: dict[int, set[int]] = {p.pid: set() for p in ingest}

        def note_rss(_t: float) -> None:
            cpu_now()
            for p in ingest:
                kids = children(p.pid)
                kids_of[p.pid].update(kids)
                for pid in (p.pid, *kids):
                    v = rss_peak_mb(pid)
                    if v is not None:
                        rss[pid] = max(rss.get(pid, 0.0), v)

        pubs, sents, t_start = run_publishers(port, args.stations, args.rate, seconds, "run", args.publishers, bundles)

        cpu_seen: dict[tuple[str, int], float] = {}  # (component, pid) -> latest CPU seconds

        def cpu_now() -> dict[str, float]:
            groups = {
                "ingest": [pid for p in ingest for pid in (p.pid, *children(p.pid))],
                "publishers": [p.pid for p in pubs if p.pid],
                "mosquitto": [broker.pid],
                "postgres": postgres_pids(),
                "read_side": [reader.pid] if reader is not None and reader.pid else [],
            }
            for name, pids in groups.items():
                for pid in pids:
                    v = cpu_s(pid)
                    if v:
                        cpu_seen[(name, pid)] = v
            out: dict[str, float] = dict.fromkeys(groups, 0.0)
            for (name, _pid), v in cpu_seen.items():
                out[name] += v
            return out

        cpu0, t_cpu0 = cpu_now(), time.time()
        series = sample_series(committed, lambda: sum(s.value for s in sents), t_start, seconds, 2.0, note_rss)
        cpu1, t_cpu1 = cpu_now(), time.time()
        for p in pubs:
            p.join(150)
        t_pub_end = time.time()
        cpu_share = {k: round((cpu1[k] - cpu0.get(k, 0.0)) / (t_cpu1 - t_cpu0), 2) for k in cpu1}
        offered_total = sum(s.value for s in sents)
        log(f"  published {offered_total:,}; draining ...")
        deadline = time.monotonic() + args.drain_s
        while committed() < offered_total and time.monotonic() < deadline:
            time.sleep(0.5)
            note_rss(0)
        t_drained = time.time() if committed() >= offered_total else None
        note_rss(0)
        if reader is not None:
            deadline = time.monotonic() + args.drain_s
            while json.loads(reader_out.read_text() or "{}").get("applied", 0) < committed():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            reader_stop.set()
            reader.join(120)
        for p in ingest:
            p.send_signal(signal.SIGTERM)
        for p in ingest:
            p.wait(60)
        finals = [read(s) for s in stats]
        for i in range(args.processes):
            lines = (tmp / f"ingest{i}.log").read_text().splitlines()
            if lines:
                log(f"ingest {i} log ({len(lines)} lines), last ones:\n  " + "\n  ".join(lines[-5:]))
        total = sum(f["counters"]["accepted"] for f in finals)
        rates = window_rates(series, seconds)
        # Latency over the same steady window as the rate: events stamped from 10 % of the
        # publishing time to its end (the login burst and start-up excluded).
        w0, w1 = t_start + 0.1 * seconds, t_start + seconds
        commit_lag = percentiles([x for f in finals for x in f["lag_samples"]], w0, w1)
        per_proc = []
        for p, f in zip(ingest, finals, strict=True):
            per_proc.append(
                {
                    "received": f["received"],
                    "accepted": f["counters"]["accepted"],
                    "duplicate": f["counters"]["duplicate"],
                    "quarantined": f["counters"]["quarantined"],
                    "publish_to_commit_ms": percentiles(f["lag_samples"], w0, w1),
                    "rss_peak_mb": rss.get(p.pid),
                    "receiver_rss_peak_mb": max((rss[k] for k in kids_of[p.pid] if k in rss), default=None),
                }
            )
        result = {
            "stations": args.stations,
            "rate_per_station": args.rate,
            "seconds": seconds,
            "processes": args.processes,
            "offered_per_s": rates["offered_per_s"],
            "sustained_per_s": rates["per_s"],
            "events_offered": offered_total,
            "events_committed": total,
            "drain_s_after_publishing": round(t_drained - t_pub_end, 1) if t_drained else None,
            "p99_publish_to_commit_ms": commit_lag["p99"],
            "publish_to_commit_ms": commit_lag,
            "per_process": per_proc,
            "broker_only_per_s": base["per_s"],
            "broker_only_offered_per_s": base["offered_per_s"],
            "ratio_to_broker_only": round(rates["per_s"] / base["per_s"], 3) if base["per_s"] else None,
            "postgres": "durable" if args.durable else "fsync off",
            "cores_used_while_publishing": cpu_share,
            "cores": os.cpu_count(),
        }
        if reader is not None:
            r = json.loads(reader_out.read_text())
            result["live"] = {k: r.get(k) for k in ("applied", "rss_peak_mb", "tail")}
            result["live"]["publish_to_visible_ms"] = percentiles(r["lag_samples"], w0, w1)
            result["p99_publish_to_visible_ms"] = result["live"]["publish_to_visible_ms"]["p99"]
        print(json.dumps(result))
    finally:
        for p in ingest:
            if p.poll() is None:
                p.kill()
        if reader is not None and reader.is_alive():
            reader.kill()
        if broker is not None:
            broker.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                broker.wait(5)
        if stop_pg is not None:
            stop_pg()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
