"""The compliance tests' database: a fresh one per test on each engine (``db_url``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from seamline.domain.model import FactoryLayout

from . import dbutil

MakeDb = Callable[[FactoryLayout, list], tuple[str, Engine]]


@pytest.fixture()
def make_db(db_url: str) -> Iterator[MakeDb]:
    """``make_db(layout, events) -> (url, engine)`` on this test's database; engines disposed after."""
    engines: list[Engine] = []

    def make(layout: FactoryLayout, events: list) -> tuple[str, Engine]:
        url, engine = dbutil.make_db(db_url, layout, events)
        engines.append(engine)
        return url, engine

    yield make
    for e in engines:
        e.dispose()
