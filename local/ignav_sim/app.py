"""The Ignav simulator as a WSGI app: Ignav Public API 1.0.0's fare searches, booking links and airport
lookup, plus the `/__sim` controls every simulator has.

Ignav routes (../shared/notes/ignav-api.md):
- `POST /api/fares/one-way`, `POST /api/fares/round-trip`: a search for one airport pair. Every field
  is validated as documented (unknown fields, city codes, past dates, passenger counts, enums, hours,
  both airline filters: 400 with the field named); the answer is `{origin, destination,
  departure_date, return_date, itineraries}` with exactly the documented keys.
- `POST /api/fares/booking-links`: `{"ignav_id": ...}` alone (anything beside it is a 400
  `conflicting_booking_lookup_mode`), or the manual mode; an unknown id is a 404. Each link's `url` is
  this simulator's `GET /book/<ignav_id>`, a page that names the flight and the price.
- `GET /api/airports?q=&limit=`: airports by code, city or a city code's members; `GET /api/health`.

Every Ignav request is handled in this order: the `X-Api-Key` (401), an injected Ignav error
(`POST /__sim/errors {"status": 424, "code": "unable_to_complete_request", "count": 1}`: 400, 401, 402,
403, 404, 424 or 429 in Ignav's envelope, for the next `count` requests or until cleared with
`{"status": null}`), an injected shared fault (`/__sim/faults`: http500, http429, timeout,
expired_token → 401, malformed), then validation and the answer. `/__sim/stats` counts searches,
booking-link and airport lookups, and the billable ones (only 200s are billed).

Prices come from the Amadeus simulator's timetable, drift and pins (a pin fixes the cheapest one-adult
economy fare), converted into the market's currency. `price_per_traveller` is the switch for the one
open question of Ignav's API: false (the default) answers `price.amount` as the total for every
traveller, true as the price of one traveller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Unpack

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from fare_sim.core import DAY_RULES, FareSimulator, Timing, day_problem
from fare_sim.levers import ControlInputError, FaultMode, control_json
from fare_sim.pricing import FlightSearch, PricedOffer
from fare_sim.world import AIRCRAFT, AIRPORTS, CARRIERS, Airport, Flight, fraction, iana_zone, to_cents

JSON_TYPE = "application/json"
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
SEARCH_FIELDS = frozenset({
    "origin", "destination", "departure_date", "adults", "children", "infants_in_seat",
    "infants_on_lap", "cabin_class", "max_stops", "min_carry_on_bags", "min_checked_bags", "max_price",
    "departure_time_range", "airlines_include", "airlines_exclude", "allow_self_transfer", "market"
})  # fmt: skip
ROUND_TRIP_FIELDS = SEARCH_FIELDS | {"return_date", "return_time_range"}
TIME_RANGE_FIELDS = frozenset(
    {"earliest_hour", "latest_hour", "arrival_earliest_hour", "arrival_latest_hour"}
)
PASSENGER_FIELDS = ("adults", "children", "infants_in_seat", "infants_on_lap")
BOOKING_FIELDS = frozenset({
    "ignav_id", "origin", "destination", "departure_date", "outbound_carrier_code",
    "outbound_flight_number", "return_date", "inbound_carrier_code", "inbound_flight_number", "adults",
    "children", "infants_in_seat", "infants_on_lap", "market"
})  # fmt: skip
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


class Rejected(Exception):
    """A request Ignav answers with its error envelope."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(
    status: int, code: str | None = None, message: str | None = None, field: str | None = None
) -> Response:
    kind, default_code, default_message = IGNAV_ERRORS.get(status, ("invalid_request", "error", "Error."))
    body = {
        "error": {
            "type": kind,
            "code": code or default_code,
            "message": message or default_message,
            "field": field,
        }
    }
    return Response(json.dumps(body), status=status, content_type=JSON_TYPE)


def _invalid(field: str, message: str, code: str = "invalid_request") -> Rejected:
    return Rejected(400, code, message, field)


