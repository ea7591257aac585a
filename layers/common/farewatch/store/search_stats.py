"""Search statistics (SearchStatsTable): searches per UTC day and route, counted atomically, with the
fare query searched last (so the statistics can show prices of routes nobody tracks)."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.expressions.update import Action

from farewatch.clock import utc_datetime
from farewatch.store.models import RouteSearchCount


@dataclass(frozen=True)
class DaySearches:
    """One route's searches on one UTC day, and the fare query searched last (None if unknown)."""

    route: str
    searches: int
    last_fare_query: str | None = None


class SearchStatsStore:
    def count_search(self, route: str, *, at: float, fare_query: str | None = None) -> None:
        day = utc_datetime(at).strftime("%Y-%m-%d")
        actions: list[Action] = [RouteSearchCount.searches.add(1)]
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
