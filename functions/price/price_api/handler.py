"""Public flight endpoints: ping, price, search, airports, history, booking links, and the API's OpenAPI
document.

Thin by design: each route declares its typed inputs, asks the fare service and returns a response
model. Errors become the envelope in farewatch.api.resolver.
"""

from __future__ import annotations

import math
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch import composition, locations
from farewatch.api import openapi
from farewatch.api.params import Adults, Currency, Day, Destination, MaxStops, Origin, ReturnDate, TripCabin
from farewatch.api.resolver import create_resolver, error_responses
from farewatch.clock import SystemClock
from farewatch.errors import InvalidRequest, NotFound, TooManyRequests
from farewatch.fare_query import (
    DEFAULT_ADULTS,
    DEFAULT_CABIN,
    DEFAULT_CURRENCY,
    Cabin,
    DepartureDay,
    FareQuery,
    fare_query,
)
from farewatch.offers import select_offers
from farewatch.settings import get_settings
from farewatch.store.fare_cache import count_forced_refresh
from farewatch.validation import OneOf, WholeNumber, YesNo
from price_api.views import (
    MAX_CALENDAR_DAYS,
    MAX_CALENDAR_STAY_DAYS,
    AirportList,
    AirportView,
    BookingLinksEnvelope,
    CalendarEnvelope,
    FareMeta,
    HistoryEnvelope,
    OfferView,
    Pong,
    PriceEnvelope,
    SearchEnvelope,
    SearchMeta,
    booking_links_envelope,
    calendar_envelope,
    history_view,
    price_envelope,
)

# Generated from every function's routes at build time (`make openapi`); see farewatch.api.openapi.
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")

logger = Logger()
metrics = Metrics()
# Only fetches and cache hits record metrics; a ping or an autosuggest has none to publish, which is
# expected here (Powertools' documented way to say so, instead of a warning per such request).
warnings.filterwarnings("ignore", "No application metrics to publish")
app = create_resolver()
clock = SystemClock()

FARE_ERRORS = error_responses(400, 404, 502, 503, 504)
PRICE_ERRORS = error_responses(400, 404, 429, 502, 503, 504)
Limit = Annotated[int, WholeNumber(1, 50), Query(description="At most this many (default 10).")]


def _query(
    origin: str,
    destination: str,
    date: Any,
    adults: int,
    currency: str,
    return_date: Any = None,
    cabin: Cabin = DEFAULT_CABIN,
    max_stops: int | None = None,
    *,
    allow_past: bool = False,
    field_names: dict[str, str] | None = None,
) -> FareQuery:
    try:
        return fare_query(
            origin=origin,
            destination=destination,
            departure_date=date,
            adults=adults,
            currency=currency,
            return_date=return_date,
            cabin=cabin,
            max_stops=max_stops,
            clock=clock,
            allow_past=allow_past,
        )
    except InvalidRequest as error:
        if not field_names:
            raise
        # The calendar's dates are `from` and `to`: its errors name those, not `date`.
        details = [
            {**detail, "field": field_names.get(detail.get("field", ""), detail.get("field"))}
            for detail in error.details
        ]
        message = error.message
        for old, new in field_names.items():
            message = message.replace(f"{old}:", f"{new}:")
        raise InvalidRequest(message, code=error.code, details=details) from None


REFRESH_WINDOW_SECONDS = 60


