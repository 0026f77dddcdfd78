"""save_* then load_* gives back the same domain objects, through CSV and through xlsx."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seamline.adapters.layout_files import (
    load_bulletin,
    load_factory,
    load_orders,
    load_stations,
    load_workers,
    save_bulletin,
    save_factory,
    save_orders,
    save_stations,
    save_workers,
)
from seamline.domain.cutting import cut_order
from seamline.domain.model import (
    Break,
    Factory,
    FactoryLayout,
    Line,
    Operation,
    Order,
    ShiftCalendar,
    Station,
    Style,
    Worker,
)


def tricky_layout() -> FactoryLayout:
    """Values that break naive writers: commas, quotes, newlines, formulas, odd floats, night shifts."""
    f = Factory(id="f1", name='Fab "One", Ningbo 宁波一厂', timezone="Europe/Istanbul")
    cals = {
        "day": ShiftCalendar(id="day", timezone="Europe/Istanbul", breaks=(Break(time(12), time(12, 45), "lunch"),)),
        "night": ShiftCalendar(
            id="night",
            timezone="Asia/Dhaka",
            shift_start=time(20, 0),
            shift_end=time(5, 0),
            breaks=(Break(time(0, 0), time(0, 30), "midnight meal"), Break(time(3, 0), time(3, 10, 30), "tea")),
            workdays=(6, 0, 2),
        ),
    }
    lines = {
        "A": Line(id="A", factory_id="f1", name="Line A, knits", calendar_id="day", target_efficiency_pct=62.5),
        "B": Line(id="B", factory_id="f1", name="B", calendar_id="night", target_efficiency_pct=200 / 3),
        "C": Line(id="C", factory_id="f1", name="C", calendar_id="default"),
    }
    stations = {
        "A-1": Station(id="A-1", factory_id="f1", line_id="A", sensor_id="s-1", machine_type="OL4", position=1),
        "B-1": Station(id="B-1", factory_id="f1", line_id="B", sensor_id="0042", machine_type="SNLS", position=0),
    }
    ops = (
        Operation("010", "合肩", "Join shoulders", 2 / 3, "OL4", 2, (), 'line 1\nline 2, "quoted"'),
        Operation("020", "上领", "Attach collar", 1 / 3, "SNLS", 5, ("010",), "=not a formula"),
        Operation("030", "检验", "Inspect", 2.0, "MAN", 1, ("010", "020"), ""),
    )
    styles = {
        "S/1": Style("S/1", "款一", "Style one", ops, bundle_size=7),
        "S2": Style("S2", "", "", (Operation("X", "", "", 5.0, "MAN"),), bundle_size=1),
    }
    workers = {
        "0007": Worker("0007", "李 小红", "A", {"OL4": 5, "010": 3}, "senior"),
        "W2": Worker("W2", "O'Brien, Mary", None, {}, "general"),
    }
    orders = {
        "O1": Order(
            "O1", "Müller & Söhne", "S/1", {("M", "Red, dark"): 13, ("L", "Red, dark"): 1}, date(2026, 12, 31), -2
        ),
        "O2": Order("O2", "", "S2", {("ONE", "—"): 3}, date(2027, 1, 1), 0),
    }
    layout = FactoryLayout(f, lines, stations, workers, styles, orders, {}, cals)
    for o in orders.values():
        for b in cut_order(o, styles[o.style_code]):
            layout.bundles[b.id] = b
    return layout


@pytest.mark.parametrize("target", ["folder", "factory.xlsx"])
def test_factory_round_trips(tmp_path: Path, target: str) -> None:
    layout = tricky_layout()
    path = tmp_path / target
    save_factory(layout, path)
    back = load_factory(path)
    assert back == layout
    # Not just equal as a whole: the awkward values survived individually.
    assert back.styles["S/1"].op("010").sam_min == 2 / 3
    assert back.styles["S/1"].op("020").instruction == "=not a formula"
    assert back.lines["B"].target_efficiency_pct == 200 / 3
    assert back.workers["W2"].line_id is None
    assert back.calendars["night"].shift_minutes() == 9 * 60 - 30 - 10.5
    assert len(back.bundles) == 6  # 13 -> 7+6, 1 -> 1, and 3 -> three bundles of one piece
    # Saving what was loaded writes the same files again.
    if target == "folder":
        save_factory(back, tmp_path / "again")
        for p in sorted(path.rglob("*.csv")):
            assert (tmp_path / "again" / p.relative_to(path)).read_text("utf-8") == p.read_text("utf-8")


def test_csv_keeps_every_digit_of_a_float(tmp_path: Path) -> None:
    """CSV writes the shortest exact repr; xlsx keeps Excel's 15-16 significant digits (see docs)."""
    ops = (Operation("A", "", "", 0.1 + 0.2, "SNLS"), Operation("B", "", "", 1e-9, "SNLS", 1, ("A",)))
    style = Style("P", "", "", ops)
    save_bulletin(style, tmp_path / "b.csv")
    back = load_bulletin(tmp_path / "b.csv", "P")
    assert back.op("A").sam_min == 0.1 + 0.2 and back.op("B").sam_min == 1e-9
    save_bulletin(style, tmp_path / "b.xlsx")
    assert abs(load_bulletin(tmp_path / "b.xlsx", "P").op("A").sam_min - 0.3) < 1e-15


def test_folder_and_workbook_agree_with_example(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "factory"
    layout = load_factory(example)
    save_factory(layout, tmp_path / "copy")
    written = sorted((tmp_path / "copy").rglob("*.csv"))
    # Every file the layout writes equals the example's (other features keep files beside them).
    assert {p.name for p in written} >= {"factory.csv", "lines.csv", "stations.csv", "workers.csv", "orders.csv"}
    for p in written:
        assert (example / p.relative_to(tmp_path / "copy")).read_bytes() == p.read_bytes(), p.name


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_per_kind_files_round_trip(tmp_path: Path, suffix: str) -> None:
    layout = tricky_layout()
    style = layout.styles["S/1"]
    save_bulletin(style, tmp_path / f"b{suffix}")
    assert load_bulletin(tmp_path / f"b{suffix}", "S/1", "款一", "Style one", bundle_size=7) == style
    save_workers(layout.workers, tmp_path / f"w{suffix}")
    assert load_workers(tmp_path / f"w{suffix}", line_ids=layout.lines) == layout.workers
    save_orders(layout.orders, tmp_path / f"o{suffix}")
    assert load_orders(tmp_path / f"o{suffix}", style_codes=layout.styles) == layout.orders
    save_stations(layout.stations.values(), tmp_path / f"s{suffix}")
    assert load_stations(tmp_path / f"s{suffix}", factory_id="f1") == layout.stations


_text = (
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)
_key = st.sampled_from(["SNLS", "OL4", "FOA", "BT", "OP-1", "J28"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(_text, min_size=1, max_size=6),
    skills=st.dictionaries(_key, st.integers(1, 5), max_size=4),
)
def test_any_worker_names_and_skills_round_trip_through_csv(tmp_path: Path, names: list[str], skills: dict) -> None:
    workers = {
        f"B{i}": Worker(f"B{i}", n, "L1" if i % 2 else None, dict(skills), "regular") for i, n in enumerate(names)
    }
    save_workers(workers, tmp_path / "w.csv")
    assert load_workers(tmp_path / "w.csv") == workers
