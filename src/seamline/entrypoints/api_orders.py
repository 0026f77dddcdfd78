"""Order states over HTTP: a planner holds, resumes, cancels, closes (shipped short) or reopens an
order (domain/order_state.py); the overview and the planner's board leave such orders out at once."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from ..adapters.order_state_store import OrderStateStore
from ..bootstrap import Runtime
from ..domain.order_state import STATE_TEXT, OrderStateChange, OrderStateError, ReasonRequired
from ..service_layer.order_states import OrderNotFound, OrderStates, find_factory
from .api import problems


class StateChange(BaseModel):
    action: Literal["hold", "resume", "cancel", "close", "reopen"] = Field(
        description="hold 暂停 · resume 恢复 · cancel 取消 · close 关闭（短装出货） · reopen 重新开放"
    )
    reason: str = Field("", max_length=2000, description="why (required to cancel or close)")
    factory: str | None = Field(None, description="factory id (needed when there are several)")


class StateRow(BaseModel):
    factory: str
    order: str
    state: str
    state_txt: str
    before: str
    reason: str
    actor: str
    at: str


class OrderStateOut(BaseModel):
    factory: str
    order: str
    state: str
    state_txt: str
    history: list[StateRow]


def _row(c: OrderStateChange) -> dict[str, Any]:
    return {
        "factory": c.factory,
        "order": c.order,
        "state": c.state,
        "state_txt": STATE_TEXT[c.state],
        "before": c.before,
        "reason": c.reason,
        "actor": c.actor,
        "at": c.at.isoformat(),
    }


def register(app: FastAPI, rt: Runtime) -> None:
    def states() -> OrderStates:
        """The states the pages read (bound to order progress by the web app), else our own."""
        prog = getattr(app.state, "web_progress", None)
        st = getattr(prog, "states", None)
        if isinstance(st, OrderStates):
            return st
        own = getattr(app.state, "order_states", None)
        if own is None:
            own = app.state.order_states = OrderStates(OrderStateStore(rt.engine))
        return own

    @app.post(
        "/api/v1/orders/{order}/state",
        response_model=StateRow,
        responses=problems(400, 404, 409, 422),
        tags=["planner"],
    )
    def change_order_state(order: str, body: StateChange, request: Request) -> dict[str, Any]:
        """Change an order's state. A held, cancelled or closed order is not planned; a cancelled or
        closed one leaves memory like a finished order. Stored with who, when and why."""
        me = getattr(request.state, "principal", None)
        try:
            c = states().change(rt.layouts, body.factory, order, body.action, body.reason, getattr(me, "name", "open"))
        except OrderNotFound as e:
            raise HTTPException(404, str(e)) from None
        except ReasonRequired as e:
            raise HTTPException(422, str(e)) from None
        except OrderStateError as e:
            raise HTTPException(409, str(e)) from None
        pages = getattr(app.state, "web_pages", None)
        if pages is not None:
            pages.invalidate()  # the overview and the board show it at once
        return _row(c)

    @app.get(
        "/api/v1/orders/{order}/state",
        response_model=OrderStateOut,
        responses=problems(400, 404, 422),
        tags=["planner"],
    )
    def order_state(order: str, factory: str | None = None) -> dict[str, Any]:
        """An order's state and every change to it, oldest first."""
        try:
            lay = find_factory(rt.layouts, factory)
        except OrderNotFound as e:
            raise HTTPException(404, str(e)) from None
        if order not in lay.orders:
            raise HTTPException(404, f"找不到订单 / unknown order {order!r}")
        st = states()
        st.poll()
        state = st.state_of(lay.factory.id, order)
        hist = OrderStateStore(rt.engine).changes(lay.factory.id, order)
        return {
            "factory": lay.factory.id,
            "order": order,
            "state": state,
            "state_txt": STATE_TEXT[state],
            "history": [_row(c) for c in hist],
        }
