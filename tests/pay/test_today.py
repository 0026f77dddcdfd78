"""Today's piece pay on the tablet, hand-computed: which rate prices which operation, rounding,
a card that misses an operation, the stored card, and the tablet's figures from live state."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert

from seamline.adapters import migrate
from seamline.adapters.tables import factories
from seamline.bootstrap import bootstrap
from seamline.domain.events import BundleIn, Defect, Login, Logout, Piece
from seamline.domain.live import LiveState
from seamline.domain.model import Operation, Style
from seamline.entrypoints.api import create_app
from seamline.pay.rates import PayError, Rate, RateCard, parse_rate_card
from seamline.pay.store import RateCards, load_rate_card, read_rate_file, save_rate_card
from seamline.pay.today import piece_earnings, style_for_op
from seamline.quality.dhu import DhuAggregator
from seamline.web.i18n import Fmt
from seamline.web.tablet import tablet_fields, worker_pieces_today
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload
from tests.web.factory import STYLE, at, layout

REPO = Path(__file__).resolve().parents[2]
# Two styles share the code "X" at different SAMs: the line's style must price it.
SHIRT = Style("SH", "衬衫", "Shirt", (Operation("X", "合肩", "Join shoulders", 0.8, "OL4"),))
POLO = Style("PO", "Polo衫", "Polo", (Operation("X", "合肩", "Join shoulders", 0.6, "OL4"),))
STYLES = {"SH": SHIRT, "PO": POLO, "S1": STYLE}


def test_per_minute_rate_uses_the_sam_of_the_style_being_sewn() -> None:
    card = RateCard([Rate(per_sam_min=Decimal("0.40"))])
    # 7 x 0.8 min x 0.40 = 2.24 on the shirt line; 7 x 0.6 x 0.40 = 1.68 on the polo line
    assert piece_earnings([("X", 7)], card, SHIRT, STYLES) == Decimal("2.24")
    assert piece_earnings([("X", 7)], card, POLO, STYLES) == Decimal("1.68")
    # no line style known: the first style by code that has the operation (PO)
    assert piece_earnings([("X", 7)], card, None, STYLES) == Decimal("1.68")
    assert style_for_op("A", SHIRT, STYLES) is STYLE  # the line's style lacks A: the one that has it


def test_most_specific_rate_wins_and_money_rounds_half_up_to_the_cent() -> None:
    card = parse_rate_card(
        [
            {"per_sam_min": "0.42"},
            {"style": "S1", "op": "A", "per_piece": "0.255"},
            {"op": "B", "per_piece": "0.105"},
        ]
    )
    # A: 3 x 0.255 = 0.765; B: 5 x 0.105 = 0.525; C: 10 x 0.5 min x 0.42 = 2.10 -> 3.39 exactly
    assert piece_earnings([("A", 3), ("B", 5), ("C", 10)], card, STYLE, STYLES) == Decimal("3.39")
    # 1 x 0.255 = 0.255 -> 0.26 (half up, not to even)
    assert piece_earnings([("A", 1)], card, STYLE, STYLES) == Decimal("0.26")
    assert piece_earnings([], card, STYLE, STYLES) == Decimal("0.00")
    # a retracted provisional count nets out (motor counts, service_layer/counting.py)
    assert piece_earnings([("A", 4), ("A", -4)], card, STYLE, STYLES) == Decimal("0.00")


def test_a_card_without_the_operation_gives_no_figure_rather_than_a_wrong_one() -> None:
    card = parse_rate_card([{"op": "A", "per_piece": "0.30"}])
    with pytest.raises(PayError, match="no rate for op B"):
        piece_earnings([("A", 2), ("B", 1)], card, STYLE, STYLES)
    per_min = parse_rate_card([{"per_sam_min": "0.40"}])
    with pytest.raises(PayError, match="needs the style"):  # no style has ZZ: no SAM to price it
        piece_earnings([("ZZ", 1)], per_min, STYLE, STYLES)


def test_the_stored_card_round_trips_and_bad_files_are_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pay.db'}")
    migrate.upgrade(engine)
    assert load_rate_card(engine, "F") is None
    doc = read_rate_file(REPO / "examples" / "factory" / "rates.json")
    save_rate_card(engine, "F", doc, "rates.json")
    back = load_rate_card(engine, "F")
    assert back is not None and back.rate_for("TEE-BASIC", "T03") == Rate("T03", "TEE-BASIC", Decimal("0.25"))
    assert back.rate_for("JEANS-5P", "J01") == Rate(None, "JEANS-5P", per_sam_min=Decimal("0.45"))
    save_rate_card(engine, "F", [{"per_sam_min": "0.50"}], "new.json")  # replaced whole
    again = load_rate_card(engine, "F")
    assert again is not None and again.rate_for("TEE-BASIC", "T03") == Rate(per_sam_min=Decimal("0.50"))
    assert RateCards(engine).get("F") is not None and RateCards(engine).get("other") is None

    floats = tmp_path / "floats.json"
    floats.write_text(json.dumps([{"per_sam_min": 0.42}]), "utf-8")
    with pytest.raises(PayError, match="write money as a string"):
        read_rate_file(floats)
    notalist = tmp_path / "obj.json"
    notalist.write_text('{"per_sam_min": "0.4"}', "utf-8")
    with pytest.raises(PayError, match="list of rates"):
        read_rate_file(notalist)
    broken = tmp_path / "broken.json"
    broken.write_text("[{", "utf-8")
    with pytest.raises(PayError, match="cannot read rate card"):
        read_rate_file(broken)
    # an old database without the table: no card, no error (the tablet then hides the figure)
    old = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    assert RateCards(old).get("F") is None


class _Cards:
    def __init__(self, card: RateCard | None) -> None:
        self.card = card

    def get(self, factory: str) -> RateCard | None:
        return self.card


class _Quality:
    def __init__(self, dhu: DhuAggregator) -> None:
        self.dhu = dhu


def test_tablet_figures_from_live_state() -> None:
    lay = layout()
    live = LiveState({"F": lay})
    dhu = DhuAggregator(lay)
    t = at(8, 0)
    n = 0

    def ev(cls: type, station: str, minute: int, **kw: object) -> None:
        nonlocal n
        n += 1
        e = cls(id=f"e{n}", seq=n, ts=t + timedelta(minutes=minute), factory="F", station=station, **kw)
        live.apply(e)
        dhu.apply(e)

    ev(Login, "S1", 0, worker="W1")
    ev(BundleIn, "S1", 0, bundle="B1")
    ev(Piece, "S1", 5, bundle="B1", op="A", qty=10)
    ev(Logout, "S1", 20, worker="W1")
    ev(Login, "S2", 21, worker="W1")  # the same worker moves to another station: still their pay
    ev(BundleIn, "S2", 21, bundle="B2")
    ev(Piece, "S2", 30, bundle="B2", op="B", qty=4)
    ev(Login, "S1", 31, worker="W2")
    ev(Piece, "S1", 32, bundle="B1", op="A", qty=3)  # W2's, not W1's
    ev(Defect, "S2", 33, bundle="B2", op="A", defect="PUCKERING", qty=2)
    ev(Defect, "S2", 34, bundle="B1", op="A", defect="STAIN", qty=1)
    assert worker_pieces_today(live, lay, "W1") == {"A": 10, "B": 4}

    card = parse_rate_card([{"per_sam_min": "0.40"}, {"op": "B", "per_piece": "0.30"}])
    zh = tablet_fields(live, lay, "S2", Fmt("zh_CN"), _Quality(dhu), _Cards(card))  # type: ignore[arg-type]
    # W1: 10 x 1.0 min x 0.40 + 4 x 0.30 = 4.00 + 1.20 = 5.20; bundle B2 has 2 defects
    assert (zh["earnings"], zh["earnings_txt"], zh["bundle_defects"]) == ("5.20", "¥5.20", 2)
    en = tablet_fields(live, lay, "S1", Fmt("en"), _Quality(dhu), _Cards(card))  # type: ignore[arg-type]
    assert (en["earnings"], en["earnings_txt"], en["bundle_defects"]) == ("1.20", "CN¥1.20", 1)  # W2: 3 x 0.40
    none = tablet_fields(live, lay, "S2", Fmt("zh_CN"), _Quality(dhu), _Cards(None))  # type: ignore[arg-type]
    assert (none["earnings"], none["earnings_txt"]) == (None, "")  # no card: the tablet hides the figure
    empty = tablet_fields(live, lay, "S3", Fmt("zh_CN"), _Quality(dhu), _Cards(card))  # type: ignore[arg-type]
    assert (empty["earnings"], empty["bundle_defects"], empty["bundle_defects_txt"]) == (None, None, "–")


def test_the_hours_report_api_pays_with_the_stored_card(tmp_path: Path) -> None:
    """No card: hours only. The stored card (as `make demo` stores the sample's): the pay is in."""
    day = datetime(2026, 11, 20, tzinfo=CST)
    rt = bootstrap(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        lay = tiny_layout()
        rt.save_layout(lay)
        bundle = next(iter(lay.bundles))
        c = TestClient(create_app(rt))
        evs = [
            payload("login", 0, day.replace(hour=8), worker="W1"),
            payload("piece", 1, day.replace(hour=9), bundle=bundle, op="OP1", qty=40),
            payload("logout", 2, day.replace(hour=11), worker="W1"),
        ]
        assert c.post("/api/v1/events", content=b"[" + b",".join(evs) + b"]").json()["accepted"] == 3
        params = {"month": "2026-11", "worker": "W1", "lang": "en"}
        hours_only = c.get("/api/v1/compliance/hours-report", params=params).text
        assert "no rate card" in hours_only.lower() and "8.00" not in hours_only
        save_rate_card(rt.engine, "f1", [{"per_sam_min": "0.40"}], "test")
        paid = c.get("/api/v1/compliance/hours-report", params=params).text
        assert "8.00" in paid  # 40 pieces x 0.5 min x 0.40 = 8.00, under the floor-free policy
        save_rate_card(rt.engine, "f1", [{"op": "OP2", "per_piece": "0.10"}], "test")  # cannot price OP1
        bad = c.get("/api/v1/compliance/hours-report", params=params)
        assert bad.status_code == 422 and "rate card" in bad.json()["detail"]
    finally:
        rt.close()


def test_rates_import_refuses_bad_cards_and_unknown_factories_and_stores_nothing(tmp_path: Path) -> None:
    """The installed command: a float for money or a factory never imported is exit 2, Chinese first."""
    seamline = str(Path(sys.executable).parent / "seamline")
    db = f"sqlite:///{tmp_path / 'c.db'}"
    engine = create_engine(db)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(factories).values(id="f1", name="Test", timezone="Asia/Shanghai"))
    floats = tmp_path / "floats.json"
    floats.write_text('[{"per_sam_min": 0.4}]', "utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([seamline, "rates-import", *args, "--db", db], capture_output=True, text=True, timeout=60)

    bad = run(str(floats), "--factory", "f1")
    assert bad.returncode == 2 and bad.stderr.startswith("错误 / error:") and "as a string" in bad.stderr
    nobody = run(str(REPO / "examples" / "factory" / "rates.json"), "--factory", "nope")
    assert nobody.returncode == 2 and "没有工厂 'nope'" in nobody.stderr
    assert load_rate_card(engine, "f1") is None and load_rate_card(engine, "nope") is None
    ok = run(str(REPO / "examples" / "factory" / "rates.json"), "--factory", "f1")
    assert ok.returncode == 0 and "rate card stored: f1, 5 rates" in ok.stdout
    assert load_rate_card(engine, "f1") is not None
