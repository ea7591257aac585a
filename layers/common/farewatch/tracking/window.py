"""Flexible dates on trackers (issue 15), as pure functions: which departure dates a window watches,
and what one observation of one of its dates makes of it.

A tracker with `flex_days` f on date d watches every departure date in [d - f, d + f] that is not
before today at the origin and whose trip (its return date too, the stay kept) lies within the
booking horizon. Its price is the cheapest of the latest prices seen on those dates, and that date
is the one that "won". Dates that pass drop out of the window at the next observation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from farewatch.fare_query import MAX_DAYS_AHEAD, FareQuery
from farewatch.tracking.values import DatePrice

MAX_FLEX_DAYS = 3


def window_dates(
    query: FareQuery, flex_days: int, *, today: date, max_days_ahead: int = MAX_DAYS_AHEAD
) -> tuple[date, ...]:
    """The departure dates a window watches, oldest first (at most 2 * MAX_FLEX_DAYS + 1)."""
    if not 0 <= flex_days <= MAX_FLEX_DAYS:
        raise ValueError(f"flex_days must be 0 to {MAX_FLEX_DAYS}")
    horizon = today + timedelta(days=max_days_ahead)
    stay = timedelta(days=query.stay_days or 0)
    days = (query.departure_date + timedelta(days=offset) for offset in range(-flex_days, flex_days + 1))
    return tuple(day for day in days if today <= day and day + stay <= horizon)


@dataclass(frozen=True)
class WindowStep:
    """What one observation of one date does to a window: its prices after, the cheapest of them, and
    whether that cheapest date had no price before (a first sight is a baseline, never a drop)."""

    prices: tuple[DatePrice, ...]
    best: DatePrice | None
    first_sight: bool


def observed(
    prices: Iterable[DatePrice], seen: DatePrice, *, watched: Iterable[date], today: date
) -> WindowStep | None:
    """The window after `seen`; None when this observation (or a newer one of its date) was applied
    already. Prices of dates no longer watched, or past, are dropped."""
    live = {day for day in watched if day >= today}
    before = {price.departure_date: price for price in prices if price.departure_date in live}
    previous = before.get(seen.departure_date)
    if previous is not None and previous.fetched_at >= seen.fetched_at:
        return None
    if seen.departure_date not in live:
        return None
    after = {**before, seen.departure_date: seen}
    ordered = tuple(after[day] for day in sorted(after))
    best = cheapest(ordered)
    first_sight = best is not None and best.departure_date not in before
    return WindowStep(ordered, best, first_sight)


def cheapest(prices: Iterable[DatePrice]) -> DatePrice | None:
    """The cheapest date (the earliest of equal prices), or None when no date has a price."""
    return min(prices, key=lambda price: (price.amount, price.departure_date), default=None)


def kept(prices: Iterable[DatePrice], watched: Iterable[date], *, today: date) -> tuple[DatePrice, ...]:
    """The prices of the dates still watched and not past, oldest first."""
    live = {day for day in watched if day >= today}
    return tuple(sorted((p for p in prices if p.departure_date in live), key=lambda p: p.departure_date))


# -- how the store keeps a window: one JSON text, the same text for the same prices ----------------


def dumps(prices: Iterable[DatePrice]) -> str:
    """`[["2027-02-01", "240.00", 1799999999.5, "offer-id"], ...]`, oldest date first (deterministic:
    the store conditions the poller's write on the text it read)."""
    rows = sorted(prices, key=lambda price: price.departure_date)
    return json.dumps(
        [[p.departure_date.isoformat(), str(p.amount), p.fetched_at, p.offer_id] for p in rows],
        separators=(",", ":"),
    )


def loads(text: str | None) -> tuple[DatePrice, ...]:
    if not text:
        return ()
    return tuple(
        DatePrice(date.fromisoformat(day), Decimal(amount), float(fetched_at), offer_id)
        for day, amount, fetched_at, offer_id in json.loads(text)
    )
