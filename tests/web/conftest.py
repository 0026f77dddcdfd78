from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import new_database

from .server import REPO, Served, start

ARTIFACTS = REPO / "test-artifacts" / "web"


@pytest.fixture(scope="session")
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The browser tests' server, once per session, on PostgreSQL: the page code paths run on SQLite
    in test_app.py (in-process, both engines), so the browser covers the production store."""
    s = start(new_database(request, "postgres", tmp_path_factory.mktemp("web")))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture()
def context(browser: object) -> Iterator[object]:
    ctx = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 800}, timezone_id="Asia/Shanghai", locale="zh-CN"
    )
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
