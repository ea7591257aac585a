"""Properties of fare-query validation: normalisation, refusal of unknown codes, the date window in the
origin's time zone, and no input at all that raises anything but a 400."""

from __future__ import annotations

import datetime as dt
import string
from typing import Annotated
from zoneinfo import ZoneInfo

import airportsdata
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from farewatch.cities import METRO_AREAS
from farewatch.errors import InvalidRequest
from farewatch.fare_query import parse_fare_query
from farewatch.locations import find_location
from farewatch.validation import WholeNumber, YesNo, validated


class FlagAndNumber(BaseModel):
    """A flag and a bounded integer, declared the way routes declare `nocache` and `limit`."""

    flag: Annotated[bool, YesNo()] = False
    number: Annotated[int, WholeNumber(1, 50)] = 10


def parse_flag(value: str | None) -> bool:
    return validated(FlagAndNumber, {"flag": value}).flag


def parse_int(value: str | None) -> int:
    return validated(FlagAndNumber, {"number": value}).number


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KNOWN_CODES = sorted(airportsdata.load("IATA")) + [area.code for area in METRO_AREAS]
# Origins across the day line and both hemispheres, none of which changes its clocks at midnight.
ZONED_ORIGINS = {
    "JFK": "America/New_York",
    "SYD": "Australia/Sydney",
    "LHR": "Europe/London",
    "HNL": "Pacific/Honolulu",
    "AKL": "Pacific/Auckland",
    "CXI": "Pacific/Kiritimati",
    "PPG": "Pacific/Pago_Pago",
    "TYO": "Asia/Tokyo",
}


