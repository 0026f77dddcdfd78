"""The skill matrix as plain data: workers × operations, for the API, the CLI and the planner page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.model import FactoryLayout
from .state import SkillEstimate


def skill_matrix(layout: FactoryLayout, estimates: Sequence[SkillEstimate], line: str | None = None) -> dict[str, Any]:
    """Rows are workers, columns are (style, op); each cell carries estimate, interval, confidence,
    trend. Sparse: a worker who never did an operation has no cell (the planner can ask for the
    prior of such a pair separately)."""
    cols = sorted({(e.style, e.op) for e in estimates})
    ops = []
    for style, op in cols:
        s = layout.styles.get(style)
        o = s.op_map().get(op) if s else None
        ops.append(
            {
                "style": style,
                "op": op,
                "key": f"{style}/{op}",
                "name_en": o.name_en if o else op,
                "name_zh": o.name_zh if o else op,
                "sam_min": o.sam_min if o else None,
                "machine_type": o.machine_type if o else None,
            }
        )
    by_worker: dict[str, dict[str, Any]] = {}
    for e in estimates:
        w = layout.workers.get(e.worker)
        row = by_worker.setdefault(
            e.worker,
            {
                "badge": e.worker,
                "name": w.name if w else e.worker,
                "line": w.line_id if w else e.line,
                "skill_group": w.skill_group if w else None,
                "cells": {},
            },
        )
        row["cells"][f"{e.style}/{e.op}"] = e.as_dict()
    return {
        "factory": layout.factory.id,
        "line": line,
        "efficiency_unit": "fraction of standard (1.0 = 100 %)",
        "operations": ops,
        "workers": [by_worker[k] for k in sorted(by_worker)],
    }
