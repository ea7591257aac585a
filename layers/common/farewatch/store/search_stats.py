"""Search statistics (SearchStatsTable): searches per UTC day and route, counted atomically, with the
fare query searched last (so the statistics can show prices of routes nobody tracks).

`SearchStatsStore.count_search` is one atomic ADD; `BatchedSearchCounter` sums a container's searches
in memory and writes one ADD per (day, route) every `flush_seconds` and at shutdown, so a request
costs no write of its own.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger
from pynamodb.expressions.update import Action

from farewatch.clock import Clock, utc_datetime
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

    def count_search(
        self, route: str, *, at: float, fare_query: str | None = None, searches: int = 1
    ) -> None:
        """Add `searches` to the route's count for the UTC day of `at` (one UpdateItem)."""
        searched = utc_datetime(at).date()
        day = searched.isoformat()
        # The whole day's count is kept for the retention period after the day ends.
        end_of_day = datetime(searched.year, searched.month, searched.day, tzinfo=UTC) + timedelta(days=1)
        actions: list[Action] = [
            RouteSearchCount.searches.add(searches),
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


logger = Logger(child=True)


class BatchedSearchCounter:
    """A container's searches, summed in memory and written as one ADD per (day, route) in batches.

    A count is written at once when the container wrote none in the last `flush_seconds` (so a quiet
    route is counted as it is searched); the counts that follow within `flush_seconds` are summed and
    written by the first count after that, by the background timer (`flush_in_background`), or by
    `flush()`, which the composition root runs at shutdown (interpreter exit, SIGTERM). So a
    container writes at most one batch per `flush_seconds` whatever its traffic, a normal shutdown
    loses nothing, and a container killed without one loses at most the counts of its last
    `flush_seconds` of requests. A failed write keeps its counts for the next batch. With
    `flush_seconds` 0 every count is written at once.
    """

    def __init__(
        self,
        store: SearchStatsStore,
        clock: Clock,
        *,
        flush_seconds: float = 10.0,
        max_pending: int = 1000,
        flush_in_background: bool = False,
    ) -> None:
        self._store = store
        self._clock = clock
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        self._background = flush_in_background and flush_seconds > 0
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._pending: Counter[tuple[str, str]] = Counter()
        self._last: dict[tuple[str, str], tuple[float, str | None]] = {}
        self._flushed_at: float | None = None
        self._timer: threading.Timer | None = None

    def count_search(self, route: str, *, at: float, fare_query: str | None = None) -> None:
        key = (utc_datetime(at).date().isoformat(), route)
        with self._lock:
            self._pending[key] += 1
            previous_at, previous_query = self._last.get(key, (at, None))
            if at >= previous_at or key not in self._last:
                self._last[key] = (at, fare_query if fare_query is not None else previous_query)
            due = (
                self._flush_seconds <= 0
                or self._flushed_at is None
                or at - self._flushed_at >= self._flush_seconds
                or sum(self._pending.values()) >= self._max_pending
            )
            start_timer = not due and self._background and self._timer is None
            if start_timer:
                self._timer = threading.Timer(self._flush_seconds, self._flush_from_timer)
                self._timer.daemon = True
        if due:
            self.flush()
        elif start_timer and self._timer is not None:
            self._timer.start()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(self._pending.values())

    def discard(self) -> None:
        """Forget the unwritten counts and stop the timer, for a container whose table goes away
        before it does (an in-process test's moto): nothing is written anywhere later."""
        with self._lock:
            self._pending, self._last = Counter(), {}
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _flush_from_timer(self) -> None:
        with self._lock:
            self._timer = None
        self.flush()

    def flush(self) -> None:
        """Write every unwritten count (one UpdateItem per day and route); failures are kept."""
        with self._flushing:
            with self._lock:
                batch, last = self._pending, self._last
                self._pending, self._last = Counter(), {}
                self._flushed_at = self._clock.now()
            failed: Counter[tuple[str, str]] = Counter()
            for key, searches in batch.items():
                at, fare_query = last[key]
                try:
                    self._store.count_search(key[1], at=at, fare_query=fare_query, searches=searches)
                except Exception:  # statistics are never worth failing a traveller's request for
                    logger.warning("Could not write search statistics", extra={"route": key[1]})
                    failed[key] = searches
            if failed:
                with self._lock:
                    for key, searches in failed.items():
                        self._pending[key] += searches
                        self._last.setdefault(key, last[key])
