"""Pages are computed on one thread that gives way to ingest, and served as cached bytes.

Ingest and the pages share one process and so one GIL. A page computed in a request thread
holds the GIL for its whole computation (ms of CPU, many times that when the machine is busy and
the thread is descheduled while holding it), and several pages computed at once in the
thread pool hold it in turn: a sensor's post that arrives meanwhile waits for them. So:

- every page computation runs on one thread (``PageWorker``): at most one computation competes
  with ingest, however many screens are open;
- that thread gives way to ingest (``IngestGate``): before a computation, and at the pauses a page
  offers between its parts (each line of the overview), it waits while a post is being
  ingested or ingest has work queued, up to ``MAX_YIELD_S`` per pause so that a steady stream of
  posts cannot starve the screens;
- a page's JSON is encoded once per state version (``SharedPages`` in routes.py keeps the bytes)
  and every reader of that version gets the same bytes, with an ETag: a repeat poll of an
  unchanged page is answered 304 without a body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.encoders import jsonable_encoder

from ..domain import yielding

_T = TypeVar("_T")

MAX_YIELD_S = 0.25  # the longest a page waits for ingest at one pause
POLL_S = 0.002  # how often a waiting page looks at ingest's queue (MQTT work is not signalled)


class IngestGate:
    """Ingest first: the HTTP ingest route marks a post in flight (``enter``/``leave``), and the
    page thread waits at its pauses while one is (``pause``)."""

    def __init__(self, queued: Callable[[], bool] = lambda: False) -> None:
        self._busy = 0
        self._cond = threading.Condition()
        self._queued = queued  # ingest has work waiting (MQTT batches, posts already handed over)
        self.yielded_s = 0.0  # time pages spent giving way, for checks and the bench

    def enter(self) -> None:
        with self._cond:
            self._busy += 1

    def leave(self) -> None:
        with self._cond:
            self._busy -= 1
            if self._busy <= 0:
                self._busy = 0
                self._cond.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy > 0 or self._queued()

    def pause(self, max_wait_s: float = MAX_YIELD_S) -> None:
        """Wait while ingest is busy, at most ``max_wait_s``."""
        if not self.busy:
            return
        t0 = time.monotonic()
        deadline = t0 + max_wait_s
        with self._cond:
            while self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                # A post in flight signals its end: sleep till then. Only queued work (MQTT) is
                # polled: a page thread waking every few ms would take the GIL from ingest.
                self._cond.wait(left if self._busy > 0 else min(left, POLL_S))
        self.yielded_s += time.monotonic() - t0


@dataclass(frozen=True, slots=True)
class Encoded:
    """A page's data, its JSON bytes (encoded once, as JSONResponse encodes) and their ETag."""

    data: dict[str, Any]
    body: bytes
    etag: str


def encode(data: dict[str, Any]) -> Encoded:
    """The bytes JSONResponse would send for ``data`` (its json.dumps settings); what plain JSON
    does not hold (a date, a set, a dataclass) goes through FastAPI's jsonable_encoder, as a
    route's return value would."""
    body = json.dumps(
        data, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=jsonable_encoder
    ).encode("utf-8")
    return Encoded(data, body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether a request's If-None-Match names this ETag (weak or strong, or ``*``)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


class IngestFirst:
    """ASGI middleware, outermost: a sensor's post (``POST /api/v1/events``) marks ingest busy from
    its first byte to its answer, sign-in check included, so the page thread gives way to all of
    it. The gate is the app's ``state.ingest_gate`` (set when the pages are mounted)."""

    def __init__(self, app: Any, state: Any, path: str = "/api/v1/events") -> None:
        self.app, self.state, self.path = app, state, path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        gate = getattr(self.state, "ingest_gate", None)
        if gate is None or scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        gate.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            gate.leave()


class PageWorker:
    """The one thread pages are computed on (see the module's docstring). A daemon thread,
    started at the first page: an app that is dropped (tests make many) leaves an idle thread."""

    def __init__(self, gate: IngestGate) -> None:
        self.gate = gate
        self._q: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def _run(self) -> None:
        # The page thread's pause, called at the domain's pause points (domain/yielding.py)
        # inside the loops a page spends its time in, besides the pauses between a page's parts.
        yielding.install(self.gate.pause)
        while (item := self._q.get()) is not None:
            fn, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                self.gate.pause()
                fut.set_result(fn())
            except BaseException as e:  # handed to the request that asked for the page
                fut.set_exception(e)

    def submit(self, fn: Callable[[], _T]) -> Future[_T]:
        fut: Future[_T] = Future()
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="pages")
                self._thread.start()
        self._q.put((fn, fut))
        return fut

    def _on_worker(self) -> bool:
        return threading.current_thread() is self._thread

    def run(self, fn: Callable[[], _T]) -> _T:
        """Compute on the page thread and wait for it (from a request's thread); on the page
        thread itself (a page computing another), compute in place."""
        if self._on_worker():
            return fn()
        return self.submit(fn).result()

    async def arun(self, fn: Callable[[], _T]) -> _T:
        return await asyncio.wrap_future(self.submit(fn))

    def pause(self) -> None:
        """A page's pause between its parts: give way to ingest (only on the page thread)."""
        if self._on_worker():
            self.gate.pause()

    def close(self) -> None:
        self._q.put(None)
