"""Pages on one thread that gives way to ingest, served as cached bytes (web/page_worker.py)."""

from __future__ import annotations

import json
import threading
import time

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from seamline.bootstrap import Runtime, bootstrap
from seamline.entrypoints.api import create_app
from seamline.service_layer.ingest import RawEvent
from seamline.web.page_worker import IngestGate, PageWorker, encode, not_modified

from .factory import at, layout


def _piece(i: int, hh: int) -> bytes:
    return json.dumps(
        {
            "type": "piece",
            "id": f"p{i}",
            "seq": i,
            "ts": at(hh).isoformat(),
            "factory": "F",
            "station": "S1",
            "bundle": "B1",
            "op": "A",
            "qty": 2,
        }
    ).encode()


def _ingest(rt: Runtime, *payloads: bytes) -> None:
    rt.worker.submit_future([RawEvent(payload=p) for p in payloads]).result(10)


def test_page_data_is_served_as_the_same_bytes_with_an_etag_and_304_until_it_changes(db_url: str) -> None:
    rt = bootstrap(db_url)
    try:
        rt.save_layout(layout())
        _ingest(rt, _piece(1, 9))
        app = create_app(rt)
        client = TestClient(app)
        shared = app.state.web_pages
        first = client.get("/web/data/line?key=L&lang=en")
        assert first.status_code == 200 and first.headers["content-type"] == "application/json"
        etag = first.headers["etag"]
        computed = shared.computed
        again = client.get("/web/data/line?key=L&lang=en", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert shared.computed == computed  # a repeat poll of an unchanged page computes nothing
        _ingest(rt, _piece(2, 10))
        fresh = client.get("/web/data/line?key=L&lang=en", headers={"If-None-Match": etag})
        assert fresh.status_code == 200 and fresh.headers["etag"] != etag
        assert fresh.content != first.content  # the new event is in it
        # the bytes are what JSONResponse would have sent for the same data
        assert fresh.content == JSONResponse(fresh.json()).body
    finally:
        rt.close()


def test_the_line_live_api_gives_what_fastapi_would_encode(db_url: str) -> None:
    rt = bootstrap(db_url)
    try:
        rt.save_layout(layout())
        _ingest(rt, _piece(1, 9), _piece(2, 10))
        client = TestClient(create_app(rt))
        got = client.get("/api/v1/lines/L/live")
        assert got.status_code == 200
        with rt.pipeline.lock:
            view = rt.live.frozen_view()
        expected = JSONResponse(jsonable_encoder(view.line_live("F", "L"))).body
        assert got.content == expected
        assert got.json()["stations"][0]["station"] == "S1"
        as_of = client.get("/api/v1/lines/L/live", params={"as_of": at(9, 30).isoformat()}).json()
        assert as_of == jsonable_encoder(view.line_live("F", "L", at(9, 30)))
    finally:
        rt.close()


def test_pages_run_one_at_a_time_on_one_thread() -> None:
    worker = PageWorker(IngestGate())
    running, peak, threads = [0], [0], set()
    guard = threading.Lock()

    def page() -> int:
        with guard:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            threads.add(threading.get_ident())
        time.sleep(0.01)
        with guard:
            running[0] -= 1
        return 1

    futures = [worker.submit(page) for _ in range(8)]
    assert sum(f.result(5) for f in futures) == 8
    assert peak[0] == 1 and len(threads) == 1
    assert worker.run(lambda: worker.run(lambda: 7)) == 7  # a page computing another: in place
    worker.close()


def test_a_page_waits_while_a_post_is_ingested_and_not_forever() -> None:
    queued = [False]
    gate = IngestGate(lambda: queued[0])
    worker = PageWorker(gate)
    gate.enter()
    t0 = time.monotonic()
    fut = worker.submit(lambda: time.monotonic())
    time.sleep(0.05)
    assert not fut.done()  # held back while the post is in flight
    gate.leave()
    assert fut.result(5) - t0 >= 0.05
    queued[0] = True  # MQTT work queued: a page gives way, but at most MAX_YIELD_S
    t1 = time.monotonic()
    assert worker.submit(lambda: time.monotonic()).result(5) - t1 < 1.0
    assert gate.yielded_s >= 0.05 + 0.2
    worker.close()


def test_etags_match_as_http_says() -> None:
    enc = encode({"a": 1, "名": "二线"})
    assert enc.body == '{"a":1,"名":"二线"}'.encode()
    assert not_modified(enc.etag, enc.etag) and not_modified(f'W/{enc.etag}, "x"', enc.etag)
    assert not_modified("*", enc.etag) and not not_modified('"x"', enc.etag) and not not_modified(None, enc.etag)


def test_a_post_of_events_marks_ingest_busy_from_its_first_byte_to_its_answer() -> None:
    import asyncio
    from types import SimpleNamespace

    from seamline.web.page_worker import IngestFirst

    gate = IngestGate()
    seen: list[tuple[str, bool]] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append((scope["path"], gate.busy))

    mw = IngestFirst(app, SimpleNamespace(ingest_gate=gate))
    for method, path in (("POST", "/api/v1/events"), ("GET", "/api/v1/events"), ("POST", "/web/data/line")):
        # a loop of its own in a thread: an earlier test (Playwright's sync API) may have left one
        # running in this thread, where asyncio.run() refuses to start
        t = threading.Thread(
            target=asyncio.run, args=(mw({"type": "http", "method": method, "path": path}, None, None),)
        )
        t.start()
        t.join()
    assert seen == [("/api/v1/events", True), ("/api/v1/events", False), ("/web/data/line", False)]
    assert not gate.busy


def test_a_page_gives_way_inside_its_loops_only_on_the_page_thread(db_url: str) -> None:
    """The line live figures pause at every station (domain/yielding.py): a post that arrives in
    the middle of a page waits for at most one station's work, not the rest of the page."""
    from seamline.domain import yielding

    rt = bootstrap(db_url)
    try:
        rt.save_layout(layout())
        _ingest(rt, _piece(1, 9))
        calls: list[str] = []
        yielding.install(lambda: calls.append(threading.current_thread().name))
        try:
            rt.live.line_live("F", "L")
        finally:
            yielding.install(None)
        # one pause per station of the line (3) at least, all on the thread that installed it
        assert len(calls) >= 3 and set(calls) == {threading.current_thread().name}
        calls.clear()
        other = threading.Thread(target=lambda: rt.live.line_live("F", "L"))
        other.start()
        other.join(10)
        assert calls == []  # a thread that installed nothing (ingest, tests) never pauses

        # On the page thread: a post that starts while the page is between two stations holds
        # the page at its next pause until the post is answered.
        gate = IngestGate()
        worker = PageWorker(gate)
        reached = threading.Event()
        release = threading.Event()
        seen: list[float] = []

        def page() -> dict:
            def first_pause() -> None:
                if not reached.is_set():
                    reached.set()
                    release.wait(5)  # the post arrives while the page is at its first station

            yielding.install(lambda: (first_pause(), gate.pause(), seen.append(time.monotonic())))
            try:
                return rt.live.line_live("F", "L")
            finally:
                yielding.install(gate.pause)

        fut = worker.submit(page)
        assert reached.wait(5)
        gate.enter()  # a sensor's post in flight
        release.set()
        time.sleep(0.1)
        assert not fut.done() and seen == []  # held at its first pause
        t_leave = time.monotonic()
        gate.leave()
        assert fut.result(5)["line"] == "L"
        assert seen and min(seen) >= t_leave
        worker.close()
    finally:
        rt.close()
