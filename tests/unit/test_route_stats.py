"""Route statistics from counts and histories (no AWS): ranking, window, prices, CSV."""

from __future__ import annotations

from decimal import Decimal

from farewatch.clock import ManualClock
from farewatch.store.history import Observation
from farewatch.store.search_stats import DaySearches
from farewatch.tracking.stats import WatchedCount, report_csv, route_report

NOW = ManualClock().now()  # 2027-01-15


class Searches:
    """Searches per day and route; a value may be (count, fare query searched last)."""

    def __init__(self, by_day: dict[str, dict[str, int | tuple[int, str]]]) -> None:
        self.by_day = by_day

    def searched_on(self, day: str) -> list[DaySearches]:
        rows = []
        for route, value in self.by_day.get(day, {}).items():
            count, fare_query = value if isinstance(value, tuple) else (value, None)
            rows.append(DaySearches(route, count, fare_query))
        return rows


class History:
    def __init__(self, series: dict[str, list[tuple[str, str, str]]]) -> None:
        self.series = series

    def observations(self, series: str) -> list[Observation]:
        return [
            Observation(at, Decimal(amount), currency, "sim")
            for at, amount, currency in self.series.get(series, [])
        ]


def report(days: int = 7, limit: int = 20, watched=(), history=None, searches=None):
    return route_report(
        now=NOW,
        days=days,
        limit=limit,
        searches=Searches(searches or {}),
        watched=list(watched),
        history=History(history or {}),
    )


def test_searches_are_summed_over_the_window_only():
    searches = {
        "2027-01-15": {"JFK-LAX": 2},
        "2027-01-09": {"JFK-LAX": 1, "BOS-MIA": 5},
        "2027-01-08": {"BOS-MIA": 9},
    }

    rows = report(days=7, searches=searches).most_searched

    assert [(row.route, row.searches) for row in rows] == [("BOS-MIA", 5), ("JFK-LAX", 3)]


def test_most_tracked_sums_the_dates_of_a_route_and_takes_prices_in_the_window():
    watched = [WatchedCount("JFK#LAX#2027-02-01#1#USD", 3), WatchedCount("JFK#LAX#2027-02-02#1#USD", 1)]
    history = {
        "JFK#LAX#2027-02-01#1#USD": [
            ("2027-01-01T00:00:00.000000Z", "90", "USD"),
            ("2027-01-14T00:00:00.000000Z", "300", "USD"),
        ],
        "JFK#LAX#2027-02-02#1#USD": [("2027-01-15T01:00:00.000000Z", "250", "USD")],
    }

    (row,) = report(watched=watched, history=history).most_tracked

    assert (row.route, row.trackers, row.currency) == ("JFK-LAX", 4, "USD")
    assert (row.latest_price, row.min_price, row.max_price) == (
        Decimal("250"),
        Decimal("250"),
        Decimal("300"),
    )


def test_a_searched_route_nobody_tracks_is_priced_from_the_fare_queries_searched_last():
    searches = {
        "2027-01-15": {"BOS-MIA": (2, "BOS#MIA#2027-03-01#1#EUR")},
        "2027-01-14": {"BOS-MIA": (4, "BOS#MIA#2027-03-02#1#EUR")},
        "2027-01-13": {"BOS-MIA": (1, "BOS#MIA#2027-03-02#2#USD")},
    }
    history = {
        "BOS#MIA#2027-03-01#1#EUR": [("2027-01-15T09:00:00.000000Z", "120", "EUR")],
        "BOS#MIA#2027-03-02#1#EUR": [
            ("2027-01-14T09:00:00.000000Z", "140", "EUR"),
            ("2027-01-14T10:00:00.000000Z", "110", "EUR"),
        ],
        "BOS#MIA#2027-03-02#2#USD": [("2027-01-13T09:00:00.000000Z", "999", "USD")],
    }

    (row,) = report(searches=searches, history=history).most_searched

    assert (row.route, row.searches, row.trackers, row.currency) == ("BOS-MIA", 7, 0, "EUR")
    assert (row.latest_price, row.min_price, row.max_price) == (
        Decimal("120"),
        Decimal("110"),
        Decimal("140"),
    )


def test_limit_cuts_each_list():
    searches = {"2027-01-15": {"A-B": 3, "C-D": 2, "E-F": 1}}

    assert [row.route for row in report(limit=2, searches=searches).most_searched] == ["A-B", "C-D"]


def test_csv_has_a_header_and_one_line_per_row():
    text = report_csv(report(searches={"2027-01-15": {"JFK-LAX": 2}}))

    assert text.splitlines() == [
        "list,rank,route,searches,trackers,currency,latest_price,min_price,max_price",
        "most_searched,1,JFK-LAX,2,0,,,,",
    ]
