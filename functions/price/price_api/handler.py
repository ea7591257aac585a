"""Public flight endpoints: ping, price, search, airports, history, and the OpenAPI document.

Thin by design: each route parses its input with the shared validators, asks the fare service and
returns a response model. Errors become the envelope in farewatch.api.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch import locations, openapi_doc, wiring
from farewatch.api import create_resolver, error_responses
from farewatch.clock import SystemClock
from farewatch.errors import NotFound, invalid_field
from farewatch.fare_query import FareQuery, parse_fare_query, parse_flag, parse_int
from farewatch.offers import SORT_KEYS, select_offers
from farewatch.schemas import (
    AirportList,
    AirportView,
    FareMeta,
    HistoryEnvelope,
    OfferView,
    Pong,
    PriceEnvelope,
    SearchEnvelope,
    SearchMeta,
    history_view,
    price_envelope,
)
from farewatch.store.history import PriceHistoryStore

logger = Logger()
metrics = Metrics()
app = create_resolver()
clock = SystemClock()

Origin = Annotated[str, Query(description="IATA airport or city code, e.g. JFK or NYC.", examples=["JFK"])]
Destination = Annotated[str, Query(description="IATA airport or city code.", examples=["LAX"])]
Date = Annotated[str, Query(description="Departure date, YYYY-MM-DD, in the origin's time zone.")]
Adults = Annotated[str | None, Query(description="Travellers aged 12+, 1-9 (default 1).")]
Currency = Annotated[str | None, Query(description="ISO 4217 currency (default USD).")]

FARE_ERRORS = error_responses(400, 404, 502, 503, 504)


def _fare_query(
    origin: str,
    destination: str,
    date: str,
    adults: str | None,
    currency: str | None,
    *,
    allow_past: bool = False,
) -> FareQuery:
    raw = {"origin": origin, "destination": destination, "date": date, "adults": adults, "currency": currency}
    return parse_fare_query(raw, clock=clock, allow_past=allow_past)


@app.get("/flights/ping", summary="Liveness check")
def ping() -> Pong:
    return Pong()


@app.get("/flights/price", summary="Cheapest fare for a route and date", responses=FARE_ERRORS)
def cheapest_price(
    origin: Origin,
    destination: Destination,
    date: Date,
    adults: Adults = None,
    currency: Currency = None,
    nocache: Annotated[str | None, Query(description="1|true|yes forces a fresh fetch.")] = None,
) -> PriceEnvelope:
    query = _fare_query(origin, destination, date, adults, currency)
    force = parse_flag(nocache, "nocache")
    result = wiring.fare_service().fares(query, force_refresh=force)
    if result.cheapest is None:
        raise NotFound("No offers for this route and date.", code="no_offers")
    return price_envelope(result, date)


@app.get("/flights/search", summary="Offers for a route and date", responses=FARE_ERRORS)
def search_offers(
    origin: Origin,
    destination: Destination,
    date: Date,
    adults: Adults = None,
    currency: Currency = None,
    nonstop: Annotated[str | None, Query(description="1|true|yes keeps nonstop offers only.")] = None,
    sort: Annotated[str | None, Query(description="price (default) or duration.")] = None,
    limit: Annotated[str | None, Query(description="At most this many offers, 1-50 (default 10).")] = None,
) -> SearchEnvelope:
    query = _fare_query(origin, destination, date, adults, currency)
    only_nonstop = parse_flag(nonstop, "nonstop")
    order = sort or "price"
    if order not in SORT_KEYS:
        raise invalid_field("sort", "must be price or duration")
    count = parse_int(limit, "limit", default=10, minimum=1, maximum=50)
    result = wiring.fare_service().fares(query)
    offers = select_offers(result.offers, nonstop=only_nonstop, sort=order, limit=count)
    meta = SearchMeta(**FareMeta.of(result).model_dump(), count=len(offers), sort=order)
    return SearchEnvelope(data=[OfferView.of(offer) for offer in offers], meta=meta)


@app.get("/airports", summary="Airport and city autosuggest", responses=error_responses(400))
def suggest_airports(
    q: Annotated[
        str, Query(max_length=100, description="IATA code, city or airport name (2-100 characters).")
    ],
    limit: Annotated[str | None, Query(description="1-50 (default 10).")] = None,
) -> AirportList:
    count = parse_int(limit, "limit", default=10, minimum=1, maximum=50)
    return AirportList(data=[AirportView.of(location) for location in locations.suggest(q, count)])


@app.get(
    "/flights/history", summary="Price observations for a route and date", responses=error_responses(400)
)
def price_history(
    origin: Origin,
    destination: Destination,
    date: Date,
    adults: Adults = None,
    currency: Currency = None,
) -> HistoryEnvelope:
    query = _fare_query(origin, destination, date, adults, currency, allow_past=True)
    rows = PriceHistoryStore().observations(query.cache_key)
    view = history_view(query.origin, query.destination, date, query.adults, query.currency, rows)
    return HistoryEnvelope(data=view)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, openapi_doc.merged_document(app))


@app.get("/docs", include_in_schema=False)
def swagger_ui() -> Response[str]:
    return Response(200, "text/html", openapi_doc.swagger_page(openapi_doc.merged_document(app)))


wiring.warm_up()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
