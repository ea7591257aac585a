"""The Ignav simulator as a WSGI app: Ignav Public API 1.0.0 (../shared/notes/ignav-api.md) plus `/__sim`.

- `POST /api/fares/one-way`, `POST /api/fares/round-trip`: a search for one airport pair, validated as
  documented, first problem wins (a 400 naming the field); the answer has exactly the documented keys.
- `POST /api/fares/booking-links`: `{"ignav_id": ...}` alone (anything beside it is a 400
  `conflicting_booking_lookup_mode`) or the manual mode; an unknown id is a 404. Each link's `url` is
  this simulator's `GET /book/<ignav_id>`, a page that names the flight and the price.
- `GET /api/airports?q=&limit=`: airports by code, city or a city code's members; `GET /api/health`.

Order: the `X-Api-Key` (401), an injected Ignav error (`POST /__sim/errors {"status": 424, "code":
"unable_to_complete_request", "count": 1}`, until `{"status": null}` without a count), a shared fault
(expired_token is a 401), then validation and the answer. Only 200s count as `billable_requests`.
`price_per_traveller`: `price.amount` per traveller (true) or for all travellers (false, the default).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Unpack

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from fare_sim.core import (
    DAY_RULES,
    ControlInputError,
    FareSimulator,
    FaultMode,
    Timing,
    day_problem,
    json_response,
    read_count,
    remember,
    same_secret,
)
from fare_sim.pricing import FlightSearch, PricedOffer
from fare_sim.world import AIRCRAFT, AIRPORTS, CARRIERS, Airport, Flight, fraction, iana_zone, to_cents

DEFAULT_API_KEY = "ignav-farewatch-local"  # the published local default, not a real key
MAX_PASSENGERS = 9
CABINS = ("economy", "premium_economy", "business", "first")
KEPT_ITINERARIES = 20_000  # older ids are forgotten, as Ignav's ids eventually expire
# Market → the currency it prices in (the markets whose currency the simulator has a rate for).
MARKET_CURRENCIES: Mapping[str, str] = {
    "US": "USD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "ES": "EUR", "IT": "EUR", "NL": "EUR",
    "IE": "EUR", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "JP": "JPY", "IN": "INR", "BR": "BRL",
    "MX": "MXN", "CN": "CNY", "HK": "HKD", "SG": "SGD", "TH": "THB", "CH": "CHF", "SE": "SEK",
    "NO": "NOK", "DK": "DKK", "PL": "PLN", "AE": "AED", "ZA": "ZAR",
}  # fmt: skip
# Metropolitan-area codes: Ignav searches airports only and refuses these.
CITY_CODES = frozenset({
    "BHZ", "BJS", "BUE", "BUH", "CHI", "DTT", "JKT", "LON", "MIL", "MOW", "NYC", "OSA", "PAR", "REK", "RIO",
    "ROM", "SAO", "SEL", "SPK", "STO", "TCI", "TYO", "WAS", "YMQ", "YTO"
}) | frozenset(airport.city for airport in AIRPORTS.values() if airport.city not in AIRPORTS)  # fmt: skip
PASSENGER_FIELDS = ("adults", "children", "infants_in_seat", "infants_on_lap")
TIME_RANGE_FIELDS = ("earliest_hour", "latest_hour", "arrival_earliest_hour", "arrival_latest_hour")
SEARCH_FIELDS = frozenset({
    *PASSENGER_FIELDS, "origin", "destination", "departure_date", "cabin_class", "max_stops",
    "min_carry_on_bags", "min_checked_bags", "max_price", "departure_time_range", "airlines_include",
    "airlines_exclude", "allow_self_transfer", "market",
})  # fmt: skip
ROUND_TRIP_FIELDS = SEARCH_FIELDS | {"return_date", "return_time_range"}
MANUAL_FIELDS = ("origin", "destination", "departure_date", "outbound_carrier_code", "outbound_flight_number")
INBOUND_FIELDS = ("inbound_carrier_code", "inbound_flight_number")
BOOKING_FIELDS = frozenset(
    ("ignav_id", *MANUAL_FIELDS, *INBOUND_FIELDS, "return_date", "market", *PASSENGER_FIELDS)
)
# status: (type, default code, default message)
IGNAV_ERRORS: Mapping[int, tuple[str, str, str]] = {
    400: ("invalid_request", "invalid_request", "The request is not valid."),
    401: ("authentication_error", "invalid_api_key", "Missing or invalid X-Api-Key."),
    402: ("billing_error", "billing_required", "Billing is required: add a payment method in the dashboard."),
    403: ("permission_error", "email_not_verified", "Verify your account's email address first."),
    404: ("not_found", "itinerary_not_found", "No itinerary with this ignav_id."),
    424: ("upstream_error", "unable_to_complete_request", "Could not complete the request; retry."),
    429: ("rate_limit_error", "monthly_spend_limit_reached", "The monthly spend limit is reached."),
    500: ("api_error", "internal_error", "Internal error."),
}
HTML = "text/html; charset=utf-8"
GONE_PAGE = "<!doctype html><title>Not found</title><p>This itinerary is gone.</p>"


class Rejected(Exception):
    """A request Ignav answers with its error envelope."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.args = (status, code, message, field)


