"""ISO 2859-1 plans pinned against the printed standard (Tables 1, 2-A, 2-B, 2-C)."""

from __future__ import annotations

import pytest

from seamline.quality.aql import (
    AqlError,
    aql_values,
    code_letter,
    plan_for_letter,
    sampling_plan,
    sampling_tables,
    tighter_acceptance_number,
)

# (lot size, level) -> code letter, straight from Table 1.
CODE_LETTERS = [
    (2, "II", "A"),
    (8, "II", "A"),
    (9, "II", "B"),
    (15, "II", "B"),
    (16, "II", "C"),
    (25, "II", "C"),
    (26, "II", "D"),
    (50, "II", "D"),
    (51, "II", "E"),
    (90, "II", "E"),
    (91, "II", "F"),
    (150, "II", "F"),
    (151, "II", "G"),
    (280, "II", "G"),
    (281, "II", "H"),
    (500, "II", "H"),
    (501, "II", "J"),
    (1200, "II", "J"),
    (1201, "II", "K"),
    (3200, "II", "K"),
    (3201, "II", "L"),
    (10000, "II", "L"),
    (10001, "II", "M"),
    (35000, "II", "M"),
    (35001, "II", "N"),
    (150000, "II", "N"),
    (150001, "II", "P"),
    (500000, "II", "P"),
    (500001, "II", "Q"),
    (5_000_000, "II", "Q"),
    (2000, "I", "H"),
    (2000, "III", "L"),
    (2000, "S-1", "C"),
    (2000, "S-2", "D"),
    (2000, "S-3", "E"),
    (2000, "S-4", "G"),
    (100, "I", "D"),
    (100, "III", "G"),
    (800, "I", "G"),
    (800, "III", "K"),
    (600_000, "III", "R"),
    (600_000, "S-4", "K"),
    (12, "III", "C"),
    (30, "S-1", "A"),
    (60, "S-1", "B"),
]


@pytest.mark.parametrize(("lot", "level", "letter"), CODE_LETTERS)
def test_code_letters_follow_table_1(lot: int, level: str, letter: str) -> None:
    assert code_letter(lot, level) == letter


# (lot size, level, AQL, inspection) -> (letter, n, Ac, Re). Cells read from the printed tables;
# where a cell is an arrow, the plan it points to (with that plan's sample size).
PLANS = [
    # the issue's own examples
    (2000, "II", "2.5", "normal", ("K", 125, 7, 8)),
    (2000, "II", "4.0", "normal", ("K", 125, 10, 11)),
    (120, "II", "2.5", "normal", ("F", 20, 1, 2)),
    (1000, "II", "2.5", "normal", ("J", 80, 5, 6)),
    (2000, "I", "2.5", "normal", ("H", 50, 3, 4)),
    # Table 2-A, more cells
    (2000, "II", "0.65", "normal", ("K", 125, 2, 3)),
    (2000, "II", "1.0", "normal", ("K", 125, 3, 4)),
    (2000, "II", "1.5", "normal", ("K", 125, 5, 6)),
    (2000, "II", "6.5", "normal", ("K", 125, 14, 15)),
    (120, "II", "4.0", "normal", ("F", 20, 2, 3)),
    (120, "II", "6.5", "normal", ("F", 20, 3, 4)),
    (120, "II", "0.65", "normal", ("F", 20, 0, 1)),
    (120, "II", "1.0", "normal", ("F", 13, 0, 1)),  # up arrow → E's 0/1
    (120, "II", "1.5", "normal", ("F", 32, 1, 2)),  # down arrow → G's 1/2
    (1000, "II", "4.0", "normal", ("J", 80, 7, 8)),
    (1000, "II", "1.5", "normal", ("J", 80, 3, 4)),
    (1000, "II", "6.5", "normal", ("J", 80, 10, 11)),
    (400, "II", "2.5", "normal", ("H", 50, 3, 4)),
    (400, "II", "4.0", "normal", ("H", 50, 5, 6)),
    (400, "II", "1.0", "normal", ("H", 50, 1, 2)),
    (200, "II", "2.5", "normal", ("G", 32, 2, 3)),
    (200, "II", "4.0", "normal", ("G", 32, 3, 4)),
    (5000, "II", "2.5", "normal", ("L", 200, 10, 11)),
    (5000, "II", "4.0", "normal", ("L", 200, 14, 15)),
    (5000, "II", "1.5", "normal", ("L", 200, 7, 8)),
    (20000, "II", "2.5", "normal", ("M", 315, 14, 15)),
    (20000, "II", "4.0", "normal", ("M", 315, 21, 22)),
    (20000, "II", "6.5", "normal", ("M", 200, 21, 22)),  # up arrow → L's 21/22
    (50000, "II", "2.5", "normal", ("N", 500, 21, 22)),
    (50000, "II", "4.0", "normal", ("N", 315, 21, 22)),  # up arrow → M's 21/22
    (40, "II", "2.5", "normal", ("D", 5, 0, 1)),  # up arrow → C's 0/1
    (40, "II", "4.0", "normal", ("D", 13, 1, 2)),  # down arrow → E's 1/2
    (40, "II", "6.5", "normal", ("D", 8, 1, 2)),
    (60, "II", "2.5", "normal", ("E", 20, 1, 2)),
    (60, "II", "4.0", "normal", ("E", 13, 1, 2)),
    (60, "II", "6.5", "normal", ("E", 13, 2, 3)),
    (2000, "III", "2.5", "normal", ("L", 200, 10, 11)),
    (2000, "II", "0.10", "normal", ("K", 125, 0, 1)),
    (2000, "II", "0.15", "normal", ("K", 80, 0, 1)),  # up arrow → J's 0/1
    (600_000, "II", "0.010", "normal", ("Q", 1250, 0, 1)),
    # Table 2-B (tightened)
    (2000, "II", "2.5", "tightened", ("K", 125, 5, 6)),
    (2000, "II", "4.0", "tightened", ("K", 125, 8, 9)),
    (2000, "II", "6.5", "tightened", ("K", 125, 12, 13)),
    (2000, "II", "1.0", "tightened", ("K", 125, 2, 3)),
    (2000, "II", "10", "tightened", ("K", 125, 18, 19)),
    (1000, "II", "2.5", "tightened", ("J", 80, 3, 4)),
    (1000, "II", "4.0", "tightened", ("J", 80, 5, 6)),
    (400, "II", "4.0", "tightened", ("H", 50, 3, 4)),
    (120, "II", "2.5", "tightened", ("F", 32, 1, 2)),  # down arrow → G's 1/2
    (120, "II", "1.0", "tightened", ("F", 20, 0, 1)),
    (600_000, "III", "0.025", "tightened", ("R", 3150, 1, 2)),  # the extra letter S
    # Table 2-C (reduced, 1999 edition: no gap between Ac and Re)
    (2000, "II", "2.5", "reduced", ("K", 50, 3, 4)),
    (2000, "II", "4.0", "reduced", ("K", 50, 5, 6)),
    (1000, "II", "2.5", "reduced", ("J", 32, 2, 3)),
    (5000, "II", "2.5", "reduced", ("L", 80, 5, 6)),
]


