"""The dates a flexible window watches, and what one observation makes of it (tracking.window)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from farewatch.fare_query import FareQuery
from farewatch.tracking import window
from farewatch.tracking.values import DatePrice

TODAY = date(2027, 1, 15)


def trip(day: date, back: date | None = None) -> FareQuery:
    return FareQuery(origin="JFK", destination="LAX", departure_date=day, return_date=back)


def test_a_window_is_every_date_within_flex_days_of_departure():
    assert window.window_dates(trip(date(2027, 2, 1)), 1, today=TODAY) == (
        date(2027, 1, 31),
        date(2027, 2, 1),
        date(2027, 2, 2),
    )
    assert window.window_dates(trip(date(2027, 2, 1)), 0, today=TODAY) == (date(2027, 2, 1),)


def test_a_window_leaves_out_past_dates_and_trips_beyond_the_booking_horizon():
    assert window.window_dates(trip(date(2027, 1, 16)), 3, today=TODAY)[0] == TODAY
    last = date(2028, 1, 15)  # today + 365
    assert window.window_dates(trip(last), 2, today=TODAY)[-1] == last
    back = window.window_dates(trip(date(2028, 1, 10), date(2028, 1, 14)), 3, today=TODAY)
    assert back[-1] == date(2028, 1, 11)  # its return, 4 days later, is the last day of the horizon


@pytest.mark.parametrize("flex_days", [-1, 4])
def test_a_window_past_three_days_is_refused(flex_days):
    with pytest.raises(ValueError):
        window.window_dates(trip(date(2027, 2, 1)), flex_days, today=TODAY)


def price(day: int, amount: str, at: float = 1.0) -> DatePrice:
    return DatePrice(date(2027, 2, day), Decimal(amount), at)


def test_an_observation_replaces_its_dates_price_and_the_cheapest_date_wins():
    watched = [date(2027, 2, day) for day in (1, 2, 3)]
    step = window.observed(
        [price(1, "300"), price(2, "280")], price(3, "250", 2.0), watched=watched, today=TODAY
    )

    assert step is not None and step.best == price(3, "250", 2.0) and step.first_sight
    again = window.observed(step.prices, price(3, "250", 2.0), watched=watched, today=TODAY)
    older = window.observed(step.prices, price(3, "200", 1.5), watched=watched, today=TODAY)
    assert again is None and older is None


def test_equal_prices_name_the_earliest_date_and_unwatched_dates_are_ignored():
    watched = [date(2027, 2, 1), date(2027, 2, 2)]
    step = window.observed([price(2, "250")], price(1, "250", 2.0), watched=watched, today=TODAY)
    assert step is not None and step.best is not None and step.best.departure_date == date(2027, 2, 1)
    assert window.observed([], price(9, "100"), watched=watched, today=TODAY) is None


def test_the_stored_text_is_the_same_for_the_same_prices():
    prices = (price(2, "280.00", 1800000000.25), price(1, "300.10"))
    text = window.dumps(prices)

    assert window.loads(text) == tuple(sorted(prices, key=lambda p: p.departure_date))
    assert window.dumps(window.loads(text)) == text
