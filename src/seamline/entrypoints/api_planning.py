"""HTTP endpoints of the planning board (issue #22): a move's what-if, confirming it, the moves made.

- ``POST /api/v1/plan/what-if``: the loading recomputed with one order moved to a line and start
  day; answers feasible?, lateness per affected order, overtime, changeovers and material
  shortages. Stores nothing.
- ``POST /api/v1/plan/moves``: the planner confirms a move: checked again, then stored; the board
  and every later plan use it. 409 when it is not feasible or the plan changed since the what-if.
- ``GET /api/v1/plan/moves``: the confirmed moves in force, with who made them and when.

Texts follow ``?lang=`` (or the pages' language cookie), Chinese first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from ..adapters.plan_moves import current_moves
from ..bootstrap import Runtime
from ..domain.live import LiveState
from ..domain.model import FactoryLayout
from ..planning.loading.whatif import Move
from ..service_layer.plan_board import FloorState, MoveRefused, PlanBoards, confirm_move, try_move
from ..web.board import board_data, floor_state, what_if_data
from ..web.i18n import Fmt, pick_lang
from ..web.progress import OrderProgress
from .api import factory_layout, problems
from .auth_http import principal_of

LANG_COOKIE = "seamline_lang"  # the pages' language cookie (web/routes.py)


class MoveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: str = Field(min_length=1, max_length=64, description="order id")
    line: str = Field(min_length=1, max_length=64, description="the line to make it on")
    start: date = Field(description="the day it may start, YYYY-MM-DD (factory's calendar)")
    version: int | None = Field(
        default=None, description="the plan version the what-if was made on (confirm refuses a stale one)"
    )


def register(app: FastAPI, rt: Runtime) -> None:
    def boards() -> PlanBoards:
        b = getattr(app.state, "plan_boards", None)
        if b is None:
            b = app.state.plan_boards = PlanBoards(rt.engine)
        return b

    def views_now() -> tuple[LiveState, OrderProgress]:
        progress = getattr(app.state, "web_progress", None)
        if progress is None:
            raise HTTPException(503, "the order-progress read model is not running")
        with rt.pipeline.lock:
            rt.pipeline.catch_up()
            return rt.live.frozen_view(), progress.frozen_view()

    def floor(layout: FactoryLayout) -> FloorState:
        live, prog = views_now()
        return floor_state(live, prog, layout)

    def fmt_of(request: Request) -> Fmt:
        return Fmt(pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)))

    @app.post("/api/v1/plan/what-if", tags=["planning"], responses=problems(400, 404, 422))
    async def what_if(request: Request, body: MoveRequest, factory: str | None = None) -> dict[str, Any]:
        """The plan with ``order`` moved to ``line`` from ``start``, against the plan on the board.

        Nothing is stored: the board stays as it is until the move is confirmed."""
        layout = factory_layout(rt, factory)
        fmt = fmt_of(request)
        move = Move(body.order, body.line, body.start)

        def run() -> dict[str, Any]:
            board = boards().get(layout, floor(layout))
            return what_if_data(try_move(rt.engine, layout, board, move), board, layout, fmt)

        return await anyio.to_thread.run_sync(run)

    @app.post("/api/v1/plan/moves", tags=["planning"], responses=problems(400, 404, 409, 422))
    async def confirm(request: Request, body: MoveRequest, factory: str | None = None) -> dict[str, Any]:
        """Store the move (planner, admin): the what-if is made again and must be feasible."""
        layout = factory_layout(rt, factory)
        fmt = fmt_of(request)
        who = principal_of(request).name
        move = Move(body.order, body.line, body.start)

        def run() -> dict[str, Any]:
            b = boards()
            live, prog = views_now()
            try:
                version, outcome, before = confirm_move(
                    rt.engine, layout, b, floor_state(live, prog, layout), move, who, body.version
                )
            except MoveRefused as e:
                raise HTTPException(409, str(e)) from None
            pages = getattr(app.state, "web_pages", None)
            if pages is not None:
                pages.forget("plan")  # open boards get the new plan with their next update
            # The board with the move, so the page shows it at once.
            page = board_data(live, layout, prog, fmt, b)
            return {"version": version, "what_if": what_if_data(outcome, before, layout, fmt), "page": page}

        return await anyio.to_thread.run_sync(run)

    @app.get("/api/v1/plan/moves", tags=["planning"], responses=problems(400, 404, 422))
    def moves(factory: str | None = None) -> list[dict[str, Any]]:
        """The confirmed move in force for each order (its newest), oldest first."""
        layout = factory_layout(rt, factory)
        found = sorted(current_moves(rt.engine, layout.factory.id).values(), key=lambda m: m.id)
        return [
            {
                "version": m.id,
                "order": m.order_id,
                "line": m.line_id,
                "start": m.start_day.isoformat(),
                "moved_by": m.moved_by,
                "moved_at": m.moved_at.isoformat(),
            }
            for m in found
        ]
