"""The one rate limiter: at most `limit` hits per key in a sliding window (failed logins per user
and address, petition sign-ups per address and phone)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_KEYS = 100_000  # keys remembered; the oldest are forgotten first


class RateLimit:
    """At most `limit` hits per key within `window` seconds; memory bounded by `max_keys`.

    Kept to hit/check/reset by key so that shared (PostgreSQL) counters can stand behind it."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_KEYS) -> None:
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, key: str) -> float:
        """Seconds until `key` may hit again (0 if it may now)."""
        hits = self._hits.get(key)
        if not hits:
            return 0.0
        now = self.clock()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            return 0.0
        return max(0.001, hits[0] + self.window - now)

    def hit(self, key: str) -> None:
        """Count one hit of `key` now."""
        hits = self._hits.setdefault(key, deque(maxlen=self.limit))
        hits.append(self.clock())
        self._hits.move_to_end(key)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)

    def reset(self, key: str) -> None:
        """Forget `key`'s hits (a successful login clears the user's failures)."""
        self._hits.pop(key, None)
