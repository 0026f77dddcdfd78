"""Building sensor payloads for tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from itertools import count
from typing import Any

CST = timezone(timedelta(hours=8))
_ids = count(1)


def payload(
    type_: str,
    seq: int,
    ts: datetime,
    *,
    station: str | None = "S1",
    factory: str | None = "f1",
    id_: str | None = None,
    **fields: Any,
) -> bytes:
    obj: dict[str, Any] = {"id": id_ or f"t{next(_ids)}", "seq": seq, "ts": ts.isoformat(), "type": type_, **fields}
    if factory is not None:
        obj["factory"] = factory
    if station is not None:
        obj["station"] = station
    return json.dumps(obj).encode()


def shift_of_one_worker(day: datetime, pieces: int = 120, run: str = "r") -> list[bytes]:
    """Login 08:00, `pieces` pieces of OP1 (SAM 0.5) spread over the morning/afternoon, logout 16:00."""
    out = [payload("login", 0, day.replace(hour=8), worker="W1", id_=f"{run}-login")]
    seq = 1
    out.append(payload("bundle_in", seq, day.replace(hour=8, minute=1), bundle="O1-0001", id_=f"{run}-bin"))
    seq += 1
    t = day.replace(hour=8, minute=5)
    for i in range(pieces):
        if t.hour == 12:
            t = t.replace(hour=13)
        out.append(payload("piece", seq, t, bundle="O1-0001", op="OP1", id_=f"{run}-p{i}"))
        seq += 1
        t += timedelta(minutes=3)
    out.append(payload("logout", seq, day.replace(hour=16), worker="W1", id_=f"{run}-logout"))
    return out
