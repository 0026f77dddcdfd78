"""Order states over HTTP with login on: a planner holds an order and the overview and the board
leave it out at once; the change is stored with who and why; refusals are clear and store nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from seamline.adapters.order_state_store import OrderStateStore
from seamline.auth.roles import Role
from seamline.bootstrap import Runtime, bootstrap
from seamline.domain.model import Bundle, Order
from seamline.entrypoints.api import create_app
from seamline.entrypoints.auth_http import AuthConfig
from seamline.service_layer.ingest import RawEvent

from .factory import at, layout


@dataclass
class Site:
    rt: Runtime
    client: TestClient
    tokens: dict[Role, str]

    def call(self, role: Role, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.request(method, path, headers=headers, json=body)


@pytest.fixture()
def site(db_url: str) -> Iterator[Site]:
    rt = bootstrap(db_url)
    try:
        lay = layout(order_qty=100, due=date(2026, 12, 31))
        # O2 cannot make its due date: at risk on the overview
        lay.orders["O2"] = Order("O2", "ACME", "S1", {("M", "blue"): 5000}, date(2026, 11, 24))
        lay.bundles["B-O2"] = Bundle("B-O2", "O2", "M", "blue", 10)
        rt.save_layout(lay)
        piece = {"type": "piece", "id": "p1", "seq": 1, "ts": at(9).isoformat(), "factory": "F", "station": "S1"}
        piece |= {"bundle": "B1", "op": "A", "qty": 10}
        rt.worker.submit_future([RawEvent(payload=json.dumps(piece).encode())]).result(10)
        app = create_app(rt, AuthConfig(mode="required"))
        tokens = {}
        for role in (Role.PLANNER, Role.OWNER, Role.SUPERVISOR):
            _id, tokens[role] = app.state.auth.create_token(
                f"{role.value} t",
                [role.value],
                actor="test",
                factory="F",
                lines=["L"] if role is Role.SUPERVISOR else [],
            )
        with TestClient(app) as client:
            yield Site(rt, client, tokens)
    finally:
        rt.close()


def _at_risk(site: Site) -> list[str]:
    r = site.call(Role.PLANNER, "GET", "/web/data/overview")
    assert r.status_code == 200, r.text
    return [o["order"] for o in r.json()["factories"][0]["at_risk"]]


def _board(site: Site) -> dict[str, str]:
    r = site.call(Role.PLANNER, "GET", "/web/data/plan")
    assert r.status_code == 200, r.text
    return {o["order"]: o["status"] for o in r.json()["orders"]}


def test_a_held_order_leaves_the_plan_at_once_and_comes_back_when_resumed(site: Site) -> None:
    assert _at_risk(site) == ["O2"]
    assert _board(site)["O2"] in ("risk", "late")
    r = site.call(Role.PLANNER, "POST", "/api/v1/orders/O2/state", {"action": "hold", "reason": "面料未到"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "hold" and r.json()["before"] == "open" and r.json()["actor"] == "token 1 (planner t)"
    assert _at_risk(site) == []
    assert _board(site)["O2"] == "hold"
    got = site.call(Role.OWNER, "GET", "/api/v1/orders/O2/state").json()
    assert got["state"] == "hold" and got["state_txt"].startswith("暂停")
    assert [(h["before"], h["state"], h["reason"]) for h in got["history"]] == [("open", "hold", "面料未到")]
    assert site.call(Role.PLANNER, "POST", "/api/v1/orders/O2/state", {"action": "resume"}).status_code == 200
    assert _at_risk(site) == ["O2"]


def test_refusals_are_clear_and_store_nothing(site: Site) -> None:
    def post(role: Role, order: str, body: dict[str, str]) -> Any:
        return site.call(role, "POST", f"/api/v1/orders/{order}/state", body)

    assert post(Role.SUPERVISOR, "O2", {"action": "cancel", "reason": "x"}).status_code == 403
    r = post(Role.PLANNER, "O2", {"action": "cancel"})
    assert r.status_code == 422 and "原因" in r.json()["detail"] and "reason" in r.json()["detail"]
    r = post(Role.PLANNER, "O2", {"action": "reopen"})
    assert r.status_code == 409 and r.json()["detail"].startswith("订单当前为")
    r = post(Role.PLANNER, "NOPE", {"action": "hold"})
    assert r.status_code == 404 and "找不到订单" in r.json()["detail"]
    assert post(Role.PLANNER, "O2", {"action": "explode"}).status_code == 422
    assert OrderStateStore(site.rt.engine).changes("F") == []
    assert _at_risk(site) == ["O2"]


def test_a_closed_order_leaves_memory_like_a_finished_one(site: Site) -> None:
    from seamline.web.progress import OrderProgress

    prog = next(p for p in site.rt.pipeline.projections if isinstance(p, OrderProgress))
    assert ("F", "L", "O1") in prog.by_line  # under way, 10 of 100 cut pieces sewn at op A
    r = site.call(Role.PLANNER, "POST", "/api/v1/orders/O1/state", {"action": "close", "reason": "短装出货 10 件"})
    assert r.status_code == 200, r.text
    gone = prog.retain(at(10))  # a checkpoint after the order's last piece
    assert [g.order for g in gone] == ["O1"] and ("F", "L", "O1") not in prog.by_line
    assert site.rt.keeper is not None
