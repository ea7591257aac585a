"""Fares for a query, through the shared cache: one upstream search per key per window, fleet-wide.

The flow for one request:
1. count the search for the route's statistics (in the container's memory, written in batches);
2. a fresh entry this container checked within the last few seconds answers from memory (no DynamoDB
   call, see `fare_memory`), else a fresh cache entry answers after one GetItem (unless the caller
   forces a refresh);
3. otherwise take the key's lease and fetch, or, if someone else holds it, wait for their result;
4. when upstream fails, the last entry still in its stale window answers with `stale=True`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools import Logger

from farewatch.clock import Clock
from farewatch.errors import UpstreamError, UpstreamTimeout
from farewatch.fare_memory import FareMemory
from farewatch.fare_query import FareQuery
from farewatch.fares.source import FareSource
from farewatch.offers import Offer, cheapest
from farewatch.store.fare_cache import CachedFares, FareCacheStore
from farewatch.store.history import Observation, PriceHistoryStore


class SearchCounter(Protocol):
    def count_search(self, route: str, *, at: float, fare_query: str | None = None) -> None: ...


logger = Logger(child=True)


@dataclass(frozen=True)
class CachePolicy:
    fresh_seconds: float = 600.0
    stale_retention_seconds: float = 72 * 3600.0
    lease_seconds: float = 25.0
    poll_interval_seconds: float = 0.1
    budget_seconds: float = 20.0


@dataclass(frozen=True)
class FareResult:
    query: FareQuery
    offers: list[Offer]
    source: str
    fetched_at: float
    fresh_until: float
    cached: bool
    stale: bool = False

    @property
    def cheapest(self) -> Offer | None:
        return cheapest(self.offers)


class FareMetrics(Protocol):
    def record(self, name: str) -> None: ...


class _NoMetrics:
    def record(self, name: str) -> None:
        return None


class FareService:
    def __init__(
        self,
        *,
        source: FareSource,
        cache: FareCacheStore,
        history: PriceHistoryStore,
        stats: SearchCounter,
        clock: Clock,
        policy: CachePolicy,
        metrics: FareMetrics | None = None,
        memory: FareMemory | None = None,
    ) -> None:
        self._source = source
        self._cache = cache
        self._history = history
        self._stats = stats
        self._clock = clock
        self._policy = policy
        self._metrics = metrics or _NoMetrics()
        self._memory = memory

    @property
    def source_name(self) -> str:
        return self._source.name

    def warm_up(self) -> None:
        self._source.warm_up()

    def price_history(self, query: FareQuery) -> list[Observation]:
        """Every cheapest price fetched for the query, oldest first (GET /flights/history)."""
        return self._history.observations(query.cache_key)

    def fares(
        self, query: FareQuery, *, force_refresh: bool = False, count_search: bool = True
    ) -> FareResult:
        started = self._clock.now()
        if count_search:
            self._stats.count_search(query.route, at=started, fare_query=query.cache_key)
        entry = None
        if not force_refresh:
            remembered = self._memory.fresh(query.cache_key, started) if self._memory else None
            if remembered is not None:
                self._metrics.record("FareCacheHit")
                return self._from_entry(query, remembered, cached=True)
            entry = self._cache.read(query.cache_key)
            if entry is not None and entry.is_fresh(started):
                self._remember(query.cache_key, entry, checked_at=started)
                self._metrics.record("FareCacheHit")
                return self._from_entry(query, entry, cached=True)
        self._metrics.record("FareCacheMiss")
        return self._fetch_once(query, started=started, force_refresh=force_refresh, last_seen=entry)

    # -- single flight ---------------------------------------------------------------------------

    def _fetch_once(
        self, query: FareQuery, *, started: float, force_refresh: bool, last_seen: CachedFares | None
    ) -> FareResult:
        owner = uuid.uuid4().hex
        deadline = started + self._policy.budget_seconds
        key = query.cache_key
        while True:
            now = self._clock.now()
            # A forced refresh wants a fetch that started after it; a miss wants any fresh entry.
            fetched_after = started if force_refresh else now - self._policy.fresh_seconds
            if self._cache.try_lease(
                key,
                owner=owner,
                now=now,
                until=now + self._policy.lease_seconds,
                unless_fetched_after=fetched_after,
            ):
                return self._fetch_as_lease_holder(query, owner=owner, deadline=deadline, last_seen=last_seen)
            # Someone else is fetching this key: wait for their answer instead of asking upstream too.
            while True:
                if self._clock.now() + self._policy.poll_interval_seconds >= deadline:
                    return self._stale_or_raise(
                        query,
                        last_seen,
                        UpstreamTimeout("The fare source did not answer in time; please retry."),
                    )
                self._clock.sleep(self._policy.poll_interval_seconds)
                checked_at = self._clock.now()
                entry = self._cache.read(key, consistent=True)
                if entry is None:
                    break
                last_seen = entry if entry.has_offers else last_seen
                if entry.has_offers and entry.fetched_at is not None:
                    answered = (
                        entry.fetched_at > started if force_refresh else entry.is_fresh(self._clock.now())
                    )
                    if answered:
                        self._remember(key, entry, checked_at=checked_at)
                        return self._from_entry(query, entry, cached=True)
                if entry.failed_at is not None and entry.failed_at >= started:
                    return self._stale_or_raise(
                        query, entry, UpstreamError("The fare source failed; please retry shortly.")
                    )
                if entry.lease_free(self._clock.now()):
                    break  # the holder vanished without an answer: try to take over

    def _fetch_as_lease_holder(
        self, query: FareQuery, *, owner: str, deadline: float, last_seen: CachedFares | None
    ) -> FareResult:
        key = query.cache_key
        try:
            self._metrics.record("UpstreamSearch")
            offers = self._source.search(query, deadline=deadline)
        except UpstreamError as error:
            self._cache.release_after_failure(key, owner=owner, failed_at=self._clock.now())
            if last_seen is None or not last_seen.has_offers:
                last_seen = self._cache.read(key, consistent=True)
            return self._stale_or_raise(query, last_seen, error)
        except Exception:
            self._cache.release_after_failure(key, owner=owner, failed_at=self._clock.now())
            raise
        fetched_at = self._clock.now()
        fresh_until = fetched_at + self._policy.fresh_seconds
        purge_at = fresh_until + self._policy.stale_retention_seconds
        self._cache.write(
            key,
            offers,
            source=self._source.name,
            fetched_at=fetched_at,
            fresh_until=fresh_until,
            purge_at=purge_at,
        )
        self._remember(
            key,
            CachedFares(offers, self._source.name, fetched_at, fresh_until, purge_at, None, None, None),
            checked_at=fetched_at,
        )
        best = cheapest(offers)
        if best is not None:
            self._history.append(
                query.cache_key,
                amount=best.price,
                currency=best.currency,
                source=self._source.name,
                observed_at=fetched_at,
            )
        return FareResult(query, offers, self._source.name, fetched_at, fresh_until, cached=False)

    def _remember(self, cache_key: str, entry: CachedFares, *, checked_at: float) -> None:
        if self._memory is not None:
            self._memory.keep(cache_key, entry, checked_at=checked_at)

    def _stale_or_raise(
        self, query: FareQuery, entry: CachedFares | None, error: UpstreamError
    ) -> FareResult:
        if entry is not None and entry.is_servable_stale(self._clock.now()):
            logger.warning(
                "Fare source failed; serving the last known fares",
                extra={"route": query.route, "error_code": error.code},
            )
            self._metrics.record("StaleServed")
            # Upstream failed: whatever its age, this is not the answer that was asked for.
            return self._from_entry(query, entry, cached=True, stale=True)
        raise error

    def _from_entry(
        self, query: FareQuery, entry: CachedFares, *, cached: bool, stale: bool = False
    ) -> FareResult:
        assert entry.offers is not None and entry.fetched_at is not None
        return FareResult(
            query,
            entry.offers,
            entry.source or self._source.name,
            entry.fetched_at,
            entry.fresh_until or entry.fetched_at,
            cached=cached,
            stale=stale,
        )
