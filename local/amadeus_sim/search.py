"""What a flight-offers request asks for, validated the way Flight Offers Search v2 documents it, and
Amadeus's error vocabulary (the `errors[]` issues of its data APIs, its gateway's 38xxx codes).

`search_from_query` reads the GET query parameters; `search_from_body` reads the POST body
(`GetFlightOffersQuery`) by translating its supported subset into those same parameters, so both are
held to one set of rules. Every problem found is reported, not just the first, as Amadeus does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from fare_sim.core import BOOKING_HORIZON_DAYS, day_problem
from fare_sim.pricing import FlightSearch
from fare_sim.world import PER_US_DOLLAR

TRAVEL_CLASSES = ("ECONOMY", "PREMIUM_ECONOMY", "BUSINESS", "FIRST")
MAX_SEATED_TRAVELERS = 9
MAX_OFFERS = 250
MAX_AIRLINE_CODES = 99  # CarrierRestrictions allows 99 codes


@dataclass(frozen=True)
class Issue:
    """One entry of an Amadeus `errors[]` list; `source` names the query parameter or a body pointer."""

    status: int
    code: int
    title: str
    detail: str
    parameter: str | None = None
    pointer: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status,
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if self.parameter is not None:  # the spec allows one property in `source`
            body["source"] = {"parameter": self.parameter}
        elif self.pointer is not None:
            body["source"] = {"pointer": self.pointer}
        return body


class SearchRejected(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{issue.code} {issue.detail}" for issue in issues))
        self.issues = issues


# The 400 table of Flight Offers Search v2.
INVALID_DATE, INVALID_FORMAT = (425, "INVALID DATE"), (477, "INVALID FORMAT")
RESTRICTED, INVALID_DATA = (2668, "PARAMETER COMBINATION INVALID/RESTRICTED"), (4926, "INVALID DATA RECEIVED")
TOO_MANY, MISSING = (10661, "MAXIMUM NUMBER OF OCCURRENCES EXCEEDED"), (32171, "MANDATORY DATA MISSING")
# The API gateway's answers, shared by every Amadeus data API.
# fmt: off
INVALID_HTTP_HEADER = Issue(401, 38191, "Invalid HTTP header",
                            "Missing or invalid format for mandatory Authorization header")
INVALID_ACCESS_TOKEN = Issue(401, 38190, "Invalid access token",
                             "The access token provided in the Authorization header is invalid")
ACCESS_TOKEN_EXPIRED = Issue(401, 38192, "Access token expired", "The access token is expired")
TOO_MANY_REQUESTS = Issue(429, 38194, "Too many requests",
                          "The network rate limit is exceeded, please try again later")
RESOURCE_NOT_FOUND = Issue(404, 38196, "Resource not found", "The targeted resource doesn't exist")
INTERNAL_ERROR = Issue(500, 38189, "Internal error",
                       "An internal error occurred, please contact your administrator")
SYSTEM_ERROR = Issue(500, 141, "SYSTEM ERROR HAS OCCURRED", "The fare search system is unavailable")
# fmt: on


def bad_request(
    kind: tuple[int, str], detail: str, *, parameter: str | None = None, pointer: str | None = None
) -> Issue:
    return Issue(400, kind[0], kind[1], detail, parameter, pointer)


def missing(*, parameter: str | None = None, pointer: str | None = None) -> Issue:
    return bad_request(MISSING, f"{parameter or pointer} is mandatory", parameter=parameter, pointer=pointer)


def search_from_query(params: Mapping[str, str], *, today: dt.date) -> FlightSearch:
    """The documented GET parameters, validated in the order the spec lists them."""
    found: list[Issue] = []

    def raw(name: str, required: bool = False) -> str | None:
        value = params.get(name)
        if value is None or (required and value == ""):
            if required:
                found.append(missing(parameter=name))
            return None
        return value

    def fail(kind: tuple[int, str], detail: str, name: str) -> Any:  # None: `return fail(...)` = no value
        found.append(bad_request(kind, detail, parameter=name))

    def location(name: str) -> str | None:
        value = raw(name, True)
        if value is not None and not re.fullmatch(r"[A-Z]{3}", value):
            return fail(INVALID_FORMAT, f"{name} must be a 3-letter IATA code, e.g. BOS", name)
        return value

    def date(name: str, required: bool) -> dt.date | None:
        value = raw(name, required)
        if value is None:
            return None
        day, problem = day_problem(value, today)
        messages = {
            "format": f"{name} must be a date in YYYY-MM-DD format",
            "past": "Date/Time is in the past",
            "horizon": f"Date/Time is more than {BOOKING_HORIZON_DAYS} days in the future",
        }
        if problem is not None:
            return fail(INVALID_DATE, messages[problem], name)
        return day

    def integer(name: str, low: int, high: int | None, required: bool = False) -> int | None:
        value = raw(name, required)
        if value is None:
            return None
        if not re.fullmatch(r"-?\d{1,12}", value):
            return fail(INVALID_FORMAT, f"{name} must be a whole number", name)
        if int(value) < low or (high is not None and int(value) > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            return fail(INVALID_DATA, f"{name} must be {bounds}", name)
        return int(value)

    def choice(name: str, allowed: tuple[str, ...], detail: str | None = None) -> str | None:
        value = raw(name)
        if value is not None and value not in allowed:
            return fail(INVALID_FORMAT, detail or f"{name} must be one of {', '.join(allowed)}", name)
        return value

    def airlines(name: str) -> frozenset[str]:
        value = raw(name)
        codes = [] if value is None else value.split(",")
        if not all(re.fullmatch(r"[0-9A-Z]{2}", code) for code in codes):
            fail(INVALID_FORMAT, f"{name} must be comma-separated IATA airline codes, e.g. 6X,7X", name)
        elif len(codes) > MAX_AIRLINE_CODES:
            fail(TOO_MANY, f"{name} accepts at most {MAX_AIRLINE_CODES} airlines", name)
        else:
            return frozenset(codes)
        return frozenset()

    def currency(name: str) -> str | None:
        value = raw(name)
        if value is not None and not re.fullmatch(r"[A-Z]{3}", value):
            return fail(INVALID_FORMAT, f"{name} must be an ISO 4217 code, e.g. EUR", name)
        if value is not None and value not in PER_US_DOLLAR:
            return fail(INVALID_FORMAT, f"{value} is not a supported currency", name)
        return value

    origin, destination = location("originLocationCode"), location("destinationLocationCode")
    departure_date, return_date = date("departureDate", True), date("returnDate", False)
    adults = integer("adults", 1, MAX_SEATED_TRAVELERS, required=True)
    children = integer("children", 0, MAX_SEATED_TRAVELERS) or 0
    infants = integer("infants", 0, MAX_SEATED_TRAVELERS) or 0
    travel_class = choice("travelClass", TRAVEL_CLASSES)
    included, excluded = airlines("includedAirlineCodes"), airlines("excludedAirlineCodes")
    non_stop = choice("nonStop", ("true", "false"), "nonStop must be true or false")
    currency_code = currency("currencyCode")
    max_price, max_offers = integer("maxPrice", 1, None), integer("max", 1, MAX_OFFERS)

    if origin is not None and origin == destination:
        fail(INVALID_DATA, "origin and destination must differ", "destinationLocationCode")
    if departure_date is not None and return_date is not None and return_date < departure_date:
        fail(INVALID_DATE, "returnDate must not be before departureDate", "returnDate")
    if adults is not None and adults + children > MAX_SEATED_TRAVELERS:
        fail(TOO_MANY, f"adults and children together must not exceed {MAX_SEATED_TRAVELERS}", "children")
    if adults is not None and infants > adults:
        fail(INVALID_DATA, "infants must not outnumber adults", "infants")
    if "includedAirlineCodes" in params and "excludedAirlineCodes" in params:
        fail(
            RESTRICTED,
            "includedAirlineCodes and excludedAirlineCodes cannot be combined",
            "excludedAirlineCodes",
        )
    if found:
        raise SearchRejected(found)
    assert origin and destination and departure_date and adults  # guaranteed when nothing was found
    return FlightSearch(
        origin, destination, departure_date, return_date, adults, children, infants, travel_class, included,
        excluded, non_stop == "true", currency_code or "USD", max_price, max_offers or MAX_OFFERS,
    )  # fmt: skip


# --- POST body (GetFlightOffersQuery) -------------------------------------------------------------

# Where each translated query parameter came from in the body, for the issue's JSON Pointer.
_BODY_POINTERS = {
    "originLocationCode": "/originDestinations/0/originLocationCode",
    "destinationLocationCode": "/originDestinations/0/destinationLocationCode",
    "departureDate": "/originDestinations/0/departureDateTimeRange/date",
    "returnDate": "/originDestinations/1/departureDateTimeRange/date",
    "adults": "/travelers",
    "children": "/travelers",
    "infants": "/travelers",
    "travelClass": "/searchCriteria/flightFilters/cabinRestrictions/0/cabin",
    "includedAirlineCodes": "/searchCriteria/flightFilters/carrierRestrictions/includedCarrierCodes",
    "excludedAirlineCodes": "/searchCriteria/flightFilters/carrierRestrictions/excludedCarrierCodes",
    "nonStop": "/searchCriteria/flightFilters/connectionRestriction/maxNumberOfConnections",
    "currencyCode": "/currencyCode",
    "maxPrice": "/searchCriteria/maxPrice",
    "max": "/searchCriteria/maxFlightOffers",
}
_TRAVELER_PARAMETER = {"ADULT": "adults", "CHILD": "children", "HELD_INFANT": "infants"}


def _get(body: Any, pointer: str) -> Any:
    """The value at a JSON Pointer (object keys, list indexes), or None when any step is missing."""
    value = body
    for step in pointer.split("/")[1:]:
        if isinstance(value, dict) and not step.isdigit():
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _required(body: Any, pointer: str) -> Any:
    """The value at `pointer`, or MANDATORY DATA MISSING at the first step of it that is missing."""
    steps = pointer.split("/")
    for end in range(2, len(steps) + 1):
        if _get(body, "/".join(steps[:end])) is None:
            raise SearchRejected([missing(pointer="/".join(steps[:end]))])
    return _get(body, pointer)


def _reject(kind: tuple[int, str], detail: str, pointer: str) -> SearchRejected:
    return SearchRejected([bad_request(kind, detail, pointer=pointer)])


def _body_as_query(body: Any) -> dict[str, str]:
    """The supported subset of GetFlightOffersQuery as the equivalent GET parameters."""
    if not isinstance(body, dict):
        raise _reject(INVALID_FORMAT, "the request body must be a JSON object", "/")
    legs = _required(body, "/originDestinations")
    if not isinstance(legs, list) or not 1 <= len(legs) <= 2:
        detail = "the simulator searches one-way trips (1 originDestination) or round trips (2)"
        raise _reject(RESTRICTED, detail, "/originDestinations")
    ends = ("originLocationCode", "destinationLocationCode")
    query = {name: _required(body, _BODY_POINTERS[name]) for name in (*ends, "departureDate")}
    if len(legs) == 2:
        if tuple(_get(body, f"/originDestinations/1/{name}") for name in reversed(ends)) != tuple(
            map(query.get, ends)
        ):
            detail = "the second originDestination must go back from the destination to the origin"
            raise _reject(RESTRICTED, detail, "/originDestinations/1")
        query["returnDate"] = _required(body, _BODY_POINTERS["returnDate"])
    travelers = _required(body, "/travelers")
    if not isinstance(travelers, list) or not travelers:
        raise _reject(INVALID_FORMAT, "travelers must be a non-empty list", "/travelers")
    counts = dict.fromkeys(_TRAVELER_PARAMETER.values(), 0)
    for index in range(len(travelers)):
        pointer = f"/travelers/{index}/travelerType"
        kind = _get(body, pointer)
        if kind is None:
            raise SearchRejected([missing(pointer=pointer)])
        if kind not in _TRAVELER_PARAMETER:
            detail = f"travelerType {kind} is not supported by the simulator (ADULT, CHILD, HELD_INFANT)"
            raise _reject(INVALID_DATA, detail, pointer)
        counts[_TRAVELER_PARAMETER[kind]] += 1
    query.update({name: count or None for name, count in counts.items()})  # no adult: MANDATORY DATA MISSING
    sources = _required(body, "/sources")
    if not isinstance(sources, list) or "GDS" not in sources:
        raise _reject(INVALID_DATA, 'sources must include "GDS"', "/sources")
    for name in ("currencyCode", "max", "maxPrice", "travelClass"):
        query[name] = _get(body, _BODY_POINTERS[name])
    for name in ("includedAirlineCodes", "excludedAirlineCodes"):
        if isinstance(codes := _get(body, _BODY_POINTERS[name]), list):
            query[name] = ",".join(str(code) for code in codes)
    if (connections := _get(body, _BODY_POINTERS["nonStop"])) is not None:
        query["nonStop"] = connections == 0

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    return {name: text(value) for name, value in query.items() if value is not None}


def search_from_body(body: Any, *, today: dt.date) -> FlightSearch:
    """The POST search: the body's supported subset held to the GET rules, issues pointing into the body."""
    query = _body_as_query(body)
    try:
        return search_from_query(query, today=today)
    except SearchRejected as rejected:
        located = [
            replace(issue, parameter=None, pointer=_BODY_POINTERS.get(issue.parameter or "", "/"))
            for issue in rejected.issues
        ]
        raise SearchRejected(located) from None
