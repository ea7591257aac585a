"""Public flight endpoints: ping, price, search, airports, history, booking links, and the API's OpenAPI
document.

Thin by design: each route declares its typed inputs, asks the fare service and returns a response
model. Errors become the envelope in farewatch.api.resolver.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch import composition, locations
from farewatch.api import openapi
from farewatch.api.params import Adults, Currency, Day, Destination, Origin
from farewatch.api.resolver import create_resolver, error_responses
from farewatch.clock import SystemClock
from farewatch.errors import NotFound
from farewatch.fare_query import DEFAULT_ADULTS, DEFAULT_CURRENCY, FareQuery, fare_query
from farewatch.offers import select_offers
from farewatch.validation import OneOf, WholeNumber, YesNo
from price_api.views import (
    AirportList,
    AirportView,
    BookingLinksEnvelope,
    FareMeta,
    HistoryEnvelope,
    OfferView,
    Pong,
    PriceEnvelope,
    SearchEnvelope,
    SearchMeta,
    booking_links_envelope,
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
Limit = Annotated[int, WholeNumber(1, 50), Query(description="At most this many (default 10).")]


def _query(
    origin: str, destination: str, date: Any, adults: int, currency: str, *, allow_past: bool = False
) -> FareQuery:
    return fare_query(
        origin=origin,
        destination=destination,
        departure_date=date,
        adults=adults,
        currency=currency,
        clock=clock,
        allow_past=allow_past,
    )


@app.get("/flights/ping", summary="Liveness check")
def ping() -> Pong:
    return Pong()


@app.get("/flights/price", summary="Cheapest fare for a route and date", responses=FARE_ERRORS)
def cheapest_price(
    origin: Origin,
    destination: Destination,
    date: Day,
    adults: Adults = DEFAULT_ADULTS,
    currency: Currency = DEFAULT_CURRENCY,
    nocache: Annotated[bool, YesNo(), Query(description="Fetch afresh and refresh the cache.")] = False,
) -> PriceEnvelope:
    query = _query(origin, destination, date, adults, currency)
    result = composition.fare_service().fares(query, force_refresh=nocache)
    if result.cheapest is None:
        raise NotFound("No offers for this route and date.", code="no_offers")
    return price_envelope(result, date.isoformat())


@app.get("/flights/search", summary="Offers for a route and date", responses=FARE_ERRORS)
def search_offers(
    origin: Origin,
    destination: Destination,
    date: Day,
    adults: Adults = DEFAULT_ADULTS,
    currency: Currency = DEFAULT_CURRENCY,
    nonstop: Annotated[bool, YesNo(), Query(description="Nonstop offers only.")] = False,
    sort: Annotated[
        str, OneOf(("price", "duration")), Query(description="price (default) or duration.")
    ] = "price",
    limit: Limit = 10,
) -> SearchEnvelope:
    query = _query(origin, destination, date, adults, currency)
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
) -> HistoryEnvelope:
    query = _query(origin, destination, date, adults, currency, allow_past=True)
    rows = composition.fare_service().price_history(query)
    view = history_view(query.origin, query.destination, date.isoformat(), query.adults, query.currency, rows)
    return HistoryEnvelope(data=view)


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
