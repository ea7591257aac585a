"""Per-client request rate limiting over a sliding one-second window, like Amadeus's 10 TPS quota.

Only admitted requests fill the window, so a client that backs off is served again after a
second. Not thread-safe by itself: the Simulator holds its lock around every call.
"""

from __future__ import annotations

from collections import deque

WINDOW_SECONDS = 1.0


class RateLimiter:
    def __init__(self, requests_per_second: int) -> None:
        self.requests_per_second = requests_per_second  # 0 disables the limit
        self._admitted: dict[str, deque[float]] = {}

    def admit(self, client_id: str, now: float) -> bool:
        if self.requests_per_second <= 0:
            return True
        window = self._admitted.setdefault(client_id, deque())
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        if len(window) >= self.requests_per_second:
            return False
        window.append(now)
        return True

    def clear(self) -> None:
        self._admitted.clear()
