"""Hand-made event series for one station of ``tests.conftest.tiny_layout`` (OP1: SAM 0.5 min = 30 s)."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from itertools import count

from seamline.domain.events import BundleIn, BundleOut, Defect, Downtime, Login, Logout, Machine, Piece

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=CST)
SAM_S = 30.0


class Station:
    """Writes events at one station with a moving clock."""

    def __init__(self, station: str = "S1", factory: str = "f1", t0: datetime = T0) -> None:
        self.station, self.factory, self.t = station, factory, t0
        self._ids = count()
        self.events: list = []

    def _kw(self) -> dict:
        return {
            "id": f"{self.station}-{next(self._ids)}",
            "seq": 0,
            "ts": self.t,
            "factory": self.factory,
            "station": self.station,
        }

    def wait(self, seconds: float) -> Station:
        self.t += timedelta(seconds=seconds)
        return self

    def login(self, worker: str = "W1") -> Station:
        self.events.append(Login(worker=worker, **self._kw()))
        return self

    def logout(self, worker: str = "W1") -> Station:
        self.events.append(Logout(worker=worker, **self._kw()))
        return self

    def bundle_in(self, bundle: str = "O1-0001") -> Station:
        self.events.append(BundleIn(bundle=bundle, **self._kw()))
        return self

    def bundle_out(self, bundle: str = "O1-0001") -> Station:
        self.events.append(BundleOut(bundle=bundle, **self._kw()))
        return self

    def piece(
        self, after_s: float, bundle: str = "O1-0001", op: str = "OP1", qty: int = 1, source: str = "sensor"
    ) -> Station:
        self.wait(after_s)
        self.events.append(Piece(bundle=bundle, op=op, qty=qty, source=source, **self._kw()))
        return self

    def machine(self, state: str) -> Station:
        self.events.append(Machine(state=state, **self._kw()))
        return self

    def downtime(self, reason: str, phase: str) -> Station:
        self.events.append(Downtime(reason=reason, phase=phase, **self._kw()))
        return self

    def defect(self, bundle: str = "O1-0001", op: str = "OP1") -> Station:
        self.events.append(Defect(bundle=bundle, op=op, defect="SKIP_STITCH", **self._kw()))
        return self


def lognormal_cycles(mean_s: list[float], sigma: float = 0.2, seed: int = 1) -> list[float]:
    """Cycle times with mean ``mean_s[i]`` and lognormal noise of log-σ ``sigma``."""
    rng = random.Random(seed)
    mu = -0.5 * sigma * sigma
    return [m * math.exp(rng.gauss(mu, sigma)) for m in mean_s]
