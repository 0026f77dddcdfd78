"""The simulator's initial balance: every operation somewhere sensible, no station swamped."""

from __future__ import annotations

from collections import Counter

import pytest

from seamline.domain.model import DomainError, Station
from seamline.sim import initial_balance
from seamline.sim.balance import SUBSTITUTES, check_balance

from .layouts import SHORTS, TEE


def _stations(types: list[str]) -> list[Station]:
    return [Station(f"S{i:02d}", "F1", "L1", f"x{i}", mt, i) for i, mt in enumerate(types, 1)]


def _loads(style, bal) -> dict[str, float]:  # type: ignore[no-untyped-def]
    shares = Counter(c for cs in bal.values() for c in cs)
    ops = style.op_map()
    return {sid: sum(ops[c].sam_min / shares[c] for c in cs) for sid, cs in bal.items()}


@pytest.mark.parametrize("style", [TEE, SHORTS])
def test_every_op_covered_on_a_fitting_machine(style) -> None:  # type: ignore[no-untyped-def]
    sts = _stations(["OL4"] * 6 + ["FL"] * 4 + ["SNLS"] * 2 + ["MAN"] * 2)
    bal = initial_balance(style, sts)
    types = {s.id: s.machine_type for s in sts}
    covered = {c for cs in bal.values() for c in cs}
    assert covered == {o.code for o in style.operations}
    for sid, codes in bal.items():
        for c in codes:
            mt = style.op(c).machine_type
            assert types[sid] == mt or types[sid] in SUBSTITUTES.get(mt, ())
        # A station's list follows precedence.
        order = style.topological_order()
        assert codes == sorted(codes, key=order.index)
    loads = _loads(style, bal)
    pitch = style.sam_min / len(sts)
    assert max(loads.values()) < 2.0 * pitch


def test_a_missing_machine_type_borrows_a_substitute_and_relieves_the_bottleneck() -> None:
    sts = _stations(["OL5", "OL5"] + ["SNLS"] * 6 + ["MAN"])  # no OL4, no FL: stand-ins do the work
    bal = initial_balance(TEE, sts)
    assert {c for cs in bal.values() for c in cs} == {o.code for o in TEE.operations}
    # The four OL4 operations (2.3 min) are shared by the two 5-thread overlocks, about evenly.
    loads = _loads(TEE, bal)
    assert loads["S01"] + loads["S02"] == pytest.approx(2.3)
    assert max(loads["S01"], loads["S02"]) < 1.4
    # Coverstitch work goes to lockstitch machines.
    fl_ops = {o.code for o in TEE.operations if o.machine_type == "FL"}
    assert all(sid.startswith("S0") and int(sid[1:]) in range(3, 9) for sid, cs in bal.items() if fl_ops & set(cs))


def test_check_balance_rejects_gaps_and_unknown_ops() -> None:
    ids = {"A", "B"}
    with pytest.raises(DomainError, match="no station"):
        check_balance(SHORTS, {"A": ["S10", "S20"], "B": ["S30"]}, ids)
    with pytest.raises(DomainError, match="unknown"):
        check_balance(SHORTS, {"A": ["S10", "X99"]}, ids)
    ok = check_balance(SHORTS, {"A": ["S10", "S20", "S30"], "B": ["S40", "S50", "S60"], "Z": ["S10"]}, ids)
    assert set(ok) == {"A", "B"}
