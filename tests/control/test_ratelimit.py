"""The one rate limiter, on a clock the test moves (no waiting)."""

from __future__ import annotations

from control.ratelimit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_in_a_sliding_window() -> None:
    clock = Clock()
    limit = RateLimit(2, 60, clock=clock)
    assert limit.check("a") == 0
    limit.hit("a")
    clock.now += 10
    limit.hit("a")
    assert limit.check("a") == 50  # until the first hit leaves the window
    assert limit.check("b") == 0  # keys are counted apart
    clock.now += 50
    assert limit.check("a") == 0
    limit.hit("a")
    assert limit.check("a") == 10


def test_reset_forgets_a_key() -> None:
    limit = RateLimit(1, 60, clock=Clock())
    limit.hit("a")
    assert limit.check("a") > 0
    limit.reset("a")
    assert limit.check("a") == 0


def test_memory_is_bounded_oldest_forgotten_first() -> None:
    limit = RateLimit(1, 60, clock=Clock(), max_keys=2)
    for key in ("a", "b", "c"):
        limit.hit(key)
    assert limit.check("a") == 0  # forgotten
    assert limit.check("b") > 0 and limit.check("c") > 0