@pytest.mark.parametrize(("lot", "level", "aql", "inspection", "want"), PLANS)
def test_plans_match_the_standard(
    lot: int, level: str, aql: str, inspection: str, want: tuple[str, int, int, int]
) -> None:
    p = sampling_plan(lot, level, aql, inspection)
    assert (p.code_letter, p.sample_size, p.accept, p.reject) == want


def test_cli_shape_and_100_percent_flag() -> None:
    assert sampling_plan(2000).as_dict() == {"code_letter": "K", "sample_size": 125, "accept": 7, "reject": 8}
    small = sampling_plan(5, aql="2.5")  # A, but the arrow leads to C: 5 pieces from a lot of 5
    assert small.as_dict() == {
        "code_letter": "A",
        "sample_size": 5,
        "accept": 0,
        "reject": 1,
        "inspect_100_percent": True,
    }
    assert small.pieces_to_inspect == 5
    assert sampling_plan(4, aql="2.5").pieces_to_inspect == 4


def test_every_cell_is_a_plan_of_the_table() -> None:
    """An arrow's target must itself be a cell of the table with the same plan."""
    t = sampling_tables()
    for insp, plans in t["plans"].items():
        sizes = t["sample_sizes"][insp]
        for letter, row in plans.items():
            for aql, (n, ac, re) in row.items():
                assert re == ac + 1, (insp, letter, aql)
                assert n in sizes.values()
                if n == sizes[letter]:
                    continue
                owners = [lt for lt, size in sizes.items() if size == n and lt in plans]
                if not owners:  # tightened letter S is only reached by an arrow
                    assert insp == "tightened" and n == 3150
                    continue
                assert any(plans[o][aql] == [n, ac, re] for o in owners), (insp, letter, aql)


def test_tightened_never_looser_than_normal_for_the_same_sample() -> None:
    t = sampling_tables()["plans"]
    for letter, row in t["normal"].items():
        for aql, (n, ac, _) in row.items():
            nt, act, _ = t["tightened"][letter][aql]
            if nt == n:
                assert act <= ac, (letter, aql)


def test_acceptance_number_grows_with_the_aql_at_a_fixed_sample() -> None:
    t = sampling_tables()["plans"]["normal"]
    sizes = sampling_tables()["sample_sizes"]["normal"]
    for letter, row in t.items():
        last = -1
        for aql in aql_values():
            n, ac, _ = row[aql]
            if n == sizes[letter]:
                assert ac > last, (letter, aql)
                last = ac


def test_aql_and_level_spellings() -> None:
    assert sampling_plan(2000, "ii", 2.5) == sampling_plan(2000, "II", "2.50")
    assert sampling_plan(2000, "G-2", "2.5").code_letter == "K"
    assert sampling_plan(100, "II", ".65").aql == "0.65"
    assert plan_for_letter("K", "4") == (125, 10, 11)


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        ((0,), "lot size"),
        ((-3,), "lot size"),
        ((100, "IV"), "inspection level"),
        ((100, "II", "3.0"), "not in the ISO 2859-1 series"),
        ((100, "II", "abc"), "not a number"),
        ((100, "II", "2.5", "relaxed"), "inspection"),
    ],
)
def test_bad_input_is_refused_with_a_reason(args: tuple, msg: str) -> None:
    with pytest.raises(AqlError, match=msg):
        sampling_plan(*args)


def test_decision_uses_ac_and_re() -> None:
    p = sampling_plan(2000)
    assert p.decide(7) is True
    assert p.decide(8) is False
    with pytest.raises(AqlError):
        p.decide(-1)


def test_tighter_acceptance_number_for_the_switching_score() -> None:
    assert tighter_acceptance_number("K", "2.5") == 5
    assert tighter_acceptance_number("K", "4.0") == 7
    assert tighter_acceptance_number("F", "0.65") is None  # the tighter cell is an arrow elsewhere
    assert tighter_acceptance_number("K", "0.010") is None
