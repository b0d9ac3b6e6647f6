"""The sliding window that keeps anonymous clients from rendering and registering reports without end."""

from __future__ import annotations

from xinyong.core import ratelimit
from xinyong.core.ratelimit import SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_within_the_window_then_free_again():
    clock = Clock()
    window = SlidingWindow(2, 60, clock)
    assert window.hit("10.0.0.1") == 0
    clock.now += 10
    assert window.hit("10.0.0.1") == 0
    clock.now += 5
    assert window.hit("10.0.0.1") == 45  # the first hit leaves the window 60 s after it was made
    assert window.hit("10.0.0.2") == 0  # another client is not affected
    clock.now += 45
    assert window.hit("10.0.0.1") == 0  # the first hit has left; a refused request was not counted
    assert window.hit("10.0.0.1") == 10  # now the second hit (at +10 s) is the oldest


def test_zero_turns_it_off():
    window = SlidingWindow(0, 60)
    assert all(window.hit("x") == 0 for _ in range(100))


def test_memory_is_bounded_by_forgetting_idle_clients(monkeypatch):
    monkeypatch.setattr(ratelimit, "MAX_KEYS", 10)
    clock = Clock()
    window = SlidingWindow(1, 60, clock)
    for i in range(10):
        window.hit(f"old{i}")
    clock.now += 61
    window.hit("busy")
    assert set(window._hits) == {"busy"}
    for i in range(20):
        window.hit(f"new{i}")  # all active: half are dropped whenever the table is full
    assert len(window._hits) <= 10
