"""The normalised offer: what every fare source returns, what the cache stores and what /search shows."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Offer(BaseModel):
    """One bookable one-way offer, independent of the fare source that found it."""

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

    @property
    def display_price(self) -> str:
        return format_price(self.price, self.currency)


def format_price(amount: Decimal, currency: str) -> str:
    """`250.00 USD`: the public contract of /flights/price."""
    return f"{amount.quantize(Decimal('0.01'))} {currency}"


def cheapest(offers: Iterable[Offer]) -> Offer | None:
    """The cheapest offer, computed (never assumed from upstream order); ties go to the shorter trip."""
    return min(offers, key=lambda offer: (offer.price, offer.duration_minutes, offer.id), default=None)


SORT_KEYS = ("price", "duration")


def select_offers(offers: Iterable[Offer], *, nonstop: bool, sort: str, limit: int) -> list[Offer]:
    """What /flights/search shows: optionally nonstop only, ordered by price or duration, capped."""
    chosen = [offer for offer in offers if offer.stops == 0] if nonstop else list(offers)
    if sort == "duration":
        chosen.sort(key=lambda offer: (offer.duration_minutes, offer.price, offer.id))
    else:
        chosen.sort(key=lambda offer: (offer.price, offer.duration_minutes, offer.id))
    return chosen[:limit]
