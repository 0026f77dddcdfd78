"""What the page, the PDF, the CLI and the API show, as plain JSON-ready data.

Every figure carries an ``evidence`` link: the after-period figures to
``/api/v1/roi/evidence/{metric}`` (the blocks and the rows behind the number, each block linking
to ``/api/v1/efficiency`` for the same hours), baseline figures to their source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from .collect import Collected
from .inputs import METRICS, RoiInputs
from .measure import SUM_FIELDS
from .spread import RoiResult

# Per metric: the block fields its value is computed from (numerator, denominator) and its formula.
FORMULAS: dict[str, tuple[tuple[str, ...], str]] = {
    "efficiency_pct": (("earned_min", "attended_min"), "100 × Σ earned_min ÷ Σ attended_min"),
    "output_per_attended_h": (("output", "attended_min"), "Σ output ÷ (Σ attended_min ÷ 60)"),
    "overtime_h_per_worker_month": (
        ("overtime_h", "worker_days"),
        "Σ overtime_h ÷ Σ worker_days × workdays_per_month",
    ),
    "wip_pieces": (("wip_piece_samples", "wip_samples"), "Σ WIP pieces at each worked hour's end ÷ samples"),
    "dhu_pct": (("defects", "pieces"), "100 × Σ defects ÷ Σ pieces"),
    "on_time_pct": (("orders_on_time", "orders_due"), "100 × orders done by their due day ÷ orders due"),
    "small_orders_per_month": (("small_orders", "day_equiv"), "Σ small orders started ÷ Σ days × workdays_per_month"),
}

MONEY_FORMULAS: dict[str, str] = {
    "efficiency_pct": "earned_h_month × (100 ÷ E_before − 100 ÷ E_after) × wage_per_hour",
    "output_per_attended_h": "not priced: the same gain as efficiency, counted there",
    "overtime_h_per_worker_month": "(OT_before − OT_after) × workers × wage_per_hour × (overtime_premium − 1)",
    "wip_pieces": "(WIP_before − WIP_after) × wip_value_per_piece × carrying_pct_per_month ÷ 100",
    "dhu_pct": "(DHU_before − DHU_after) ÷ 100 × pieces_month × rework_min_per_defect ÷ 60 × wage_per_hour",
    "on_time_pct": "(OnTime_after − OnTime_before) ÷ 100 × orders_due_month × avg_order_qty × price_per_garment"
    " × late_cost_pct ÷ 100",
    "small_orders_per_month": "(Small_after − Small_before) × avg_small_order_qty × price_per_garment"
    " × net_margin_pct ÷ 100",
}


def s(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


@dataclass(frozen=True, slots=True)
class Query:
    """The period and scope a report was made for; evidence links repeat it."""

    start: datetime
    end: datetime
    lines: tuple[str, ...] | None = None
    before_start: datetime | None = None
    before_end: datetime | None = None

    def params(self) -> dict[str, str]:
        p = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.lines:
            p["lines"] = ",".join(self.lines)
        if self.before_start and self.before_end:
            p["before_start"] = self.before_start.isoformat()
            p["before_end"] = self.before_end.isoformat()
        return p

    def evidence_url(self, figure: str) -> str:
        return f"/api/v1/roi/evidence/{figure}?{urlencode(self.params())}"


def efficiency_url(factory: str, start: datetime, end: datetime) -> str:
    return "/api/v1/efficiency?" + urlencode(
        {"scope": "line", "factory": factory, "start": start.isoformat(), "end": end.isoformat()}
    )


def build_report(col: Collected, inputs: RoiInputs, res: RoiResult, q: Query) -> dict[str, Any]:
    inv = inputs.investment
    figures = []
    for e in res.effects:
        fig = inputs.baseline.figures.get(e.metric)
        figures.append(
            {
                "metric": e.metric,
                "before": s(e.before),
                "before_source": fig.source if fig else None,
                "before_source_zh": fig.source_in("zh") if fig else None,
                "before_link": (fig.link or q.evidence_url(f"baseline.{e.metric}")) if fig else None,
                "after": s(e.after),
                "after_link": q.evidence_url(e.metric),
                "monthly_cny": s(e.monthly),
                "money_link": q.evidence_url(f"money.{e.metric}"),
                "note": e.note,
                "formula": FORMULAS[e.metric][1],
                "money_formula": MONEY_FORMULAS[e.metric],
            }
        )
    scenarios = [
        {
            "key": sc.key,
            "volume": s(sc.volume),
            "share": s(sc.share),
            "one_off_cny": s(sc.one_off),
            "net_monthly_cny": s(sc.net_monthly),
            "payback_months": s(sc.payback),
            "p10": s(sc.p10),
            "p50": s(sc.p50),
            "p90": s(sc.p90),
            "never_share": s(sc.never_share),
            "link": q.evidence_url(f"scenario.{sc.key}"),
        }
        for sc in res.scenarios
    ]
    main = scenarios[0]
    return {
        "factory": col.factory,
        "lines": col.lines,
        "start": col.start.isoformat(),
        "end": col.end.isoformat(),
        "block_kind": res.block_kind,
        "blocks": res.blocks,
        "days": s(res.after.days),
        "resamples": res.resamples,
        "currency": inputs.rates.currency,
        "investment": {
            "stations": inv.stations,
            "sensor_cost_per_station": s(inv.sensor_cost_per_station),
            "tablets": inv.tablets,
            "tablet_cost": s(inv.tablet_cost),
            "installation": s(inv.installation),
            "software_per_month": s(inv.software_per_month),
            "one_off_cny": s(inv.one_off),
            "link": q.evidence_url("investment"),
        },
        "rates": {k: str(getattr(inputs.rates, k)) for k in inputs.rates.__dataclass_fields__},
        "volumes": {
            "earned_h_month": s(res.after.earned_h_month),
            "attended_h_month": s(res.after.attended_h_month),
            "pieces_month": s(res.after.pieces_month),
            "workers": s(res.after.workers),
            "orders_due_month": s(res.after.orders_due_month),
            "link": q.evidence_url("blocks"),
        },
        "figures": figures,
        "gross_monthly_cny": s(res.gross_monthly),
        "net_monthly_cny": main["net_monthly_cny"],
        "payback_months": main["payback_months"],
        "payback_p10": main["p10"],
        "payback_p90": main["p90"],
        "payback_link": main["link"],
        "scenarios": scenarios,
        "efficiency_api": efficiency_url(col.factory, col.start, col.end),
    }


def block_rows(col: Collected) -> list[dict[str, Any]]:
    rows = []
    for b in col.blocks:
        s0, e0 = col.spans[b.label]
        rows.append(
            {
                "block": b.label,
                **{n: round(float(getattr(b, n)), 4) for n in SUM_FIELDS},
                "efficiency_api": efficiency_url(col.factory, s0, e0),
            }
        )
    return rows


def evidence(
    col: Collected,
    inputs: RoiInputs,
    res: RoiResult,
    report: dict[str, Any],
    figure: str,
    before: Collected | None = None,
) -> dict[str, Any]:
    """The rows behind one figure of the page. Raises KeyError for an unknown figure."""
    base = {"figure": figure, "factory": col.factory, "start": report["start"], "end": report["end"]}
    if figure in METRICS:
        fields, formula = FORMULAS[figure]
        rows = [
            {"block": r["block"], **{f: r[f] for f in fields}, "efficiency_api": r["efficiency_api"]}
            for r in block_rows(col)
        ]
        out = {
            **base,
            "value": next(f["after"] for f in report["figures"] if f["metric"] == figure),
            "formula": formula,
            "block_kind": col.block_kind,
            "rows": rows,
        }
        if figure in ("on_time_pct", "small_orders_per_month"):
            out["orders"] = col.orders
        return out
    if figure.startswith("baseline."):
        metric = figure.split(".", 1)[1]
        fig = inputs.baseline.figures[metric]
        out = {
            **base,
            "metric": metric,
            "value": str(fig.value),
            "source": fig.source,
            "source_zh": fig.source_zh,
            "link": fig.link,
        }
        if before is not None and metric in FORMULAS:
            out["before_period"] = {"start": before.start.isoformat(), "end": before.end.isoformat()}
            out["formula"] = FORMULAS[metric][1]
            out["rows"] = block_rows(before)
            if metric in ("on_time_pct", "small_orders_per_month"):
                out["orders"] = before.orders
        return out
    if figure.startswith("money."):
        metric = figure.split(".", 1)[1]
        f = next(x for x in report["figures"] if x["metric"] == metric)
        return {
            **base,
            "metric": metric,
            "monthly_cny": f["monthly_cny"],
            "formula": f["money_formula"],
            "before": f["before"],
            "after": f["after"],
            "note": f["note"],
            "volumes": report["volumes"],
            "rates": report["rates"],
        }
    if figure == "investment":
        return {
            **base,
            **report["investment"],
            "formula": "stations × sensor_cost_per_station + tablets × tablet_cost + installation",
        }
    if figure == "blocks":
        return {**base, "block_kind": col.block_kind, "rows": block_rows(col), "volumes": report["volumes"]}
    if figure.startswith("scenario."):
        key = figure.split(".", 1)[1]
        sc = next(x for x in report["scenarios"] if x["key"] == key)
        return {
            **base,
            **sc,
            "gross_monthly_cny": report["gross_monthly_cny"],
            "software_per_month": report["investment"]["software_per_month"],
            "formula": "payback = one_off ÷ (gross × volume × share − software_per_month); range = "
            f"10th-90th percentile over {res.resamples} bootstrap resamples of the {col.block_kind} blocks",
            "figures": report["figures"],
        }
    raise KeyError(figure)
