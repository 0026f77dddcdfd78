"""Planning tests: the compiled beam levels and tabu search are compiled (or loaded from numba's
cache) once, before any test's clock starts, so a cold cache (a changed kernel, no ``make venv``)
costs the session a few seconds instead of failing a timed test."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _compiled_beam_levels() -> None:
    from seamline.planning.balance.ipbs import warm_compiled

    warm_compiled()


@pytest.fixture
def compiled_tabu_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per call of the compiled tabu search (``tabu._search_compiled``), which still runs."""
    from seamline.planning.balance import tabu

    calls: list[bool] = []
    real = tabu._search_compiled

    def counted(*args: object) -> object:
        calls.append(True)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(tabu, "_search_compiled", counted)
    return calls
