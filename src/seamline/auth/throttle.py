"""Growing waits after wrong passwords and pairing codes, per client address — never a hard lock.

Why not lock the account after N failures: then anyone who knows a user name (the admin's, say)
can keep that person out from anywhere, for good, by mistyping on purpose (issue #18). Here the
failures are counted per *client address* (and per account at that address), and each one past a
few free tries doubles the wait that address must sit out. Someone else, at another address, is
not slowed down at all; a guesser is slowed to a few dozen tries an hour per address.

A guesser who spreads over many addresses is bounded by a *shared budget*: once an account (or
pairing as a whole) has seen ``budget`` failures in a window, every address that has failed at
least once in that window waits the longest wait; an address with a clean record still gets its
try. So a legitimate user who types correctly is never refused, and each extra address buys a
guesser about one try per window.

State is kept in memory per server process (as sessions are cheap to check, the counts need not be
shared): a restart forgets it, which costs a guesser nothing they could not get by waiting.
The number of tracked keys is bounded, so a flood of addresses cannot grow memory without limit.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    """``free`` failures cost nothing; the next waits ``base_s``, then twice that, … up to ``cap_s``.
    A key that has not failed for ``forget_after`` starts again from zero."""

    free: int
    base_s: float
    cap_s: float
    forget_after: timedelta

    def wait_s(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return float(min(self.cap_s, self.base_s * 2 ** min(failures - self.free, 62)))


@dataclass
class _Entry:
    failures: int
    last: datetime


class Throttle:
    """Failures per key (an address, or an account at an address) with exponential waits."""

    def __init__(self, backoff: Backoff, max_keys: int = 20_000) -> None:
        self.backoff = backoff
        self.max_keys = max_keys
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, key: str, now: datetime) -> _Entry | None:
        e = self._entries.get(key)
        if e is not None and now - e.last >= self.backoff.forget_after:
            del self._entries[key]
            return None
        return e

    def failures(self, key: str, now: datetime) -> int:
        with self._lock:
            e = self._live(key, now)
            return e.failures if e else 0

    def retry_after_s(self, key: str, now: datetime) -> float:
        """Seconds ``key`` must still wait before its next try (0: go ahead)."""
        with self._lock:
            e = self._live(key, now)
            if e is None:
                return 0.0
            left = self.backoff.wait_s(e.failures) - (now - e.last).total_seconds()
            return max(0.0, left)

    def fail(self, key: str, now: datetime) -> None:
        with self._lock:
            e = self._live(key, now)
            if e is None:
                e = self._entries[key] = _Entry(0, now)
            e.failures += 1
            e.last = now
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_keys:  # the longest-quiet keys go first
                self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class Budget:
    """Failures of one kind (per account, or for pairing as a whole) inside a sliding window."""

    def __init__(self, limit: int, window: timedelta, max_keys: int = 20_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._times: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _trim(self, key: str, now: datetime) -> deque[datetime]:
        q = self._times.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._times[key]
        return q

    def exhausted(self, key: str, now: datetime) -> bool:
        with self._lock:
            return len(self._trim(key, now)) >= self.limit

    def spend(self, key: str, now: datetime) -> None:
        with self._lock:
            q = self._trim(key, now)
            if key not in self._times:
                self._times[key] = q
            q.append(now)
            if len(q) > self.limit * 2:  # only "over the limit" matters; keep memory bounded
                q.popleft()
            self._times.move_to_end(key)
            while len(self._times) > self.max_keys:
                self._times.popitem(last=False)


def client_key(host: str | None) -> str:
    """The address a failure is counted against: an IPv4 address, or an IPv6 /64 (one home or
    one device's whole range), so hopping addresses inside one network does not reset the count."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)