def error_response(
    status: int, code: str | None = None, message: str | None = None, field: str | None = None, **headers: str
) -> Response:
    kind, default_code, default_message = IGNAV_ERRORS.get(status, ("invalid_request", "error", "Error."))
    error = {
        "type": kind,
        "code": code or default_code,
        "message": message or default_message,
        "field": field,
    }
    return json_response(status, {"error": error}, **headers)


# --- Validation: rules (field, code, message, holds(body)) checked in order; the first failure wins ----

Check = Callable[[Mapping[str, Any]], bool]
Rule_ = tuple[str, str, str, Check]


def _first_problem(body: Any, allowed: frozenset[str], rules: Iterable[Rule_]) -> None:
    if not isinstance(body, Mapping):
        raise Rejected(400, "invalid_request", "The request body must be a JSON object.", "body")
    if unknown := sorted(set(body) - allowed):
        raise Rejected(400, "extra_field", f"Extra inputs are not permitted: {unknown[0]}.", unknown[0])
    for field, code, message, holds in rules:
        if not holds(body):
            raise Rejected(400, code, message, field)


def _rule(field: str, message: str, holds: Check, code: str = "invalid_request") -> Rule_:
    return field, code, message, holds


def _given(name: str, message: str = "{} is required.", when: Check = lambda body: True) -> Rule_:
    return _rule(
        name, message.format(name), lambda body: not when(body) or body.get(name) is not None, "missing_field"
    )


def _whole(
    name: str, low: int, high: int | None = None, default: int | None = None, inside: str = ""
) -> Rule_:
    """`name` (in the object `inside`, if given) is absent, null or an integer from `low` to `high`."""

    def holds(body: Mapping[str, Any]) -> bool:
        value = (body.get(inside) or {}).get(name) if inside else body.get(name, default)
        return value is None or (type(value) is int and low <= value and (high is None or value <= high))

    bound = f" and at most {high}" if high is not None else ""
    return _rule(name, f"{name} must be an integer of at least {low}{bound}.", holds)


def _day(name: str, today: dt.date, *, required: bool = True) -> list[Rule_]:
    def free_of(problem: str) -> Check:
        return lambda body: body.get(name) is None or day_problem(body[name], today)[1] != problem

    rules = [
        _rule(name, f"{name} must be {rule}.", free_of(problem), "invalid_date")
        for problem, rule in DAY_RULES.items()
    ]
    return [_given(name), *rules] if required else rules


def _airport(name: str) -> list[Rule_]:
    def holds(body: Mapping[str, Any]) -> bool:
        code = body[name]
        return isinstance(code, str) and bool(re.fullmatch(r"[A-Z]{3}", code)) and code not in CITY_CODES

    return [
        _given(name),
        _rule(name, f"{name} must be a supported 3-letter IATA code.", holds, "invalid_airport_code"),
    ]


def _time_range(name: str) -> list[Rule_]:
    def holds(body: Mapping[str, Any]) -> bool:
        value = body.get(name)
        return value is None or (isinstance(value, Mapping) and set(value) <= set(TIME_RANGE_FIELDS))

    shape = _rule(name, f"{name} takes only {', '.join(sorted(TIME_RANGE_FIELDS))}.", holds)
    return [shape, *(_whole(hour, 0, 23, inside=name) for hour in TIME_RANGE_FIELDS)]


