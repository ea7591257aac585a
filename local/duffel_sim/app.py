"""The Duffel simulator as a WSGI app: offer requests and offers in Duffel's v2 shapes, plus `/__sim`.

- `POST /air/offer_requests[?return_offers=false]`: `{"data": {slices, passengers, cabin_class?,
  max_connections?}}` (one slice, or two for a round trip) → 201 with the offer request (`orq_…`).
- `GET /air/offer_requests/{id}`, `GET /air/offers/{id}`: a request (with its offers) or an offer again.
- `GET /air/offers?offer_request_id=…[&sort=total_amount|-total_amount|total_duration][&limit=1..200]
  [&after=…|&before=…]`: one page of a request's offers, `meta.after` naming the next page.

Order: the rate limit (a fixed window per presented token; every answer carries `ratelimit-limit`,
`ratelimit-remaining` and `ratelimit-reset`, an HTTP-date), the bearer token (401), `Duffel-Version: v2`
(400 `unsupported_version`), a shared fault (`expired_token` is a 401 as for a revoked token), then
validation (422 `validation_error`, every problem at once) and the answer, errors in Duffel's
`{"errors": [...], "meta": {"status", "request_id"}}`. Offers are priced once, when the request is made,
totals for all passengers. Test-mode quirks: `NO_OFFERS_ROUTE` has no offers and `SLOW_ROUTE` takes
`slow_route_seconds` to answer, longer than Farewatch waits.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import math
import re
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from email.utils import format_datetime
from typing import Any, Unpack

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from fare_sim.core import (
    DAY_RULES,
    FareSimulator,
    FaultMode,
    Timing,
    bearer_token,
    day_problem,
    json_response,
    remember,
    same_secret,
)
from fare_sim.pricing import FlightSearch, NoOffersPin, PricedOffer, PricePin, RouteDay, iso_duration
from fare_sim.world import (
    AIRCRAFT,
    CARRIERS,
    Airport,
    Flight,
    airports_serving,
    amount_text,
    iana_zone,
    to_cents,
)

JSON_TYPE = "application/json; charset=utf-8"
DEFAULT_ACCESS_TOKEN = "duffel_test_farewatch-local"  # noqa: S105 - the published local default
NO_OFFERS_ROUTE = ("JNB", "AKL")
SLOW_ROUTE = ("JNB", "MNL")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
KEPT_OFFER_REQUESTS = 1000  # older ones are forgotten, like expired offers
SORTS = ("total_amount", "-total_amount", "total_duration")
OFFER_LIFETIME_SECONDS = 30 * 60
MAX_PASSENGERS, MAX_OFFERS_PER_REQUEST = 9, 250
CABIN_CLASSES = ("economy", "premium_economy", "business", "first")
DOCUMENTATION = "https://duffel.com/docs/api/overview/errors"
UNLIMITED = 1_000_000  # what the rate-limit headers announce when the limit is switched off
LOCAL_TIME = "%Y-%m-%dT%H:%M:%S"

# An error entry: status, type, code, title, message, source (a pointer or parameter), as Duffel sends it.
Problem = tuple[int, str, str, str, str, dict[str, str] | None]
# fmt: off
MISSING_AUTHORIZATION: Problem = (401, "authentication_error", "missing_authorization_header",
    "Missing authorization header",
    "The Authorization header is missing; send 'Authorization: Bearer <access token>'.", None)
ACCESS_TOKEN_NOT_FOUND: Problem = (401, "authentication_error", "access_token_not_found",
    "Access token not found", "The access token was not recognised; it may have been revoked.", None)
UNSUPPORTED_VERSION: Problem = (400, "invalid_request_error", "unsupported_version",
    "Unsupported API version",
    "The Duffel-Version header is missing or names a version this API does not support; send v2.", None)
RATE_LIMIT_EXCEEDED: Problem = (429, "rate_limit_error", "rate_limit_exceeded", "Rate limit exceeded",
    "Too many requests; wait until the time in the ratelimit-reset header.", None)
INTERNAL_SERVER_ERROR: Problem = (500, "api_error", "internal_server_error", "Internal server error",
    "Something went wrong on our side; contact support with the request_id. Do not retry.", None)
NOT_FOUND: Problem = (404, "invalid_request_error", "not_found", "Not found",
    "The resource does not exist.", None)
MALFORMED_BODY: Problem = (400, "invalid_request_error", "malformed_json", "Malformed JSON",
    "The request body is not valid JSON.", None)
# fmt: on


class RequestRejected(Exception):
    """One or more problems, answered at once."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(problem[4] for problem in problems))
        self.problems = problems


