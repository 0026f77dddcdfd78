"""The sample factory under examples/ is what the simulator and planners load: pin its shape."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from seamline.adapters.layout_files import load_factory
from seamline.domain.model import MACHINE_TYPES, FactoryLayout

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def layout() -> FactoryLayout:
    return load_factory(EXAMPLES / "factory")


def test_factory_and_calendar(layout: FactoryLayout) -> None:
    assert layout.factory.id == "xiaoshan"
    assert layout.factory.timezone == "Asia/Shanghai"
    cal = layout.calendar_for_line("L1")
    assert cal.id == "day"
    assert cal.shift_minutes() == 480.0
    assert cal.workdays == (0, 1, 2, 3, 4, 5)


def test_four_lines_of_thirty_stations(layout: FactoryLayout) -> None:
    assert sorted(layout.lines) == ["L1", "L2", "L3", "L4"]
    per_line = Counter(s.line_id for s in layout.stations.values())
    assert per_line == {"L1": 30, "L2": 30, "L3": 30, "L4": 30}
    assert "L4-S30" in layout.stations and layout.stations["L4-S30"].sensor_id == "SEN-L4-30"
    assert len({s.sensor_id for s in layout.stations.values()}) == 120
    tee_types = {s.machine_type for s in layout.stations.values() if s.line_id == "L1"}
    jeans_types = {s.machine_type for s in layout.stations.values() if s.line_id == "L3"}
    assert {"OL4", "FL", "SNLS"} <= tee_types
    assert {"SNLS", "DNLS", "FOA", "BT", "BL", "WB", "BH", "BS", "MAN"} <= jeans_types


def test_every_operation_has_a_machine_on_a_line_that_sews_it(layout: FactoryLayout) -> None:
    sews = {"L1": ["TEE-BASIC"], "L2": ["TEE-BASIC", "POLO"], "L3": ["JEANS-5P"], "L4": ["JEANS-5P"]}
    for line_id, codes in sews.items():
        types = {s.machine_type for s in layout.stations.values() if s.line_id == line_id}
        for code in codes:
            needed = {op.machine_type for op in layout.styles[code].operations}
            assert needed <= types, (line_id, code, needed - types)


def test_workers(layout: FactoryLayout) -> None:
    assert 110 <= len(layout.workers) <= 130
    groups = Counter(w.skill_group for w in layout.workers.values())
    assert {"senior", "regular", "trainee"} <= set(groups)
    for w in layout.workers.values():
        machine_skills = [k for k in w.skills if k in MACHINE_TYPES]
        assert 2 <= len(machine_skills) <= 4, w
        assert all(1 <= g <= 5 for g in w.skills.values())
        assert w.line_id is None or w.line_id in layout.lines
    assert len({w.name for w in layout.workers.values()}) == len(layout.workers)


def test_styles_are_realistic(layout: FactoryLayout) -> None:
    tee, jeans, polo = layout.styles["TEE-BASIC"], layout.styles["JEANS-5P"], layout.styles["POLO"]
    assert 10 <= len(tee.operations) <= 14 and 5.0 <= tee.sam_min <= 7.0
    assert len(jeans.operations) >= 40 and 22.0 <= jeans.sam_min <= 30.0
    assert 10.0 <= polo.sam_min <= 12.0
    for style in (tee, jeans, polo):
        for op in style.operations:
            assert op.machine_type in MACHINE_TYPES
            assert op.name_zh and op.name_en
            assert 0.1 <= op.sam_min <= 2.0
        # A finished garment leaves through one final inspection.
        assert len(style.final_operations()) == 1
    jeans_order = jeans.topological_order()
    by_en = {op.name_en: op.code for op in jeans.operations}

    def before(a: str, b: str) -> bool:
        return jeans_order.index(by_en[a]) < jeans_order.index(by_en[b])

    assert before("Attach back pockets", "Fell side seams")
    assert before("J-stitch fly", "Fell side seams")
    assert before("Fell side seams", "Fell inseams")
    assert before("Fell inseams", "Attach waistband")
    assert before("Attach waistband", "Attach belt loops")
    assert before("Finish waistband ends", "Keyhole buttonhole at waistband")
    assert before("Keyhole buttonhole at waistband", "Attach shank button")
    assert jeans.op(jeans.final_operations()[0]).name_en == "Final inspection"


def test_orders_and_bundles(layout: FactoryLayout) -> None:
    assert 10 <= len(layout.orders) <= 14
    customers = {o.customer for o in layout.orders.values()}
    assert len(customers) >= 4
    for o in layout.orders.values():
        assert 100 <= o.quantity <= 800
        assert date(2026, 12, 1) <= o.due <= date(2026, 12, 31)
        colours = {c for _, c in o.quantities}
        assert 1 <= len(colours) <= 3
        bundles = [b for b in layout.bundles.values() if b.order_id == o.id]
        assert sum(b.qty for b in bundles) == o.quantity
        size = layout.styles[o.style_code].bundle_size
        assert all(1 <= b.qty <= size for b in bundles)
        for (sz, colour), qty in o.quantities.items():
            assert sum(b.qty for b in bundles if (b.size, b.colour) == (sz, colour)) == qty
    assert layout.styles["TEE-BASIC"].bundle_size == 20
    assert 10 <= layout.styles["JEANS-5P"].bundle_size <= 12


def test_workbook_is_the_same_factory(layout: FactoryLayout) -> None:
    assert load_factory(EXAMPLES / "factory.xlsx") == layout