def _airlines(name: str) -> Rule_:
    def holds(body: Mapping[str, Any]) -> bool:
        codes = body.get(name)
        return codes is None or (
            isinstance(codes, list) and all(isinstance(c, str) and len(c) == 2 for c in codes)
        )

    return _rule(name, f"{name} must be a list of 2-character airline codes.", holds)


def _count(body: Mapping[str, Any], name: str) -> int:
    return body.get(name, 1 if name == "adults" else 0) or 0


def _search_rules(today: dt.date, round_trip: bool) -> list[Rule_]:
    def market(body: Mapping[str, Any]) -> bool:
        return isinstance(body.get("market", "US"), str) and body.get("market", "US") in MARKET_CURRENCIES

    return [
        *_airport("origin"),
        *_airport("destination"),
        _rule("destination", "destination must differ from origin.",
              lambda b: b["origin"] != b["destination"]),
        *_day("departure_date", today),
        *(_day("return_date", today) if round_trip else []),
        _rule("return_date", "return_date must be on or after departure_date.",  # ISO dates sort as text
              lambda b: b.get("return_date") is None or b["return_date"] >= b["departure_date"],
              "invalid_date"),
        *(_whole(name, int(name == "adults"), default=int(name == "adults")) for name in PASSENGER_FIELDS),
        _rule("adults", f"At most {MAX_PASSENGERS} passengers in all.",
              lambda b: sum(_count(b, name) for name in PASSENGER_FIELDS) <= MAX_PASSENGERS),
        _rule("infants_on_lap", "infants_on_lap must not exceed adults.",
              lambda b: _count(b, "infants_on_lap") <= _count(b, "adults")),
        _rule("cabin_class", f"cabin_class must be one of {', '.join(CABINS)}.",
              lambda b: b.get("cabin_class", "economy") in CABINS),
        _whole("max_stops", 0, 2),
        _whole("min_carry_on_bags", 0),
        _whole("min_checked_bags", 0),
        _whole("max_price", 0),
        *_time_range("departure_time_range"),
        *_time_range("return_time_range"),
        _airlines("airlines_include"),
        _airlines("airlines_exclude"),
        _rule("airlines_exclude", "airlines_include cannot be used with airlines_exclude.",
              lambda b: not (b.get("airlines_include") and b.get("airlines_exclude"))),
        _rule("allow_self_transfer", "allow_self_transfer must be a boolean.",
              lambda b: isinstance(b.get("allow_self_transfer", True), bool)),
        _rule("market", "market must be a supported 2-letter country code.", market, "invalid_market"),
    ]  # fmt: skip


@dataclass(frozen=True)
class Search:
    """A validated search: the trip, the travellers priced and the filters the simulator applies."""

    origin: str
    destination: str
    departure_date: dt.date
    return_date: dt.date | None
    adults: int
    cabin: str
    max_stops: int | None
    market: str
    airlines_include: frozenset[str]
    airlines_exclude: frozenset[str]
    max_price: int | None

    @property
    def currency(self) -> str:
        return MARKET_CURRENCIES[self.market]


def read_search(body: Any, *, round_trip: bool, today: dt.date) -> Search:
    """A search body as Ignav validates it; the first problem is a 400 naming its field."""
    _first_problem(body, ROUND_TRIP_FIELDS if round_trip else SEARCH_FIELDS, _search_rules(today, round_trip))
    returning = body.get("return_date")
    return Search(
        origin=body["origin"],
        destination=body["destination"],
        departure_date=dt.date.fromisoformat(body["departure_date"]),
        return_date=dt.date.fromisoformat(returning) if returning else None,
        adults=body.get("adults") or 1,
        cabin=body.get("cabin_class", "economy"),
        max_stops=body.get("max_stops"),
        market=body.get("market", "US"),
        airlines_include=frozenset(body.get("airlines_include") or ()),
        airlines_exclude=frozenset(body.get("airlines_exclude") or ()),
        max_price=body.get("max_price"),
    )


# --- Answers ----------------------------------------------------------------------------------------


