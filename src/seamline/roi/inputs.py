"""What the owner enters: the investment, the factory's rates, and a baseline with its sources.

Every default is a figure the factory overrides; the defaults are typical values named in
docs/roi.md, so an owner sees a complete answer first and corrects it line by line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

# The measured quantities, in the order the page shows them. Units are part of the name.
METRICS: tuple[str, ...] = (
    "efficiency_pct",
    "output_per_attended_h",
    "overtime_h_per_worker_month",
    "wip_pieces",
    "dhu_pct",
    "on_time_pct",
    "small_orders_per_month",
)


def D(x: Any) -> Decimal:
    """A Decimal from text, int or float (floats through ``repr`` so 0.1 stays 0.1)."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float):
        return Decimal(repr(x))
    return Decimal(str(x))


@dataclass(frozen=True, slots=True)
class Investment:
    """One-off and running costs of the retrofit, CNY."""

    stations: int
    sensor_cost_per_station: Decimal = Decimal("1000")
    tablets: int = 0
    tablet_cost: Decimal = Decimal("1500")
    installation: Decimal = Decimal("0")
    software_per_month: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        if self.stations < 0 or self.tablets < 0:
            raise ValueError("stations and tablets must be >= 0")
        for name in ("sensor_cost_per_station", "tablet_cost", "installation", "software_per_month"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    @property
    def one_off(self) -> Decimal:
        """Sensors + tablets + installation: what has to be earned back."""
        return self.stations * self.sensor_cost_per_station + self.tablets * self.tablet_cost + self.installation


@dataclass(frozen=True, slots=True)
class Rates:
    """The factory's own money rates (CNY, percent) used to price each measured effect."""

    wage_per_hour: Decimal = Decimal("28")  # loaded cost of one attended operator hour
    overtime_premium: Decimal = Decimal("1.5")  # PRC workday overtime: 150 %
    net_margin_pct: Decimal = Decimal("8")
    price_per_garment: Decimal = Decimal("15")  # what the buyer pays the factory per garment (CMT)
    wip_value_per_piece: Decimal = Decimal("25")  # fabric and trims tied up in one piece of WIP
    carrying_pct_per_month: Decimal = Decimal("1.5")  # cost of money and space tied up in WIP
    rework_min_per_defect: Decimal = Decimal("3")
    late_cost_pct: Decimal = Decimal("5")  # discount, air freight or penalty on a late order's value
    workdays_per_month: Decimal = Decimal("26")
    small_order_max_qty: int = 500  # quick-response orders: 100-500 pieces
    avg_order_qty: int = 300  # garments per order, pricing on-time delivery from the daily report
    # what the efficiency gain is worth: "wages" (the hours it saves, at the wage) or "orders" (the
    # margin on the extra orders the freed capacity can take); the other reading is shown beside it
    efficiency_as: str = "wages"
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if self.efficiency_as not in ("wages", "orders"):
            raise ValueError('rates.efficiency_as must be "wages" or "orders"')

    @property
    def wage_per_min(self) -> Decimal:
        return self.wage_per_hour / 60


@dataclass(frozen=True, slots=True)
class Figure:
    """One baseline number and where it came from (shown next to it on the page and in the PDF)."""

    value: Decimal
    source: str
    link: str | None = None
    source_zh: str | None = None  # the source in Chinese, when the owner writes it in both

    def source_in(self, lang: str) -> str:
        return self.source_zh if lang.startswith("zh") and self.source_zh else self.source


@dataclass(frozen=True, slots=True)
class Baseline:
    """The "before": hand-entered figures (a factory without sensors) or measured ones.

    A metric missing here is not priced: an effect needs both a before and an after.
    """

    figures: dict[str, Figure] = field(default_factory=dict)

    def get(self, metric: str) -> Decimal | None:
        f = self.figures.get(metric)
        return None if f is None else f.value


HAND_BASELINE_DEFAULT = Baseline(
    {
        "efficiency_pct": Figure(
            Decimal("45"),
            "typical line efficiency before sensors (trade figure: lines run 40-60 %, often ~45 %)",
            source_zh="改造前典型产线效率（行业数据：产线效率一般为40–60%，常见约45%）",
        ),
    }
)


@dataclass(frozen=True, slots=True)
class RoiInputs:
    investment: Investment
    rates: Rates = field(default_factory=Rates)
    baseline: Baseline = field(default_factory=lambda: HAND_BASELINE_DEFAULT)


def _money_fields(cls: type, raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    known = {f.name: f for f in fields(cls)}
    for k, v in raw.items():
        if k not in known:
            raise ValueError(f"unknown {cls.__name__} field {k!r}; known: {sorted(known)}")
        typ = known[k].type
        if typ in ("int", int):
            out[k] = int(v)
        elif typ in ("str", str):
            out[k] = str(v)
        else:
            out[k] = D(v)
    return out


def inputs_from_dict(raw: dict[str, Any], stations_default: int, tablets_default: int = 0) -> RoiInputs:
    """Settings JSON -> RoiInputs. Money is given as strings (``"1000"``) to stay exact.

    ``{"investment": {...}, "rates": {...}, "baseline": {"efficiency_pct": {"value": "45",
    "source": "..."}}}``; every key is optional, missing ones take the defaults.
    """
    inv_raw = {"stations": stations_default, "tablets": tablets_default, **raw.get("investment", {})}
    inv = Investment(**_money_fields(Investment, inv_raw))
    rates = Rates(**_money_fields(Rates, raw.get("rates", {})))
    if "baseline" in raw:
        figs = {}
        for metric, f in raw["baseline"].items():
            if metric not in METRICS:
                raise ValueError(f"unknown baseline metric {metric!r}; known: {list(METRICS)}")
            if not f.get("source"):
                raise ValueError(f"baseline {metric}: say where the figure comes from (`source`)")
            figs[metric] = Figure(D(f["value"]), str(f["source"]), f.get("link"), f.get("source_zh"))
        baseline = Baseline(figs)
    else:
        baseline = HAND_BASELINE_DEFAULT
    return RoiInputs(inv, rates, baseline)


def with_measured(
    baseline: Baseline, metrics: dict[str, Decimal | None], source: str, source_zh: str, link: str | None = None
) -> Baseline:
    """The baseline with every figure a measured "before" period has replaced by the measured one;
    hand figures stay for what the period cannot show (e.g. orders on time with no order due)."""
    figs = dict(baseline.figures)
    for metric, value in metrics.items():
        if value is not None:
            figs[metric] = Figure(value, source, link, source_zh)
    return Baseline(figs)


def load_settings(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def scaled_investment(inv: Investment, share: Decimal) -> Investment:
    """The investment when only ``share`` of the stations is equipped (tablets and installation
    scale with it; the software's running cost does not)."""
    import math

    return replace(
        inv,
        stations=math.ceil(inv.stations * share),
        tablets=math.ceil(inv.tablets * share),
        installation=(inv.installation * share).quantize(Decimal("0.01")),
    )
