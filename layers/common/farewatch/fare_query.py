"""Fare queries, i.e. trips: the field types of origin, destination, dates, travellers, currency,
cabin and stops, and the rules that turn valid fields into a FareQuery.

Rules (SPEC §3, issue 15): origin and destination are known IATA airport or city codes, normalised to
upper case, and not the same place; the departure date is YYYY-MM-DD, not before today in the
origin's time zone and at most `max_days_ahead` days after it; a return date (a round trip) is on or
after the departure date and within the same horizon; adults 1-9; currency an ISO 4217 code; cabin
economy (default), premium_economy, business or first; max_stops 0, 1 or 2 per direction (absent:
any). Every problem is a 400 whose details name the field. The field types are what the routes
declare (so /openapi.json shows them); `fare_query` adds the rules between fields, which need the
airport data and a clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticUseDefault, core_schema

from farewatch.clock import Clock
from farewatch.currencies import FARE_CURRENCIES
from farewatch.errors import InvalidRequest, invalid_field
from farewatch.locations import Location, find_location, is_code_shaped, require_location
from farewatch.validation import INVALID_PARAMETER, OneOf, TextRule, WholeNumber, rejected, validated

DEFAULT_ADULTS = 1
MAX_ADULTS = 9
DEFAULT_CURRENCY = "USD"
MAX_DAYS_AHEAD = 365
MAX_STOPS = 2

Cabin = Literal["economy", "premium_economy", "business", "first"]
CABINS: tuple[str, ...] = get_args(Cabin)
DEFAULT_CABIN: Cabin = "economy"

_CODE_PATTERN = r"^[A-Z]{3}$"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

T = TypeVar("T")


class FareQuery(BaseModel):
    """A trip asked for: route, departure (and return) date, travellers, currency, cabin and stops.

    Its key (`cache_key`) is the identity of a price history and of a watched route; the fare cache
    keys an entry by the trip *as a source searches it* (`FareSource.upstream_query`), so trips that
    differ only in a filter the source cannot apply share one upstream search. The model checks the
    shape of each field; parse_fare_query() checks what needs data and a clock (known codes, dates in
    the origin's time zone).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    origin: str = Field(pattern=_CODE_PATTERN, description="IATA airport or city code, upper case.")
    destination: str = Field(pattern=_CODE_PATTERN, description="IATA airport or city code, upper case.")
    departure_date: date = Field(description="Local departure date at the origin.")
    adults: int = Field(default=DEFAULT_ADULTS, ge=1, le=MAX_ADULTS)
    currency: str = Field(default=DEFAULT_CURRENCY, pattern=_CODE_PATTERN, description="ISO 4217 code.")
    return_date: date | None = Field(None, description="Local departure date of the way back (a round trip).")
    cabin: Cabin = DEFAULT_CABIN
    max_stops: int | None = Field(None, ge=0, le=MAX_STOPS, description="Stops per direction; None: any.")

    @property
    def cache_key(self) -> str:
        """`JFK#LAX#2026-12-01#1#USD`, then `#return=2026-12-08`, `#cabin=business`, `#stops=1` for
        what differs from a one-way economy trip with any stops (whose keys are those of before trips
        had a shape): one price history and one watched route per key."""
        parts = [
            self.origin,
            self.destination,
            self.departure_date.isoformat(),
            str(self.adults),
            self.currency,
        ]
        if self.return_date is not None:
            parts.append(f"return={self.return_date.isoformat()}")
        if self.cabin != DEFAULT_CABIN:
            parts.append(f"cabin={self.cabin}")
        if self.max_stops is not None:
            parts.append(f"stops={self.max_stops}")
        return "#".join(parts)

    @classmethod
    def from_key(cls, key: str) -> FareQuery:
        """The trip a key stands for (what `cache_key` writes); ValueError for anything else."""
        origin, destination, departure, adults, currency, *shape = key.split("#")
        extra = dict(part.split("=", 1) for part in shape)
        if set(extra) - {"return", "cabin", "stops"}:
            raise ValueError(f"unknown parts in the trip key {key!r}")
        return cls(
            origin=origin,
            destination=destination,
            departure_date=date.fromisoformat(departure),
            adults=int(adults),
            currency=currency,
            return_date=date.fromisoformat(extra["return"]) if "return" in extra else None,
            cabin=extra.get("cabin", DEFAULT_CABIN),  # the model checks it
            max_stops=int(extra["stops"]) if "stops" in extra else None,
        )

    @property
    def route(self) -> str:
        """`JFK-LAX`: the unit of search statistics."""
        return f"{self.origin}-{self.destination}"

    @property
    def is_round_trip(self) -> bool:
        return self.return_date is not None

    @property
    def trip_type(self) -> str:
        return "round_trip" if self.is_round_trip else "one_way"

    @property
    def stay_days(self) -> int | None:
        return (self.return_date - self.departure_date).days if self.return_date is not None else None

    def departing_on(self, day: date) -> FareQuery:
        """The same trip on another departure date, the stay kept (a flexible window, a calendar)."""
        stay = self.stay_days
        return self.model_copy(
            update={
                "departure_date": day,
                "return_date": day + timedelta(days=stay) if stay is not None else None,
            }
        )

    def admits(self, stops_per_direction: int) -> bool:
        """Whether an offer with this many stops in its worse direction fits `max_stops`."""
        return self.max_stops is None or stops_per_direction <= self.max_stops


# -- the fields, each valid on its own (query parameters and bodies use these same types) --------


def _location_code(raw: str) -> str:
    if raw == "":
        raise rejected("missing_parameter", "is required")
    if not is_code_shaped(raw):
        raise rejected(INVALID_PARAMETER, "must be a 3-letter IATA airport or city code")
    if find_location(raw) is None:
        raise rejected("unknown_location", f"{raw.upper()} is not a known airport or city code")
    return raw.upper()


def _calendar_date(raw: str) -> date:
    if raw == "":
        raise rejected("missing_parameter", "is required")
    if not _ISO_DATE.fullmatch(raw):
        raise rejected("invalid_date", "must be a date in YYYY-MM-DD form")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise rejected("invalid_date", f"{raw} is not a calendar date") from None


def _fare_currency(raw: str) -> str:
    if raw == "":
        raise PydanticUseDefault()
    code = raw.upper() if is_code_shaped(raw) else ""
    if code not in FARE_CURRENCIES:
        raise rejected("invalid_currency", "must be an ISO 4217 currency code such as USD or EUR")
    return code


LocationCode = Annotated[
    str, TextRule(_location_code, core_schema.str_schema(pattern="^[A-Za-z]{3}$", min_length=3, max_length=3))
]
"""A known IATA airport or city code, any case in, upper case out (400 `unknown_location` if unknown)."""

DepartureDay = Annotated[date, TextRule(_calendar_date, core_schema.date_schema())]
"""`YYYY-MM-DD` (400 `invalid_date`); whether it is too early or too late depends on the origin."""


def optional_calendar_date(raw: str) -> date:
    if raw == "":
        raise PydanticUseDefault()
    return _calendar_date(raw)


ReturnDay = Annotated[date, TextRule(optional_calendar_date, core_schema.date_schema(), optional=True)]
"""`YYYY-MM-DD` or absent (a one-way trip); on or after the departure date."""

AdultCount = Annotated[int, WholeNumber(1, MAX_ADULTS)]
CabinClass = Annotated[Cabin, OneOf(CABINS)]
"""economy (default), premium_economy, business or first."""
StopLimit = Annotated[int, WholeNumber(0, MAX_STOPS)]
"""0, 1 or 2 stops in each direction; absent means any."""

FareCurrency = Annotated[
    str,
    TextRule(
        _fare_currency,
        core_schema.str_schema(pattern="^[A-Za-z]{3}$", min_length=3, max_length=3),
        optional=True,
    ),
]
"""An ISO 4217 code a fare can be priced in, any case in, upper case out (400 `invalid_currency`)."""


class FareQueryFields(BaseModel):
    """The fields of a fare query as a client writes them (`date` is the departure date)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    origin: LocationCode
    destination: LocationCode
    date: DepartureDay
    adults: AdultCount = DEFAULT_ADULTS
    currency: FareCurrency = DEFAULT_CURRENCY
    return_date: ReturnDay | None = None
    cabin: CabinClass = DEFAULT_CABIN
    max_stops: StopLimit | None = None


# -- the rules between fields ------------------------------------------------------------------


def fare_query(
    *,
    origin: str,
    destination: str,
    departure_date: date,
    adults: int = DEFAULT_ADULTS,
    currency: str = DEFAULT_CURRENCY,
    return_date: date | None = None,
    cabin: Cabin = DEFAULT_CABIN,
    max_stops: int | None = None,
    clock: Clock,
    max_days_ahead: int = MAX_DAYS_AHEAD,
    allow_past: bool = False,
) -> FareQuery:
    """The FareQuery of fields that are each valid (see the types above), or a 400 naming what is not.

    Two places are not the same one (a city and one of its airports count as one); the date is not
    before today at the origin (unless `allow_past`: departed dates still have a price history) and
    at most `max_days_ahead` days after it; a return date is on or after the departure date and
    within the same horizon. Every problem is reported together when several occur.
    """
    start = require_location(origin, "origin")
    end = require_location(destination, "destination")
    problems = _Problems()
    problems.check(lambda: _require_different_places(start, end))
    problems.check(
        lambda: _departure_window(
            departure_date, start, clock=clock, max_days_ahead=max_days_ahead, allow_past=allow_past
        )
    )
    if return_date is not None:
        problems.check(
            lambda: _return_window(
                return_date, departure_date, start, clock=clock, max_days_ahead=max_days_ahead
            )
        )
    problems.raise_if_any()
    return FareQuery(
        origin=start.code,
        destination=end.code,
        departure_date=departure_date,
        adults=adults,
        currency=currency,
        return_date=return_date,
        cabin=cabin,
        max_stops=max_stops,
    )


def parse_fare_query(
    params: Mapping[str, object],
    *,
    clock: Clock,
    max_days_ahead: int = MAX_DAYS_AHEAD,
    allow_past: bool = False,
) -> FareQuery:
    """A valid FareQuery from origin, destination, date, adults, currency, return_date, cabin and
    max_stops as a client sent them.

    Other keys are ignored; an absent, None or empty value counts as absent (a 400
    `missing_parameter` for origin, destination and date, the default for adults and currency).
    Every field that is wrong on its own is reported in one 400 with the code of the first (in the
    order above); the rules between fields (see `fare_query`) are checked once every field is valid.
    """
    fields = validated(FareQueryFields, params)
    return fare_query(
        origin=fields.origin,
        destination=fields.destination,
        departure_date=fields.date,
        adults=fields.adults,
        currency=fields.currency,
        return_date=fields.return_date,
        cabin=fields.cabin,
        max_stops=fields.max_stops,
        clock=clock,
        max_days_ahead=max_days_ahead,
        allow_past=allow_past,
    )


def local_today(location: Location, clock: Clock) -> date:
    """Today's date at the location: a departure date is judged where the flight leaves."""
    return datetime.fromtimestamp(clock.now(), tz=ZoneInfo(location.time_zone)).date()


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


def _departure_window(
    departure: date, origin: Location, *, clock: Clock, max_days_ahead: int, allow_past: bool
) -> None:
    today = local_today(origin, clock)
    if departure < today and not allow_past:
        raise invalid_field(
            "date", f"{departure} is in the past: today is {today} at {origin.code}", code="date_in_past"
        )
    if (departure - today).days > max_days_ahead:
        raise invalid_field(
            "date",
            f"must be at most {max_days_ahead} days after today ({today} at {origin.code})",
            code="date_too_far",
        )


def _return_window(
    return_date: date, departure: date, origin: Location, *, clock: Clock, max_days_ahead: int
) -> None:
    if return_date < departure:
        raise invalid_field(
            "return_date",
            f"{return_date} is before the departure date {departure}",
            code="invalid_return_date",
        )
    today = local_today(origin, clock)
    if (return_date - today).days > max_days_ahead:
        raise invalid_field(
            "return_date",
            f"must be at most {max_days_ahead} days after today ({today} at {origin.code})",
            code="date_too_far",
        )
