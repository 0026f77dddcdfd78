"""Compliance API: today's working-hours alerts for screens, monthly hours reports for auditors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..bootstrap import Runtime
from ..service_layer.hours_alerts import factory_rules, hours_alerts
from .api import Instant, content_disposition, factory_layout, problems

MAX_AHEAD = timedelta(days=1)


class HoursAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    worker: str
    severity: str = Field(description="`warning` (near the limit) or `violation`")
    rule: str
    ruleset: str
    period: str
    start: str = Field(description="first day of the period (ISO date)")
    end: str = Field(description="last day of the period (ISO date)")
    value: float
    limit: float
    message_en: str
    message_zh: str
    projected: bool = Field(description="true: follows only if the logged-in worker stays to the shift end")


class HoursAlerts(BaseModel):
    factory: str
    rules: str = Field(description="the rule sets in force, e.g. `prc_labour_law`")
    alerts: list[HoursAlert]


def register(app: FastAPI, rt: Runtime) -> None:
    r = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])

    @r.get("/hours-alerts", response_model=HoursAlerts, responses=problems(400, 404, 422))
    def alerts(factory: str | None = None, line: str | None = None, as_of: Instant | None = None) -> dict[str, Any]:
        """Findings of the active rule sets (``SEAMLINE_RULES``, PRC Labour Law by default) for today:
        actual ones, and ``projected`` ones that follow if logged-in workers stay to the shift end."""
        if as_of is not None and as_of.tzinfo is None:
            raise HTTPException(422, "`as_of` needs a UTC offset")
        layout = factory_layout(rt, factory)
        if line is not None and line not in layout.lines:
            raise HTTPException(404, f"unknown line {line!r}")
        rules = factory_rules()
        with rt.pipeline.lock:
            if as_of is not None:
                # Alerts are about today: every open session is counted hour by hour up to `as_of`,
                # so a moment years ahead cost seconds per request and said nothing.
                latest = max(rt.live.as_of(layout.factory.id, None), datetime.now(UTC))
                if as_of > latest + MAX_AHEAD:
                    raise HTTPException(422, f"`as_of` may be at most a day after the latest event or now ({latest})")
            items = hours_alerts(rt.live, layout, rules, as_of)
        if line is not None:
            on_line = {w.badge for w in layout.workers.values() if w.line_id == line}
            items = [a for a in items if a["worker"] in on_line]
        return {"factory": layout.factory.id, "rules": rules.id, "alerts": items}

    @r.get(
        "/hours-report",
        response_class=Response,
        responses={
            200: {"content": {"text/csv": {}, "application/pdf": {}}, "description": "the report"},
            **problems(400, 404, 422),
        },
    )
    def hours_report(
        # Years 1970-2999: the month's bounds are dates and times, and year 0 or 9999-12 did not fit (500).
        month: Annotated[str, Query(pattern=r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$", description="YYYY-MM")],
        factory: str | None = None,
        worker: str | None = None,
        customer: str | None = None,
        lang: Literal["zh", "zh_CN", "zh-CN", "en"] = "zh",  # the pages' codes; Chinese first
        format: Literal["csv", "pdf"] = "csv",
    ) -> Response:
        """The monthly hours / overtime / violations report of one worker or one customer's orders,
        as buyers' auditors ask for it (the same as `seamline hours-report`), sealed by the hash chain."""
        from ..compliance.repository import NotFound
        from ..compliance.service import compute_period, month_bounds
        from ..reports.model import customer_report, worker_report
        from ..reports.output import to_csv, to_pdf

        if (worker is None) == (customer is None):
            raise HTTPException(422, "give exactly one of `worker` or `customer`")
        layout = factory_layout(rt, factory)
        first, last = month_bounds(month)
        from ..pay.payslip import PayPolicy
        from ..pay.rates import PayError
        from ..pay.store import RateCards

        card = RateCards(rt.engine).get(layout.factory.id)  # the stored card: pay too (docs/compliance.md)
        policy = PayPolicy(rates=card) if card is not None else None
        try:
            period = compute_period(rt.engine, layout.factory.id, first, last, rules=factory_rules())
            rep = worker_report(period, worker, policy) if worker else customer_report(period, customer or "", policy)
        except (NotFound, KeyError) as e:
            raise HTTPException(404, f"nothing to report: {e}") from None
        except PayError as e:
            raise HTTPException(422, f"工价表不全 / the rate card cannot price this: {e}") from None
        name = f"hours-{layout.factory.id}-{month}-{worker or customer}"
        if format == "csv":
            return Response(
                to_csv(rep, lang),
                media_type="text/csv",
                headers={"Content-Disposition": content_disposition("attachment", f"{name}.csv")},
            )
        return Response(
            to_pdf(rep, lang),
            media_type="application/pdf",
            headers={"Content-Disposition": content_disposition("attachment", f"{name}.pdf")},
        )

    app.include_router(r)
