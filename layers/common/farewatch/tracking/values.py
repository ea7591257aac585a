"""What tracking is about, as plain values: a stored tracker, an observed price, an alert.

The store turns its items into these and back (it is the only code that knows attribute names);
the tracking service and the poll cycle decide with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from farewatch.fare_query import FareQuery


@dataclass(frozen=True)
class PricePoint:
    """One observed cheapest price of a watched route."""

    amount: Decimal
    currency: str
    fetched_at: float
    offer_id: str | None = None  # the cheapest offer's id at the source (its booking link's key)


@dataclass(frozen=True)
class DatePrice:
    """The latest cheapest price seen for one departure date of a flexible tracker's window."""

    departure_date: date
    amount: Decimal
    fetched_at: float
    offer_id: str | None = None


@dataclass(frozen=True)
class StoredTracker:
    """A tracker as it is stored: its fare query, its settings, what it has seen, and its version."""

    id: str
    user_id: str
    query: FareQuery
    target_price: Decimal | None
    notify_on_any_drop: bool
    current_price: Decimal | None
    lowest_price: Decimal | None
    last_alerted_price: Decimal | None
    last_checked_at: float | None
    created_at: float
    updated_at: float
    released_at: float | None = None  # set once a departed tracker stops counting toward the limit
    version: int = 0  # 0 before it is first written
    notify: tuple[str, ...] | None = None  # alert channels ("email", "webhook"); None: every one set up
    # A flexible window (issue 15): the departure dates it watches (each one counted on its watched
    # route; empty: just the query's date) and the latest price seen on each of them.
    flex_days: int = 0
    watched_dates: tuple[date, ...] = ()
    window_prices: tuple[DatePrice, ...] = ()

    @property
    def route_key(self) -> str:
        return self.query.cache_key

    @property
    def dates(self) -> tuple[date, ...]:
        """The departure dates whose watched routes count this tracker."""
        return self.watched_dates or (self.query.departure_date,)

    def key_on(self, day: date) -> str:
        """The watched-route key of the trip departing on `day` (the stay kept)."""
        return self.query.departing_on(day).cache_key

    @property
    def route_keys(self) -> tuple[str, ...]:
        """The watched routes this tracker is counted on, one per date of its window."""
        return tuple(self.key_on(day) for day in self.dates)

    @property
    def best(self) -> DatePrice | None:
        """The cheapest date of a flexible window (the earliest of equal prices); None when unknown."""
        return min(self.window_prices, key=lambda seen: (seen.amount, seen.departure_date), default=None)


@dataclass(frozen=True)
class Alert:
    id: str
    user_id: str
    tracker_id: str
    route_key: str
    kind: str
    price: Decimal
    previous_price: Decimal | None
    target_price: Decimal | None
    currency: str
    observed_at: float
    created_at: float
    acked_at: float | None = None
    # What the price was judged when the alert was made (farewatch.insight), and the trip it is for:
    # additive fields of the alert record and of its PriceDropDetected event detail (issue 15).
    insight_level: str | None = None
    typical_low: Decimal | None = None
    typical_high: Decimal | None = None
    insight_observations: int | None = None
    insight_explanation: str | None = None
    departure_date: str | None = None  # the date that won (the tracker's date until flexible windows)
    return_date: str | None = None
    cabin: str | None = None
    max_stops: int | None = None
    # The cheapest offer when the alert was made, and where to book it ("Book from $X"), when the fare
    # source gives booking links (Ignav); None otherwise, or when the lookup failed.
    offer_id: str | None = None
    booking_url: str | None = None
    lowest_price: Decimal | None = None  # the lowest price the tracker had seen, this one included
    # A flexible tracker's alert: the departure date that won (also its departure_date), and the
    # watched route whose poll made the alert (its outbox key, when that is another date's route).
    best_date: str | None = None
    outbox_route: str | None = None

    # The route as fields, read from the route key (ORIGIN#DESTINATION#DATE#ADULTS#CURRENCY...).
    @property
    def origin(self) -> str:
        return self.route_key.split("#")[0]

    @property
    def destination(self) -> str:
        return self.route_key.split("#")[1]

    @property
    def adults(self) -> int:
        return int(self.route_key.split("#")[3])
