"""A sliding-window counter of login attempts per client address, in the process's memory.

Per process on purpose: it slows a guesser down cheaply; the account lockout, which lives in the
database, is what holds across processes and machines.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window_s: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Count one attempt; None when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window_s - now
            hits.append(now)
            if len(self._hits) > self.max_keys:  # forget idle clients, keep memory bounded
                for idle in [k for k, v in self._hits.items() if not v]:
                    del self._hits[idle]
            return None
