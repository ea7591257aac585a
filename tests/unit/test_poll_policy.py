"""Polling on a budget: adaptive intervals, the budget's choice by value, and no starvation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bench.poll_budget import simulate
from farewatch.tracking import poll_policy
from farewatch.tracking.poll_policy import HOUR, MAX_POLL_AGE_SECONDS, DueRoute, choose, poll_interval

TODAY = dt.date(2027, 1, 1)
NOW = dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(("days_out", "hours"), [(3, 1), (14, 1), (15, 6), (60, 6), (61, 24), (300, 24)])
def test_the_next_poll_comes_sooner_as_departure_nears(days_out, hours):
    departure = TODAY + dt.timedelta(days=days_out)

    interval = poll_interval(departure, TODAY, previous=Decimal(300), latest=Decimal(301), floor_seconds=1800)

    assert interval == hours * HOUR


def test_a_moving_price_is_polled_one_step_sooner():
    months_away = TODAY + dt.timedelta(days=120)

    moving = poll_interval(months_away, TODAY, previous=Decimal(300), latest=Decimal(280), floor_seconds=1800)

    assert moving == 6 * HOUR


def test_the_interval_never_goes_below_the_configured_floor():
    assert poll_interval(TODAY, TODAY, previous=None, latest=None, floor_seconds=7200) == 7200


def route(
    key: str, *, days_out: int, trackers: int, polled_hours_ago: float | None, due_hours_ago: float = 0
):
    return DueRoute(
        key,
        TODAY + dt.timedelta(days=days_out),
        trackers,
        NOW - polled_hours_ago * HOUR if polled_hours_ago is not None else None,
        NOW - due_hours_ago * HOUR,
    )


def test_when_the_budget_binds_routes_are_served_by_value_and_the_starving_first():
    routes = [
        route("far-few", days_out=200, trackers=1, polled_hours_ago=24),
        route("near-many", days_out=5, trackers=20, polled_hours_ago=1),
        route("starving", days_out=300, trackers=1, polled_hours_ago=MAX_POLL_AGE_SECONDS / HOUR + 1),
        route("mid", days_out=30, trackers=5, polled_hours_ago=6),
    ]

    chosen = [r.route_key for r in choose(routes, remaining=2, now=NOW, today=TODAY)]
    everything = choose(routes, remaining=None, now=NOW, today=TODAY)

    assert chosen == ["starving", "near-many"]
    assert len(everything) == 4


def test_a_budget_that_does_not_bind_serves_every_due_route():
    routes = [route(f"r{n}", days_out=30, trackers=1, polled_hours_ago=6) for n in range(3)]

    assert len(choose(routes, remaining=10, now=NOW, today=TODAY)) == 3
    assert choose(routes, remaining=0, now=NOW, today=TODAY) == []


def test_over_a_simulated_month_the_budget_is_never_exceeded_and_no_route_starves():
    unlimited = simulate(routes=300, days=30)
    bounded = simulate(routes=300, days=30, budget=300)

    assert max(bounded.searches_per_day) <= 300
    assert bounded.max_age_hours <= poll_policy.MAX_POLL_AGE_SECONDS / HOUR
    assert sum(bounded.searches_per_day) < sum(unlimited.searches_per_day)
    assert unlimited.max_age_hours <= 24  # unbounded, every route is polled at least daily
