"""The supervisor's one tap: accept the suggested move; it becomes the line's assignment."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from ..bootstrap import Runtime
from ..service_layer.line_direction import director
from .api import problems


class AcceptMove(BaseModel):
    badge: str = Field(description="the worker the suggestion moves (as shown on the line page)")
    to_op: str = Field(description="the operation she moves to (as shown)")


class DirectiveOut(BaseModel):
    id: int
    line: str
    style: str
    badge: str
    from_op: str | None
    to_op: str
    gain_pph: float
    pph_before: float
    pph_after: float
    accepted_by: str
    accepted_at: str


def register(app: FastAPI, rt: Runtime) -> None:
    @app.post(
        "/api/v1/lines/{line}/directives",
        status_code=201,
        response_model=DirectiveOut,
        responses=problems(400, 404, 409, 422),
        tags=["supervisor"],
    )
    def accept_move(line: str, body: AcceptMove, request: Request) -> dict[str, Any]:
        """Accept the line's current re-balance suggestion: it is stored as a new assignment version
        and the tablets of the stations concerned show it as their task."""
        layout = next((lay for lay in rt.layouts.values() if line in lay.lines), None)
        if layout is None:
            raise HTTPException(404, f"找不到生产线 / unknown line {line!r}")
        me = getattr(request.state, "principal", None)
        try:
            d = director(rt).accept(layout, line, body.badge, body.to_op, getattr(me, "name", "open"))
        except LookupError:
            raise HTTPException(409, "建议已更新，请刷新 / the suggestion has changed: reload the page") from None
        pages = getattr(app.state, "web_pages", None)
        if pages is not None:
            pages.invalidate()
        return {
            "id": d.id,
            "line": d.line,
            "style": d.style,
            "badge": d.badge,
            "from_op": d.from_op,
            "to_op": d.to_op,
            "gain_pph": d.gain_pph,
            "pph_before": d.pph_before,
            "pph_after": d.pph_after,
            "accepted_by": d.accepted_by,
            "accepted_at": d.accepted_at.isoformat(),
        }