def _utc(local: dt.datetime, airport: Airport) -> str:
    return (local - dt.timedelta(minutes=airport.utc_offset_minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _segment(flight: Flight, subject: str) -> dict[str, Any]:
    ends: dict[str, Any] = {}
    for end, airport, local in (
        ("departure", flight.departure, flight.departs_at),
        ("arrival", flight.arrival, flight.arrives_at),
    ):
        ends |= {
            f"{end}_airport": airport.code,
            f"{end}_time_local": local.strftime("%Y-%m-%dT%H:%M:%S"),
            f"{end}_timezone": iana_zone(airport),
            f"{end}_time_utc": _utc(local, airport),
        }
    return {
        "marketing_carrier_code": flight.carrier,
        "flight_number": flight.number,
        "operating_carrier_name": CARRIERS[flight.operating_carrier][0].title(),
        **ends,
        "duration_minutes": flight.minutes,
        # Sometimes null, as the schema allows.
        "aircraft": None if fraction("aircraft-known", subject) < 0.15 else AIRCRAFT[flight.aircraft].title(),
    }


def _leg(offer: PricedOffer, index: int) -> dict[str, Any]:
    flights = offer.itineraries[index].flights
    return {
        "carrier": CARRIERS[flights[0].carrier][0].title(),
        "duration_minutes": offer.itineraries[index].minutes,
        "segments": [_segment(flight, f"{offer.key}/{index}/{n}") for n, flight in enumerate(flights)],
    }


def _amount(value: Decimal, subject: str) -> float | int:
    """A JSON number, as Ignav writes them: a whole amount as an integer (899, as in its docs) or as a
    float (46523.0, as seen live), anything else as a float with its cents."""
    cents = to_cents(value)
    return (
        int(cents)
        if cents == cents.to_integral_value() and fraction("whole", subject) < 0.5
        else float(cents)
    )


def _flight(itinerary: dict[str, Any]) -> tuple[str, str, str]:
    """The first flight of an itinerary: carrier, flight number, departure day."""
    first = itinerary["outbound"]["segments"][0]
    return first["marketing_carrier_code"], first["flight_number"], first["departure_time_local"][:10]


def _booking_body(ignav_id: str, itinerary: dict[str, Any], base: str) -> dict[str, Any]:
    carrier = _flight(itinerary)[0]
    url = f"{base}/book/{ignav_id}"
    fare_name = None if fraction("fare-name", ignav_id) < 0.3 else "Main Cabin"
    links = [
        {"provider_name": CARRIERS[carrier][0].title(), "provider_type": "airline", "fare_name": fare_name,
         "price": itinerary["price"], "url": f"{url}?provider={carrier.lower()}"},
        {"provider_name": "Simulated Travel Agency", "provider_type": "third_party", "fare_name": None,
         "price": None, "url": f"{url}?provider=agency"},
    ]  # fmt: skip
    legs = ["outbound", "inbound"] if itinerary.get("inbound") else ["outbound"]
    return {"itinerary": itinerary, "booking_options": [{"legs": legs, "links": links}]}


class Simulator(FareSimulator):
    """A WSGI app standing in for Ignav; safe to serve from many threads at once."""

    counted = {
        "/api/fares/one-way": "search_requests",
        "/api/fares/round-trip": "search_requests",
        "/api/fares/booking-links": "booking_link_requests",
        "/api/airports": "airport_requests",
    }
    max_body_bytes = 64 * 1024
    title = "Ignav simulator"

    def __init__(
        self, *, api_key: str = DEFAULT_API_KEY, price_per_traveller: bool = False, **timing: Unpack[Timing]
    ) -> None:
        routes = [
            Rule("/api/fares/one-way", endpoint="one_way", methods=["POST"]),
            Rule("/api/fares/round-trip", endpoint="round_trip", methods=["POST"]),
            Rule("/api/fares/booking-links", endpoint="booking_links", methods=["POST"]),
            Rule("/api/airports", endpoint="airports", methods=["GET"]),
            Rule("/api/health", endpoint="health", methods=["GET"]),
            Rule("/book/<ignav_id>", endpoint="booking_page", methods=["GET"]),
            Rule("/__sim/errors", endpoint="errors", methods=["GET", "POST"]),
        ]
        counters = ("search_requests", "booking_link_requests", "airport_requests", "billable_requests")
        super().__init__(routes=routes, counters=counters, **timing)
        self.api_key = api_key  # a local stand-in's key, readable by tests
        self.price_per_traveller = price_per_traveller
        self._itineraries: OrderedDict[str, dict[str, Any]] = OrderedDict()  # ignav_id -> itinerary
        self._error: tuple[int, str | None, int | None] | None = None  # status, code, requests left

    def forget(self) -> None:
        self._itineraries.clear()
        self._error = None

    def internal_error(self) -> Response:
        return error_response(500)

    # --- Injected Ignav errors ----------------------------------------------------------------------

    def set_error(self, status: int | None, code: str | None = None, count: int | None = None) -> None:
        """Answer the next `count` Ignav requests (all until cleared, if None) with an Ignav error."""
        if status is not None and status not in IGNAV_ERRORS:
            raise ControlInputError(f"status must be one of {', '.join(map(str, IGNAV_ERRORS))} or null")
        read_count(count)
        if code is not None and not isinstance(code, str):
            raise ControlInputError("code must be a string")
        with self._lock:
            self._error = None if status is None else (status, code, count)

    def _take_error(self) -> tuple[int, str | None] | None:
        with self._lock:
            if self._error is None:
                return None
            status, code, left = self._error
            if left is not None:
                self._error = (status, code, left - 1) if left > 1 else None
            return status, code

    def control_errors(self, body: Callable[[], Any] | None) -> dict[str, Any]:
        """`GET /__sim/errors`, or `POST {"status": 424, "code": "...", "count": 1}` (`{"status": null}`)."""
        if body is not None:
            fields = body()
            if (
                not isinstance(fields, dict)
                or set(fields) - {"status", "code", "count"}
                or "status" not in fields
            ):
                raise ControlInputError('send {"status": 424, "code": "...", "count": 1} or {"status": null}')
            self.set_error(fields["status"], fields.get("code"), fields.get("count"))
        with self._lock:
            status, code, count = self._error or (None, None, None)
        return {"status": status, "code": code, "count": count}

    # --- Serving ------------------------------------------------------------------------------------

    def serve(self, request: Request) -> Response:
        try:
            endpoint, arguments = self.match(request)
        except HTTPException as refused:
            return error_response(refused.code or 404, "not_found", "Not found.")
        if endpoint == "booking_page":
            return self._booking_page(arguments["ignav_id"])
        if endpoint == "health":
            return json_response(200, {"ok": True})
        if not same_secret(request.headers.get("X-Api-Key"), self.api_key):
            return error_response(401)
        if (injected := self._take_error()) is not None:
            return error_response(*injected)
        fault = self.take_fault()
        if fault is FaultMode.HTTP429:
            return error_response(429, "rate_limited", "Slow down.", **{"Retry-After": "1"})
        if fault in (FaultMode.HTTP500, FaultMode.EXPIRED_TOKEN):
            return error_response(500 if fault is FaultMode.HTTP500 else 401)
        return self.with_fault(fault, lambda: self._billed(endpoint, request))

    def _billed(self, endpoint: str, request: Request) -> Response:
        try:
            answer = self._answer(endpoint, request)
        except Rejected as rejected:
            answer = error_response(*rejected.args)
        if answer.status_code == 200:
            self.count("billable_requests")
        return answer

    def _answer(self, endpoint: str, request: Request) -> Response:
        if endpoint == "airports":
            return self._airports(request)
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            raise Rejected(400, "invalid_request", "The request body is not valid JSON.", "body") from None
        if endpoint == "booking_links":
            return json_response(200, self._booking_links(body, self.today(), request.host_url.rstrip("/")))
        return json_response(
            200, self.search_body(read_search(body, round_trip=endpoint == "round_trip", today=self.today()))
        )

    def search_body(self, search: Search) -> dict[str, Any]:
        now = self._clock()
        asked = FlightSearch(
            search.origin, search.destination, search.departure_date, search.return_date, search.adults,
            travel_class=search.cabin.upper(), included_airlines=search.airlines_include,
            excluded_airlines=search.airlines_exclude, non_stop=search.max_stops == 0,
            max_connections=search.max_stops, currency=search.currency, max_price=search.max_price,
        )  # fmt: skip
        return {
            "origin": search.origin,
            "destination": search.destination,
            "departure_date": search.departure_date.isoformat(),
            "return_date": search.return_date.isoformat() if search.return_date else None,
            "itineraries": [self._itinerary(offer, search) for offer in self.offers(asked, now)],
        }

    def _itinerary(self, offer: PricedOffer, search: Search) -> dict[str, Any]:
        amount = offer.adult_total * (1 if self.price_per_traveller else search.adults)
        subject = (offer.key, search.market, search.cabin, str(search.adults), str(amount))
        ignav_id = hashlib.sha256("|".join(subject).encode()).hexdigest()[:32]
        checked = 0 if offer.premium < Decimal("0.3") or search.cabin == "economy" else 1
        status = "unverified" if fraction("verified", ignav_id) < 0.1 else "verified"
        itinerary = {
            "price": {"amount": _amount(amount, ignav_id), "currency": search.currency, "status": status},
            "outbound": _leg(offer, 0),
            "inbound": _leg(offer, 1) if len(offer.itineraries) > 1 else None,
            "cabin_class": search.cabin,
            "bags": None if fraction("bags-known", offer.key) < 0.2 else {"carry_on": 1, "checked": checked},
            "requires_self_transfer": False,
        }
        with self._lock:
            remember(self._itineraries, ignav_id, itinerary, KEPT_ITINERARIES)
        return {**itinerary, "ignav_id": ignav_id}

    def itinerary(self, ignav_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._itineraries.get(ignav_id)

    def _booking_links(self, body: Any, today: dt.date, base: str) -> dict[str, Any]:
        given = (
            {name for name, value in body.items() if value is not None}
            if isinstance(body, Mapping)
            else set()
        )
        if "ignav_id" in given:
            _first_problem(body, BOOKING_FIELDS, ())
            if others := sorted(given - {"ignav_id"}):
                conflict = "ignav_id cannot be combined with manual flight, passenger or market fields."
                raise Rejected(400, "conflicting_booking_lookup_mode", conflict, others[0])
        else:
            has_return: Check = lambda b: b.get("return_date") is not None  # noqa: E731
            rules = [
                *(_given(name, "{} is required without an ignav_id.") for name in MANUAL_FIELDS),
                *(_given(name, "{} is required with a return_date.", has_return) for name in INBOUND_FIELDS),
                *_day("departure_date", today),
            ]
            _first_problem(body, BOOKING_FIELDS, rules)
        if (found := self._find(body)) is None:
            raise Rejected(404, "itinerary_not_found", "No itinerary matches this lookup.")
        return _booking_body(*found, base)

    def _find(self, body: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """The itinerary an `ignav_id` names, or the latest one searched with the manual lookup's flight."""
        if (ignav_id := body.get("ignav_id")) is not None:
            itinerary = self.itinerary(ignav_id) if isinstance(ignav_id, str) else None
            return None if itinerary is None else (ignav_id, itinerary)
        flight = (body["outbound_carrier_code"], str(body["outbound_flight_number"]), body["departure_date"])
        with self._lock:
            for ignav_id, itinerary in reversed(self._itineraries.items()):
                if _flight(itinerary) == flight:
                    return ignav_id, itinerary
        return None

    def _booking_page(self, ignav_id: str) -> Response:
        itinerary = self.itinerary(ignav_id)
        if itinerary is None:
            return Response(GONE_PAGE, 404, content_type=HTML)
        (carrier, number, day), price = _flight(itinerary), itinerary["price"]
        segments = itinerary["outbound"]["segments"]
        route = f"{segments[0]['departure_airport']} → {segments[-1]['arrival_airport']}"
        text = html.escape(f"{carrier}{number} {route} on {day}: {price['amount']} {price['currency']}")
        title = f"<title>Book {html.escape(ignav_id)}</title>"
        return Response(
            f"<!doctype html>{title}<h1>Simulated booking page</h1><p>{text}</p>", content_type=HTML
        )

    def _airports(self, request: Request) -> Response:
        needle, limit = (request.args.get("q") or "").strip().upper(), request.args.get("limit", "10")
        if not needle:
            raise Rejected(400, "missing_field", "q is required.", "q")
        if not limit.isdigit() or not 1 <= int(limit) <= 20:
            raise Rejected(400, "invalid_request", "limit must be from 1 to 20.", "limit")
        found = [a for a in AIRPORTS.values() if a.code == needle or a.city.startswith(needle)]
        answer = [
            {"code": a.code, "name": f"{a.code} Airport", "city": a.city, "country": a.country or ""}
            for a in found
        ]
        return json_response(200, answer[: int(limit)])


__all__ = ["DEFAULT_API_KEY", "Simulator", "read_search"]