def _errors(*problems: Problem, **headers: str) -> Response:
    entries = [
        {"type": kind, "code": code, "title": title, "message": message,
         **({"source": source} if source else {}), "documentation_url": DOCUMENTATION}
        for _, kind, code, title, message, source in problems
    ]  # fmt: skip
    meta = {"status": problems[0][0], "request_id": "req_" + uuid.uuid4().hex[:20]}
    return json_response(problems[0][0], {"errors": entries, "meta": meta}, JSON_TYPE, **headers)


def _invalid(pointer: str, message: str, code: str = "invalid_data", title: str = "Invalid data") -> Problem:
    return (422, "validation_error", code, title, message, {"pointer": pointer})


def _required(pointer: str) -> Problem:
    return _invalid(pointer, f"{pointer} is required", "validation_required", "Field is required")


def _bad_parameter(parameter: str, message: str) -> Problem:
    return (400, "invalid_request_error", "bad_request", "Bad request", message, {"parameter": parameter})


def timestamp(epoch_seconds: float) -> str:
    """Duffel's timestamps: UTC with milliseconds, e.g. `2026-11-23T12:00:00.000Z`."""
    moment = dt.datetime.fromtimestamp(epoch_seconds, tz=dt.UTC)
    return moment.strftime(f"{LOCAL_TIME}.") + f"{moment.microsecond // 1000:03d}Z"


def short_id(prefix: str, *subject: object) -> str:
    """A Duffel-looking id (`off_0000A…`) that is a pure function of what it names."""
    return f"{prefix}_{hashlib.sha256('|'.join(str(part) for part in subject).encode()).hexdigest()[:26]}"


def rate_limit_headers(limit: int, remaining: int, reset_at: float) -> dict[str, str]:
    reset = format_datetime(dt.datetime.fromtimestamp(reset_at, tz=dt.UTC), usegmt=True)
    return {"ratelimit-limit": str(limit), "ratelimit-remaining": str(remaining), "ratelimit-reset": reset}


# --- Reading an offer request: every problem at once ----------------------------------------------------


@dataclass(frozen=True)
class OfferRequestAsked:
    """What an offer request asks for: the outbound route/day, the return date (two slices), adults,
    cabin class and max connections per slice."""

    route: RouteDay
    return_day: dt.date | None
    adults: int
    cabin_class: str | None
    max_connections: int | None


def _read_slice(raw: Any, at: str, today: dt.date, problems: list[Problem]) -> RouteDay | None:
    if not isinstance(raw, Mapping):
        problems.append(_invalid(at, "a slice is an object"))
        return None
    codes = []
    for name in ("origin", "destination"):
        code = raw.get(name)
        if code is None:
            problems.append(_required(f"{at}/{name}"))
        elif not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code):
            problems.append(_invalid(f"{at}/{name}", f"{name} must be an IATA code"))
        else:
            codes.append(code)
    day, problem = day_problem(raw.get("departure_date"), today)
    if raw.get("departure_date") is None:
        problems.append(_required(f"{at}/departure_date"))
    elif problem is not None:
        problems.append(_invalid(f"{at}/departure_date", f"departure_date must be {DAY_RULES[problem]}"))
    if len(codes) == 2 and codes[0] == codes[1]:
        problems.append(_invalid(f"{at}/destination", "destination must differ from origin"))
    return RouteDay(codes[0], codes[1], day) if len(codes) == 2 and codes[0] != codes[1] and day else None


