"""Sliding-window rate limits for public sign-ups: per client address and per phone number."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_KEYS = 100_000  # keys remembered; the oldest are forgotten first


class SlidingWindow:
    """At most `limit` hits per key within `window` seconds; memory bounded by MAX_KEYS."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str) -> float:
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
        hits = self._hits.setdefault(key, deque(maxlen=self.limit))
        hits.append(self.clock())
        self._hits.move_to_end(key)
        while len(self._hits) > MAX_KEYS:
            self._hits.popitem(last=False)
