"""Response models of the public flight endpoints (they are also the OpenAPI document's schemas)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from farewatch.booking import BookingLinksResult
from farewatch.clock import iso_utc
from farewatch.locations import Location
from farewatch.offers import Offer, format_price
from farewatch.pricing import FareResult
from farewatch.store.history import Observation


class Pong(BaseModel):
    data: str = "pong"


class FareMeta(BaseModel):
    cached: bool = Field(description="True when no upstream call was made for this answer.")
    stale: bool = Field(description="True when upstream failed and the last known fares are shown.")
    fetched_at: str = Field(description="When the fares were fetched from the source (UTC).")
    expires_at: str = Field(description="When the cached fares stop being fresh (UTC).")
    source: str = Field(description="Which fare source answered.")

    @classmethod
    def of(cls, result: FareResult) -> FareMeta:
        return cls(
            cached=result.cached,
            stale=result.stale,
            fetched_at=iso_utc(result.fetched_at),
            expires_at=iso_utc(result.fresh_until),
            source=result.source,
        )


class CheapestPrice(BaseModel):
    origin: str
    destination: str
    departure_date: str
    price: str = Field(
        description='Cheapest total price and currency, e.g. "250.00 USD".', examples=["250.00 USD"]
    )


class PriceEnvelope(BaseModel):
    data: CheapestPrice
    meta: FareMeta


class OfferView(BaseModel):
    id: str
    price: str = Field(description="Total price for all travellers, two decimals.", examples=["250.00"])
    currency: str
    carrier: str
    flight_numbers: list[str]
    stops: int
    origin: str
    destination: str
    departure_at: str
    arrival_at: str
    duration_minutes: int

    @classmethod
    def of(cls, offer: Offer) -> OfferView:
        return cls(
            **offer.model_dump(exclude={"price"}),
            price=str(offer.price.quantize(Decimal("0.01"))),
        )


class SearchMeta(FareMeta):
    count: int
    sort: str


class SearchEnvelope(BaseModel):
    data: list[OfferView]
    meta: SearchMeta


class AirportView(BaseModel):
    code: str
    kind: str = Field(description='"airport" or "city" (a multi-airport city code).')
    name: str
    city: str
    country: str
    time_zone: str
    airports: list[str] = Field(default_factory=list, description="Member airports of a city code.")

    @classmethod
    def of(cls, location: Location) -> AirportView:
        return cls(
            code=location.code,
            kind=location.kind,
            name=location.name,
            city=location.city,
            country=location.country,
            time_zone=location.time_zone,
            airports=list(location.airports or ()),
        )


class AirportList(BaseModel):
    data: list[AirportView]


class BookingLinkView(BaseModel):
    provider: str = Field(description="Who sells it: the airline or a travel agent.")
    provider_type: str = Field(description='"airline" or "third_party".')
    url: str = Field(description="The seller's page with the flight selected, exactly as the source gave it.")
    fare_name: str | None = None
    price: str | None = Field(
        None, description='The seller\'s price when the source gives one, e.g. "from 240.00 USD".'
    )


class BookingLinks(BaseModel):
    offer: str
    price: str = Field(
        description='The price the source quotes now, shown as "from": e.g. "from 240.00 USD".',
        examples=["from 240.00 USD"],
    )
    book: str | None = Field(
        None, description='"Book from $X" with the first link, for a traveller to click.'
    )
    url: str | None = Field(
        None, description="The first (best) link: one ticket for the whole trip, airline first."
    )
    links: list[BookingLinkView]


class BookingLinksMeta(BaseModel):
    cached: bool = Field(description="True when the links came from the short booking-link cache.")
    fetched_at: str
    source: str


class BookingLinksEnvelope(BaseModel):
    data: BookingLinks
    meta: BookingLinksMeta


def booking_links_envelope(result: BookingLinksResult) -> BookingLinksEnvelope:
    links = result.links
    shown = f"from {format_price(links.price, links.currency)}"
    best = links.best
    return BookingLinksEnvelope(
        data=BookingLinks(
            offer=links.offer_id,
            price=shown,
            book=f"Book {shown}: {best.url}" if best is not None else None,
            url=best.url if best is not None else None,
            links=[
                BookingLinkView(
                    provider=link.provider_name,
                    provider_type=link.provider_type,
                    url=link.url,
                    fare_name=link.fare_name,
                    price=f"from {format_price(link.price, link.currency)}"
                    if link.price is not None and link.currency is not None
                    else None,
                )
                for link in links.links
            ],
        ),
        meta=BookingLinksMeta(
            cached=result.cached, fetched_at=iso_utc(result.fetched_at), source=result.source
        ),
    )


class ObservationView(BaseModel):
    observed_at: str
    price: str
    source: str


class PriceHistory(BaseModel):
    origin: str
    destination: str
    departure_date: str
    adults: int
    currency: str
    observations: list[ObservationView]
    count: int
    latest: str | None = None
    min: str | None = None
    max: str | None = None


class HistoryEnvelope(BaseModel):
    data: PriceHistory


def price_envelope(result: FareResult, asked_date: str) -> PriceEnvelope:
    best = result.cheapest
    assert best is not None
    return PriceEnvelope(
        data=CheapestPrice(
            origin=result.query.origin,
            destination=result.query.destination,
            departure_date=asked_date,
            price=format_price(best.price, best.currency),
        ),
        meta=FareMeta.of(result),
    )


def history_view(
    origin: str, destination: str, departure_date: str, adults: int, currency: str, rows: list[Observation]
) -> PriceHistory:
    def show(observation: Observation) -> str:
        return format_price(observation.amount, observation.currency)

    return PriceHistory(
        origin=origin,
        destination=destination,
        departure_date=departure_date,
        adults=adults,
        currency=currency,
        observations=[
            ObservationView(observed_at=row.observed_at, price=show(row), source=row.source) for row in rows
        ],
        count=len(rows),
        latest=show(rows[-1]) if rows else None,
        min=show(min(rows, key=lambda row: row.amount)) if rows else None,
        max=show(max(rows, key=lambda row: row.amount)) if rows else None,
    )
