"""The packed piece index (quality/dhu.PieceRuns) answers what the list of tuples it replaced did."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime, timedelta, timezone

from seamline.quality.dhu import PieceRuns

OFFSETS = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]


def _records(rng: random.Random, n: int) -> list[tuple[datetime, str, str, int]]:
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    out = []
    for _ in range(n):
        ts = (t0 + timedelta(microseconds=rng.randrange(0, 3_600_000_000, 250_000) + rng.randrange(3))).astimezone(
            rng.choice(OFFSETS)
        )
        out.append((ts, rng.choice(["S01", "S02"]), rng.choice(["W1", "W2", "?"]), rng.choice([1, 1, 1, 2, 30])))
    return out


def _latest(recs: list[tuple[datetime, str, str, int]], at: datetime) -> tuple[datetime, str, str, int]:
    """The rule of DhuAggregator.maker_of before the index was packed."""
    best = None
    for rec in recs:
        if rec[0] <= at and (best is None or rec[0] >= best[0]):
            best = rec
    return best if best is not None else min(recs, key=lambda r: r[0])


def test_packed_index_round_trips_and_finds_the_same_maker() -> None:
    rng = random.Random(19)
    for _ in range(40):
        recs = _records(rng, rng.randrange(1, 60))
        runs = PieceRuns()
        for r in recs:
            runs.append(*r)
        back = list(runs.records())
        assert back == recs
        # same instants and the same UTC offsets: the API writes them back as they came
        assert [t.isoformat() for t, *_ in back] == [t.isoformat() for t, *_ in recs]
        assert len(runs.runs) <= len(recs)
        for _ in range(10):
            at = recs[rng.randrange(len(recs))][0] + timedelta(seconds=rng.choice([-1, 0, 0, 5]))
            i = runs.latest_at_or_before(at)
            got = runs.record(i if i is not None else runs.earliest())
            want = _latest(recs, at)
            assert got == want and got[0].isoformat() == want[0].isoformat()
        copy = pickle.loads(pickle.dumps(runs))
        assert list(copy.records()) == recs


def test_kept_from_drops_only_older_pieces() -> None:
    rng = random.Random(7)
    recs = _records(rng, 50)
    runs = PieceRuns()
    for r in recs:
        runs.append(*r)
    cutoff = sorted(r[0] for r in recs)[20]
    kept = runs.kept_from(cutoff)
    assert kept is not None
    assert list(kept.records()) == [r for r in recs if r[0] >= cutoff]
    assert runs.kept_from(max(r[0] for r in recs) + timedelta(microseconds=1)) is None
    assert runs.kept_from(min(r[0] for r in recs)) is runs
