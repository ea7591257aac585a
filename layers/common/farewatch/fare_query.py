"""Fare queries: the one place that turns raw query-string values into a valid FareQuery.

Rules (SPEC §3): origin and destination are known IATA airport or city codes, normalised to upper
case, and not the same place; the date is YYYY-MM-DD, not before today in the origin's time zone and
at most `max_days_ahead` days after it; adults 1-9; currency an ISO 4217 code. Every problem is a
400 InvalidRequest whose details name the field; all problems of one request are reported together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from farewatch.clock import Clock
from farewatch.currencies import FARE_CURRENCIES
from farewatch.errors import InvalidRequest, invalid_field
from farewatch.locations import Location, is_code_shaped, require_location

DEFAULT_ADULTS = 1
MAX_ADULTS = 9
DEFAULT_CURRENCY = "USD"
MAX_DAYS_AHEAD = 365

_CODE_PATTERN = r"^[A-Z]{3}$"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Canonical decimal integers only: no sign on zero, no leading zeros, no spaces, no "+", ASCII digits.
_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]{0,17}")
_TRUE_WORDS = frozenset({"1", "true", "yes"})
_FALSE_WORDS = frozenset({"0", "false", "no"})

T = TypeVar("T")


class FareQuery(BaseModel):
    """A one-way fare asked for: route, departure date, travellers and currency.

    It is also the identity of a cache entry, of a price history and of a watched route (cache_key).
    The model checks the shape of each field; parse_fare_query() checks what needs data and a clock
    (known codes, dates in the origin's time zone).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    origin: str = Field(pattern=_CODE_PATTERN, description="IATA airport or city code, upper case.")
    destination: str = Field(pattern=_CODE_PATTERN, description="IATA airport or city code, upper case.")
    departure_date: date = Field(description="Local departure date at the origin.")
    adults: int = Field(default=DEFAULT_ADULTS, ge=1, le=MAX_ADULTS)
    currency: str = Field(default=DEFAULT_CURRENCY, pattern=_CODE_PATTERN, description="ISO 4217 code.")

    @property
    def cache_key(self) -> str:
        """`JFK#LAX#2026-12-01#1#USD`: one cache entry, price history and watched route per key."""
        return "#".join(
            (self.origin, self.destination, self.departure_date.isoformat(), str(self.adults), self.currency)
        )

    @property
    def route(self) -> str:
        """`JFK-LAX`: the unit of search statistics."""
        return f"{self.origin}-{self.destination}"


def parse_fare_query(
    params: Mapping[str, str | None],
    *,
    clock: Clock,
    max_days_ahead: int = MAX_DAYS_AHEAD,
    allow_past: bool = False,
) -> FareQuery:
    """A valid FareQuery from the query string's origin, destination, date, adults and currency.

    Other keys are ignored. An empty value counts as absent: a 400 `missing_parameter` for origin,
    destination and date, the default for adults and currency. When several fields are wrong, one
    InvalidRequest lists them all, with the code of the first (in the order of the signature above).
    `allow_past` admits departed dates (their price history is still worth reading).
    """
    problems = _Problems()
    origin = problems.check(lambda: require_location(_required(params, "origin"), "origin"))
    destination = problems.check(lambda: require_location(_required(params, "destination"), "destination"))
    if origin is not None and destination is not None:
        problems.check(lambda: _require_different_places(origin, destination))
    departure_date = problems.check(
        lambda: _departure_date(
            _required(params, "date"),
            origin,
            clock=clock,
            max_days_ahead=max_days_ahead,
            allow_past=allow_past,
        )
    )
    adults = problems.check(
        lambda: parse_int(
            params.get("adults"), "adults", default=DEFAULT_ADULTS, minimum=1, maximum=MAX_ADULTS
        )
    )
    currency = problems.check(lambda: _currency(params.get("currency")))
    problems.raise_if_any()
    # No problem was reported, so every value is set.
    assert origin is not None and destination is not None and departure_date is not None
    assert adults is not None and currency is not None
    return FareQuery(
        origin=origin.code,
        destination=destination.code,
        departure_date=departure_date,
        adults=adults,
        currency=currency,
    )


def local_today(location: Location, clock: Clock) -> date:
    """Today's date at the location: a departure date is judged where the flight leaves."""
    return datetime.fromtimestamp(clock.now(), tz=ZoneInfo(location.time_zone)).date()


def parse_flag(value: str | None, field: str) -> bool:
    """A yes/no query parameter (`nocache`, `nonstop`).

    `1|true|yes` in any case is True; `0|false|no`, absent or empty is False; anything else is a 400.
    """
    if value is None or value == "":
        return False
    word = value.lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise invalid_field(field, "must be one of 1, true, yes, 0, false or no")


def parse_int(value: str | None, field: str, *, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter (`limit`, `adults`) between minimum and maximum inclusive.

    Absent or empty gives `default`. Only canonical decimal is accepted ("7"; not "07", "+7", " 7",
    "7.0" or non-ASCII digits), so one number has one spelling in URLs and cache keys.
    """
    if value is None or value == "":
        return default
    issue = f"must be a whole number from {minimum} to {maximum}"
    if not _CANONICAL_INT.fullmatch(value):
        raise invalid_field(field, issue)
    number = int(value)
    if not minimum <= number <= maximum:
        raise invalid_field(field, issue)
    return number


class _Problems:
    """Collects the 400s of one request so that the caller hears about every bad field at once."""

    def __init__(self) -> None:
        self._errors: list[InvalidRequest] = []

    def check(self, validate: Callable[[], T]) -> T | None:
        try:
            return validate()
        except InvalidRequest as error:
            self._errors.append(error)
            return None

    def raise_if_any(self) -> None:
        if not self._errors:
            return
        first = self._errors[0]
        raise InvalidRequest(
            "; ".join(error.message for error in self._errors),
            code=first.code,
            details=[detail for error in self._errors for detail in error.details],
        )


def _required(params: Mapping[str, str | None], field: str) -> str:
    value = params.get(field)
    if value is None or value == "":
        raise invalid_field(field, "is required", code="missing_parameter")
    return value


def _require_different_places(origin: Location, destination: Location) -> None:
    """Equal codes are one place; so are a city code and one of its own airports (NYC and JFK)."""
    if origin.code == destination.code:
        raise invalid_field("destination", "must differ from origin", code="same_origin_destination")
    city, airport = (origin, destination) if destination.code in origin.airports else (destination, origin)
    if airport.code in city.airports:
        raise invalid_field(
            "destination",
            f"{airport.code} is one of the {city.code} airports: origin and destination are the same place",
            code="same_origin_destination",
        )


def _departure_date(
    raw: str, origin: Location | None, *, clock: Clock, max_days_ahead: int, allow_past: bool = False
) -> date:
    if not _ISO_DATE.fullmatch(raw):
        raise invalid_field("date", "must be a date in YYYY-MM-DD form", code="invalid_date")
    try:
        departure = date.fromisoformat(raw)
    except ValueError:
        raise invalid_field("date", f"{raw} is not a calendar date", code="invalid_date") from None
    if origin is None:
        # Without a known origin there is no time zone to judge the date in; the origin's own
        # problem is reported, and the date is checked once the origin is fixed.
        return departure
    today = local_today(origin, clock)
    if departure < today and not allow_past:
        raise invalid_field(
            "date", f"{raw} is in the past: today is {today} at {origin.code}", code="date_in_past"
        )
    if (departure - today).days > max_days_ahead:
        raise invalid_field(
            "date",
            f"must be at most {max_days_ahead} days after today ({today} at {origin.code})",
            code="date_too_far",
        )
    return departure


def _currency(raw: str | None) -> str:
    if raw is None or raw == "":
        return DEFAULT_CURRENCY
    code = raw.upper() if is_code_shaped(raw) else ""
    if code not in FARE_CURRENCIES:
        raise invalid_field(
            "currency", "must be an ISO 4217 currency code such as USD or EUR", code="invalid_currency"
        )
    return code
