"""History benchmark (issue #19): does the cost of `seamline serve` grow with the event store?

For each store size (default 100k, 1M and 3M events of the sample factory, built by the
simulator and cached under bench/.cache/ or $SEAMLINE_BENCH_CACHE, see _history_store.py) this
copies the store (SQLite file, or into a fresh PostgreSQL database with `--engine postgresql`),
issues API tokens with the installed CLI (`seamline token`, docs/access.md) and starts
`seamline serve` the way the README says; the first start replays the whole store and writes a
checkpoint (reported as `cold_startup_s`); the server is stopped and started again, and
"start-up" is the time from spawning it to the first answer of the line live route. Every
store's server then stays up, and the bench measures them in rounds (5; `--rounds`):

1. p50/p95 of the line live API, the overview, line dashboard and station tablet data routes,
   each read right after one posted event so every read computes fresh data (40 reads per page
   per round, `--samples`);
2. `POST /api/v1/events` (one event per post, ~20 posts/s, with a gateway-only token as a
   gateway posts) p95 without readers and with one reader per page refreshing every second, in
   four quarters alone / readers / readers / alone (12 s a round, `--ingest-s`: ~240 posts); the
   readers run in a process of their own, as screens are other machines (`--readers thread` puts
   them in the bench's process, where they shared its GIL with the timed poster, as up to session 6);
3. the server's peak RSS (VmHWM), read at the end.

Why rounds: the machine this runs on is shared (2 cores, other jobs); its load moves by 10x
within minutes, and a p95 at the millisecond level moves with it. Each round visits every
store, in an order that turns from round to round, so a stretch of load falls on all sizes
alike; a store's figure is the **median over rounds** of the round's figure (its p95, p50), and
the ingest ratio is the median of each round's ratio (alone and under readers are measured
within the same round, seconds apart). Growth is not hidden by this: a store that is slower is
slower in every round and so in the median; what the median drops is the one round that met a
burst of load. Every round's figures are printed to stderr (with the 1-minute load average),
then each store's summary; the final line says the load range the run saw and the cores.

The ratios compare the largest store with the smallest, in the same run. The last line printed is
one JSON object:
{"events": [..], "startup_ratio": x, "startup_s_max": x, "rss_ratio": x, "page_p95_ratio_max": x,
 "page_p95_ms_max": x, "ingest_under_readers_ratio": x, "engine": "sqlite", "rounds": 5,
 "load_1min": [min, max], "cpus": n}

Run: `.venv/bin/python bench/history.py` (about an hour the first time: building the 3M store
takes most of it; about 10 minutes with cached stores), `--quick` (10k and 30k events, two
rounds, about two minutes), `--engine postgresql`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _history_store import build_sqlite
from ingest import start_mosquitto

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SEAMLINE = str(BIN / "seamline")
PAGES = {
    "line_live": "/api/v1/lines/L1/live",
    "overview": "/web/data/overview",
    "line_dashboard": "/web/data/line?key=L1",
    "station_tablet": "/web/data/station?key={station}",
}


ROUNDS = 5  # rounds over every store; a store's figure is the median of its rounds' figures
SAMPLES = 40  # reads per page per store per round: 200 per page and store in all
INGEST_S = 12.0  # seconds of posting per store per round (~20 posts/s): ~240 posts a round


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


# --- PostgreSQL --------------------------------------------------------------------------------
@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway cluster on a free loopback port (as tests/conftest.py starts one)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise SystemExit("PostgreSQL is not installed: bash scripts/install-system-deps.sh")
    bindir = found[-1].parent

    def as_pg(cmd: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    d = Path(tempfile.mkdtemp(prefix="seamline-bench-pg-"))
    d.chmod(0o777)
    if os.geteuid() == 0:
        shutil.chown(d, "postgres")
    data, port = d / "data", free_port()
    subprocess.run(
        as_pg([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "seamline", "--no-sync", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    subprocess.run(
        as_pg([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(d / "log"), "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://seamline@127.0.0.1:{port}"
    finally:
        subprocess.run(as_pg([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def copy_to_postgres(src: Path, server: str, name: str) -> str:
    """A fresh database holding the cached SQLite store's master data and events."""
    import psycopg

    from seamline.adapters import master_data, migrate
    from seamline.adapters.db import make_engine

    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")
        c.execute(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    eng = make_engine(url)
    migrate.upgrade(eng)
    for lay in master_data.load_layouts(make_engine(f"sqlite:///{src}")).values():
        master_data.save_layout(eng, lay)
    eng.dispose()
    cols = "pos, event_id, factory_id, station_id, seq, type, ts, worker, bundle, op, qty, payload, received_at"
    lite = sqlite3.connect(src)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as pg:
        with pg.cursor() as cur, cur.copy(f"COPY events ({cols}) FROM STDIN") as cp:
            for row in lite.execute(f"SELECT {cols} FROM events ORDER BY pos"):
                r = list(row)
                r[6] = r[6] + "+00" if r[6] else r[6]
                r[12] = r[12] + "+00" if r[12] else r[12]
                cp.write_row(r)
        pg.execute("SELECT setval(pg_get_serial_sequence('events', 'pos'), (SELECT max(pos) FROM events))")
    lite.close()
    return url


# --- the server --------------------------------------------------------------------------------
class Server:
    def __init__(self, db: str, tmp: Path, mqtt: str) -> None:
        self.db, self.tmp, self.mqtt = db, tmp, mqtt
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, token: str) -> float:
        """Spawn `seamline serve`; seconds until the line live route first answers."""
        t0 = time.perf_counter()
        log = open(self.tmp / f"serve-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                SEAMLINE,
                "serve",
                "--db",
                self.db,
                "--port",
                str(self.port),
                "--mqtt",
                self.mqtt,
                "--client-id",
                f"bench-history-{self.port}",
                "--log-level",
                "WARNING",
            ],
            stdout=log,
            stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        c = httpx.Client(base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {token}"})
        deadline = time.monotonic() + 3600
        while True:
            if self.proc.poll() is not None:
                log.close()
                tail = Path(log.name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"seamline serve exited:\n{tail}")
            try:
                if c.get(PAGES["line_live"]).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("seamline serve did not answer within an hour")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def cli(*args: str) -> str:
    return subprocess.run([SEAMLINE, *args], check=True, capture_output=True, text=True).stdout


class Poster:
    """Valid piece events just after the store's latest event, one station of line L1 each."""

    def __init__(self, db_src: Path) -> None:
        lite = sqlite3.connect(db_src)
        self.latest = datetime.fromisoformat(lite.execute("SELECT max(ts) FROM events").fetchone()[0] + "+00:00")
        self.factory, self.station = lite.execute(
            "SELECT factory_id, id FROM stations WHERE line_id = 'L1' ORDER BY id LIMIT 1"
        ).fetchone()
        bundle, style = lite.execute(
            "SELECT b.id, o.style_code FROM bundles b JOIN orders o ON o.id = b.order_id ORDER BY b.id LIMIT 1"
        ).fetchone()
        op = lite.execute(
            "SELECT code FROM operations WHERE style_code = ? ORDER BY seq_no LIMIT 1", (style,)
        ).fetchone()
        lite.close()
        self.bundle, self.op = bundle, op[0]
        self.n = 0
        self.enc = msgspec.json.Encoder()

    def body(self) -> bytes:
        self.n += 1
        ts = self.latest + timedelta(seconds=1 + self.n * 0.01)
        return self.enc.encode(
            [
                {
                    "id": f"bench-{os.getpid()}-{time.time_ns()}-{self.n}",
                    "factory": self.factory,
                    "station": self.station,
                    "seq": 10_000_000 + self.n,
                    "ts": ts.isoformat(),
                    "type": "piece",
                    "bundle": self.bundle,
                    "op": self.op,
                    "qty": 1,
                }
            ]
        )


@dataclasses.dataclass
class Subject:
    """One store's server, started and ready to be measured, with what a round needs."""

    n_events: int
    srv: Server
    poster: Poster
    reader: httpx.Client  # an admin's token: reads the pages
    gateway: httpx.Client  # a gateway-only token: posts events, as a gateway does
    headers: dict[str, str]
    pages: dict[str, str]
    cold_s: float
    startup_s: float
    rounds: list[dict[str, float]] = dataclasses.field(default_factory=list)


def start_subject(stack: contextlib.ExitStack, src: Path, n_events: int, engine: str, pg: str | None) -> Subject:
    tmp = Path(tempfile.mkdtemp(prefix="seamline-history-"))
    stack.callback(shutil.rmtree, tmp, ignore_errors=True)
    if engine == "sqlite":
        shutil.copy(src, tmp / "store.db")
        db = f"sqlite:///{tmp}/store.db"
    else:
        assert pg is not None
        db = copy_to_postgres(src, pg, f"h{n_events}")
    tok = json.loads(cli("token", "bench", "--role", "admin", "--db", db))["token"]
    # Events are posted as a gateway posts them: with a gateway-only token (docs/access.md).
    # A person's token (admin) posting is a manual change and is audited, one more committed
    # write per post: that is not the sensor path this bench measures.
    gw = json.loads(cli("token", "bench-gateway", "--role", "gateway", "--db", db))["token"]
    poster = Poster(src)
    broker, mqtt_port = start_mosquitto(tmp)
    stack.callback(broker.wait, 5)
    stack.callback(broker.terminate)
    srv = Server(db, tmp, f"mqtt://127.0.0.1:{mqtt_port}")
    stack.callback(srv.stop)
    cold = srv.start(tok)  # no checkpoint yet: replays the store, writes one
    srv.stop()
    startup = srv.start(tok)
    headers = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
    c = stack.enter_context(httpx.Client(base_url=srv.url, timeout=60, headers=headers))
    g = stack.enter_context(
        httpx.Client(base_url=srv.url, timeout=60, headers={**headers, "Authorization": f"Bearer {gw}"})
    )
    pages = {k: v.format(station=poster.station) for k, v in PAGES.items()}
    return Subject(n_events, srv, poster, c, g, headers, pages, cold, startup)


def _read_pages(url: str, headers: dict[str, str], paths: list[str], stop: Any, ready: Any) -> None:
    """One reader per page, each refreshing every second until ``stop`` is set."""

    def reader(path: str) -> None:
        with httpx.Client(base_url=url, timeout=60, headers=headers) as rc:
            while not stop.is_set():
                t0 = time.monotonic()
                with contextlib.suppress(httpx.HTTPError):
                    rc.get(path)
                stop.wait(max(0.0, 1.0 - (time.monotonic() - t0)))

    threads = [threading.Thread(target=reader, args=(p,), daemon=True) for p in paths]
    for th in threads:
        th.start()
    ready.set()
    for th in threads:
        th.join()


@contextlib.contextmanager
def _readers(sub: Subject, mode: str | None) -> Iterator[None]:
    """The readers of a round's "under readers" quarter: one per page, refreshing every second.

    By default they run in a process of their own, as screens are other machines: readers that
    are threads of this bench would share its GIL with the timed poster, and the ratio would
    count the bench's own contention (parsing a page's JSON while a post waits for its answer)
    besides the server's. ``--readers thread`` keeps them in this process, as before."""
    if mode is None:
        yield
        return
    paths = list(sub.pages.values())
    if mode == "thread":
        stop_t, ready_t = threading.Event(), threading.Event()
        th = threading.Thread(target=_read_pages, args=(sub.srv.url, sub.headers, paths, stop_t, ready_t), daemon=True)
        th.start()
        ready_t.wait(30)
        try:
            yield
        finally:
            stop_t.set()
            th.join(10)
        return
    ctx = multiprocessing.get_context("spawn")
    stop, ready = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_read_pages, args=(sub.srv.url, sub.headers, paths, stop, ready), daemon=True)
    proc.start()
    ready.wait(60)
    try:
        yield
    finally:
        stop.set()
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def measure_round(sub: Subject, samples: int, ingest_s: float, reader_mode: str = "process") -> dict[str, float]:
    """One round on one store: page reads (each right after a post, so each computes fresh data),
    then ingest alone and under readers, alternated in two halves."""
    lat: dict[str, list[float]] = {k: [] for k in sub.pages}
    for _ in range(samples):
        sub.gateway.post("/api/v1/events", content=sub.poster.body()).raise_for_status()
        for k, path in sub.pages.items():
            t0 = time.perf_counter()
            sub.reader.get(path).raise_for_status()
            lat[k].append((time.perf_counter() - t0) * 1000)

    def ingest(readers: bool, seconds: float) -> list[float]:
        with _readers(sub, reader_mode if readers else None):
            out: list[float] = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                t0 = time.perf_counter()
                sub.gateway.post("/api/v1/events", content=sub.poster.body()).raise_for_status()
                out.append((time.perf_counter() - t0) * 1000)
                time.sleep(max(0.0, 0.05 - (time.perf_counter() - t0)))
        return out

    # Alone, under readers, under readers, alone: each kind's mean time is the same, so a load
    # that rises or falls through the round falls on both alike.
    half = ingest_s / 4
    alone = ingest(False, half)
    under = ingest(True, half)
    under += ingest(True, half)
    alone += ingest(False, half)
    return {
        **{f"{k}_p50_ms": statistics.median(v) for k, v in lat.items()},
        **{f"{k}_p95_ms": pct(v, 0.95) for k, v in lat.items()},
        "ingest_p95_ms": pct(alone, 0.95),
        "ingest_p95_readers_ms": pct(under, 0.95),
        "ingest_ratio": pct(under, 0.95) / max(pct(alone, 0.95), 0.1),
        "ingest_posts": len(alone) + len(under),
        "load_1min": os.getloadavg()[0],
    }