def read_offer_request(body: Any, *, today: dt.date) -> OfferRequestAsked:
    """The offer request in `{"data": {...}}`: one slice, or two going back the same way."""
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        raise RequestRejected(_required("/data"))
    data, problems = body["data"], []
    route = return_day = adults = None
    slices, passengers = data.get("slices"), data.get("passengers")
    if not isinstance(slices, list) or not slices:
        problems.append(_required("/data/slices"))
    elif len(slices) > 2:
        message = "the simulator searches one-way journeys (one slice) or round trips (two)"
        problems.append(_invalid("/data/slices", message))
    else:
        read = [_read_slice(raw, f"/data/slices/{n}", today, problems) for n, raw in enumerate(slices)]
        route, back = read[0], read[1] if len(read) == 2 else None
        if route is not None and back is not None:
            if (back.origin, back.destination) != (route.destination, route.origin):
                message = "the second slice must go back from the destination to the origin"
                problems.append(_invalid("/data/slices/1", message))
            elif back.day < route.day:
                message = "the return must not leave before the outbound"
                problems.append(_invalid("/data/slices/1/departure_date", message))
            else:
                return_day = back.day
    if not isinstance(passengers, list) or not passengers:
        problems.append(_required("/data/passengers"))
    elif len(passengers) > MAX_PASSENGERS:
        problems.append(_invalid("/data/passengers", f"at most {MAX_PASSENGERS} passengers"))
    elif not all(isinstance(p, Mapping) and p.get("type") == "adult" for p in passengers):
        problems.append(_invalid("/data/passengers", 'the simulator prices {"type": "adult"} passengers'))
    else:
        adults = len(passengers)
    cabin_class, connections = data.get("cabin_class"), data.get("max_connections")
    if cabin_class is not None and cabin_class not in CABIN_CLASSES:
        problems.append(_invalid("/data/cabin_class", f"cabin_class must be one of {CABIN_CLASSES}"))
    if connections is not None and (type(connections) is not int or connections < 0):
        problems.append(_invalid("/data/max_connections", "max_connections must be 0 or more"))
    if problems or route is None or adults is None:
        raise RequestRejected(*problems)
    return OfferRequestAsked(route, return_day, adults, cabin_class, connections)


# --- Answers: every field Duffel's objects always carry (the official clients read them without
# defaults), nullable ones null where the simulator has nothing ---------------------------------------


def _city(code: str, country: str) -> dict[str, Any]:
    """A metropolitan area as Duffel writes a city place."""
    nulls = dict.fromkeys(("icao_code", "latitude", "longitude", "time_zone", "city_name"))
    return {"type": "city", "id": short_id("cit", code), "name": code, "iata_code": code,
            "iata_city_code": code, "iata_country_code": country, **nulls}  # fmt: skip


def _place(found: Airport) -> dict[str, Any]:
    """An airport as Duffel writes a place, with its city when the airport belongs to a multi-airport city."""
    country = found.country or "ZZ"  # a made-up airport has no country; Duffel's field is never null
    city = _city(found.city, country) if found.city != found.code else None
    return {"type": "airport", "id": short_id("arp", found.code), "name": f"{found.code} Airport",
            "iata_code": found.code, "icao_code": None, "iata_city_code": found.city if city else None,
            "iata_country_code": country, "latitude": found.latitude, "longitude": found.longitude,
            "time_zone": iana_zone(found), "city_name": found.city, "city": city,
            "airports": None}  # fmt: skip


def _asked_place(code: str) -> dict[str, Any]:
    """A place as an offer request names it: an airport, or a city with its airports."""
    served = airports_serving(code)
    if len(served) == 1:
        return _place(served[0])
    return {**_city(code, served[0].country or "ZZ"), "city": None, "airports": [_place(a) for a in served]}


def _carrier(code: str) -> dict[str, Any]:
    urls = dict.fromkeys(("logo_symbol_url", "logo_lockup_url", "conditions_of_carriage_url"))
    return {"id": short_id("arl", code), "iata_code": code, "name": CARRIERS[code][0].title(), **urls}


def _passenger_ids(request_id: str, adults: int) -> list[str]:
    return [short_id("pas", request_id, n) for n in range(adults)]


def _passengers(request_id: str, adults: int) -> list[dict[str, Any]]:
    unnamed = dict.fromkeys(("age", "given_name", "family_name", "fare_type"))
    return [{"id": passenger, "type": "adult", **unnamed, "loyalty_programme_accounts": []}
            for passenger in _passenger_ids(request_id, adults)]  # fmt: skip


def _segment(
    request_id: str, offer: PricedOffer, slice_number: int, number: int, flight: Flight, adults: int
) -> dict[str, Any]:
    cabin = offer.cabin.lower()
    checked = 0 if offer.premium < Decimal("0.2") and cabin == "economy" else 1
    baggages = [{"type": "checked", "quantity": checked}, {"type": "carry_on", "quantity": 1}]
    passenger = {"cabin_class": cabin, "cabin_class_marketing_name": cabin.replace("_", " ").title(),
                 "fare_basis_code": None, "cabin": None, "baggages": baggages}  # fmt: skip
    aircraft = {"id": short_id("arc", flight.aircraft), "iata_code": flight.aircraft,
                "name": AIRCRAFT[flight.aircraft].title()}  # fmt: skip
    return {
        "id": short_id("seg", request_id, offer.key, slice_number, number),
        "origin": _place(flight.departure),
        "origin_terminal": None,
        "destination": _place(flight.arrival),
        "destination_terminal": None,
        "departing_at": flight.departs_at.strftime(LOCAL_TIME),
        "arriving_at": flight.arrives_at.strftime(LOCAL_TIME),
        "duration": iso_duration(flight.minutes),
        "distance": None,
        "marketing_carrier": _carrier(flight.carrier),
        "marketing_carrier_flight_number": flight.number,
        "operating_carrier": _carrier(flight.operating_carrier),
        "operating_carrier_flight_number": flight.number,
        "aircraft": aircraft,
        "stops": [],
        "passengers": [{"passenger_id": p, **passenger} for p in _passenger_ids(request_id, adults)],
    }