def _utc(local: dt.datetime, airport: Airport) -> str:
    return (local - dt.timedelta(minutes=airport.utc_offset_minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _segment(flight: Flight, subject: str) -> dict[str, Any]:
    return {
        "marketing_carrier_code": flight.carrier,
        "flight_number": flight.number,
        "operating_carrier_name": CARRIERS[flight.operating_carrier][0].title(),
        "departure_airport": flight.departure.code,
        "departure_time_local": flight.departs_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "departure_timezone": iana_zone(flight.departure),
        "departure_time_utc": _utc(flight.departs_at, flight.departure),
        "arrival_airport": flight.arrival.code,
        "arrival_time_local": flight.arrives_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "arrival_timezone": iana_zone(flight.arrival),
        "arrival_time_utc": _utc(flight.arrives_at, flight.arrival),
        "duration_minutes": flight.minutes,
        # Sometimes null, as the schema allows.
        "aircraft": None if fraction("aircraft-known", subject) < 0.15 else AIRCRAFT[flight.aircraft].title(),
    }


def _leg(offer: PricedOffer, index: int) -> dict[str, Any]:
    itinerary = offer.itineraries[index]
    return {
        "carrier": CARRIERS[itinerary.flights[0].carrier][0].title(),
        "duration_minutes": itinerary.minutes,
        "segments": [
            _segment(flight, f"{offer.key}/{index}/{n}") for n, flight in enumerate(itinerary.flights)
        ],
    }


def _amount(value: Decimal, subject: str) -> float | int:
    """A JSON number, as Ignav writes them: a whole amount as an integer (899, as in its docs) or as a
    float (46523.0, as seen live), anything else as a float with its cents."""
    cents = to_cents(value)
    if cents == cents.to_integral_value() and fraction("whole", subject) < 0.5:
        return int(cents)
    return float(cents)


@dataclass(frozen=True)
class Search:
    """A validated search: the trip, the travellers and the filters the simulator applies."""

    origin: str
    destination: str
    departure_date: dt.date
    return_date: dt.date | None
    adults: int
    children: int
    infants: int
    cabin: str
    max_stops: int | None
    market: str
    airlines_include: frozenset[str]
    airlines_exclude: frozenset[str]
    max_price: int | None

    @property
    def currency(self) -> str:
        return MARKET_CURRENCIES[self.market]

    @property
    def travellers(self) -> int:
        return self.adults + self.children + self.infants


def _whole(
    body: Mapping[str, Any], name: str, default: int | None, minimum: int, maximum: int | None = None
) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise _invalid(name, f"{name} must be an integer of at least {minimum}{bound}.")
    return value


def _day(body: Mapping[str, Any], name: str, today: dt.date, *, required: bool = True) -> dt.date | None:
    raw = body.get(name)
    if raw is None:
        if required:
            raise _invalid(name, f"{name} is required.", "missing_field")
        return None
    day, problem = day_problem(raw, today)
    if problem is not None:
        raise _invalid(name, f"{name} must be {DAY_RULES[problem]}.", "invalid_date")
    return day


def _airport_code(body: Mapping[str, Any], name: str) -> str:
    code = body.get(name)
    if code is None:
        raise _invalid(name, f"{name} is required.", "missing_field")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code) or code in CITY_CODES:
        raise _invalid(name, f"{name} must be a supported 3-letter IATA code.", "invalid_airport_code")
    return code


def _time_range(body: Mapping[str, Any], name: str) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, Mapping) or set(value) - TIME_RANGE_FIELDS:
        raise _invalid(name, f"{name} takes only {', '.join(sorted(TIME_RANGE_FIELDS))}.")
    for hour in TIME_RANGE_FIELDS:
        _whole(value, hour, None, 0, 23)


def _airlines(body: Mapping[str, Any], name: str) -> frozenset[str]:
    value = body.get(name)
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(code, str) and len(code) == 2 for code in value):
        raise _invalid(name, f"{name} must be a list of 2-character airline codes.")
    return frozenset(value)


