"""Time as a collaborator: everything that expires asks a Clock, so tests move time instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""

    def sleep(self, seconds: float) -> None:
        """Wait; a test clock advances itself instead."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to (or when someone sleeps on it)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)


def utc_datetime(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)


def sortable_utc(epoch_seconds: float) -> str:
    """`2026-11-23T10:00:00.123456Z`: a UTC time that sorts as text, for sort keys (microseconds keep
    two moments of one series apart)."""
    return utc_datetime(epoch_seconds).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_utc(epoch_seconds: float) -> str:
    """`2026-11-23T10:00:00Z`: the one timestamp format of our responses."""
    return utc_datetime(epoch_seconds).strftime("%Y-%m-%dT%H:%M:%SZ")