def _limit_anonymous_refreshes() -> None:
    """Forced refreshes without an Authorization header: at most ANONYMOUS_REFRESHES_PER_IP_PER_MINUTE
    per source IP per minute, then 429 `too_many_refreshes` with Retry-After (the per-key limit
    alone would let one client refresh many keys)."""
    event = app.current_event
    if (event.headers or {}).get("authorization") or (event.headers or {}).get("Authorization"):
        return
    source_ip = event.request_context.identity.source_ip or "unknown"
    now = clock.now()
    window_start = int(now // REFRESH_WINDOW_SECONDS * REFRESH_WINDOW_SECONDS)
    count = count_forced_refresh(source_ip, window_start=window_start, window_seconds=REFRESH_WINDOW_SECONDS)
    if count > get_settings().anonymous_refreshes_per_ip_per_minute:
        raise TooManyRequests(
            "Too many forced refreshes from your address; try again shortly (or sign in).",
            code="too_many_refreshes",
            retry_after=math.ceil(window_start + REFRESH_WINDOW_SECONDS - now),
        )


@app.get("/flights/ping", summary="Liveness check")
def ping() -> Pong:
    return Pong()


@app.get("/flights/price", summary="Cheapest fare for a trip", responses=PRICE_ERRORS)
def cheapest_price(
    origin: Origin,
    destination: Destination,
    date: Day,
    adults: Adults = DEFAULT_ADULTS,
    currency: Currency = DEFAULT_CURRENCY,
    return_date: ReturnDate = None,
    cabin: TripCabin = DEFAULT_CABIN,
    max_stops: MaxStops = None,
    nocache: Annotated[
        bool,
        YesNo(),
        Query(description="Fetch afresh and refresh the cache (at most once a minute per trip, fleet-wide)."),
    ] = False,
) -> PriceEnvelope:
    query = _query(origin, destination, date, adults, currency, return_date, cabin, max_stops)
    if nocache:
        _limit_anonymous_refreshes()
    result, judged = composition.fare_service().priced(query, force_refresh=nocache)
    if result.cheapest is None:
        raise NotFound("No offers for this trip.", code="no_offers")
    return price_envelope(
        result,
        date.isoformat(),
        return_date=return_date,
        cabin=cabin if "cabin" in (app.current_event.query_string_parameters or {}) else None,
        forced=nocache,
        insight=judged,
    )


@app.get("/flights/search", summary="Offers for a route and date", responses=FARE_ERRORS)
def search_offers(
    origin: Origin,
    destination: Destination,
    date: Day,
    adults: Adults = DEFAULT_ADULTS,
    currency: Currency = DEFAULT_CURRENCY,
    return_date: ReturnDate = None,
    cabin: TripCabin = DEFAULT_CABIN,
    max_stops: MaxStops = None,
    nonstop: Annotated[bool, YesNo(), Query(description="Nonstop offers only (both ways).")] = False,
    sort: Annotated[
        str, OneOf(("price", "duration")), Query(description="price (default) or duration.")
    ] = "price",
    limit: Limit = 10,
) -> SearchEnvelope:
    query = _query(origin, destination, date, adults, currency, return_date, cabin, max_stops)
    result = composition.fare_service().fares(query)
    offers = select_offers(result.offers, nonstop=nonstop, sort=sort, limit=limit)
    meta = SearchMeta(**FareMeta.of(result).model_dump(), count=len(offers), sort=sort)
    return SearchEnvelope(data=[OfferView.of(offer) for offer in offers], meta=meta)


@app.get("/airports", summary="Airport and city autosuggest", responses=error_responses(400))
def suggest_airports(
    q: Annotated[
        str, Query(max_length=100, description="IATA code, city or airport name (2-100 characters).")
    ],
    limit: Limit = 10,
) -> AirportList:
    return AirportList(data=[AirportView.of(location) for location in locations.suggest(q, limit)])


@app.get(
    "/flights/history", summary="Price observations for a route and date", responses=error_responses(400)
)
def price_history(
    origin: Origin,
    destination: Destination,
    date: Day,
    adults: Adults = DEFAULT_ADULTS,
    currency: Currency = DEFAULT_CURRENCY,
    return_date: ReturnDate = None,
    cabin: TripCabin = DEFAULT_CABIN,
    max_stops: MaxStops = None,
) -> HistoryEnvelope:
    query = _query(
        origin, destination, date, adults, currency, return_date, cabin, max_stops, allow_past=True
    )
    rows = composition.fare_service().price_history(query)
    return HistoryEnvelope(data=history_view(query, date.isoformat(), rows))


@app.get(
    "/flights/calendar",
    summary="Cheapest fare per departure date (at most 31 days)",
    responses=error_responses(400),
)
def fare_calendar(
    origin: Origin,
    destination: Destination,
    from_: Annotated[DepartureDay, Query(alias="from", description="First departure date, YYYY-MM-DD.")],
    to: Annotated[
        DepartureDay, Query(description="Last departure date, YYYY-MM-DD (at most 30 days after `from`).")
    ],
    stay_days: Annotated[
        int | None,
        WholeNumber(0, MAX_CALENDAR_STAY_DAYS),
        Query(
            description="Round trips of this many nights (return = departure + stay_days); absent: one way."
        ),
    ] = None,
    cabin: TripCabin = DEFAULT_CABIN,
    adults: Adults = DEFAULT_ADULTS,
    currency: Currency = DEFAULT_CURRENCY,
) -> CalendarEnvelope:
    if to < from_:
        raise InvalidRequest(
            "to is before from.",
            code="invalid_date_range",
            details=[{"field": "to", "issue": "is before from"}],
        )
    if (to - from_).days + 1 > MAX_CALENDAR_DAYS:
        raise InvalidRequest(
            f"A calendar spans at most {MAX_CALENDAR_DAYS} days.",
            code="date_range_too_long",
            details=[{"field": "to", "issue": f"must be at most {MAX_CALENDAR_DAYS - 1} days after from"}],
        )
    queries = [
        _query(
            origin,
            destination,
            day,
            adults,
            currency,
            day + timedelta(days=stay_days) if stay_days is not None else None,
            cabin,
            field_names={"date": "from" if day == from_ else "to"},
        )
        for day in (from_ + timedelta(days=offset) for offset in range((to - from_).days + 1))
    ]
    settings = get_settings()
    days = composition.fare_service().calendar(
        queries, max_fetches=settings.calendar_max_fetches, budget_seconds=settings.calendar_budget_seconds
    )
    return calendar_envelope(queries[0], from_, to, stay_days, days)


@app.get(
    "/flights/booking-links",
    summary="Where to book an offer (Ignav)",
    description="Resolves an offer id from /flights/search (or an alert's offer_id) into the pages that "
    'sell it, through the fare source; cached a few minutes. Prices are shown as "from": the seller\'s '
    "page has the live price. Only a source with booking links (Ignav) answers; others are a 404.",
    responses=error_responses(400, 404, 502, 503, 504),
)
def booking_links(
    offer: Annotated[
        str, Query(min_length=1, max_length=100, description="An offer id from /flights/search or an alert.")
    ],
) -> BookingLinksEnvelope:
    return booking_links_envelope(composition.booking_link_service().links(offer))


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, openapi.stored_document(OPENAPI_DOCUMENT))


@app.get("/docs", include_in_schema=False)
def swagger_ui() -> Response[str]:
    return Response(200, "text/html", openapi.swagger_page(openapi.stored_document(OPENAPI_DOCUMENT)))


composition.warm_up()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
