"""Planning tests: the compiled beam levels and tabu search are compiled (or loaded from numba's
cache) once, before any test's clock starts, so a cold cache (a changed kernel, no ``make venv``)
costs the session a few seconds instead of failing a timed test."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _compiled_beam_levels() -> None:
    from seamline.planning.balance.ipbs import warm_compiled

    warm_compiled()
