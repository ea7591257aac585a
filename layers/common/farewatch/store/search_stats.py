"""Search statistics (SearchStatsTable): searches per UTC day and route, counted atomically."""

from __future__ import annotations

from farewatch.clock import utc_datetime
from farewatch.store.models import RouteSearchCount


class SearchStatsStore:
    def count_search(self, route: str, *, at: float) -> None:
        day = utc_datetime(at).strftime("%Y-%m-%d")
        RouteSearchCount(day, route).update(actions=[RouteSearchCount.searches.add(1)])

    def searches_on(self, day: str) -> dict[str, int]:
        return {item.route: int(item.searches) for item in RouteSearchCount.query(day)}
