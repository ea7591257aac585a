"""Duffel-style rate limiting: a fixed window per access token, told to the client in headers.

Every answer carries `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (an HTTP-date,
the end of the current window); over the limit the answer is a 429 until that time. Not
thread-safe by itself: the Simulator holds its lock around every call.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from email.utils import format_datetime

UNLIMITED = 1_000_000  # what the headers announce when the limit is switched off


@dataclass(frozen=True)
class Admission:
    admitted: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds, a whole second

    def headers(self) -> dict[str, str]:
        return {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": http_date(self.reset_at),
        }


def http_date(epoch_seconds: float) -> str:
    """RFC 1123, as HTTP writes dates: `Mon, 23 Nov 2026 12:00:00 GMT`."""
    return format_datetime(dt.datetime.fromtimestamp(epoch_seconds, tz=dt.UTC), usegmt=True)


class WindowRateLimiter:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit  # 0 disables the limit (headers then announce UNLIMITED)
        self.window_seconds = window_seconds
        self._counts: dict[str, tuple[float, int]] = {}

    def admit(self, client: str, now: float) -> Admission:
        window_start = math.floor(now / self.window_seconds) * self.window_seconds
        reset_at = float(math.ceil(window_start + self.window_seconds))
        started, used = self._counts.get(client, (window_start, 0))
        if started != window_start:
            used = 0
        if self.limit > 0 and used >= self.limit:
            return Admission(False, self.limit, 0, reset_at)
        used += 1
        self._counts[client] = (window_start, used)
        limit = self.limit if self.limit > 0 else UNLIMITED
        return Admission(True, limit, max(0, limit - used), reset_at)

    def clear(self) -> None:
        self._counts.clear()
