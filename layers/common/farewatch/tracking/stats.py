"""Route statistics for admins: most searched and most tracked routes over a window, with prices.

Reads SearchStatsTable (one Query per day of the window), the watched routes (by_due index, tracked
ones only) and the price history of the fare queries shown. History is kept per fare query
(route, date, adults, currency) while searches are counted per route, so a route's prices come from
its most tracked fare queries, or, for a route nobody tracks, from the fare query searched last on
each day of the window (the newest first decides the currency).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from farewatch.clock import utc_datetime
from farewatch.store.history import Observation
from farewatch.store.search_stats import DaySearches


class Searches(Protocol):
    def searched_on(self, day: str) -> list[DaySearches]: ...


class History(Protocol):
    def observations(self, series: str) -> list[Observation]: ...


@dataclass(frozen=True)
class WatchedCount:
    route_key: str
    active_count: int


@dataclass(frozen=True)
class RouteStats:
    route: str
    searches: int
    trackers: int
    currency: str | None
    latest_price: Decimal | None
    min_price: Decimal | None
    max_price: Decimal | None


@dataclass(frozen=True)
class RouteReport:
    days: int
    most_searched: list[RouteStats]
    most_tracked: list[RouteStats]


CSV_COLUMNS = (
    "list",
    "rank",
    "route",
    "searches",
    "trackers",
    "currency",
    "latest_price",
    "min_price",
    "max_price",
)


def route_of(route_key: str) -> str:
    origin, destination = route_key.split("#")[:2]
    return f"{origin}-{destination}"


def route_report(
    *,
    now: float,
    days: int,
    limit: int,
    searches: Searches,
    watched: list[WatchedCount],
    history: History,
) -> RouteReport:
    today = utc_datetime(now).date()
    searched: Counter[str] = Counter()
    searched_queries: dict[str, list[str]] = defaultdict(list)  # newest day first, distinct
    for offset in range(days):
        for day in searches.searched_on((today - timedelta(days=offset)).isoformat()):
            searched[day.route] += day.searches
            known = searched_queries[day.route]
            if day.last_fare_query and day.last_fare_query not in known:
                known.append(day.last_fare_query)
    tracked: Counter[str] = Counter()
    keys_by_route: dict[str, list[WatchedCount]] = defaultdict(list)
    for count in watched:
        tracked[route_of(count.route_key)] += count.active_count
        keys_by_route[route_of(count.route_key)].append(count)
    since = (today - timedelta(days=days - 1)).isoformat()

    def row(route: str) -> RouteStats:
        currency, latest, low, high = _prices(
            _price_sources(keys_by_route.get(route, []), searched_queries.get(route, [])), history, since
        )
        return RouteStats(route, searched.get(route, 0), tracked.get(route, 0), currency, latest, low, high)

    def top(counter: Counter[str]) -> list[str]:
        ranked = sorted(
            (item for item in counter.items() if item[1] > 0), key=lambda item: (-item[1], item[0])
        )
        return [route for route, _ in ranked[:limit]]

    return RouteReport(days, [row(route) for route in top(searched)], [row(route) for route in top(tracked)])


def _price_sources(watched: list[WatchedCount], searched: list[str]) -> list[str]:
    """The fare queries whose history prices a route, the one deciding the currency first."""
    if watched:
        return [key.route_key for key in sorted(watched, key=lambda key: (-key.active_count, key.route_key))]
    return searched


def _prices(
    keys: list[str], history: History, since: str
) -> tuple[str | None, Decimal | None, Decimal | None, Decimal | None]:
    """Over the window, in the currency of the first fare query."""
    if not keys:
        return None, None, None, None
    currency = keys[0].split("#")[4]
    observations = [
        observation
        for key in keys
        if key.endswith(f"#{currency}")
        for observation in history.observations(key)
        if observation.observed_at >= since and observation.currency == currency
    ]
    if not observations:
        return currency, None, None, None
    amounts = [observation.amount for observation in observations]
    latest = max(observations, key=lambda observation: observation.observed_at).amount
    return currency, latest, min(amounts), max(amounts)


def report_csv(report: RouteReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for name, rows in (("most_searched", report.most_searched), ("most_tracked", report.most_tracked)):
        for rank, stats in enumerate(rows, start=1):
            writer.writerow(
                (
                    name,
                    rank,
                    stats.route,
                    stats.searches,
                    stats.trackers,
                    stats.currency or "",
                    _money(stats.latest_price),
                    _money(stats.min_price),
                    _money(stats.max_price),
                )
            )
    return buffer.getvalue()


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else str(amount.quantize(Decimal("0.01")))
