"""Building normalised offers and fare queries for tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from farewatch.fare_query import FareQuery
from farewatch.offers import Offer


def offer(price: str, *, id: str = "1", stops: int = 0, minutes: int = 330, currency: str = "USD") -> Offer:
    return Offer(
        id=id,
        price=Decimal(price),
        currency=currency,
        carrier="AA",
        flight_numbers=["AA100"] if stops == 0 else ["AA100", "AA200"],
        stops=stops,
        departure_at="2027-01-15T08:00:00",
        arrival_at="2027-01-15T13:30:00",
        origin="JFK",
        destination="LAX",
        duration_minutes=minutes,
    )


def fare_query(origin: str = "JFK", destination: str = "LAX", day: str = "2027-01-15") -> FareQuery:
    return FareQuery(origin=origin, destination=destination, departure_date=dt.date.fromisoformat(day))
