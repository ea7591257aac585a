"""Dates relative to today, for tests that run against a real clock (the local stack's)."""

from __future__ import annotations

import datetime as dt


def future(days: int) -> str:
    """A departure date `days` from today, as the API takes it (YYYY-MM-DD)."""
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()
