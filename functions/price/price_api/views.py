"""Response models of the public flight endpoints (they are also the OpenAPI document's schemas)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from farewatch.booking import BookingLinksResult
from farewatch.clock import iso_utc
from farewatch.fare_query import DEFAULT_CABIN, FareQuery
from farewatch.insight import Insight
from farewatch.locations import Location
from farewatch.offers import Offer, format_price
from farewatch.pricing import CalendarDay, FareResult
from farewatch.store.history import Observation


def _absent(value: object) -> bool:
    """Fields a trip or a request option adds only when it was asked for (the seed contract stays)."""
    return value is None


MAX_CALENDAR_DAYS = 31
MAX_CALENDAR_STAY_DAYS = 60


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


class InsightView(BaseModel):
    level: str = Field(description="low, typical, high, or unknown (too few comparable observations).")
    typical_low: str | None = Field(description="25th percentile of comparable prices (2 decimals).")
    typical_high: str | None = Field(description="75th percentile of comparable prices (2 decimals).")
    observations: int = Field(description="How many comparable prices the judgement rests on.")
    explanation: str

    @classmethod
    def of(cls, insight: Insight) -> InsightView:
        def money(amount: Decimal | None) -> str | None:
            return None if amount is None else str(amount.quantize(Decimal("0.01")))

        return cls(
            level=insight.level,
            typical_low=money(insight.typical_low),
            typical_high=money(insight.typical_high),
            observations=insight.observations,
            explanation=insight.explanation,
        )


class PriceMeta(FareMeta):
    refreshed: bool | None = Field(
        None,
        exclude_if=_absent,
        description="Only with nocache: false when the trip was fetched less than FORCE_REFRESH_MIN_SECONDS "
        "ago (by anyone) and that entry answers instead of a new upstream search.",
    )
    insight: InsightView | None = Field(
        None, exclude_if=_absent, description='Is this price low, typical or high (README "Price insight").'
    )


class CheapestPrice(BaseModel):
    origin: str
    destination: str
    departure_date: str
    price: str = Field(
        description='Cheapest total price and currency, e.g. "250.00 USD".', examples=["250.00 USD"]
    )
    return_date: str | None = Field(
        None, exclude_if=_absent, description="Only for a round trip: the return date asked for."
    )
    cabin: str | None = Field(None, exclude_if=_absent, description="Only when a cabin was asked for.")


class PriceEnvelope(BaseModel):
    data: CheapestPrice
    meta: PriceMeta


class LegView(BaseModel):
    flight_numbers: list[str]
    stops: int
    origin: str
    destination: str
    departure_at: str
    arrival_at: str
    duration_minutes: int


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
    inbound: LegView | None = Field(
        None, exclude_if=_absent, description="Only for a round trip: the way back."
    )

    @classmethod
    def of(cls, offer: Offer) -> OfferView:
        return cls(
            **offer.model_dump(exclude={"price", "inbound"}),
            price=str(offer.price.quantize(Decimal("0.01"))),
            inbound=LegView(**offer.inbound.model_dump()) if offer.inbound is not None else None,
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
    return_date: str | None = Field(None, exclude_if=_absent, description="Only for a round trip.")
    cabin: str | None = Field(None, exclude_if=_absent, description="Only for a cabin other than economy.")
    max_stops: int | None = Field(None, exclude_if=_absent, description="Only for a trip with a stop limit.")
    observations: list[ObservationView]
    count: int
    latest: str | None = None
    min: str | None = None
    max: str | None = None


class HistoryEnvelope(BaseModel):
    data: PriceHistory


def price_envelope(
    result: FareResult,
    asked_date: str,
    *,
    return_date: date | None = None,
    cabin: str | None = None,
    forced: bool = False,
    insight: Insight | None = None,
) -> PriceEnvelope:
    best = result.cheapest
    assert best is not None
    return PriceEnvelope(
        data=CheapestPrice(
            origin=result.query.origin,
            destination=result.query.destination,
            departure_date=asked_date,
            price=format_price(best.price, best.currency),
            return_date=return_date.isoformat() if return_date is not None else None,
            cabin=cabin,
        ),
        meta=PriceMeta(
            **FareMeta.of(result).model_dump(),
            refreshed=bool(result.refreshed) if forced else None,
            insight=InsightView.of(insight) if insight is not None else None,
        ),
    )


def history_view(query: FareQuery, departure_date: str, rows: list[Observation]) -> PriceHistory:
    def show(observation: Observation) -> str:
        return format_price(observation.amount, observation.currency)

    return PriceHistory(
        origin=query.origin,
        destination=query.destination,
        departure_date=departure_date,
        adults=query.adults,
        currency=query.currency,
        return_date=query.return_date.isoformat() if query.return_date is not None else None,
        cabin=query.cabin if query.cabin != DEFAULT_CABIN else None,
        max_stops=query.max_stops,
        observations=[
            ObservationView(observed_at=row.observed_at, price=show(row), source=row.source) for row in rows
        ],
        count=len(rows),
        latest=show(rows[-1]) if rows else None,
        min=show(min(rows, key=lambda row: row.amount)) if rows else None,
        max=show(max(rows, key=lambda row: row.amount)) if rows else None,
    )


class CalendarDayView(BaseModel):
    departure_date: str
    return_date: str | None = Field(None, exclude_if=_absent, description="Only with stay_days.")
    status: str = Field(
        description="ok; no_offers; not_fetched (cold, and this request's fetch budget ran out: ask again); "
        "failed (upstream failed for this date; `error` says how)."
    )
    price: str | None = Field(description='Cheapest total price, e.g. "250.00 USD"; null unless ok.')
    cached: bool | None = Field(description="True when no upstream call was made for this date.")
    fetched_at: str | None = Field(description="When this date's fares were fetched (UTC).")
    error: str | None = Field(None, exclude_if=_absent, description="Only when failed: the error code.")


class CalendarCheapest(BaseModel):
    departure_date: str
    price: str


class FareCalendar(BaseModel):
    origin: str
    destination: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    stay_days: int | None = Field(None, exclude_if=_absent)
    cabin: str
    adults: int
    currency: str
    days: list[CalendarDayView]
    cheapest: CalendarCheapest | None = Field(description="The cheapest date among those priced.")


class CalendarMeta(BaseModel):
    from_cache: int = Field(description="Dates answered from the shared cache.")
    fetched: int = Field(description="Dates fetched from the fare source for this request.")
    not_fetched: int = Field(description="Cold dates left for a later request (budget or time ran out).")
    failed: int
    source: str


class CalendarEnvelope(BaseModel):
    data: FareCalendar
    meta: CalendarMeta


def calendar_envelope(
    first: FareQuery, start: date, end: date, stay_days: int | None, days: list[CalendarDay]
) -> CalendarEnvelope:
    views: list[CalendarDayView] = []
    priced: list[tuple[Decimal, str, str]] = []
    for day in days:
        result, query = day.result, day.query
        best = result.cheapest if result is not None else None
        if best is not None:
            priced.append(
                (best.price, query.departure_date.isoformat(), format_price(best.price, best.currency))
            )
        views.append(
            CalendarDayView(
                departure_date=query.departure_date.isoformat(),
                return_date=query.return_date.isoformat() if query.return_date is not None else None,
                status=day.status,
                price=format_price(best.price, best.currency) if best is not None else None,
                cached=result.cached if result is not None else None,
                fetched_at=iso_utc(result.fetched_at) if result is not None else None,
                error=day.error,
            )
        )
    cheapest = min(priced, default=None)
    results = [day.result for day in days if day.result is not None]
    return CalendarEnvelope(
        data=FareCalendar(
            origin=first.origin,
            destination=first.destination,
            **{"from": start.isoformat()},
            to=end.isoformat(),
            stay_days=stay_days,
            cabin=first.cabin,
            adults=first.adults,
            currency=first.currency,
            days=views,
            cheapest=CalendarCheapest(departure_date=cheapest[1], price=cheapest[2]) if cheapest else None,
        ),
        meta=CalendarMeta(
            from_cache=sum(1 for result in results if result.cached),
            fetched=sum(1 for result in results if not result.cached),
            not_fetched=sum(1 for day in days if day.status == "not_fetched"),
            failed=sum(1 for day in days if day.status == "failed"),
            source=results[0].source if results else "",
        ),
    )
