"""Search statistics (SearchStatsTable): searches per UTC day and route, counted atomically, with the
fare query searched last (so the statistics can show prices of routes nobody tracks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.expressions.update import Action

from farewatch.clock import utc_datetime
from farewatch.settings import get_settings
from farewatch.store.models import RouteSearchCount


@dataclass(frozen=True)
class DaySearches:
    """One route's searches on one UTC day, and the fare query searched last (None if unknown)."""

    route: str
    searches: int
    last_fare_query: str | None = None


class SearchStatsStore:
    def __init__(self, retention_days: int | None = None) -> None:
        days = get_settings().search_stats_retention_days if retention_days is None else retention_days
        self._retention = timedelta(days=days)

    def count_search(self, route: str, *, at: float, fare_query: str | None = None) -> None:
        searched = utc_datetime(at).date()
        day = searched.isoformat()
        # The whole day's count is kept for the retention period after the day ends.
        end_of_day = datetime(searched.year, searched.month, searched.day, tzinfo=UTC) + timedelta(days=1)
        actions: list[Action] = [
            RouteSearchCount.searches.add(1),
            RouteSearchCount.purge_at.set(end_of_day + self._retention),
        ]
        if fare_query is not None:
            actions.append(RouteSearchCount.last_fare_query.set(fare_query))
        RouteSearchCount(day, route).update(actions=actions)

    def searches_on(self, day: str) -> dict[str, int]:
        return {count.route: count.searches for count in self.searched_on(day)}

    def searched_on(self, day: str) -> list[DaySearches]:
        return [
            DaySearches(item.route, int(item.searches), item.last_fare_query)
            for item in RouteSearchCount.query(day)
        ]
