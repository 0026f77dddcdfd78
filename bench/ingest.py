"""Ingest benchmark: events through a real broker into a running `seamline serve`.

Three phases on one Mosquitto started here, with the same payloads and QoS 1:
1. ceiling: a bare paho subscriber (persistent session, counting messages) receives N events;
2. seamline: `seamline serve --mqtt` (a separate process, SQLite) receives, validates, stores and
   folds the same N events into live state; the rate counts until the last one is visible in
   `/api/v1/ingest/status`;
3. latency: events paced at --latency-rate for a few seconds; each sampled event's latency is
   publish → its station's sequence number visible in live state.

The last line printed is one JSON object:
{"events": N, "events_per_s": ..., "p50_ms": ..., "p99_ms": ..., "broker_only_per_s": ...}

The server is started as README.md says: `seamline import`, `seamline token … --role admin`,
`seamline serve` (login required), and read with that token.

Run: `make bench` (or `.venv/bin/python bench/ingest.py --events 200000`; default 100,000; `--quick`: 5,000).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, add_quick, prepare_db, start_mosquitto, start_serve
from mqtt_load import RawPublisher, publish_packet


def make_events(layout, n: int, run: str, start: datetime) -> list[tuple[str, str, int, bytes]]:
    """(topic, station, seq, payload): every station logs in, then pieces of its line's bundles."""
    from seamline.domain.events import topic_for

    enc = msgspec.json.Encoder()
    f = layout.factory.id
    stations = sorted(layout.stations.values(), key=lambda s: s.id)
    workers = sorted(layout.workers)
    bundles_by_style: dict[str, list[str]] = {}
    for b in layout.bundles.values():
        bundles_by_style.setdefault(layout.orders[b.order_id].style_code, []).append(b.id)
    style_codes = sorted(bundles_by_style)
    out = []
    seq = {s.id: 0 for s in stations}
    for i, s in enumerate(stations):
        ts = start + timedelta(milliseconds=i)
        out.append(
            (
                topic_for(f, s.id),
                s.id,
                0,
                enc.encode(
                    {
                        "id": f"{run}-{s.id}-0",
                        "seq": 0,
                        "ts": ts.isoformat(),
                        "type": "login",
                        "worker": workers[i % len(workers)],
                    }
                ),
            )
        )
    k = 0
    while len(out) < n:
        s = stations[k % len(stations)]
        style = layout.styles[style_codes[(k // len(stations)) % len(style_codes)]]
        bundle = bundles_by_style[style.code][k % len(bundles_by_style[style.code])]
        op = style.operations[k % len(style.operations)].code
        seq[s.id] += 1
        ts = start + timedelta(milliseconds=len(stations) + k)
        out.append(
            (
                topic_for(f, s.id),
                s.id,
                seq[s.id],
                enc.encode(
                    {
                        "id": f"{run}-{s.id}-{seq[s.id]}",
                        "seq": seq[s.id],
                        "ts": ts.isoformat(),
                        "type": "piece",
                        "bundle": bundle,
                        "op": op,
                        "qty": 1,
                    }
                ),
            )
        )
        k += 1
    return out[:n]


def _bare_subscriber(port: int, n: int, ready, result) -> None:  # type: ignore[no-untyped-def]
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    state = {"count": 0, "first": 0.0, "last": 0.0}
    done = threading.Event()

    def on_connect(c, _u, _f, _rc, _p):  # type: ignore[no-untyped-def]
        c.subscribe("seamline/v1/+/stations/+/events", qos=1)

    def on_subscribe(*_a):  # type: ignore[no-untyped-def]
        ready.set()

    def on_message(_c, _u, _m):  # type: ignore[no-untyped-def]
        if state["count"] == 0:
            state["first"] = time.perf_counter()
        state["count"] += 1
        if state["count"] >= n:
            state["last"] = time.perf_counter()
            done.set()

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", clean_session=False)
    c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
    c.connect("127.0.0.1", port)
    c.loop_start()
    done.wait(300)
    c.loop_stop()
    result.put((state["count"], state["last"]))


def phase_ceiling(port: int, packets: list[bytes]) -> float:
    ctx = mp.get_context("spawn")
    ready, result = ctx.Event(), ctx.Queue()
    p = ctx.Process(target=_bare_subscriber, args=(port, len(packets), ready, result))
    p.start()
    ready.wait(20)
    pub = RawPublisher("127.0.0.1", port, "bench-pub-ceiling")
    t0 = time.perf_counter()
    pub.send(packets)
    count, t_last = result.get(timeout=300)
    p.join(5)
    pub.close()
    if count < len(packets):
        raise RuntimeError(f"bare subscriber got {count} of {len(packets)}")
    # perf_counter is system-wide monotonic on Linux, comparable across processes.
    return len(packets) / (t_last - t0)


def status(client: httpx.Client) -> dict:
    return client.get("/api/v1/ingest/status").json()


def wait_applied(client: httpx.Client, target: int, timeout_s: float = 300) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        s = status(client)
        if s["counters"]["accepted"] + s["counters"]["duplicate"] + s["counters"]["quarantined"] >= target:
            return time.perf_counter()
        time.sleep(0.02)
    raise RuntimeError(f"ingest did not take {target} events in {timeout_s} s: {status(client)['counters']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument(
        "--latency-rate",
        type=float,
        default=5_000,
        help="events/s during the latency phase (a 20,000-station factory makes 500-2,000)",
    )
    ap.add_argument("--latency-seconds", type=float, default=6.0)
    add_quick(ap)
    args = ap.parse_args()
    if args.quick:
        args.events, args.latency_rate, args.latency_seconds = 5_000, 1_000, 2.0

    from seamline.adapters.layout_files import load_factory

    tmp = Path(tempfile.mkdtemp(prefix="seamline-bench-"))
    broker, port = start_mosquitto(tmp)
    serve = None
    try:
        layout = load_factory(REPO / "examples" / "factory")
        db = f"sqlite:///{tmp}/bench.db"
        # As README.md says: import the factory, an API token (ingest status is an admin route), serve.
        token = prepare_db(db)
        start = datetime.now(UTC) - timedelta(hours=3)
        events = make_events(layout, args.events, "ceil", start)
        packets = [publish_packet(t, p, (i % 65535) + 1) for i, (t, _s, _q, p) in enumerate(events)]

        print(f"phase 1: bare paho subscriber, {len(packets)} events ...", file=sys.stderr)
        ceiling = phase_ceiling(port, packets)
        print(f"  broker_only_per_s = {ceiling:,.0f}", file=sys.stderr)

        serve = start_serve(tmp, db, token, "--mqtt", f"mqtt://127.0.0.1:{port}", "--client-id", "bench-ingest")
        client = serve.client()

        events2 = make_events(layout, args.events, "run", start)
        packets2 = [publish_packet(t, p, (i % 65535) + 1) for i, (t, _s, _q, p) in enumerate(events2)]
        print(f"phase 2: seamline serve, {len(packets2)} events ...", file=sys.stderr)
        pub = RawPublisher("127.0.0.1", port, "bench-pub-run")
        t0 = time.perf_counter()
        pub.send(packets2)
        t_done = wait_applied(client, len(packets2))
        rate = len(packets2) / (t_done - t0)
        accepted = status(client)["counters"]["accepted"]
        print(f"  events_per_s = {rate:,.0f} (accepted {accepted})", file=sys.stderr)

        # Steady state first: let the feature projections fold in the burst (they lag on purpose).
        settle = time.monotonic() + 120
        while status(client).get("projection_lag", 0) and time.monotonic() < settle:
            time.sleep(0.2)
        print(f"phase 3: latency at {args.latency_rate:,.0f} events/s ...", file=sys.stderr)
        n_lat = int(args.latency_rate * args.latency_seconds)
        ev3 = make_events(layout, n_lat + len(layout.stations), "lat", start + timedelta(minutes=30))
        ev3 = [e for e in ev3 if e[2] > 0][:n_lat]  # pieces only: the stations are logged in already
        # Continue each station's sequence after phase 2 so "last_seq >= s" means "seen".
        base = {k.split("/", 1)[1]: v["last_seq"] for k, v in status(client)["stations"].items()}
        packets3, _sent_at = [], {}
        enc = msgspec.json.Encoder()
        dec = msgspec.json.Decoder()
        for i, (t, s, q, p) in enumerate(ev3):
            obj = dec.decode(p)
            obj["seq"] = base.get(s, 0) + q
            obj["id"] = f"lat-{s}-{obj['seq']}"
            packets3.append(publish_packet(t, enc.encode(obj), (i % 65535) + 1))
            ev3[i] = (t, s, obj["seq"], b"")
        samples: list[float] = []
        pending: dict[str, list[tuple[int, float]]] = {}
        lock = threading.Lock()
        chunk = 500

        def on_sent(upto: int) -> None:
            now = time.perf_counter()
            with lock:
                for _t, s_, q_, _ in ev3[upto - chunk if upto >= chunk else 0 : upto]:
                    if q_ % 7 == 0:
                        pending.setdefault(s_, []).append((q_, now))

        stop = threading.Event()

        def poller() -> None:
            c = serve.client()
            while not stop.is_set():
                st = status(c)["stations"]
                now = time.perf_counter()
                with lock:
                    for s_, lst in pending.items():
                        seen = st.get(f"{layout.factory.id}/{s_}", {}).get("last_seq", -1)
                        keep = []
                        for q_, t_ in lst:
                            if q_ <= seen:
                                samples.append(now - t_)
                            else:
                                keep.append((q_, t_))
                        pending[s_] = keep
                    if stop.is_set():
                        break
                time.sleep(0.01)

        th = threading.Thread(target=poller, daemon=True)
        th.start()
        pub.send(packets3, rate_per_s=args.latency_rate, on_sent=on_sent, chunk=chunk)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with lock:
                if not any(pending.values()):
                    break
            time.sleep(0.05)
        stop.set()
        th.join(5)
        pub.close()
        samples.sort()
        p50 = statistics.median(samples) * 1000 if samples else None
        p99 = samples[int(0.99 * (len(samples) - 1))] * 1000 if samples else None
        print(f"  latency samples {len(samples)}: p50 {p50:.1f} ms, p99 {p99:.1f} ms", file=sys.stderr)
        result = {
            "events": len(packets2),
            "events_per_s": round(rate),
            "p50_ms": round(p50, 1) if p50 is not None else None,
            "p99_ms": round(p99, 1) if p99 is not None else None,
            "broker_only_per_s": round(ceiling),
            "ratio_to_broker_only": round(rate / ceiling, 3),
            "latency_rate_per_s": args.latency_rate,
        }
        print(json.dumps(result))
    finally:
        if serve is not None:
            serve.close()
        broker.terminate()
        broker.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
