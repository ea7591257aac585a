"""What a flight-offers request asks for, validated the way Flight Offers Search v2 documents it.

`search_from_query` reads the GET query parameters; `search_from_body` reads the POST body
(`GetFlightOffersQuery`) by translating its supported subset into those same parameters, so both
are held to one set of rules. Every problem found is reported, not just the first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from amadeus_sim import issues, money
from amadeus_sim.issues import Issue, SearchRejected

TRAVEL_CLASSES = ("ECONOMY", "PREMIUM_ECONOMY", "BUSINESS", "FIRST")
MAX_SEATED_TRAVELERS = 9
MAX_OFFERS = 250
MAX_AIRLINE_CODES = 99  # CarrierRestrictions allows 99 codes
BOOKING_HORIZON_DAYS = 365  # "Dates ... must not be past nor more than 365 days in the future"
DEFAULT_CURRENCY = "USD"  # the simulator's point of sale is in the US

_LOCATION_CODE = re.compile(r"[A-Z]{3}")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_AIRLINE_CODE = re.compile(r"[0-9A-Z]{2}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"-?\d{1,12}")


@dataclass(frozen=True)
class FlightSearch:
    origin: str
    destination: str
    departure_date: dt.date
    return_date: dt.date | None
    adults: int
    children: int
    infants: int
    travel_class: str | None
    included_airlines: frozenset[str]
    excluded_airlines: frozenset[str]
    non_stop: bool
    currency: str
    max_price: int | None  # per traveler, whole units of `currency`
    max_offers: int

    @property
    def seated_travelers(self) -> int:
        return self.adults + self.children


class _QueryReader:
    """Reads one parameter at a time, collecting issues instead of stopping at the first."""

    def __init__(self, params: Mapping[str, str], today: dt.date) -> None:
        self.params = params
        self.today = today
        self.found: list[Issue] = []

    def _raw(self, name: str, *, required: bool) -> str | None:
        value = self.params.get(name)
        if value is None or (required and value == ""):
            if required:
                self.found.append(issues.mandatory_missing(parameter=name))
            return None
        return value

    def location(self, name: str) -> str | None:
        value = self._raw(name, required=True)
        if value is not None and not _LOCATION_CODE.fullmatch(value):
            self.found.append(
                issues.invalid_format(f"{name} must be a 3-letter IATA code, e.g. BOS", parameter=name)
            )
            return None
        return value

    def date(self, name: str, *, required: bool) -> dt.date | None:
        value = self._raw(name, required=required)
        if value is None:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            day = dt.date.fromisoformat(value)
        except ValueError:
            self.found.append(
                issues.invalid_date(f"{name} must be a date in YYYY-MM-DD format", parameter=name)
            )
            return None
        if day < self.today:
            self.found.append(issues.invalid_date("Date/Time is in the past", parameter=name))
            return None
        if day > self.today + dt.timedelta(days=BOOKING_HORIZON_DAYS):
            self.found.append(
                issues.invalid_date(
                    f"Date/Time is more than {BOOKING_HORIZON_DAYS} days in the future", parameter=name
                )
            )
            return None
        return day

    def integer(self, name: str, *, required: bool, low: int, high: int | None) -> int | None:
        value = self._raw(name, required=required)
        if value is None:
            return None
        if not _INTEGER.fullmatch(value):
            self.found.append(issues.invalid_format(f"{name} must be a whole number", parameter=name))
            return None
        number = int(value)
        if number < low or (high is not None and number > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.found.append(issues.invalid_data(f"{name} must be {bounds}", parameter=name))
            return None
        return number

    def boolean(self, name: str) -> bool | None:
        value = self._raw(name, required=False)
        if value is None:
            return None
        if value not in ("true", "false"):
            self.found.append(issues.invalid_format(f"{name} must be true or false", parameter=name))
            return None
        return value == "true"

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        value = self._raw(name, required=False)
        if value is not None and value not in allowed:
            self.found.append(
                issues.invalid_format(f"{name} must be one of {', '.join(allowed)}", parameter=name)
            )
            return None
        return value

    def airlines(self, name: str) -> frozenset[str]:
        value = self._raw(name, required=False)
        if value is None:
            return frozenset()
        codes = value.split(",")
        if not all(_AIRLINE_CODE.fullmatch(code) for code in codes):
            self.found.append(
                issues.invalid_format(
                    f"{name} must be comma-separated IATA airline codes, e.g. 6X,7X", parameter=name
                )
            )
            return frozenset()
        if len(codes) > MAX_AIRLINE_CODES:
            self.found.append(
                issues.too_many_occurrences(
                    f"{name} accepts at most {MAX_AIRLINE_CODES} airlines", parameter=name
                )
            )
            return frozenset()
        return frozenset(codes)

    def currency(self, name: str) -> str | None:
        value = self._raw(name, required=False)
        if value is None:
            return None
        if not _CURRENCY_CODE.fullmatch(value):
            self.found.append(
                issues.invalid_format(f"{name} must be an ISO 4217 code, e.g. EUR", parameter=name)
            )
            return None
        if not money.is_known_currency(value):
            self.found.append(issues.invalid_format(f"{value} is not a supported currency", parameter=name))
            return None
        return value


def search_from_query(params: Mapping[str, str], *, today: dt.date) -> FlightSearch:
    """The documented GET parameters, validated in the order the spec lists them."""
    read = _QueryReader(params, today)
    origin = read.location("originLocationCode")
    destination = read.location("destinationLocationCode")
    departure_date = read.date("departureDate", required=True)
    return_date = read.date("returnDate", required=False)
    adults = read.integer("adults", required=True, low=1, high=MAX_SEATED_TRAVELERS)
    children = read.integer("children", required=False, low=0, high=MAX_SEATED_TRAVELERS) or 0
    infants = read.integer("infants", required=False, low=0, high=MAX_SEATED_TRAVELERS) or 0
    travel_class = read.choice("travelClass", TRAVEL_CLASSES)
    included_airlines = read.airlines("includedAirlineCodes")
    excluded_airlines = read.airlines("excludedAirlineCodes")
    non_stop = read.boolean("nonStop")
    currency = read.currency("currencyCode")
    max_price = read.integer("maxPrice", required=False, low=1, high=None)
    max_offers = read.integer("max", required=False, low=1, high=MAX_OFFERS)

    found = read.found
    if origin is not None and origin == destination:
        found.append(
            issues.invalid_data("origin and destination must differ", parameter="destinationLocationCode")
        )
    if departure_date is not None and return_date is not None and return_date < departure_date:
        found.append(
            issues.invalid_date("returnDate must not be before departureDate", parameter="returnDate")
        )
    if adults is not None and adults + children > MAX_SEATED_TRAVELERS:
        found.append(
            issues.too_many_occurrences(
                f"adults and children together must not exceed {MAX_SEATED_TRAVELERS}", parameter="children"
            )
        )
    if adults is not None and infants > adults:
        found.append(issues.invalid_data("infants must not outnumber adults", parameter="infants"))
    if "includedAirlineCodes" in params and "excludedAirlineCodes" in params:
        found.append(
            issues.combination_restricted(
                "includedAirlineCodes and excludedAirlineCodes cannot be combined",
                parameter="excludedAirlineCodes",
            )
        )
    if found:
        raise SearchRejected(found)
    assert origin and destination and departure_date and adults  # guaranteed when nothing was found
    return FlightSearch(
        origin=origin,
        destination=destination,
        departure_date=departure_date,
        return_date=return_date,
        adults=adults,
        children=children,
        infants=infants,
        travel_class=travel_class,
        included_airlines=included_airlines,
        excluded_airlines=excluded_airlines,
        non_stop=bool(non_stop),
        currency=currency or DEFAULT_CURRENCY,
        max_price=max_price,
        max_offers=max_offers or MAX_OFFERS,
    )


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


class _BodyProblem(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.detail)
        self.issue = issue


def _required(container: Any, key: str | int, pointer: str) -> Any:
    """`container[key]`, or MANDATORY DATA MISSING at `pointer` when it is not there."""
    if isinstance(container, dict) and isinstance(key, str):
        value = container.get(key)
    elif isinstance(container, list) and isinstance(key, int) and key < len(container):
        value = container[key]
    else:
        value = None
    if value is None:
        raise _BodyProblem(issues.mandatory_missing(pointer=pointer))
    return value


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _leg_date(legs: list[Any], index: int) -> Any:
    leg = _required(legs, index, f"/originDestinations/{index}")
    window = _required(leg, "departureDateTimeRange", f"/originDestinations/{index}/departureDateTimeRange")
    return _required(window, "date", f"/originDestinations/{index}/departureDateTimeRange/date")


def _as_query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _body_as_query(body: Any) -> dict[str, str]:
    """The supported subset of GetFlightOffersQuery as the equivalent GET parameters."""
    if not isinstance(body, dict):
        raise _BodyProblem(issues.invalid_format("the request body must be a JSON object", pointer="/"))
    legs = _required(body, "originDestinations", "/originDestinations")
    if not isinstance(legs, list) or not 1 <= len(legs) <= 2:
        raise _BodyProblem(
            issues.combination_restricted(
                "the simulator searches one-way trips (1 originDestination) or round trips (2)",
                pointer="/originDestinations",
            )
        )
    outbound = _required(legs, 0, "/originDestinations/0")
    query: dict[str, Any] = {
        "originLocationCode": _required(
            outbound, "originLocationCode", "/originDestinations/0/originLocationCode"
        ),
        "destinationLocationCode": _required(
            outbound, "destinationLocationCode", "/originDestinations/0/destinationLocationCode"
        ),
        "departureDate": _leg_date(legs, 0),
    }
    if len(legs) == 2:
        inbound = _object(legs[1])
        if (inbound.get("originLocationCode"), inbound.get("destinationLocationCode")) != (
            query["destinationLocationCode"],
            query["originLocationCode"],
        ):
            raise _BodyProblem(
                issues.combination_restricted(
                    "the second originDestination must go back from the destination to the origin",
                    pointer="/originDestinations/1",
                )
            )
        query["returnDate"] = _leg_date(legs, 1)

    travelers = _required(body, "travelers", "/travelers")
    if not isinstance(travelers, list) or not travelers:
        raise _BodyProblem(issues.invalid_format("travelers must be a non-empty list", pointer="/travelers"))
    counts = dict.fromkeys(_TRAVELER_PARAMETER.values(), 0)
    for index, traveler in enumerate(travelers):
        kind = _required(traveler, "travelerType", f"/travelers/{index}/travelerType")
        if kind not in _TRAVELER_PARAMETER:
            raise _BodyProblem(
                issues.invalid_data(
                    f"travelerType {kind} is not supported by the simulator (ADULT, CHILD, HELD_INFANT)",
                    pointer=f"/travelers/{index}/travelerType",
                )
            )
        counts[_TRAVELER_PARAMETER[kind]] += 1
    query["adults"] = counts["adults"] or None  # no adult at all is MANDATORY DATA MISSING
    query["children"] = counts["children"] or None
    query["infants"] = counts["infants"] or None

    sources = _required(body, "sources", "/sources")
    if not isinstance(sources, list) or "GDS" not in sources:
        raise _BodyProblem(issues.invalid_data('sources must include "GDS"', pointer="/sources"))

    query["currencyCode"] = body.get("currencyCode")
    criteria = _object(body.get("searchCriteria"))
    query["max"] = criteria.get("maxFlightOffers")
    query["maxPrice"] = criteria.get("maxPrice")
    filters = _object(criteria.get("flightFilters"))
    cabins = filters.get("cabinRestrictions")
    if isinstance(cabins, list) and cabins:
        query["travelClass"] = _object(cabins[0]).get("cabin")
    carriers = _object(filters.get("carrierRestrictions"))
    for body_name, parameter in (
        ("includedCarrierCodes", "includedAirlineCodes"),
        ("excludedCarrierCodes", "excludedAirlineCodes"),
    ):
        if isinstance(carriers.get(body_name), list):
            query[parameter] = ",".join(str(code) for code in carriers[body_name])
    connections = _object(filters.get("connectionRestriction")).get("maxNumberOfConnections")
    if connections is not None:
        query["nonStop"] = connections == 0
    return {name: _as_query_text(value) for name, value in query.items() if value is not None}


def search_from_body(body: Any, *, today: dt.date) -> FlightSearch:
    """The POST search: the body's supported subset, held to the GET rules."""
    try:
        query = _body_as_query(body)
    except _BodyProblem as problem:
        raise SearchRejected([problem.issue]) from None
    try:
        return search_from_query(query, today=today)
    except SearchRejected as rejected:
        located = [
            replace(issue, parameter=None, pointer=_BODY_POINTERS.get(issue.parameter or "", "/"))
            for issue in rejected.issues
        ]
        raise SearchRejected(located) from None