def read_search(body: Any, *, round_trip: bool, today: dt.date) -> Search:
    """A search body as Ignav validates it; the first problem is a 400 naming its field."""
    if not isinstance(body, Mapping):
        raise _invalid("body", "The request body must be a JSON object.")
    allowed = ROUND_TRIP_FIELDS if round_trip else SEARCH_FIELDS
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid(unknown[0], f"Extra inputs are not permitted: {unknown[0]}.", "extra_field")
    origin, destination = _airport_code(body, "origin"), _airport_code(body, "destination")
    if origin == destination:
        raise _invalid("destination", "destination must differ from origin.")
    departure = _day(body, "departure_date", today)
    assert departure is not None
    returning = _day(body, "return_date", today, required=round_trip) if round_trip else None
    if returning is not None and returning < departure:
        raise _invalid("return_date", "return_date must be on or after departure_date.", "invalid_date")
    counts = {
        name: _whole(body, name, 1 if name == "adults" else 0, 1 if name == "adults" else 0)
        for name in PASSENGER_FIELDS
    }
    if sum(count or 0 for count in counts.values()) > MAX_PASSENGERS:
        raise _invalid("adults", f"At most {MAX_PASSENGERS} passengers in all.")
    if (counts["infants_on_lap"] or 0) > (counts["adults"] or 0):
        raise _invalid("infants_on_lap", "infants_on_lap must not exceed adults.")
    cabin = body.get("cabin_class", "economy")
    if cabin not in CABINS:
        raise _invalid("cabin_class", f"cabin_class must be one of {', '.join(CABINS)}.")
    max_stops = _whole(body, "max_stops", None, 0, 2)
    for name in ("min_carry_on_bags", "min_checked_bags"):
        _whole(body, name, None, 0)
    max_price = _whole(body, "max_price", None, 0)
    for name in ("departure_time_range", "return_time_range"):
        _time_range(body, name)
    include, exclude = _airlines(body, "airlines_include"), _airlines(body, "airlines_exclude")
    if include and exclude:
        raise _invalid("airlines_exclude", "airlines_include cannot be used with airlines_exclude.")
    if not isinstance(body.get("allow_self_transfer", True), bool):
        raise _invalid("allow_self_transfer", "allow_self_transfer must be a boolean.")
    market = body.get("market", "US")
    if not isinstance(market, str) or market not in MARKET_CURRENCIES:
        raise _invalid("market", "market must be a supported 2-letter country code.", "invalid_market")
    return Search(
        origin=origin,
        destination=destination,
        departure_date=departure,
        return_date=returning,
        adults=counts["adults"] or 1,
        children=counts["children"] or 0,
        infants=(counts["infants_in_seat"] or 0) + (counts["infants_on_lap"] or 0),
        cabin=cabin,
        max_stops=max_stops,
        market=market,
        airlines_include=include,
        airlines_exclude=exclude,
        max_price=max_price,
    )


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
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        price_per_traveller: bool = False,
        **timing: Unpack[Timing],
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

    # -- controls --------------------------------------------------------------------------------

    def set_error(self, status: int | None, code: str | None = None, count: int | None = None) -> None:
        """Answer the next `count` Ignav requests (all until cleared, if None) with an Ignav error."""
        if status is not None and status not in IGNAV_ERRORS:
            raise ControlInputError(f"status must be one of {', '.join(map(str, IGNAV_ERRORS))} or null")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ControlInputError("count must be a whole number of at least 1")
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

    def control_errors(self, body: Callable[[], bytes] | None) -> dict[str, Any]:
        """`GET /__sim/errors`, or `POST {"status": 424, "code": "...", "count": 1}` (`{"status": null}`)."""
        if body is not None:
            fields = control_json(body())
            if (
                not isinstance(fields, dict)
                or set(fields) - {"status", "code", "count"}
                or "status" not in fields
            ):
                raise ControlInputError('send {"status": 424, "code": "...", "count": 1} or {"status": null}')
            self.set_error(fields["status"], fields.get("code"), fields.get("count"))
        with self._lock:
            error = self._error or (None, None, None)
        return {"status": error[0], "code": error[1], "count": error[2]}

    # -- serving ---------------------------------------------------------------------------------

    def serve(self, request: Request) -> Response:
        try:
            endpoint, arguments = self.match(request)
        except HTTPException as refused:
            return error_response(refused.code or 404, "not_found", "Not found.")
        if endpoint == "booking_page":
            return self._booking_page(arguments["ignav_id"])
        if endpoint == "health":
            return Response(json.dumps({"ok": True}), content_type=JSON_TYPE)
        presented = request.headers.get("X-Api-Key", "")
        if not presented or not hmac.compare_digest(presented.encode(), self.api_key.encode()):
            return error_response(401)
        injected = self._take_error()
        if injected is not None:
            return error_response(injected[0], injected[1])
        fault = self.take_fault()
        if fault is FaultMode.HTTP500:
            return error_response(500)
        if fault is FaultMode.HTTP429:
            throttled = error_response(429, "rate_limited", "Slow down.")
            throttled.headers["Retry-After"] = "1"
            return throttled
        if fault is FaultMode.EXPIRED_TOKEN:
            return error_response(401)
        return self.with_fault(fault, lambda: self._billed(endpoint, request))

    def _billed(self, endpoint: str, request: Request) -> Response:
        try:
            answer = self._answer(endpoint, request)
        except Rejected as rejected:
            answer = error_response(rejected.status, rejected.code, rejected.message, rejected.field)
        if answer.status_code == 200:
            self.count("billable_requests")
        return answer

    def _answer(self, endpoint: str, request: Request) -> Response:
        if endpoint == "airports":
            return self._airports(request)
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            raise _invalid("body", "The request body is not valid JSON.") from None
        today = self.today()
        if endpoint == "booking_links":
            return self._booking_links(body, today, request.host_url.rstrip("/"))
        search = read_search(body, round_trip=endpoint == "round_trip", today=today)
        return Response(json.dumps(self.search_body(search)), content_type=JSON_TYPE)

    def search_body(self, search: Search) -> dict[str, Any]:
        now = self._clock()
        offers = self.offers(
            FlightSearch(
                search.origin,
                search.destination,
                search.departure_date,
                return_date=search.return_date,
                adults=search.adults,
                travel_class=search.cabin.upper(),
                included_airlines=search.airlines_include,
                excluded_airlines=search.airlines_exclude,
                non_stop=search.max_stops == 0,
                max_connections=search.max_stops,
                currency=search.currency,
                max_price=search.max_price,
            ),
            now,
        )
        itineraries = [self._itinerary(offer, search, now) for offer in offers]
        return {
            "origin": search.origin,
            "destination": search.destination,
            "departure_date": search.departure_date.isoformat(),
            "return_date": search.return_date.isoformat() if search.return_date else None,
            "itineraries": itineraries,
        }

    def _itinerary(self, offer: PricedOffer, search: Search, now: float) -> dict[str, Any]:
        travellers = 1 if self.price_per_traveller else search.adults
        amount = offer.adult_total * travellers
        ignav_id = hashlib.sha256(
            "|".join((offer.key, search.market, search.cabin, str(search.adults), str(amount))).encode()
        ).hexdigest()[:32]
        bags = (
            None
            if fraction("bags-known", offer.key) < 0.2
            else {
                "carry_on": 1,
                "checked": 0 if offer.premium < Decimal("0.3") or search.cabin == "economy" else 1,
            }
        )
        itinerary = {
            "price": {
                "amount": _amount(amount, ignav_id),
                "currency": search.currency,
                "status": "unverified" if fraction("verified", ignav_id) < 0.1 else "verified",
            },
            "outbound": _leg(offer, 0),
            "inbound": _leg(offer, 1) if len(offer.itineraries) > 1 else None,
            "cabin_class": search.cabin,
            "bags": bags,
            "requires_self_transfer": False,
            "ignav_id": ignav_id,
        }
        with self._lock:
            self._itineraries[ignav_id] = {
                key: value for key, value in itinerary.items() if key != "ignav_id"
            }
            self._itineraries.move_to_end(ignav_id)
            while len(self._itineraries) > KEPT_ITINERARIES:
                self._itineraries.popitem(last=False)
        return itinerary

    def itinerary(self, ignav_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._itineraries.get(ignav_id)

    def _booking_links(self, body: Any, today: dt.date, base: str) -> Response:
        if not isinstance(body, Mapping):
            raise _invalid("body", "The request body must be a JSON object.")
        unknown = sorted(set(body) - BOOKING_FIELDS)
        if unknown:
            raise _invalid(unknown[0], f"Extra inputs are not permitted: {unknown[0]}.", "extra_field")
        given = {name for name, value in body.items() if value is not None}
        if "ignav_id" in given:
            if given != {"ignav_id"}:
                raise _invalid(
                    sorted(given - {"ignav_id"})[0],
                    "ignav_id cannot be combined with manual flight, passenger or market fields.",
                    "conflicting_booking_lookup_mode",
                )
            ignav_id = body["ignav_id"]
            itinerary = self.itinerary(ignav_id) if isinstance(ignav_id, str) else None
        else:
            itinerary = self._manual_itinerary(body, today)
            ignav_id = self._id_of(itinerary)
        if itinerary is None or ignav_id is None:
            raise Rejected(404, "itinerary_not_found", "No itinerary matches this lookup.")
        return Response(json.dumps(self._booking_body(ignav_id, itinerary, base)), content_type=JSON_TYPE)

    def _manual_itinerary(self, body: Mapping[str, Any], today: dt.date) -> dict[str, Any] | None:
        for name in (
            "origin",
            "destination",
            "departure_date",
            "outbound_carrier_code",
            "outbound_flight_number",
        ):
            if body.get(name) is None:
                raise _invalid(name, f"{name} is required without an ignav_id.", "missing_field")
        if body.get("return_date") is not None:
            for name in ("inbound_carrier_code", "inbound_flight_number"):
                if body.get(name) is None:
                    raise _invalid(name, f"{name} is required with a return_date.", "missing_field")
        _day(body, "departure_date", today)
        wanted = (body["outbound_carrier_code"], str(body["outbound_flight_number"]))
        with self._lock:
            for itinerary in reversed(self._itineraries.values()):
                first = itinerary["outbound"]["segments"][0]
                if (first["marketing_carrier_code"], first["flight_number"]) == wanted and first[
                    "departure_time_local"
                ].startswith(str(body["departure_date"])):
                    return itinerary
        return None

    def _id_of(self, itinerary: dict[str, Any] | None) -> str | None:
        with self._lock:
            return next((key for key, value in self._itineraries.items() if value is itinerary), None)

    def _booking_body(self, ignav_id: str, itinerary: dict[str, Any], base: str) -> dict[str, Any]:
        carrier = itinerary["outbound"]["segments"][0]["marketing_carrier_code"]
        legs = ["outbound", "inbound"] if itinerary.get("inbound") else ["outbound"]
        price = itinerary["price"]
        url = f"{base}/book/{ignav_id}"
        return {
            "itinerary": itinerary,
            "booking_options": [
                {
                    "legs": legs,
                    "links": [
                        {
                            "provider_name": CARRIERS[carrier][0].title(),
                            "provider_type": "airline",
                            "fare_name": None if fraction("fare-name", ignav_id) < 0.3 else "Main Cabin",
                            "price": price,
                            "url": f"{url}?provider={carrier.lower()}",
                        },
                        {
                            "provider_name": "Simulated Travel Agency",
                            "provider_type": "third_party",
                            "fare_name": None,
                            "price": None,
                            "url": f"{url}?provider=agency",
                        },
                    ],
                }
            ],
        }

    def _booking_page(self, ignav_id: str) -> Response:
        itinerary = self.itinerary(ignav_id)
        if itinerary is None:
            return Response(
                "<!doctype html><title>Not found</title><p>This itinerary is gone.</p>",
                404,
                content_type="text/html; charset=utf-8",
            )
        first = itinerary["outbound"]["segments"][0]
        price = itinerary["price"]
        arrival = itinerary["outbound"]["segments"][-1]["arrival_airport"]
        text = html.escape(
            f"{first['marketing_carrier_code']}{first['flight_number']} {first['departure_airport']} → "
            f"{arrival} on {first['departure_time_local'][:10]}: {price['amount']} {price['currency']}"
        )
        return Response(
            f"<!doctype html><title>Book {html.escape(ignav_id)}</title>"
            f"<h1>Simulated booking page</h1><p>{text}</p>",
            content_type="text/html; charset=utf-8",
        )

    def _airports(self, request: Request) -> Response:
        query = (request.args.get("q") or "").strip()
        if not query:
            raise _invalid("q", "q is required.", "missing_field")
        raw_limit = request.args.get("limit", "10")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 20:
            raise _invalid("limit", "limit must be from 1 to 20.")
        needle = query.upper()
        found = [
            airport
            for airport in AIRPORTS.values()
            if airport.code == needle or airport.city == needle or airport.city.startswith(needle)
        ]
        return Response(
            json.dumps(
                [
                    {"code": a.code, "name": f"{a.code} Airport", "city": a.city, "country": a.country or ""}
                    for a in found[: int(raw_limit)]
                ]
            ),
            content_type=JSON_TYPE,
        )


__all__ = ["DEFAULT_API_KEY", "Simulator", "read_search"]
