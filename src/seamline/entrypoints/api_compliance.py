"""Compliance API: the working-hours alerts of today, for screens and integrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException

from ..bootstrap import Runtime
from ..service_layer.hours_alerts import factory_rules, hours_alerts
from .api import factory_layout


def register(app: FastAPI, rt: Runtime) -> None:
    r = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])

    @r.get("/hours-alerts")
    def alerts(factory: str | None = None, line: str | None = None, as_of: datetime | None = None) -> dict[str, Any]:
        """Findings of the active rule sets (``SEAMLINE_RULES``, PRC Labour Law by default) for today:
        actual ones, and ``projected`` ones that follow if logged-in workers stay to the shift end."""
        if as_of is not None and as_of.tzinfo is None:
            raise HTTPException(422, "`as_of` needs a UTC offset")
        layout = factory_layout(rt, factory)
        if line is not None and line not in layout.lines:
            raise HTTPException(404, f"unknown line {line!r}")
        rules = factory_rules()
        with rt.pipeline.lock:
            items = hours_alerts(rt.live, layout, rules, as_of)
        if line is not None:
            on_line = {w.badge for w in layout.workers.values() if w.line_id == line}
            items = [a for a in items if a["worker"] in on_line]
        return {"factory": layout.factory.id, "rules": rules.id, "alerts": items}

    app.include_router(r)
