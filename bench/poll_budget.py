"""Section 8 of `make bench`: upstream searches per day for 1,000 watched routes over a simulated
month, with and without POLL_DAILY_SEARCH_BUDGET.

The rules are the poller's own (`farewatch.tracking.poll_policy`: adaptive intervals, the budget's
choice by value, the maximum age); the clock is simulated (an hourly dispatcher tick, as a deployed
PollSchedule of rate(1 hour) would run), the fleet is deterministic: departures spread over the next
year, 1-20 trackers per route, one route in ten with a price that moves 5-10 % between polls.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from farewatch.tracking import poll_policy

HOUR = 3600.0
START = dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp()


@dataclass
class _Route:
    key: str
    departure: dt.date
    trackers: int
    moving: bool
    price: Decimal
    next_poll_at: float
    last_polled_at: float | None = None
    previous: Decimal | None = None


@dataclass
class MonthReport:
    searches_per_day: list[int]
    max_age_hours: float
    routes: int
    budget: int
    ages_hours: list[float] = field(default_factory=list)


def simulate(*, routes: int = 1000, days: int = 30, budget: int = 0, seed: int = 15) -> MonthReport:
    rng = random.Random(seed)
    today = dt.date(2027, 1, 1)
    fleet = [
        _Route(
            key=f"route-{n}",
            departure=today + dt.timedelta(days=rng.randint(days + 2, 365)),
            trackers=rng.randint(1, 20),
            moving=n % 10 == 0,
            price=Decimal(rng.randint(150, 900)),
            next_poll_at=START + rng.random() * HOUR,
        )
        for n in range(routes)
    ]
    per_day = [0] * days
    worst_age = 0.0
    for tick in range(days * 24):
        now = START + tick * HOUR
        day_index = tick // 24
        day = today + dt.timedelta(days=day_index)
        due = [route for route in fleet if route.next_poll_at <= now + 1]
        candidates = [
            poll_policy.DueRoute(r.key, r.departure, r.trackers, r.last_polled_at, r.next_poll_at)
            for r in due
        ]
        remaining = None if budget == 0 else max(0, budget - per_day[day_index])
        chosen = {
            route.route_key
            for route in poll_policy.choose(candidates, remaining=remaining, now=now, today=day)
        }
        for route in due:
            if route.key not in chosen:
                continue
            since = route.last_polled_at if route.last_polled_at is not None else START
            worst_age = max(worst_age, now - since)
            per_day[day_index] += 1
            route.previous = route.price
            if route.moving:
                route.price = (
                    route.price * Decimal(1 + rng.choice((-1, 1)) * rng.uniform(0.05, 0.10))
                ).quantize(Decimal("0.01"))
            route.last_polled_at = now
            route.next_poll_at = now + poll_policy.poll_interval(
                route.departure, day, previous=route.previous, latest=route.price, floor_seconds=1800
            )
    end = START + days * 24 * HOUR
    ages = [(end - (r.last_polled_at or START)) / HOUR for r in fleet]
    worst_age = max(worst_age, max(ages) * HOUR)
    return MonthReport(per_day, worst_age / HOUR, routes, budget, ages)


def poll_budget_month() -> None:
    print("8) Poll budget: 1,000 watched routes over a simulated month (hourly dispatcher)")
    unlimited = simulate()
    budget = 1000
    bounded = simulate(budget=budget)
    for label, report in (("no budget", unlimited), (f"budget {budget}/day", bounded)):
        days = report.searches_per_day
        print(
            f"   {label:<16} searches/day min {min(days)}, mean {sum(days) / len(days):.0f}, "
            f"max {max(days)}; "
            f"month {sum(days)}; oldest poll {report.max_age_hours:.0f} h "
            f"(limit {poll_policy.MAX_POLL_AGE_SECONDS / HOUR:.0f} h)"
        )
    print()
