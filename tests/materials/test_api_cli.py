"""The materials API over HTTP (ingest feeding the routing projection), and the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from seamline.adapters.tables import all_tables
from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from seamline.entrypoints.cli import app as cli_app
from seamline.materials.bom import Bom, BomLine
from seamline.materials.ledger import Lot
from seamline.materials.store import MaterialsStore
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

from .helpers import EXAMPLE

DAY = datetime(2026, 11, 20, tzinfo=CST)
D = Decimal


def test_materials_api_from_shortage_to_packed(db_url: str) -> None:
    rt = bootstrap(db_url)
    try:
        all_tables().create_all(rt.engine)
        rt.save_layout(tiny_layout())  # order O1: 200 x HEM in M/Blue, bundles of 50
        store = MaterialsStore(rt.engine, "f1")
        store.save_bom(
            Bom(
                [
                    BomLine("HEM", "FAB-BLUE", "fabric", "m", D("1.2"), D("5")),
                    BomLine("HEM", "LABEL", "trim", "pcs", D("1")),
                ]
            )
        )
        t0 = DAY.replace(hour=7)
        store.receive(Lot("F1", "FAB-BLUE", "m", t0), D("300"))
        store.receive(Lot("T1", "LABEL", "pcs", t0), D("150"))
        c = TestClient(create_app(rt))
        base = "/api/v1/materials"

        short = c.get(f"{base}/shortages", params={"orders": ["O1"]}).json()
        assert not short["ok"]
        assert [s["message"] for s in short["shortages"]] == [
            "order O1 needs 200.0 pcs of LABEL, 150.0 pcs available: short 50.0 pcs"
        ]
        r = c.post(f"{base}/orders/O1/load", params={"line": "L1", "at": t0.isoformat()})
        assert r.status_code == 409 and "short 50.0 pcs" in r.json()["detail"]

        plan = c.get(f"{base}/orders/O1/cut-plan", params={"max_plies": 40}).json()
        assert [b["id"] for b in plan["bundles"]] == ["O1-0001", "O1-0002", "O1-0003", "O1-0004"]
        assert sum(x["garments"] for x in plan["lays"]) == 200 and plan["fabric"]["FAB-BLUE"]["qty"] == "252.000"
        pdf = c.get(f"{base}/orders/O1/tickets.pdf", params={"layout": "label"})
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

        cut = c.post(f"{base}/orders/O1/cut", json={"fabric_lots": ["F1"], "at": t0.isoformat()})
        assert cut.status_code == 200 and cut.json()["issued"] == {"F1": "252.000"}
        again = c.post(f"{base}/orders/O1/cut", json={"fabric_lots": ["F1"], "at": t0.isoformat()})
        assert again.status_code == 409 and again.json()["detail"] == "order O1 is already cut"
        mv = {"kind": "consume", "lot": "F1", "qty": "240", "order": "O1", "dest": "cutting", "at": t0.isoformat()}
        assert c.post(f"{base}/moves", json=mv).status_code == 200
        for field in ("lot", "order", "dest"):  # wider than the ledger's columns: 422 on both engines
            assert c.post(f"{base}/moves", json={**mv, field: "x" * 65}).status_code == 422, field
        bal = c.post(f"{base}/moves", json={**mv, "kind": "return", "qty": "12"}).json()
        assert (bal["in_store"], bal["on_floor"], bal["consumed"]) == ("60.000", "0.000", "240.000")
        assert c.post(f"{base}/moves", json={**mv, "kind": "return", "qty": "1"}).status_code == 409

        store.receive(Lot("T2", "LABEL", "pcs", t0 + timedelta(minutes=5)), D("100"))
        loaded = c.post(f"{base}/orders/O1/load", params={"line": "L1", "at": t0.isoformat()}).json()
        assert loaded["issued"] == {"T1": "150.000", "T2": "50.000"}  # oldest lot first

        t = DAY.replace(hour=9)
        evs = [payload("bundle_in", 1, t, bundle="O1-0001")]
        evs += [payload("piece", 2 + i, t + timedelta(minutes=i + 1), bundle="O1-0001", op="OP1") for i in range(50)]
        evs += [payload("bundle_out", 52, t + timedelta(minutes=51), bundle="O1-0001")]
        evs += [payload("bundle_in", 1, t + timedelta(minutes=52), station="S2", bundle="O1-0001")]
        evs += [
            payload("piece", 2 + i, t + timedelta(minutes=52, seconds=20 * i), station="S2", bundle="O1-0001", op="OP2")
            for i in range(50)
        ]
        evs += [
            payload("bundle_in", 53, t + timedelta(minutes=55), bundle="O1-0002"),
            payload("piece", 54, t + timedelta(minutes=56), bundle="O1-0002", op="OP1"),
        ]
        assert c.post("/api/v1/events", content=b"[" + b",".join(evs) + b"]").json()["accepted"] == len(evs)

        b1 = c.get(f"{base}/bundles/O1-0001").json()
        assert (b1["status"], b1["sewn"], b1["stations"]) == ("sewn", 50, ["S2"])
        assert c.get(f"{base}/bundles/NOPE").status_code == 404
        wip = c.get(f"{base}/wip").json()["operations"]
        assert [(w["op"], w["bundles"], w["pieces"]) for w in wip] == [("OP1", 1, 49)]
        later = (t + timedelta(hours=3)).isoformat()
        alerts = c.get(f"{base}/alerts", params={"as_of": later, "stale_after_min": 60}).json()
        assert [a["bundle"] for a in alerts] == ["O1-0002"]

        cartons = c.post(f"{base}/orders/O1/pack", json={"at": later, "solid_qty": 20}).json()
        assert [x["qty"] for x in cartons] == [20, 20]  # 10 left: the order is not finished
        prog = c.get(f"{base}/orders/O1/progress").json()
        assert prog["total"] == {"ordered": 200, "cut": 200, "sewn": 50, "packed": 40} and prog["consistent"]
        lots = c.get(f"{base}/small-lots", params={"max_lot": 80}).json()
        assert [x["quantity"] for x in lots] == [67, 67, 66]
    finally:
        rt.close()


def test_cli_cut_plan_check_and_tickets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    r = runner.invoke(cli_app, ["cut-plan", "SO-2611-01", "--layout", str(EXAMPLE), "--json"])
    assert r.exit_code == 0, r.output
    assert '"cut_qty": 600' in r.output
    r = runner.invoke(cli_app, ["materials-check", "SO-2611-03", "SO-2611-09", "--layout", str(EXAMPLE)])
    assert r.exit_code == 1
    assert "order SO-2611-09 needs 251.056 m of DENIM-12OZ-INDIGO, 45.328 m available: short 205.728 m" in r.output
    assert runner.invoke(cli_app, ["materials-check", "SO-2611-03", "--layout", str(EXAMPLE)]).exit_code == 0
    out = tmp_path / "t.pdf"
    r = runner.invoke(cli_app, ["tickets", "SO-2611-11", "--out", str(out), "--layout", str(EXAMPLE)])
    assert r.exit_code == 0 and out.read_bytes().startswith(b"%PDF")
    assert runner.invoke(cli_app, ["cut-plan", "NOPE", "--layout", str(EXAMPLE)]).exit_code == 2
