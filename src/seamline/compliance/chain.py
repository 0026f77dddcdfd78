"""Tamper-evident daily records: canonical JSON per (factory, day), SHA-256 hash-chained.

Each record's hash covers its payload and the previous record's hash, so changing any past record
breaks every link after it; reports print the chain head, so even a fully re-chained history no
longer matches a head printed earlier. ``verify`` also recomputes each day from the event store: a
record that was edited consistently (payload and hashes) still disagrees with the sensor facts.

The payload holds facts only (attended seconds, sessions, piece and return totals per operation), not
the regular/overtime split, which depends on the rule set and the rest of the week.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from seamline.compliance.attendance import Session, WorkerDefect, WorkerPiece, effective_sessions

GENESIS = "0" * 64


def canonical(obj: object) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept (no \\u escapes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def day_payloads(
    factory: str,
    days: Iterable[date],
    sessions: Iterable[Session],
    pieces: Iterable[WorkerPiece],
    defects: Iterable[WorkerDefect],
    orphan_piece_days: Iterable[date] = (),
) -> dict[date, str]:
    """Canonical payload per requested day (empty days too: a day cannot silently disappear)."""
    wanted = sorted(set(days))
    per: dict[date, dict[str, dict]] = {d: {} for d in wanted}

    def slot(d: date, w: str) -> dict | None:
        if d not in per:
            return None
        return per[d].setdefault(
            w, {"attended_s": 0.0, "sessions": 0, "flags": [], "pieces": defaultdict(int), "returned": defaultdict(int)}
        )

    for w, lst in effective_sessions(sessions).items():
        for s in lst:
            x = slot(s.work_day, w)
            if x is None:
                continue
            x["attended_s"] += s.attended_s
            x["sessions"] += 1
            x["flags"] = sorted(set(x["flags"]) | set(s.flags))
    for p in pieces:
        x = slot(p.work_day, p.worker)
        if x is not None:
            x["pieces"][p.op] += p.qty
    for df in defects:
        x = slot(df.day, df.worker)
        if x is not None:
            x["returned"][df.op] += df.qty
    orphans: dict[date, int] = defaultdict(int)
    for d in orphan_piece_days:
        orphans[d] += 1
    out: dict[date, str] = {}
    for d in wanted:
        workers = {
            w: {
                **x,
                "attended_s": round(x["attended_s"], 3),
                "pieces": dict(x["pieces"]),
                "returned": dict(x["returned"]),
            }
            for w, x in per[d].items()
        }
        out[d] = canonical(
            {"factory": factory, "day": d.isoformat(), "workers": workers, "unattributed_pieces": orphans.get(d, 0)}
        )
    return out


@dataclass(frozen=True, slots=True)
class ChainRecord:
    factory: str
    seq: int
    day: date
    version: int
    payload: str
    prev_hash: str
    hash: str

    @property
    def label(self) -> str:
        return f"{self.factory} {self.day.isoformat()} (record #{self.seq}, version {self.version})"


def extend(records: Sequence[ChainRecord], factory: str, payloads: dict[date, str]) -> list[ChainRecord]:
    """New records appended after ``records`` for each payload, in day order."""
    prev = records[-1].hash if records else GENESIS
    seq = records[-1].seq if records else 0
    versions: dict[date, int] = defaultdict(int)
    for r in records:
        versions[r.day] = max(versions[r.day], r.version)
    out: list[ChainRecord] = []
    for d in sorted(payloads):
        seq += 1
        h = link_hash(prev, payloads[d])
        out.append(ChainRecord(factory, seq, d, versions[d] + 1, payloads[d], prev, h))
        prev = h
    return out


@dataclass(frozen=True, slots=True)
class Problem:
    record: ChainRecord
    reason: str


def verify_links(records: Sequence[ChainRecord]) -> list[Problem]:
    """Problems in the chain itself, in record order (empty: the chain is intact)."""
    out: list[Problem] = []
    prev: ChainRecord | None = None
    for r in sorted(records, key=lambda r: r.seq):
        expect_prev = prev.hash if prev else GENESIS
        if link_hash(r.prev_hash, r.payload) != r.hash:
            out.append(Problem(r, "its payload or hash was changed: the stored hash does not match"))
        elif r.prev_hash != expect_prev:
            if prev is not None and link_hash(prev.prev_hash, prev.payload) == prev.hash:
                out.append(Problem(prev, f"it was rewritten: record #{r.seq} was chained to a different hash"))
            else:
                out.append(Problem(r, "its link to the previous record is broken"))
        if prev is not None and r.seq != prev.seq + 1:
            out.append(Problem(r, f"records are missing before it (expected #{prev.seq + 1})"))
        prev = r
    out.sort(key=lambda p: p.record.seq)
    return out


def verify_against(records: Sequence[ChainRecord], recomputed: dict[date, str]) -> list[Problem]:
    """Latest record per day whose payload differs from the payload recomputed from the events."""
    latest: dict[date, ChainRecord] = {}
    for r in sorted(records, key=lambda r: r.seq):
        latest[r.day] = r
    out: list[Problem] = []
    for d, r in sorted(latest.items(), key=lambda kv: kv[1].seq):
        if d in recomputed and recomputed[d] != r.payload:
            out.append(Problem(r, f"it differs from the event store: {_first_diff(r.payload, recomputed[d])}"))
    return out


def _first_diff(stored: str, fresh: str) -> str:
    a, b = json.loads(stored), json.loads(fresh)
    for w in sorted(set(a.get("workers", {})) | set(b.get("workers", {}))):
        x, y = a.get("workers", {}).get(w), b.get("workers", {}).get(w)
        if x != y:
            if x is None or y is None:
                return f"worker {w} is {'missing from the record' if x is None else 'not in the events'}"
            keys = [k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
            k = keys[0]
            return f"worker {w} {k}: recorded {x.get(k)!r}, events give {y.get(k)!r}"
    return "the totals differ"


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def head(records: Sequence[ChainRecord]) -> str:
    return max(records, key=lambda r: r.seq).hash if records else GENESIS
