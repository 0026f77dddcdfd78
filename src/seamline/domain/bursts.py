"""Burst detection on a sampled motor current: hysteresis and debounce, sample by sample.

A sewing motor's current is either near its standby draw or well above it, but a cheap meter's
reading is noisy and a sample that straddles a start or stop sits in between. Two thresholds
(``on_a`` > ``off_a``) keep the noise from toggling the state; the debounce counts keep one odd
sample from starting or ending a burst. Pure: the gateway (adapters/modbus_gateway.py) feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class BurstDetector:
    on_a: float = 1.0  # at or above: the motor runs
    off_a: float = 0.7  # below: the motor stopped
    on_samples: int = 1  # consecutive samples at/above on_a that start a burst
    off_samples: int = 2  # consecutive samples below off_a that end it
    min_run_s: float = 0.15  # shorter runs are noise (a bumped pedal)
    max_run_s: float = 600.0  # a longer run is reported in pieces of this length
    running: bool = False
    _start: float = 0.0
    _first_above: float | None = None
    _n_above: int = 0
    _first_below: float | None = None
    _n_below: int = 0

    def __post_init__(self) -> None:
        if not self.on_a > self.off_a:
            raise ValueError(f"on_a ({self.on_a}) must be above off_a ({self.off_a})")

    def feed(self, t: float, amps: float) -> tuple[float, float] | None:
        """One sample at time ``t`` (seconds); returns a finished burst ``(start, run_s)`` or None."""
        if not self.running:
            if amps >= self.on_a:
                if self._first_above is None:
                    self._first_above = t
                self._n_above += 1
                if self._n_above >= self.on_samples:
                    self.running, self._start = True, self._first_above
                    self._first_above, self._n_above = None, 0
                    self._first_below, self._n_below = None, 0
            else:
                self._first_above, self._n_above = None, 0
            return None
        if amps < self.off_a:
            if self._first_below is None:
                self._first_below = t
            self._n_below += 1
            if self._n_below >= self.off_samples:
                self.running = False
                run = self._first_below - self._start
                self._first_below, self._n_below = None, 0
                return (self._start, run) if run >= self.min_run_s else None
            return None
        self._first_below, self._n_below = None, 0
        if t - self._start >= self.max_run_s:
            start, self._start = self._start, t
            return (start, t - start)
        return None
