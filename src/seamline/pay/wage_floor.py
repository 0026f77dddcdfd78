"""The guaranteed minimum wage a piece-rate worker's regular-hours pay is topped up to.

PRC minimum-wage rules compare the minimum with pay for *normal working hours*: overtime pay, shift
allowances and legally required benefits do not count towards it. So the floor is checked against the
base piece pay of pieces made in regular hours, and overtime pay is added on top.

Full-time workers: the monthly minimum, pro-rated by regular hours over the standard month of
174 h (21.75 days x 8 h, the PRC convention), capped at one month. Part-time (hourly basis): the
hourly minimum x regular hours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Literal

Basis = Literal["monthly", "hourly"]


@dataclass(frozen=True, slots=True)
class MinWage:
    region: str
    name_en: str
    name_zh: str
    monthly: Decimal
    hourly: Decimal
    standard_month_h: Decimal = Decimal("174")

    def floor(self, regular_h: Decimal, basis: Basis = "monthly") -> Decimal:
        """Minimum pay for ``regular_h`` regular hours in one pay period (a month or less)."""
        if regular_h <= 0:
            return Decimal(0)
        if basis == "hourly":
            return self.hourly * regular_h
        share = min(regular_h / self.standard_month_h, Decimal(1))
        return self.monthly * share


def load_min_wage(region: str, name: str = "min_wage_cn") -> MinWage:
    """A region's minimum wage from the package data (``pay/data/<name>.json``)."""
    doc = json.loads(resources.files("seamline.pay").joinpath("data", f"{name}.json").read_text("utf-8"))
    try:
        r = doc["regions"][region]
    except KeyError:
        raise KeyError(f"no minimum wage for region {region!r}; known: {sorted(doc['regions'])}") from None
    return MinWage(
        region=region,
        name_en=r["name_en"],
        name_zh=r["name_zh"],
        monthly=Decimal(r["monthly"]),
        hourly=Decimal(r["hourly"]),
        standard_month_h=Decimal(doc.get("standard_month_h", "174")),
    )
