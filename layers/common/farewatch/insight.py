"""Price insight: is this price low, typical or high, judged from Farewatch's own observations.

Like is compared with like: a price is held against the cheapest prices Farewatch fetched for the
same route, cabin, trip type (one way, or a round trip), stop limit, travellers and currency, at a
similar time before departure (the lead-time bands below), over the last `WINDOW_DAYS` days. Every
fetch that appends to a trip's price history also appends to its comparable class (in the same
BatchWriteItem) and marks the class's snapshot stale (store/history.py). Below `MIN_OBSERVATIONS`
comparable observations the level is `unknown`, never a guess.

The typical range is the middle half of the comparable prices: from the 25th to the 75th
percentile (nearest rank). Below the range is `low`, above it `high`, inside it `typical`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from farewatch.fare_query import FareQuery
from farewatch.offers import format_price

MIN_OBSERVATIONS = 8
WINDOW_DAYS = 60
# Days before departure: a fare 3 days out is not compared with one 3 months out.
LEAD_BANDS: tuple[tuple[int, int], ...] = ((0, 6), (7, 13), (14, 29), (30, 59), (60, 119), (120, 365))

Level = Literal["low", "typical", "high", "unknown"]


def lead_band(departure: date, today: date) -> tuple[int, int]:
    days = max(0, (departure - today).days)
    for low, high in LEAD_BANDS:
        if low <= days <= high:
            return low, high
    return LEAD_BANDS[-1]


def comparable_class(query: FareQuery, today: date) -> str:
    """`insight#JFK-LAX#economy#one_way#any#1#USD#30-59`: the series a price is compared within."""
    low, high = lead_band(query.departure_date, today)
    stops = "any" if query.max_stops is None else f"stops={query.max_stops}"
    return (
        "#".join(
            ("insight", query.route, query.cabin, query.trip_type, stops, str(query.adults), query.currency)
        )
        + f"#{low}-{high}"
    )


@dataclass(frozen=True)
class Insight:
    level: Level
    typical_low: Decimal | None
    typical_high: Decimal | None
    observations: int
    explanation: str


def _nearest_rank(ordered: Sequence[Decimal], percentile: int) -> Decimal:
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


def judge(price: Decimal, comparable: Sequence[Decimal], query: FareQuery, today: date) -> Insight:
    """The level of `price` among the comparable observations (which may include it)."""
    low_days, high_days = lead_band(query.departure_date, today)
    trip = "round trips" if query.is_round_trip else "one-way fares"
    what = (
        f"{query.origin}-{query.destination} {query.cabin.replace('_', ' ')} {trip} "
        f"seen {low_days}-{high_days} days before departure"
    )
    count = len(comparable)
    if count < MIN_OBSERVATIONS:
        return Insight(
            "unknown",
            None,
            None,
            count,
            f"Only {count} comparable price{'s' if count != 1 else ''} ({what}) so far; "
            f"at least {MIN_OBSERVATIONS} are needed to judge.",
        )
    ordered = sorted(comparable)
    low, high = _nearest_rank(ordered, 25), _nearest_rank(ordered, 75)
    level: Level = "low" if price < low else "high" if price > high else "typical"
    shown = format_price(price, query.currency)
    span = f"{format_price(low, query.currency)} to {format_price(high, query.currency)}"
    word = {"low": "below", "high": "above", "typical": "within"}[level]
    return Insight(level, low, high, count, f"{shown} is {word} the typical {span} of {count} {what}.")


Judge = Callable[[FareQuery, Decimal | None], Insight]
"""`FareService.insight`: how a price of a trip compares (what trackers and alerts are given)."""


def not_judged(query: FareQuery, price: Decimal | None) -> Insight:
    """For collaborators built without observations to judge by (tests): always `unknown`."""
    return Insight("unknown", None, None, 0, "No comparable prices are available to judge this price.")
