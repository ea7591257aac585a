"""What tracking is about, as plain values: a stored tracker, an observed price, an alert.

The store turns its items into these and back (it is the only code that knows attribute names);
the tracking service and the poll cycle decide with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from farewatch.fare_query import FareQuery


@dataclass(frozen=True)
class PricePoint:
    """One observed cheapest price of a watched route."""

    amount: Decimal
    currency: str
    fetched_at: float


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

    @property
    def route_key(self) -> str:
        return self.query.cache_key


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
    lowest_price: Decimal | None = None  # the lowest price the tracker had seen, this one included

    # The route as fields, read from the route key (ORIGIN#DESTINATION#DATE#ADULTS#CURRENCY...).
    @property
    def origin(self) -> str:
        return self.route_key.split("#")[0]

    @property
    def destination(self) -> str:
        return self.route_key.split("#")[1]

    @property
    def departure_date(self) -> str:
        return self.route_key.split("#")[2]

    @property
    def adults(self) -> int:
        return int(self.route_key.split("#")[3])
