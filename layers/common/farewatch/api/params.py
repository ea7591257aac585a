"""Query and path parameters as routes declare them: type, limits and description in one annotation.

Powertools validates each against its type (the rules of farewatch.validation and
farewatch.fare_query) and documents it from the same annotation, so `limit` is an integer with its
bounds in /openapi.json. A route's signature is its contract:

    def search_offers(origin: Origin, ..., nonstop: Annotated[bool, YesNo(), Query(...)] = False)
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic_core import PydanticUseDefault, core_schema

from farewatch.fare_query import (
    CABINS,
    MAX_STOPS,
    AdultCount,
    Cabin,
    DepartureDay,
    FareCurrency,
    LocationCode,
    optional_calendar_date,
)
from farewatch.validation import OneOf, TextRule, WholeNumber

Origin = Annotated[
    LocationCode, Query(description="IATA airport or city code, e.g. JFK or NYC.", examples=["JFK"])
]
Destination = Annotated[LocationCode, Query(description="IATA airport or city code.", examples=["LAX"])]
Day = Annotated[DepartureDay, Query(description="Departure date, YYYY-MM-DD, in the origin's time zone.")]
Adults = Annotated[AdultCount, Query(description="Travellers aged 12+ (default 1).")]
Currency = Annotated[FareCurrency, Query(description="ISO 4217 currency (default USD).")]
# The trip's shape (issue 15): absent means a one-way economy trip with any number of stops.
ReturnDate = Annotated[
    date | None,
    TextRule(optional_calendar_date, core_schema.date_schema(), optional=True),
    Query(description="Return date, YYYY-MM-DD (a round trip), on or after the departure; absent: one way."),
]
TripCabin = Annotated[
    Cabin, OneOf(CABINS), Query(description="economy (default), premium_economy, business or first.")
]
MaxStops = Annotated[
    int | None,
    WholeNumber(0, MAX_STOPS),
    Query(description="At most this many stops in each direction (0, 1 or 2); absent: any."),
]
PageLimit = Annotated[int, WholeNumber(1, 100), Query(description="Items per page (default 20).")]


def _cursor(raw: str) -> str:
    if raw == "":
        raise PydanticUseDefault()
    return raw


Cursor = Annotated[
    str | None,
    TextRule(_cursor, core_schema.str_schema(), optional=True),
    Query(description="next_cursor of the previous page."),
]

ResourceId = Annotated[str, Path(max_length=100)]
