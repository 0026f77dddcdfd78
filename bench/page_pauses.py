"""Page-pause bench (issue #19): how long does the page thread run before it can give way to ingest?

Pages are computed on one thread that waits while a sensor's post is in flight, but only at its
pauses (web/page_worker.py, domain/yielding.py). A post that arrives in the middle of a stretch
without a pause shares the GIL with the page for the rest of that stretch, and its answer is late
by about that much: the longest stretches set the ingest p95 under readers (bench/history.py).

This starts the runtime and the web app in-process on a copy of a cached store of the sample factory
(bench/history.py's, built if missing), and ``--reads`` times posts one piece event and reads the
four pages bench/history.py reads (line live, overview, line dashboard, station tablet), through the
app's routes and its page thread. It records the page thread's CPU time (``time.thread_time``)
between consecutive pauses, including the start and end of each computation, and prints the
stretches' p50, p95 and max, per page and in all, and the CPU time per page. CPU time of one
thread, not wall time: it does not count the time other processes take on a shared machine.

Per read, the longest stretch is what a post arriving at the worst moment of that read could
share the GIL with; per page the bench prints that longest stretch's median and p95 over reads, and
where the longest stretches run (from which pause to which).

Last line: one JSON object {"events": n, "stretch_ms_p50": x, "stretch_ms_p95": x, "stretch_ms_max": x,
"longest_ms_median": {page: x}, "longest_ms_p95_max": x, "page_cpu_ms": {...}, "pauses_per_page": {...}}.

Run: `SEAMLINE_BENCH_CACHE=... .venv/bin/python bench/page_pauses.py [--events 100000] [--reads 40]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _history_store import build_sqlite
from history import PAGES, Poster, pct


def _caller() -> str:
    """Where the pause was called from: the first frame of ours outside the pause machinery."""
    f = sys._getframe(2)
    while f is not None and (
        f.f_code.co_filename.endswith(("page_worker.py", "yielding.py", "page_pauses.py", "threading.py"))
    ):
        f = f.f_back  # type: ignore[assignment]
    return f"{Path(f.f_code.co_filename).name}:{f.f_lineno}" if f is not None else "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000, help="store size (a bench/history.py store)")
    ap.add_argument("--reads", type=int, default=40, help="posts, each followed by a read of every page")
    ap.add_argument("--quick", action="store_true", help="a 10k-event store (make bench-quick's), 10 reads")
    args = ap.parse_args()
    if args.quick:
        args.events, args.reads = 10_000, 10

    from fastapi.testclient import TestClient

    from seamline.bootstrap import bootstrap
    from seamline.entrypoints.api import create_app
    from seamline.entrypoints.auth_http import AuthConfig
    from seamline.web import page_worker

    src = build_sqlite(args.events)
    tmp = Path(tempfile.mkdtemp(prefix="seamline-pauses-"))
    try:
        shutil.copy(src, tmp / "store.db")
        stretches: list[float] = []
        current: dict[str, object] = {"page": None, "t": None}
        by_page: dict[str, list[float]] = {k: [] for k in PAGES}
        cpu: dict[str, list[float]] = {k: [] for k in PAGES}
        pauses: dict[str, list[int]] = {k: [] for k in PAGES}
        longest: dict[str, list[float]] = {k: [] for k in PAGES}
        page_thread: list[threading.Thread] = []

        orig_pause = page_worker.IngestGate.pause

        where: dict[tuple[str, str], float] = {}

        def mark() -> None:
            """A pause point on the page thread: close the stretch that ends here."""
            if threading.current_thread() not in page_thread or current["page"] is None:
                return
            now = time.thread_time()
            last = current["t"]
            here = _caller()
            if isinstance(last, float):
                d = (now - last) * 1000
                stretches.append(d)
                by_page[str(current["page"])].append(d)
                current["n"] = int(current.get("n", 0)) + 1  # type: ignore[call-overload]
                span = (str(current.get("at")), here)
                where[span] = max(where.get(span, 0.0), d)
            current["t"], current["at"] = now, here

        def pause(self: page_worker.IngestGate, max_wait_s: float = page_worker.MAX_YIELD_S) -> None:
            mark()
            orig_pause(self, max_wait_s)

        page_worker.IngestGate.pause = pause  # type: ignore[method-assign]
        orig_run = page_worker.PageWorker._run

        def run(self: page_worker.PageWorker) -> None:
            page_thread.append(threading.current_thread())
            orig_run(self)

        page_worker.PageWorker._run = run  # type: ignore[method-assign]

        rt = bootstrap(f"sqlite:///{tmp}/store.db", start_worker=True)
        app = create_app(rt, AuthConfig(mode="open"))
        gc.collect()  # as `seamline serve` does (entrypoints/serve.py): what start-up built is
        gc.freeze()  # moved out of the collector's generations
        poster = Poster(tmp / "store.db")
        pages = {k: v.format(station=poster.station) for k, v in PAGES.items()}
        with TestClient(app) as c:
            for p in pages.values():  # warm: first reads build what later ones reuse
                c.get(p).raise_for_status()
            for _ in range(args.reads):
                r = c.post("/api/v1/events", content=poster.body(), headers={"Content-Type": "application/json"})
                r.raise_for_status()
                for k, p in pages.items():
                    current.update(page=k, t=None, n=0)
                    c.get(p).raise_for_status()
                    # The page thread pauses before every job: a no-op job queued after the page
                    # closes the page's last stretch (its CPU from its last pause to its end).
                    done = threading.Event()
                    app.state.web_pages.worker.submit(done.set)
                    done.wait(10)
                    n = int(current.get("n", 0))  # type: ignore[call-overload]
                    pauses[k].append(n)
                    cpu[k].append(sum(by_page[k][-n:]) if n else 0.0)
                    longest[k].append(max(by_page[k][-n:]) if n else 0.0)
                    current.update(page=None)
        rt.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per_page = {
        k: {
            "longest_ms_median": round(statistics.median(longest[k]), 3),
            "longest_ms_p95": round(pct(longest[k], 0.95), 3),
            "stretch_ms_max": round(max(v), 3),
            "cpu_ms_median": round(statistics.median(cpu[k]), 2),
            "pauses_median": statistics.median(pauses[k]),
        }
        for k, v in by_page.items()
        if v
    }
    for k, v in per_page.items():
        print(f"{k}: {json.dumps(v)}", file=sys.stderr)
    print("longest stretches, from pause → to pause:", file=sys.stderr)
    for (a, b), d in sorted(where.items(), key=lambda x: -x[1])[:8]:
        print(f"  {d:8.3f} ms  {a} → {b}", file=sys.stderr)
    print(
        json.dumps(
            {
                "events": args.events,
                "reads": args.reads,
                "stretch_ms_p50": round(statistics.median(stretches), 3),
                "stretch_ms_p95": round(pct(stretches, 0.95), 3),
                "stretch_ms_max": round(max(stretches), 3),
                "longest_ms_median": {k: v["longest_ms_median"] for k, v in per_page.items()},
                "longest_ms_p95_max": max(v["longest_ms_p95"] for v in per_page.values()),
                "page_cpu_ms": {k: v["cpu_ms_median"] for k, v in per_page.items()},
                "pauses_per_page": {k: v["pauses_median"] for k, v in per_page.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
