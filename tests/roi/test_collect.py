"""Block facts from real ingest of a hand-written day: overtime, WIP, orders on time, small orders.

One Tuesday in the past (made the order's due day) on the tiny factory: W1 sews all 200 pieces of OP1 (SAM 0.5)
and stays 08:00-19:00, 10 attended hours (lunch excluded): 2 h overtime. W2 inspects (OP2, SAM
0.25) 08:00-16:00, 7 h. The four bundles of 50 wait at S1 from 08:01 to 12:00.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from seamline.bootstrap import bootstrap
from seamline.roi.collect import collect
from seamline.roi.measure import measure
from seamline.service_layer.ingest import RawEvent
from tests.conftest import ENGINES, new_database, tiny_layout
from tests.foundation.helpers import CST, payload

DAY = datetime(2026, 11, 24, tzinfo=CST)  # a Tuesday; the order is made due that day


def layout():  # type: ignore[no-untyped-def]
    lay = tiny_layout()
    lay.orders["O1"] = replace(lay.orders["O1"], due=DAY.date())
    return lay


def day_events() -> list[bytes]:
    at = DAY.replace
    ev = [
        payload("login", 0, at(hour=8), station="S1", worker="W1", id_="l1"),
        payload("login", 0, at(hour=8), station="S2", worker="W2", id_="l2"),
    ]
    bundles = [f"O1-{i:04d}" for i in range(1, 5)]
    for i, b in enumerate(bundles):
        ev.append(payload("bundle_in", 1 + i, at(hour=8, minute=1), station="S1", bundle=b, id_=f"bi{i}"))
        ev.append(payload("piece", 5 + i, at(hour=9 + i), station="S1", bundle=b, op="OP1", qty=50, id_=f"p1{i}"))
        ev.append(payload("bundle_out", 9 + i, at(hour=12), station="S1", bundle=b, id_=f"bo{i}"))
        ev.append(
            payload("piece", 1 + i, at(hour=13 + i, minute=30), station="S2", bundle=b, op="OP2", qty=50, id_=f"p2{i}")
        )
    ev.append(payload("defect", 5, at(hour=15), station="S2", bundle=bundles[0], op="OP2", defect="SKIP", id_="d1"))
    ev.append(payload("logout", 13, at(hour=19), station="S1", worker="W1", id_="o1"))
    ev.append(payload("logout", 6, at(hour=16), station="S2", worker="W2", id_="o2"))
    return ev


@pytest.fixture(scope="module", params=ENGINES)
def collected(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    rt = bootstrap(new_database(request, request.param, tmp_path_factory.mktemp("roi")))
    rt.save_layout(layout())
    res = rt.worker.submit_future([RawEvent(p, source="http") for p in day_events()]).result()
    assert res.as_dict()["accepted"] == len(day_events()), res.as_dict()
    col = collect(rt.live, rt.store, "f1", DAY, DAY + timedelta(days=1), block_kind="day")
    rt.close()
    return col


@pytest.fixture(scope="module", params=ENGINES)
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = new_database(request, request.param, tmp_path_factory.mktemp("roicli"))
    rt = bootstrap(url)
    rt.save_layout(layout())
    rt.worker.submit_future([RawEvent(p, source="http") for p in day_events()]).result()
    rt.close()
    return url


def test_one_day_block_with_hand_counted_facts(collected) -> None:  # type: ignore[no-untyped-def]
    assert collected.block_kind == "day"
    (b,) = collected.blocks
    assert b.label == "2026-11-24"
    assert b.pieces == 400
    assert b.earned_min == pytest.approx(200 * 0.5 + 200 * 0.25)
    assert b.attended_min == pytest.approx(600 + 420)
    assert b.defects == 1
    assert b.overtime_h == pytest.approx(2.0)  # W1: 10 h on a workday, 8 regular
    assert b.worker_days == pytest.approx(2.0)
    # WIP sampled at the end of the 10 worked hours: 200 pieces at 09:00..12:00 (4 samples), then 0
    assert b.wip_samples == 10
    assert b.wip_piece_samples == pytest.approx(4 * 200)
    # the order finished its last OP2 bundle at 16:30 on its due day: on time, and small (200)
    assert (b.orders_due, b.orders_on_time, b.order_qty_due) == (1, 1, 200)
    assert (b.small_orders, b.small_order_qty) == (1, 200)
    assert collected.orders[0]["order"] == "O1" and collected.orders[0]["on_time"] is True


def test_figures_from_the_day(collected) -> None:  # type: ignore[no-untyped-def]
    m = measure(collected.blocks, Decimal(26))
    assert m.metrics["efficiency_pct"] == Decimal("14.71")  # 150 / 1020
    assert m.metrics["overtime_h_per_worker_month"] == Decimal("26.00")  # 2 h / 2 worker-days × 26
    assert m.metrics["wip_pieces"] == Decimal("80.0")
    assert m.metrics["dhu_pct"] == Decimal("0.250")  # 1 defect / 400 pieces
    assert m.metrics["on_time_pct"] == Decimal("100.0")


def test_cli_prints_json_and_writes_the_pdf(db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io
    import json

    from pypdf import PdfReader
    from typer.testing import CliRunner

    from seamline.entrypoints.cli import app

    settings = tmp_path / "s.json"
    settings.write_text(
        json.dumps(
            {
                "investment": {"installation": "0", "software_per_month": "0"},
                "rates": {"wage_per_hour": "20"},
                "baseline": {"efficiency_pct": {"value": "10", "source": "hand count"}},
            }
        )
    )
    pdf = tmp_path / "r.pdf"
    args = ["roi", "--db", db, "--settings", str(settings), "--start", DAY.isoformat()]
    args += ["--end", (DAY + timedelta(days=1)).isoformat(), "--pdf", str(pdf), "--lang", "en", "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    eff = next(f for f in r["figures"] if f["metric"] == "efficiency_pct")
    assert eff["after"] == "14.71"
    # earned_h_month = 2.5 h × 26 = 65; 65 × (100/10 − 100/14.71) = 65 × 3.20190 = 208.124 h; × 20 CNY
    assert Decimal(eff["monthly_cny"]) == Decimal("4162.47")
    # one-off = 2 stations × 1000 + 1 tablet × 1500 = 3500; 3500 / 4162.07 = 0.84
    assert r["investment"]["one_off_cny"] == "3500" and r["payback_months"] == "0.8"
    text = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert "0.8 months" in text


def test_an_empty_factory_gets_a_page_that_says_so(db_url: str) -> None:
    from fastapi.testclient import TestClient

    from seamline.entrypoints.api import create_app

    rt = bootstrap(db_url)
    rt.save_layout(layout())
    try:
        with TestClient(create_app(rt)) as c:
            r = c.get("/api/v1/roi").json()
            assert r["blocks"] == 0 and r["payback_months"] is None
            assert all(f["monthly_cny"] is None for f in r["figures"])
            page = c.get("/owner?lang=en").text
            assert 'id="no-data"' in page and "No production data yet." in page
    finally:
        rt.close()


def test_overtime_of_an_afternoon_period_counts_the_morning(db_url: str) -> None:
    """W1's 10 h day cut at 13:00: the 4 morning hours are regular; of the 6 afternoon hours the last
    2 are overtime, and the afternoon is 6/10 of W1's day and 3/7 of W2's."""
    rt = bootstrap(db_url)
    rt.save_layout(layout())
    try:
        rt.worker.submit_future([RawEvent(p, source="http") for p in day_events()]).result()
        pm = collect(rt.live, rt.store, "f1", DAY.replace(hour=13), DAY + timedelta(days=1), block_kind="day")
    finally:
        rt.close()
    (b,) = pm.blocks
    assert b.overtime_h == pytest.approx(2.0)
    assert b.worker_days == pytest.approx(6 / 10 + 3 / 7)
