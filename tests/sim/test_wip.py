"""Work in progress at the start, the cover of absences, and the floor they make (issue #21).

Before: every line started empty, so a jeans line shipped nothing for hours and most stations
waited; a station sewed one operation for all released bundles before the next (ties in the ready
queues); an absent worker's operation went whole to one helper, who became the bottleneck.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from seamline.adapters.layout_files import load_factory
from seamline.domain.model import FactoryLayout
from seamline.sim import SimConfig, simulate
from seamline.sim.engine import helpers_needed
from seamline.sim.floor_health import floor_health
from seamline.sim.wip import done_at, preload_shares, with_predecessors

REPO = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def layout() -> FactoryLayout:
    return load_factory(REPO / "examples" / "factory")


def test_what_is_done_on_a_preloaded_bundle_respects_precedence(layout: FactoryLayout) -> None:
    for style in layout.styles.values():
        ops = style.op_map()
        finals = set(style.final_operations())
        before: frozenset[str] = frozenset()
        for f in [i / 40 for i in range(41)]:
            done = done_at(style, f)
            for c in done:
                assert set(ops[c].predecessors) <= done, (style.code, f, c)
            assert before <= done  # further along, more done
            assert not finals <= done  # never a finished bundle
            before = done
        assert done_at(style, 0.0) == frozenset()
        assert len(done_at(style, 0.99)) > len(ops) // 2
    shares = preload_shares(4)
    assert shares == sorted(shares, reverse=True) and shares[-1] > 0 and shares[0] < 1


def test_stored_progress_is_completed_with_its_predecessors(layout: FactoryLayout) -> None:
    jeans = layout.styles["JEANS-5P"]
    assert with_predecessors(jeans, ["J08", "nope"]) == {"J01", "J02", "J03", "J04", "J05", "J06", "J07", "J08"}


def test_an_operation_is_shared_while_that_lowers_the_heaviest_load() -> None:
    assert helpers_needed([], [0.2, 0.3, 0.9], 0.9) == 2  # 0.2+0.9 > 0.3+0.45 > 0.9+0.3
    assert helpers_needed([], [], 0.9) == 0  # nobody to give it to
    assert helpers_needed([1.6], [0.8, 0.8], 1.6) == 2  # the present half no longer carries it alone
    assert helpers_needed([0.5], [0.8], 0.2) == 0  # a helper would only add load


def test_a_resumed_bundle_goes_on_from_where_it_was(layout: FactoryLayout) -> None:
    bid = "SO-2611-03-0001"
    done = ["J01", "J02", "J03", "J04", "J05", "J06", "J07", "J08"]
    res = simulate(layout, SimConfig(seed=3, start=MONDAY, hours=1, record_pieces=False, wip={bid: done}))
    ops = defaultdict(int)
    for _, payload, _ in res.events:
        ev = msgspec.json.decode(payload)
        if ev["type"] == "piece" and ev.get("bundle") == bid:
            ops[ev["op"]] += ev.get("qty", 1)
    assert not set(ops) & set(done), ops
    assert ops.get("J09", 0) > 0  # the next operation of that bundle was sewn


def test_the_demo_floor_ships_garments_in_the_first_hour_and_few_stations_wait(layout: FactoryLayout) -> None:
    def first_hour(preload: float) -> dict[str, dict[str, object]]:
        cfg = SimConfig(seed=1, start=MONDAY, hours=1, record_pieces=False, preload_wip_bundles_per_station=preload)
        return {k: h.as_dict() for k, h in floor_health(layout, simulate(layout, cfg).events).items()}

    demo, empty = first_hour(1.5), first_hour(0.0)
    for lid, h in demo.items():
        assert h["garments"] > 0 and h["first_garment_min"] is not None, (lid, h)
        assert h["starved_share"] < 0.35, (lid, h)  # type: ignore[operator]
    # An empty line ships nothing in its first hour: the preload is what makes the difference.
    assert all(h["garments"] == 0 for lid, h in empty.items() if lid in ("L3", "L4")), empty
