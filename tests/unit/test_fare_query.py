"""Turning query-string values into a FareQuery: what is accepted, normalised, defaulted and refused."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pytest
from pydantic import BaseModel

from farewatch.clock import ManualClock
from farewatch.errors import InvalidRequest
from farewatch.fare_query import FareQuery, parse_fare_query
from farewatch.validation import WholeNumber, YesNo, validated


class FlagAndNumber(BaseModel):
    """A flag and a bounded integer, declared the way routes declare `nocache` and `limit`."""

    flag: Annotated[bool, YesNo()] = False
    number: Annotated[int, WholeNumber(1, 50)] = 10


def parse_flag(value: str | None) -> bool:
    return validated(FlagAndNumber, {"flag": value}).flag


def parse_int(value: str | None) -> int:
    return validated(FlagAndNumber, {"number": value}).number


def at(moment: str) -> ManualClock:
    """A clock stopped at an ISO UTC moment, e.g. "2026-11-15T12:00:00"."""
    return ManualClock(dt.datetime.fromisoformat(moment).replace(tzinfo=dt.UTC).timestamp())


NOON = at("2026-11-15T12:00:00")


def params(**overrides: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {"origin": "JFK", "destination": "LAX", "date": "2026-12-01"}
    return base | overrides


def refusal(clock: ManualClock = NOON, **overrides: str | None) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        parse_fare_query(params(**overrides), clock=clock)
    assert raised.value.status == 400
    return raised.value


# --- accepted queries -------------------------------------------------------------------------------


def test_a_complete_query_is_parsed_with_its_defaults():
    query = parse_fare_query(params(), clock=NOON)

    assert query == FareQuery(
        origin="JFK", destination="LAX", departure_date=dt.date(2026, 12, 1), adults=1, currency="USD"
    )


def test_codes_and_currency_are_normalised_to_upper_case():
    query = parse_fare_query(params(origin="jfk", destination="Lax", currency="eur"), clock=NOON)

    assert (query.origin, query.destination, query.currency) == ("JFK", "LAX", "EUR")


def test_city_codes_are_accepted_as_origin_and_destination():
    query = parse_fare_query(params(origin="nyc", destination="LON"), clock=NOON)

    assert query.route == "NYC-LON"


def test_the_cache_key_and_route_identify_the_query():
    query = parse_fare_query(params(adults="2", currency="GBP"), clock=NOON)

    assert query.cache_key == "JFK#LAX#2026-12-01#2#GBP"
    assert query.route == "JFK-LAX"


def test_unrelated_parameters_are_ignored():
    query = parse_fare_query(params(nocache="1", sort="price"), clock=NOON)

    assert query.origin == "JFK"


def test_empty_adults_and_currency_take_their_defaults():
    query = parse_fare_query(params(adults="", currency=""), clock=NOON)

    assert (query.adults, query.currency) == (1, "USD")


def test_a_fare_query_cannot_be_changed_once_made():
    query = parse_fare_query(params(), clock=NOON)

    with pytest.raises(ValueError):
        query.origin = "LGA"  # type: ignore[misc]


# --- refused locations ------------------------------------------------------------------------------


def test_an_unknown_origin_is_refused_as_unknown_location():
    error = refusal(origin="QQQ")

    assert error.code == "unknown_location"
    assert error.details == [{"field": "origin", "issue": "QQQ is not a known airport or city code"}]


def test_a_code_that_is_not_three_letters_is_refused_as_an_invalid_parameter():
    error = refusal(destination="LA")

    assert error.code == "invalid_parameter"
    assert error.details[0]["field"] == "destination"


def test_the_same_code_in_different_case_is_refused_as_same_origin_and_destination():
    error = refusal(origin="jfk", destination="JFK")

    assert error.code == "same_origin_destination"
    assert error.details[0]["field"] == "destination"


def test_a_city_and_one_of_its_own_airports_are_the_same_place():
    error = refusal(origin="NYC", destination="ewr")

    assert error.code == "same_origin_destination"


def test_two_airports_of_one_city_are_different_places():
    query = parse_fare_query(params(origin="JFK", destination="LGA"), clock=NOON)

    assert query.route == "JFK-LGA"


@pytest.mark.parametrize("field", ["origin", "destination", "date"])
@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_or_empty_required_parameter_is_refused(field, value):
    error = refusal(**{field: value})

    assert error.code == "missing_parameter"
    assert error.details == [{"field": field, "issue": "is required"}]


# --- dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2026-1-5",
        "2026-02-30",
        "2026-12-01T10:00:00",
        "2026/12/01",
        "20261201",
        " 2026-12-01",
        "2026-12-01\n",
    ],
)
def test_a_date_not_strictly_year_month_day_is_refused(raw):
    assert refusal(date=raw).code == "invalid_date"


def test_a_date_with_non_ascii_digits_is_refused():
    assert refusal(date="\uff12\uff10\uff12\uff16-\uff11\uff12-\uff10\uff11").code == "invalid_date"


def test_today_in_the_origin_time_zone_is_accepted():
    assert parse_fare_query(params(date="2026-11-15"), clock=NOON).departure_date == dt.date(2026, 11, 15)


def test_yesterday_is_refused_as_in_the_past():
    error = refusal(date="2026-11-14")

    assert error.code == "date_in_past"
    assert error.details[0]["field"] == "date"


def test_the_last_bookable_day_is_accepted_and_the_next_one_refused():
    # Given today is 2026-11-15 in New York, 365 days ahead is 2027-11-15
    assert parse_fare_query(params(date="2027-11-15"), clock=NOON).departure_date == dt.date(2027, 11, 15)

    assert refusal(date="2027-11-16").code == "date_too_far"


def test_the_booking_horizon_is_configurable():
    with pytest.raises(InvalidRequest) as raised:
        parse_fare_query(params(date="2026-11-25"), clock=NOON, max_days_ahead=7)

    assert raised.value.code == "date_too_far"


def test_late_evening_in_new_york_is_still_yesterday_there_even_when_utc_has_moved_on():
    # Given 02:00 UTC on 1 December, which is 21:00 on 30 November in New York
    clock = at("2026-12-01T02:00:00")

    # When a New York departure is asked for 30 November
    query = parse_fare_query(params(origin="JFK", date="2026-11-30"), clock=clock)

    # Then it is accepted: the day has not ended at the origin
    assert query.departure_date == dt.date(2026, 11, 30)


def test_early_morning_in_sydney_is_already_tomorrow_there_while_utc_is_still_today():
    # Given 20:00 UTC on 30 November, which is 07:00 on 1 December in Sydney
    clock = at("2026-11-30T20:00:00")

    # When a Sydney departure is asked for 30 November
    error = refusal(clock=clock, origin="SYD", date="2026-11-30")

    # Then it is refused: that day is over at the origin
    assert error.code == "date_in_past"


def test_a_city_origin_is_dated_in_the_city_time_zone():
    clock = at("2026-12-01T02:00:00")

    assert parse_fare_query(params(origin="NYC", date="2026-11-30"), clock=clock).origin == "NYC"


# --- adults and currency ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw, adults", [("1", 1), ("9", 9), ("4", 4)])
def test_one_to_nine_adults_are_accepted(raw, adults):
    assert parse_fare_query(params(adults=raw), clock=NOON).adults == adults


@pytest.mark.parametrize("raw", ["0", "10", "-1", "01", "+1", " 1", "1.0", "two", "٣"])
def test_adults_outside_one_to_nine_or_not_written_plainly_are_refused(raw):
    error = refusal(adults=raw)

    assert error.code == "invalid_parameter"
    assert error.details == [{"field": "adults", "issue": "must be a whole number from 1 to 9"}]


@pytest.mark.parametrize("raw", ["ABC", "US", "USDD", "XXX", "XAU", "BGN", "U$D", "ÚSD"])
def test_a_currency_that_is_not_an_active_iso_4217_money_code_is_refused(raw):
    assert refusal(currency=raw).code == "invalid_currency"


# --- several problems -------------------------------------------------------------------------------


def test_every_wrong_field_is_reported_in_one_error_with_the_first_problem_code():
    # Given an unknown origin, an impossible date, too many adults and an unknown currency
    error = refusal(origin="QQQ", date="2026-02-30", adults="12", currency="ABC")

    # Then one 400 lists them in parameter order, coded after the first
    assert error.code == "unknown_location"
    assert [detail["field"] for detail in error.details] == ["origin", "date", "adults", "currency"]
    assert "origin" in error.message and "currency" in error.message


def test_a_well_formed_date_is_not_judged_against_an_unknown_origin():
    error = refusal(origin="QQQ", date="2000-01-01")

    assert [detail["field"] for detail in error.details] == ["origin"]


# --- flags and integers -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "True", "yes", "YeS"])
def test_flag_words_for_yes_mean_true(raw):
    assert parse_flag(raw) is True


@pytest.mark.parametrize("raw", [None, "", "0", "false", "FALSE", "no", "No"])
def test_flag_words_for_no_or_an_absent_flag_mean_false(raw):
    assert parse_flag(raw) is False


@pytest.mark.parametrize("raw", ["2", "y", "on", "off", " true", "truee", "\uff54\uff52\uff55\uff45"])
def test_any_other_flag_value_is_refused(raw):
    with pytest.raises(InvalidRequest) as raised:
        parse_flag(raw)

    assert raised.value.code == "invalid_parameter"
    assert raised.value.details[0]["field"] == "flag"


def test_an_absent_integer_takes_its_default():
    assert parse_int(None) == 10
    assert parse_int("") == 10


def test_an_integer_within_bounds_is_accepted():
    assert parse_int("50") == 50


@pytest.mark.parametrize("raw", ["0", "51", "05", "1e3", "9" * 5000, "-0"])
def test_an_integer_out_of_bounds_or_not_plain_decimal_is_refused(raw):
    with pytest.raises(InvalidRequest) as raised:
        parse_int(raw)

    assert raised.value.code == "invalid_parameter"
    assert raised.value.details == [{"field": "number", "issue": "must be a whole number from 1 to 50"}]