def _slice(request_id: str, offer: PricedOffer, number: int, adults: int) -> dict[str, Any]:
    flights = offer.itineraries[number].flights
    conditions = (
        "change_before_departure",
        "priority_check_in",
        "priority_boarding",
        "advance_seat_selection",
    )
    return {
        "id": short_id("sli", request_id, offer.key, number),
        "origin_type": "airport",
        "origin": _place(flights[0].departure),
        "origin_terminal": None,
        "destination_type": "airport",
        "destination": _place(flights[-1].arrival),
        "destination_terminal": None,
        "duration": iso_duration(offer.itineraries[number].minutes),
        "fare_brand_name": "Basic" if offer.premium < Decimal("0.2") else "Standard",
        "comparison_key": short_id("cmp", offer.key, number),
        "conditions": dict.fromkeys(conditions),
        "segments": [
            _segment(request_id, offer, number, n, flight, adults) for n, flight in enumerate(flights)
        ],
    }


def _offer(request_id: str, offer: PricedOffer, search: FlightSearch, now: float) -> dict[str, Any]:
    """An offer with every field of Duffel's Offer object; a slice per direction of the trip."""
    currency = search.currency
    total = to_cents(offer.adult_total * search.adults)
    base = to_cents(total * offer.base_share)
    minutes = sum(itinerary.minutes for itinerary in offer.itineraries)
    change_penalty = to_cents(Decimal(50) if currency == "USD" else total * Decimal("0.1"))
    none_yet = ("allowed_passenger_identity_document_types", "supported_passenger_identity_document_types",
                "supported_loyalty_programmes", "private_fares")  # fmt: skip
    return {
        "id": short_id("off", request_id, offer.key),
        "live_mode": False,
        "created_at": timestamp(now),
        "updated_at": timestamp(now),
        "expires_at": timestamp(now + OFFER_LIFETIME_SECONDS),
        "total_amount": amount_text(total), "total_currency": currency,
        "base_amount": amount_text(base), "base_currency": currency,
        "tax_amount": amount_text(total - base), "tax_currency": currency,
        "total_emissions_kg": str(int(minutes * Decimal("1.6"))),
        "owner": _carrier(offer.itineraries[0].flights[0].carrier),
        "partial": False,
        "passenger_identity_documents_required": False,
        **{name: [] for name in none_yet},
        "available_services": None,  # only with return_available_services=true
        "slices": [_slice(request_id, offer, n, search.adults) for n in range(len(offer.itineraries))],
        "passengers": _passengers(request_id, search.adults),
        "payment_requirements": {
            "requires_instant_payment": False,
            "price_guarantee_expires_at": timestamp(now + OFFER_LIFETIME_SECONDS),
            "payment_required_by": timestamp(now + 24 * 3600),
        },
        "conditions": {
            "refund_before_departure": {"allowed": False, "penalty_amount": None, "penalty_currency": None},
            "change_before_departure": {"allowed": True, "penalty_amount": amount_text(change_penalty),
                                        "penalty_currency": currency},
        },
    }  # fmt: skip


def _cursor(request_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{request_id}:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str, request_id: str) -> int | None:
    """The offset a cursor we issued for this request stands for; None for anything else."""
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    owner, _, offset = decoded.rpartition(":")
    return int(offset) if owner == request_id and offset.isdigit() else None


