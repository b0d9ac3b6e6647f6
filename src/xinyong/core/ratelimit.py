"""A sliding-window limit per key (a client address), kept in this process.

Used where one anonymous request costs real work and leaves a record behind: a public credit report is rendered
(about a second of CPU) and registered with its own serial number. Each web worker keeps its own window, so with
N workers a client may get up to N times the limit; that bounds abuse, which is all it is for. Signed-in users
are accountable and not limited.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 50_000  # beyond this many tracked clients, the idle ones are forgotten first


class SlidingWindow:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # `def` endpoints run in a thread pool

    def hit(self, key: str) -> int:
        """Count one request for `key`: 0 if it may go ahead, else the whole seconds until it may (not counted).
        A limit below 1 turns the window off."""
        if self.limit < 1:
            return 0
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= MAX_KEYS:
                    self._forget_idle(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return 0

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]
        for key in idle or list(self._hits)[: len(self._hits) // 2]:
            del self._hits[key]
