"""When a watched route is polled next, and which due routes are served when the daily budget binds.

Pure functions of plain values, so that the poll cycle, the dispatcher, the admin statistics and the
bench's simulated month use the very same rules.

Next poll (after each poll of a route):
- departure within 14 days: every hour; within 60 days: every 6 hours; further: once a day;
- a price that moved 5 % or more since the previous observation polls one step sooner (6 h → 1 h,
  a day → 6 h), because a moving price is where drops are found;
- never sooner than WATCHED_ROUTE_POLL_SECONDS (the deployed floor, 30 min).

The budget (`POLL_DAILY_SEARCH_BUDGET`, 0 = unlimited) caps the poller's upstream searches per UTC
day, fleet-wide: the worker takes one unit before a search (a conditional counter, so it is never
exceeded) and a route that finds the budget spent is put back for the next hour. When more routes are
due than the budget has left, the dispatcher serves them by value: first every route not polled for
`MAX_POLL_AGE_SECONDS` (oldest first: none starves past it as long as the budget covers every watched
route once per that age, which `GET /stats/poller` reports), then by trackers on the route x nearness
of departure x how overdue it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from farewatch.fare_query import local_today
from farewatch.locations import require_location

if TYPE_CHECKING:
    from farewatch.clock import Clock
    from farewatch.fare_query import FareQuery

HOUR = 3600.0
STEPS = (HOUR, 6 * HOUR, 24 * HOUR)
NEAR_DAYS, MID_DAYS = 14, 60
MOVING = Decimal("0.05")
MAX_POLL_AGE_SECONDS = 2 * 24 * HOUR
BUDGET_RETRY_SECONDS = HOUR


def is_departed(query: FareQuery, clock: Clock) -> bool:
    """A departure date before today at the origin: its trackers expire and it is no longer polled."""
    return query.departure_date < local_today(require_location(query.origin, "origin"), clock)


def poll_interval(
    departure: date,
    today: date,
    *,
    previous: Decimal | None,
    latest: Decimal | None,
    floor_seconds: float,
) -> float:
    days = (departure - today).days
    step = 0 if days <= NEAR_DAYS else 1 if days <= MID_DAYS else 2
    moved = previous is not None and latest is not None and previous > 0
    if moved and abs(latest - previous) / previous >= MOVING:  # type: ignore[operator]
        step = max(0, step - 1)
    return max(floor_seconds, STEPS[step])


@dataclass(frozen=True)
class DueRoute:
    route_key: str
    departure: date
    trackers: int
    last_polled_at: float | None  # None: never polled (counts as created at its first due time)
    next_poll_at: float


def age(route: DueRoute, now: float) -> float:
    """How long since the route was last polled (since it became due, if never)."""
    since = route.last_polled_at if route.last_polled_at is not None else route.next_poll_at
    return max(0.0, now - since)


def value(route: DueRoute, now: float, today: date) -> float:
    days = max(0, (route.departure - today).days)
    nearness = 1.0 / (1 + days / 7)
    overdue = 1.0 + max(0.0, now - route.next_poll_at) / HOUR
    return max(1, route.trackers) * nearness * overdue


def served_first(routes: Iterable[DueRoute], *, now: float, today: date) -> list[DueRoute]:
    """Due routes in the order a binding budget serves them (see the module docstring)."""

    def rank(route: DueRoute) -> tuple[int, float]:
        starving = age(route, now) >= MAX_POLL_AGE_SECONDS
        return (0, -age(route, now)) if starving else (1, -value(route, now, today))

    return sorted(routes, key=rank)


def choose(routes: Sequence[DueRoute], *, remaining: int | None, now: float, today: date) -> list[DueRoute]:
    """The routes to enqueue now: all when the budget is unlimited (None) or does not bind,
    else the `remaining` most valuable."""
    if remaining is None or len(routes) <= remaining:
        return list(routes)
    return served_first(routes, now=now, today=today)[: max(0, remaining)]