class Simulator(FareSimulator):
    """A WSGI app standing in for Duffel's flight search; safe to serve from many threads at once. Its
    stats count requests received on the Duffel endpoints, whatever their outcome."""

    counted = {"/air/offer_requests": "search_requests", "/air/offers": "offer_list_requests"}
    title = "Duffel simulator"

    def __init__(
        self,
        *,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        rate_limit: int = 300,
        rate_limit_window_seconds: float = 60.0,
        slow_route_seconds: float = 30.0,
        no_offers_routes: Iterable[tuple[str, str]] = (NO_OFFERS_ROUTE,),
        slow_routes: Iterable[tuple[str, str]] = (SLOW_ROUTE,),
        **timing: Unpack[Timing],
    ) -> None:
        routes = [
            Rule("/air/offer_requests", endpoint="create", methods=["POST"]),
            Rule("/air/offer_requests/<request_id>", endpoint="show", methods=["GET"]),
            Rule("/air/offers", endpoint="offers", methods=["GET"]),
            Rule("/air/offers/<offer_id>", endpoint="show_offer", methods=["GET"]),
        ]
        counters = ("token_requests", "search_requests", "offer_list_requests")
        super().__init__(routes=routes, counters=counters, **timing)
        self.access_token = access_token  # a local stand-in's token, readable by tests
        self.rate_limit, self.rate_limit_window_seconds = rate_limit, rate_limit_window_seconds  # 0: no limit
        self.slow_route_seconds = slow_route_seconds
        self.no_offers_routes, self.slow_routes = frozenset(no_offers_routes), frozenset(slow_routes)
        self._windows: dict[str, tuple[float, int]] = {}  # token -> (window start, requests in it)
        self._offer_requests: OrderedDict[str, dict[str, Any]] = OrderedDict()  # id -> {request, offers}

    def forget(self) -> None:
        self._offer_requests.clear()
        self._windows.clear()

    def internal_error(self) -> Response:
        return _errors(INTERNAL_SERVER_ERROR)

    def serve(self, request: Request) -> Response:
        admitted, headers = self._admit(bearer_token(request.headers.get("Authorization")) or "anonymous")
        response = self._duffel(request) if admitted else _errors(RATE_LIMIT_EXCEEDED)
        for name, value in headers.items():
            response.headers.setdefault(name, value)  # an injected 429 brings its own
        return response

    @property
    def _limit(self) -> int:
        return self.rate_limit if self.rate_limit > 0 else UNLIMITED

    def _admit(self, client: str) -> tuple[bool, dict[str, str]]:
        """Whether the request fits in its fixed window, and the rate-limit headers to answer with."""
        now, window = self._clock(), self.rate_limit_window_seconds
        window_start = math.floor(now / window) * window
        reset_at = float(math.ceil(window_start + window))
        with self._lock:
            started, used = self._windows.get(client, (window_start, 0))
            used = used if started == window_start else 0
            if self.rate_limit > 0 and used >= self.rate_limit:
                return False, rate_limit_headers(self.rate_limit, 0, reset_at)
            self._windows[client] = (window_start, used + 1)
        return True, rate_limit_headers(self._limit, max(0, self._limit - used - 1), reset_at)

    def _duffel(self, request: Request) -> Response:
        presented = bearer_token(request.headers.get("Authorization"))
        if presented is None:
            return _errors(MISSING_AUTHORIZATION)
        if not same_secret(presented, self.access_token):
            return _errors(ACCESS_TOKEN_NOT_FOUND)
        if request.headers.get("Duffel-Version", "").strip() != "v2":
            return _errors(UNSUPPORTED_VERSION)
        try:
            endpoint, arguments = self.match(request)
        except HTTPException:
            return _errors(NOT_FOUND)
        fault = self.take_fault()
        if fault is FaultMode.HTTP500:
            return _errors(INTERNAL_SERVER_ERROR)
        if fault is FaultMode.HTTP429:
            reset_at = float(math.ceil(self._clock())) + 1
            return _errors(RATE_LIMIT_EXCEEDED, **rate_limit_headers(self._limit, 0, reset_at))
        if fault is FaultMode.EXPIRED_TOKEN:
            return _errors(ACCESS_TOKEN_NOT_FOUND)
        return self.with_fault(fault, lambda: self._answer(endpoint, request, arguments))

    def _answer(self, endpoint: str, request: Request, arguments: Mapping[str, Any]) -> Response:
        try:
            found = getattr(self, f"_{endpoint}")(request, **arguments)
        except RequestRejected as rejected:
            return _errors(*rejected.problems)
        if found is None:
            return _errors(NOT_FOUND)
        return json_response(201 if endpoint == "create" else 200, found, JSON_TYPE)

    def _create(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            raise RequestRejected(MALFORMED_BODY) from None
        now = self._clock()
        asked = read_offer_request(body, today=self.today(now))
        route = asked.route
        if (route.origin, route.destination) in self.slow_routes:
            self._sleep(self.slow_route_seconds)  # an airline that takes its time; outside the lock
            now = self._clock()
        pins = self.pins()
        if (route.origin, route.destination) in self.no_offers_routes:
            pins[route] = NoOffersPin()
        pin = pins.get(route)
        search = FlightSearch(
            route.origin, route.destination, route.day, asked.return_day, asked.adults,
            travel_class=asked.cabin_class.upper() if asked.cabin_class else None,
            max_connections=asked.max_connections, max_offers=MAX_OFFERS_PER_REQUEST,
            currency=pin.currency if isinstance(pin, PricePin) else "USD",  # the account sells in US dollars
        )  # fmt: skip
        legs = [(route.origin, route.destination, route.day)]
        if asked.return_day is not None:
            legs.append((route.destination, route.origin, asked.return_day))
        request_id = "orq_" + uuid.uuid4().hex[:26]
        slices = [
            {"origin_type": _place_type(start), "origin": _asked_place(start),
             "destination_type": _place_type(end), "destination": _asked_place(end),
             "departure_date": day.isoformat(), "departure_time": None, "arrival_time": None}
            for start, end, day in legs
        ]  # fmt: skip
        offer_request = {
            "id": request_id,
            "live_mode": False,
            "created_at": timestamp(now),
            "cabin_class": asked.cabin_class,
            "client_key": None,
            "slices": slices,
            "passengers": _passengers(request_id, asked.adults),
            "offers": [_offer(request_id, offer, search, now) for offer in self.offers(search, now, pins)],
        }
        with self._lock:
            remember(self._offer_requests, request_id, offer_request, KEPT_OFFER_REQUESTS)
        if request.args.get("return_offers", "true").lower() == "false":
            return {"data": {key: value for key, value in offer_request.items() if key != "offers"}}
        return {"data": offer_request}

    def _show(self, request: Request, request_id: str) -> dict[str, Any] | None:
        with self._lock:
            offer_request = self._offer_requests.get(request_id)
        return None if offer_request is None else {"data": offer_request}

    def _show_offer(self, request: Request, offer_id: str) -> dict[str, Any] | None:
        """`GET /air/offers/{id}`: one offer of a request the simulator still remembers."""
        with self._lock:
            offers = [offer for asked in self._offer_requests.values() for offer in asked["offers"]]
        found = next((offer for offer in offers if offer["id"] == offer_id), None)
        return None if found is None else {"data": found}

    def _offers(self, request: Request) -> dict[str, Any] | None:
        args = request.args
        request_id = args.get("offer_request_id")
        if not request_id:
            raise RequestRejected(_bad_parameter("offer_request_id", "offer_request_id is required"))
        problems = []
        sort = args.get("sort") or None
        if sort is not None and sort not in SORTS:
            problems.append(_bad_parameter("sort", f"sort must be one of {', '.join(SORTS)}"))
        raw_limit = args.get("limit", str(DEFAULT_PAGE_SIZE))
        limit = int(raw_limit) if raw_limit.isdigit() else 0
        if not 1 <= limit <= MAX_PAGE_SIZE:
            problems.append(_bad_parameter("limit", f"limit must be from 1 to {MAX_PAGE_SIZE}"))
        with self._lock:
            offer_request = self._offer_requests.get(request_id)
        if offer_request is None:
            return None
        offset = 0
        for name in ("after", "before"):
            if (cursor := args.get(name)) is not None:
                if (read := _offset(cursor, request_id)) is None:
                    problems.append(_bad_parameter(name, f"{name} is not a cursor of this list"))
                else:
                    offset = read if name == "after" else max(0, read - limit)
        if problems:
            raise RequestRejected(*problems)
        offers = list(offer_request["offers"])
        if sort == "total_duration":
            offers.sort(key=lambda offer: (offer["slices"][0]["duration"], float(offer["total_amount"])))
        elif sort is not None:
            offers.sort(key=lambda offer: float(offer["total_amount"]), reverse=sort.startswith("-"))
        after = _cursor(request_id, offset + limit) if offset + limit < len(offers) else None
        meta = {"limit": limit, "after": after, "before": _cursor(request_id, offset) if offset > 0 else None}
        return {"data": offers[offset : offset + limit], "meta": meta}


def _place_type(code: str) -> str:
    return "city" if len(airports_serving(code)) > 1 else "airport"
