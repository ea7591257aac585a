"""The normalised offer: what every fare source returns, what the cache stores and what /search shows."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Leg(BaseModel):
    """One direction of a round-trip offer: the way back."""

    model_config = ConfigDict(frozen=True)

    flight_numbers: list[str]
    stops: int = Field(ge=0)
    departure_at: str = Field(description="Local departure time, ISO 8601 without offset.")
    arrival_at: str = Field(description="Local arrival time, ISO 8601 without offset.")
    origin: str
    destination: str
    duration_minutes: int = Field(ge=0)


class Offer(BaseModel):
    """One bookable offer, independent of the fare source that found it: the outbound journey in the
    top-level fields (a one-way offer is only that), the way back of a round trip in `inbound`.

    Entries cached before round trips existed have no `inbound`, and read as one-way offers.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    price: Decimal = Field(description="Total price for all travellers, as a decimal.")
    currency: str
    carrier: str = Field(description="Validating (selling) airline, IATA code.")
    flight_numbers: list[str] = Field(description='Marketing flight numbers in order, e.g. ["AA100"].')
    stops: int = Field(ge=0)
    departure_at: str = Field(description="Local departure time at the origin, ISO 8601 without offset.")
    arrival_at: str = Field(description="Local arrival time at the destination, ISO 8601 without offset.")
    origin: str
    destination: str
    duration_minutes: int = Field(ge=0)
    # Absent (not null) on one-way offers, so that their cached JSON is what it was before round trips.
    inbound: Leg | None = Field(
        None, exclude_if=lambda leg: leg is None, description="The way back of a round trip."
    )

    @property
    def display_price(self) -> str:
        return format_price(self.price, self.currency)

    @property
    def stops_per_direction(self) -> int:
        """The stops of the worse direction: what a trip's `max_stops` (per direction) is held to."""
        return max(self.stops, self.inbound.stops if self.inbound is not None else 0)


def format_price(amount: Decimal, currency: str) -> str:
    """`250.00 USD`: the public contract of /flights/price."""
    return f"{amount.quantize(Decimal('0.01'))} {currency}"


def total_minutes(offer: Offer) -> int:
    return offer.duration_minutes + (offer.inbound.duration_minutes if offer.inbound is not None else 0)


def cheapest(offers: Iterable[Offer]) -> Offer | None:
    """The cheapest offer, computed (never assumed from upstream order); ties go to the shorter trip."""
    return min(offers, key=lambda offer: (offer.price, total_minutes(offer), offer.id), default=None)


SORT_KEYS = ("price", "duration")


def select_offers(offers: Iterable[Offer], *, nonstop: bool, sort: str, limit: int) -> list[Offer]:
    """What /flights/search shows: optionally nonstop only (both ways), by price or duration, capped."""
    chosen = [offer for offer in offers if offer.stops_per_direction == 0] if nonstop else list(offers)
    if sort == "duration":
        chosen.sort(key=lambda offer: (total_minutes(offer), offer.price, offer.id))
    else:
        chosen.sort(key=lambda offer: (offer.price, offer.duration_minutes, offer.id))
    return chosen[:limit]