class FakeClock:
    """Stopped at one moment (epoch seconds)."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self._now += seconds


CLOCK = FakeClock(dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC).timestamp())
SAFE_DATE = "2026-12-15"  # bookable from every time zone at CLOCK


def destination_for(origin: str) -> str:
    """A destination that is a different place from `origin`."""
    return "SYD" if origin.upper() in {"LAX", "NYC", "JFK", "LGA", "EWR"} else "LAX"


def case_variants(code: str) -> st.SearchStrategy[str]:
    flips = st.lists(st.booleans(), min_size=len(code), max_size=len(code))
    return flips.map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(code, upper, strict=True))
    )


@PROPERTY_SETTINGS
@given(st.sampled_from(KNOWN_CODES).flatmap(lambda code: st.tuples(st.just(code), case_variants(code))))
def test_any_case_variant_of_a_known_code_gives_the_same_query(code_and_variant):
    # Given a known code and the same letters in some other case
    code, variant = code_and_variant
    destination = destination_for(code)

    # When both are asked
    canonical = parse_fare_query({"origin": code, "destination": destination, "date": SAFE_DATE}, clock=CLOCK)
    varied = parse_fare_query({"origin": variant, "destination": destination, "date": SAFE_DATE}, clock=CLOCK)

    # Then the queries are equal, in upper case
    assert varied == canonical
    assert varied.origin == code


unknown_codes = st.one_of(
    st.text(),
    st.text(alphabet=string.ascii_letters, min_size=3, max_size=3),
    st.text(alphabet=string.ascii_letters + string.digits + " ", min_size=2, max_size=4),
).filter(lambda text: find_location(text) is None)


@PROPERTY_SETTINGS
@given(unknown_codes)
@example("QQQ")
@example(" JFK")
@example("")
def test_any_text_that_is_not_a_known_code_is_refused_with_a_400(text):
    with pytest.raises(InvalidRequest) as raised:
        parse_fare_query({"origin": "LAX", "destination": text, "date": SAFE_DATE}, clock=CLOCK)

    assert raised.value.status == 400
    assert raised.value.code in {"missing_parameter", "invalid_parameter", "unknown_location"}
    assert raised.value.details[0]["field"] == "destination"


def local_today(origin: str, epoch: float) -> dt.date:
    return dt.datetime.fromtimestamp(epoch, tz=ZoneInfo(ZONED_ORIGINS[origin])).date()


@PROPERTY_SETTINGS
@given(
    origin=st.sampled_from(sorted(ZONED_ORIGINS)),
    epoch=st.integers(
        min_value=int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()),
        max_value=int(dt.datetime(2030, 12, 31, tzinfo=dt.UTC).timestamp()),
    ),
    offset=st.integers(min_value=-400, max_value=800),
)
@example(origin="JFK", epoch=int(dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC).timestamp()), offset=0)
@example(origin="SYD", epoch=int(dt.datetime(2026, 11, 30, 20, tzinfo=dt.UTC).timestamp()), offset=-1)
@example(origin="CXI", epoch=int(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC).timestamp()), offset=365)
@example(origin="PPG", epoch=int(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC).timestamp()), offset=366)
def test_a_date_is_accepted_exactly_from_today_at_the_origin_to_365_days_later(origin, epoch, offset):
    # Given today at the origin and a date `offset` days from it
    today = local_today(origin, epoch)
    asked = today + dt.timedelta(days=offset)
    raw = {"origin": origin, "destination": destination_for(origin), "date": asked.isoformat()}

    # When it is asked, then it is accepted inside the window and refused with the right code outside
    if 0 <= offset <= 365:
        assert parse_fare_query(raw, clock=FakeClock(epoch)).departure_date == asked
    else:
        with pytest.raises(InvalidRequest) as raised:
            parse_fare_query(raw, clock=FakeClock(epoch))
        assert raised.value.code == ("date_in_past" if offset < 0 else "date_too_far")


@PROPERTY_SETTINGS
@given(
    origin=st.sampled_from(sorted(ZONED_ORIGINS)),
    local_date=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2030, 12, 31)),
    seconds_from_midnight=st.integers(min_value=-120, max_value=120),
)
def test_the_day_changes_at_midnight_in_the_origin_time_zone_not_in_utc(
    origin, local_date, seconds_from_midnight
):
    # Given a moment a couple of minutes either side of local midnight at the origin
    midnight = dt.datetime.combine(local_date, dt.time(), tzinfo=ZoneInfo(ZONED_ORIGINS[origin]))
    clock = FakeClock(midnight.timestamp() + seconds_from_midnight)
    yesterday = (local_date - dt.timedelta(days=1)).isoformat()
    raw = {"origin": origin, "destination": destination_for(origin), "date": yesterday}

    # When the day before that midnight is asked
    # Then it is still bookable before midnight and in the past after it
    if seconds_from_midnight < 0:
        assert parse_fare_query(raw, clock=clock).departure_date.isoformat() == yesterday
    else:
        with pytest.raises(InvalidRequest) as raised:
            parse_fare_query(raw, clock=clock)
        assert raised.value.code == "date_in_past"


def plausible_or_arbitrary(*plausible: str) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.text(), st.sampled_from(plausible))


@PROPERTY_SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "origin": plausible_or_arbitrary("JFK", "nyc", "LHR", "QQQ", "jf"),
            "destination": plausible_or_arbitrary("LAX", "lon", "JFK", "EWR", "ZZZ"),
            "date": plausible_or_arbitrary(
                "2026-12-01", "2026-11-15", "2027-11-16", "2026-02-30", "2026-1-5"
            ),
            "adults": plausible_or_arbitrary("1", "9", "0", "10", "01"),
            "currency": plausible_or_arbitrary("usd", "EUR", "XXX", "US"),
        },
        optional={"nocache": st.text(), "unrelated": st.text()},
    )
)
def test_arbitrary_values_for_every_parameter_only_ever_raise_a_400(raw):
    try:
        query = parse_fare_query(raw, clock=CLOCK)
    except InvalidRequest as error:
        assert error.status == 400
        assert error.details and all(set(detail) == {"field", "issue"} for detail in error.details)
    else:
        assert query.origin.isupper() and query.destination.isupper() and query.currency.isupper()


@PROPERTY_SETTINGS
@given(st.one_of(st.none(), st.text()))
def test_any_flag_value_is_true_false_or_a_400(value):
    word = (value or "").lower()  # absent or empty means the default, False
    try:
        flag = parse_flag(value)
    except InvalidRequest as error:
        assert error.code == "invalid_parameter"
        assert word not in {"1", "true", "yes", "0", "false", "no", ""}
    else:
        assert flag is (word in {"1", "true", "yes"})
        assert word in {"1", "true", "yes", "0", "false", "no", ""}


@PROPERTY_SETTINGS
@given(st.one_of(st.none(), st.text(), st.integers().map(str)))
def test_any_integer_value_is_within_bounds_or_a_400(value):
    given = value or None  # absent or empty means the default, 10
    canonical = given is not None and given.isascii() and given.isdigit() and str(int(given)) == given
    try:
        number = parse_int(value)
    except InvalidRequest as error:
        assert error.code == "invalid_parameter"
        assert given is not None and not (canonical and 1 <= int(given) <= 50)
    else:
        assert number == (10 if given is None else int(given))
        assert 1 <= number <= 50
