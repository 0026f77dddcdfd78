"""Points where a long read computation may give way to ingest.

Pages and ingest share one process and so one GIL (web/page_worker.py). A page computed while a
sensor's post is in flight takes turns with it at every GIL hand-over, and the post's answer is
late by as much as the page runs meanwhile. The page thread therefore waits while ingest is at
work, but it can only look between steps of its computation: the coarser the steps, the longer
a post shares the GIL with a page. The loops a page spends its time in (stations of a line,
keys of a tally, lines of the overview) call ``point()`` once per item.

``point()`` does nothing unless the calling thread installed a pause with ``install`` (the page
thread does, ingest and every other caller do not), so domain code stays pure of any web or
threading policy: it only says where a pause would be harmless.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

_local = threading.local()


def install(pause: Callable[[], None] | None) -> None:
    """Set (or with None clear) the calling thread's pause, called at every ``point()``."""
    _local.pause = pause


def point() -> None:
    """A place in a long read where the calling thread may pause (see the module docstring)."""
    pause = getattr(_local, "pause", None)
    if pause is not None:
        pause()
