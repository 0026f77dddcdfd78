"""The learning projection needs no database: snapshots go to whatever ``SnapshotStore`` it is given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from seamline.learning.projection import LearningProjection, SnapshotError
from seamline.learning.state import SkillEstimate
from tests.conftest import tiny_layout

from .builders import SAM_S, Station


class ListStore:
    def __init__(self, fail: bool = False) -> None:
        self.saved: list[tuple[list[SkillEstimate], datetime]] = []
        self.fail = fail

    def save(self, estimates: Sequence[SkillEstimate], saved_at: datetime) -> int:
        if self.fail:
            raise SnapshotError("the store is away")
        self.saved.append((list(estimates), saved_at))
        return len(estimates)


def fed_projection(store: ListStore) -> LearningProjection:
    lay = tiny_layout()
    proj = LearningProjection({lay.factory.id: lay}, store, snapshot_every_s=0.0)
    st = Station("S1", factory=lay.factory.id)
    st.login("W1").bundle_in("O1-0001")
    for _ in range(30):
        st.piece(SAM_S, bundle="O1-0001")
    for ev in st.events:
        proj.apply(ev)
    return proj


def test_a_snapshot_hands_every_estimate_to_the_store() -> None:
    store = ListStore()
    proj = fed_projection(store)
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert proj.snapshot(now) == 1
    [(ests, at)] = store.saved
    assert at == now
    assert [(e.worker, e.op, e.n_pieces) for e in ests] == [("W1", "OP1", 30)]


def test_a_failing_store_is_skipped_by_readers_and_raised_on_request() -> None:
    proj = fed_projection(ListStore(fail=True))
    assert proj.maybe_snapshot() is False  # logged, not raised: a reader still gets its answer
    with pytest.raises(SnapshotError, match="away"):
        proj.snapshot()


def test_without_a_store_nothing_is_written() -> None:
    lay = tiny_layout()
    proj = LearningProjection({lay.factory.id: lay})
    assert proj.snapshot() == 0 and proj.maybe_snapshot() is False
