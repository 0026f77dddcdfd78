"""The ground truth of a run: what really happened, for tests to judge the system's estimates.

Kept apart from the event stream on purpose: nothing here is visible to the sensors. Times of
pieces are seconds from ``start`` (rounded to milliseconds) to keep a day's file compact; other
times are RFC 3339 strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

PIECE_FIELDS = (
    "event_id",
    "worker",
    "station",
    "style",
    "op",
    "bundle",
    "start_s",
    "end_s",
    "cycle_s",
    "defect",
)
FORMAT = "seamline-sim-truth/1"


@dataclass(slots=True)
class Truth:
    run_id: str
    seed: int
    factory: str
    start: datetime
    record_pieces: bool = True
    assignments: dict[str, str] = field(default_factory=dict)  # station -> regular worker
    spares: dict[str, list[str]] = field(default_factory=dict)  # line -> spare workers
    line_orders: dict[str, list[str]] = field(default_factory=dict)
    balances: list[dict[str, Any]] = field(default_factory=list)
    # Rows carry "_s" (simulated seconds: the shift start for day-level draws, else when it ended)
    # so the output can be cut at a moment: days planned ahead of the clock are left out, and a live
    # run's truth stops at the last event actually published.
    absences: list[dict[str, Any]] = field(default_factory=list)
    covers: list[dict[str, Any]] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)
    breakdowns: list[dict[str, Any]] = field(default_factory=list)
    changeovers: list[dict[str, Any]] = field(default_factory=list)
    pieces: list[list[Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    # bundles left half done by an operator absent the next day, handed on at that shift's start
    handovers: list[dict[str, Any]] = field(default_factory=list)
    bundles_done: list[dict[str, Any]] = field(default_factory=list)
    piece_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (worker, style, op)

    def to_dict(
        self, *, end: datetime, now_s: float, skills: list[dict[str, Any]], config: dict[str, Any]
    ) -> dict[str, Any]:
        bundles_done = _upto(self.bundles_done, now_s)
        output: dict[str, int] = {}
        for b in bundles_done:
            output[b["line"]] = output.get(b["line"], 0) + b["qty"]
        pieces = [r for r in self.pieces if r[7] <= now_s + 0.001]  # end_s is rounded to ms
        counts: dict[tuple[str, str, str], int] = dict(self.piece_counts)
        if self.record_pieces and len(pieces) != len(self.pieces):
            counts = {}
            for r in pieces:
                counts[(r[1], r[3], r[4])] = counts.get((r[1], r[3], r[4]), 0) + 1
        return {
            "format": FORMAT,
            "run_id": self.run_id,
            "seed": self.seed,
            "factory": self.factory,
            "start": self.start.isoformat(),
            "end": end.isoformat(),
            "config": config,
            "skills": skills,
            "assignments": self.assignments,
            "spares": self.spares,
            "line_orders": self.line_orders,
            "balances": self.balances,
            "absences": _upto(self.absences, now_s),
            "late": _upto(self.late, now_s),
            "covers": _upto(self.covers, now_s),
            "breakdowns": _upto(self.breakdowns, now_s),
            "changeovers": _upto(self.changeovers, now_s),
            "handovers": _upto(self.handovers, now_s),
            "line_output": output,
            "bundles_done": bundles_done,
            "piece_counts": [
                {"worker": w, "style": s, "op": o, "pieces": n} for (w, s, o), n in sorted(counts.items())
            ],
            "duplicates": _upto(self.duplicates, now_s),
            "piece_fields": list(PIECE_FIELDS),
            "pieces": pieces if self.record_pieces else None,
        }


def _upto(rows: list[dict[str, Any]], now_s: float) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "_s"} for r in rows if r["_s"] <= now_s]


def write_truth(truth: dict[str, Any], path: str | Path) -> None:
    Path(path).write_bytes(msgspec.json.encode(truth))


def read_truth(path: str | Path) -> dict[str, Any]:
    return msgspec.json.decode(Path(path).read_bytes())
