"""Piece-rate pay, hand-computed: rates, overtime premiums, returns, the minimum-wage floor, rounding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from seamline.compliance.pipeline import Facts, compute
from seamline.compliance.rules import load_ruleset
from seamline.pay.payslip import PayPolicy, compute_payslip, money
from seamline.pay.rates import PayError, Rate, RateCard, parse_rate_card
from seamline.pay.wage_floor import MinWage, load_min_wage
from tests.compliance.builders import Ev, at, make_layout

PRC = load_ruleset("prc_labour_law")
# op A: 0.50 a piece; op B: 0.40 a standard minute x SAM 1.2 = 0.48 a piece
RATES = RateCard([Rate(op="A", per_piece=Decimal("0.50")), Rate(per_sam_min=Decimal("0.40"))])
HOLIDAY = date(2026, 3, 4)  # a made-up holiday for the test


def scenario() -> Ev:
    ev = Ev()
    # Mon 2 March 08:00-19:00, lunch 12-13: 10 h -> 8 regular + 2 overtime; overtime starts 17:00
    ev.shift("W1", "S1", "2026-03-02", "08:00", "19:00")
    ev.piece("S1", at("2026-03-02", "10:00"), op="A", qty=100)
    ev.piece("S1", at("2026-03-02", "16:59"), op="A", qty=20)
    ot = ev.piece("S1", at("2026-03-02", "17:30"), op="A", qty=40)
    # Tue 3 March: 5 of the overtime pieces come back from QC
    ev.defect("S2", at("2026-03-03", "09:00"), op="A", qty=5)
    # Wed 4 March (holiday here): 2 h, 10 pieces of A
    ev.shift("W1", "S1", "2026-03-04", "08:00", "10:00")
    ev.piece("S1", at("2026-03-04", "09:00"), op="A", qty=10)
    # Sun 8 March (rest day): 2 h, 20 pieces of B
    ev.shift("W1", "S1", "2026-03-08", "08:00", "10:00")
    ev.piece("S1", at("2026-03-08", "09:00"), op="B", qty=20)
    assert ot.qty == 40
    return ev


def slip(policy: PayPolicy):  # type: ignore[no-untyped-def]
    lay = make_layout()
    c = compute(Facts(lay, scenario().events), PRC, holidays=[HOLIDAY])
    return compute_payslip(
        "W1",
        date(2026, 3, 1),
        date(2026, 3, 31),
        pieces=c.pieces,
        defects=c.defects,
        hours=c.hours,
        ot_starts=c.ot_starts,
        rules=PRC,
        layout=lay,
        policy=policy,
    )


def test_premiums_and_returns_hand_computed() -> None:
    s = slip(PayPolicy(RATES))
    assert s.pay_by_class == {
        "regular": Decimal("60.00"),  # 120 x 0.50
        "overtime": Decimal("26.25"),  # (40 - 5 returned) x 0.50 x 150 %
        "rest_day": Decimal("19.20"),  # 20 x 0.48 x 200 %
        "holiday": Decimal("15.00"),  # 10 x 0.50 x 300 %
    }
    assert (s.regular_h, s.overtime_h) == (8, 6)
    assert (s.pieces, s.returned) == (190, 5)
    assert s.gross == Decimal("120.45") and s.top_up == 0


def test_lines_match_the_tablet_counts_per_day_and_operation() -> None:
    s = slip(PayPolicy(RATES))
    got = [(ln.day.day, ln.op, ln.pay_class, ln.pieces, ln.returned, ln.unit_price, ln.multiplier) for ln in s.lines]
    assert got == [
        (2, "A", "regular", 120, 0, Decimal("0.50"), 1),
        (2, "A", "overtime", 40, 0, Decimal("0.50"), Decimal("1.5")),
        (3, "A", "overtime", 0, 5, Decimal("0.50"), Decimal("1.5")),
        (4, "A", "holiday", 10, 0, Decimal("0.50"), 3),
        (8, "B", "rest_day", 20, 0, Decimal("0.480"), 2),
    ]


def test_returns_are_kept_when_the_factory_rule_says_so() -> None:
    s = slip(PayPolicy(RATES, deduct_defects=False))
    assert s.pay_by_class["overtime"] == Decimal("30.00") and s.returned == 0


def test_minimum_wage_floor_tops_up_regular_pay_only() -> None:
    zj1 = load_min_wage("zhejiang_1")
    assert (zj1.monthly, zj1.hourly) == (Decimal("2490"), Decimal("24"))
    s = slip(PayPolicy(RATES, min_wage=zj1))
    # 8 regular hours of a 174 h standard month: 2490 x 8 / 174 = 114.482758...; regular piece pay 60
    assert s.floor == Decimal("114.48")
    assert s.top_up == Decimal("54.48")
    # overtime pay is on top of the floor: 60 + 54.482758... + 26.25 + 19.20 + 15 = 174.932758... -> 174.93
    assert s.gross == Decimal("174.93")
    hourly = slip(PayPolicy(RATES, min_wage=zj1, floor_basis="hourly"))
    assert hourly.floor == Decimal("192.00") and hourly.gross == Decimal("252.45")  # 24 x 8; 192 + 60.45


def test_floor_is_capped_at_one_month() -> None:
    mw = MinWage("x", "x", "x", Decimal("2490"), Decimal("24"))
    assert mw.floor(Decimal(200)) == Decimal("2490")
    assert mw.floor(Decimal(87)) == Decimal("1245")
    assert mw.floor(Decimal(0)) == 0


def test_money_rounds_half_up_at_the_end() -> None:
    assert money(Decimal("0.125")) == Decimal("0.13")  # bankers' rounding would give 0.12
    assert money(Decimal("2.675")) == Decimal("2.68")
    # three pieces at 0.335: exact 1.005 -> 1.01; rounding each line first would give 1.02
    card = RateCard([Rate(op="A", per_piece=Decimal("0.335"))])
    ev = Ev()
    ev.shift("W1", "S1", "2026-03-02", "08:00", "10:00")
    ev.piece("S1", at("2026-03-02", "09:00"), qty=3)
    lay = make_layout()
    c = compute(Facts(lay, ev.events), PRC)
    s = compute_payslip(
        "W1",
        date(2026, 3, 1),
        date(2026, 3, 31),
        pieces=c.pieces,
        defects=c.defects,
        hours=c.hours,
        ot_starts=c.ot_starts,
        rules=PRC,
        layout=lay,
        policy=PayPolicy(card),
    )
    assert s.gross == Decimal("1.01")


def test_night_shift_overtime_pieces_after_midnight() -> None:
    ev = Ev()
    # Mon 2 March 20:00 -> Tue 05:30, meal 00:00-00:30: 9 h; regular until 04:30, overtime 04:30-05:30
    ev.login("W3", "S3", at("2026-03-02", "20:00"))
    ev.piece("S3", at("2026-03-03", "04:29"), qty=10)
    ev.piece("S3", at("2026-03-03", "04:31"), qty=4)
    ev.logout("W3", "S3", at("2026-03-03", "05:30"))
    lay = make_layout()
    c = compute(Facts(lay, ev.events), PRC)
    s = compute_payslip(
        "W3",
        date(2026, 3, 2),
        date(2026, 3, 2),
        pieces=c.pieces,
        defects=c.defects,
        hours=c.hours,
        ot_starts=c.ot_starts,
        rules=PRC,
        layout=lay,
        policy=PayPolicy(RATES),
    )
    assert [(ln.day, ln.pay_class, ln.pieces) for ln in s.lines] == [
        (date(2026, 3, 2), "regular", 10),
        (date(2026, 3, 2), "overtime", 4),
    ]
    assert s.gross == Decimal("8.00")  # 10 x 0.50 + 4 x 0.50 x 1.5


def test_rate_card_lookup_and_errors() -> None:
    lay = make_layout()
    t1 = lay.styles["T1"]
    card = parse_rate_card([{"op": "A", "style": "T1", "per_piece": "0.61"}, {"op": "A", "per_piece": "0.55"}])
    assert card.unit_price(t1, "A") == Decimal("0.61")
    assert card.unit_price(None, "A") == Decimal("0.55")
    with pytest.raises(PayError, match="no rate for op B"):
        card.unit_price(t1, "B")
    with pytest.raises(PayError, match="string"):
        parse_rate_card([{"op": "A", "per_piece": 0.5}])
    with pytest.raises(PayError, match="per_piece or per_sam_min"):
        Rate(op="A")