def summary(sub: Subject) -> dict[str, float]:
    """A store's figures: the median over rounds of each round's figure."""
    keys = [k for k in sub.rounds[0] if k not in ("ingest_posts", "load_1min")]
    return {
        "events": sub.n_events,
        "cold_startup_s": round(sub.cold_s, 2),
        "startup_s": round(sub.startup_s, 2),
        "rss_mb": round(sub.srv.peak_rss_mb(), 1),
        **{k: round(statistics.median(r[k] for r in sub.rounds), 3 if k == "ingest_ratio" else 1) for k in keys},
        "rounds": len(sub.rounds),
        "ingest_posts": sum(int(r["ingest_posts"]) for r in sub.rounds),
        "load_1min": [
            round(min(r["load_1min"] for r in sub.rounds), 1),
            round(max(r["load_1min"] for r in sub.rounds), 1),
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k and 30k events: about two minutes")
    ap.add_argument("--sizes", type=str, default=None, help="comma-separated event counts (overrides --quick)")
    ap.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--rounds", type=int, default=None, help="rounds over every store (default 5; --quick 2)")
    ap.add_argument("--samples", type=int, default=None, help="reads per page per store per round (default 40)")
    ap.add_argument(
        "--readers",
        choices=("process", "thread"),
        default="process",
        help="where the page readers run: a process of their own (default: screens are other machines) or threads",
    )
    ap.add_argument("--ingest-s", type=float, default=None, help="seconds of posting per store per round (default 12)")
    args = ap.parse_args()
    sizes = (
        [int(x) for x in args.sizes.split(",")]
        if args.sizes
        else ([10_000, 30_000] if args.quick else [100_000, 1_000_000, 3_000_000])
    )
    rounds = args.rounds or (2 if args.quick else ROUNDS)
    samples = args.samples or (10 if args.quick else SAMPLES)
    ingest_s = args.ingest_s or (4.0 if args.quick else INGEST_S)
    load_start = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(postgres_cluster()) if args.engine == "postgresql" else None
        subjects = [start_subject(stack, build_sqlite(n), n, args.engine, pg) for n in sizes]
        for i in range(rounds):
            # Interleaved: every round visits every store, in an order that turns each round,
            # so a stretch of heavy load on the machine does not fall on one store only.
            for sub in subjects[i % len(subjects) :] + subjects[: i % len(subjects)]:
                r = measure_round(sub, samples, ingest_s, args.readers)
                sub.rounds.append(r)
                print(
                    json.dumps({"round": i, "events": sub.n_events, **{k: round(v, 2) for k, v in r.items()}}),
                    file=sys.stderr,
                )
        results = [summary(sub) for sub in subjects]
    for r in results:
        print(json.dumps(r), file=sys.stderr)
    lo, hi = results[0], results[-1]
    p95_keys = [f"{k}_p95_ms" for k in PAGES]
    out = {
        "events": sizes,
        "startup_ratio": round(hi["startup_s"] / lo["startup_s"], 3),
        "startup_s_max": max(r["startup_s"] for r in results),
        "rss_ratio": round(hi["rss_mb"] / lo["rss_mb"], 3),
        "page_p95_ratio_max": round(max(hi[k] / max(lo[k], 0.1) for k in p95_keys), 3),
        "page_p95_ms_max": max(r[k] for r in results for k in p95_keys),
        "ingest_under_readers_ratio": max(r["ingest_ratio"] for r in results),
        "engine": args.engine,
        "rounds": rounds,
        "readers": args.readers,
        "load_1min": [
            round(min([load_start, *(x for r in results for x in r["load_1min"])]), 1),
            round(max([load_start, *(x for r in results for x in r["load_1min"])]), 1),
        ],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
