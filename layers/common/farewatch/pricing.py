"""Fares for a query, through the shared cache: one upstream search per key per window, fleet-wide.

The flow for one request:
1. count the search for the route's statistics (in the container's memory, written in batches);
2. a fresh entry this container checked within the last few seconds answers from memory (no DynamoDB
   call, see `fare_memory`), else a fresh cache entry answers after one GetItem (unless the caller
   forces a refresh);
3. otherwise take the key's lease and fetch, or, if someone else holds it, wait for their result;
4. when upstream fails, the last entry still in its stale window answers with `stale=True`.

The cache entry is keyed by the trip as the source searches it (`FareSource.upstream_query`): a
filter the source cannot apply upstream (Amadeus and "at most one stop") is applied here, to the
normalised offers of the shared entry, so trips that differ only in it cost one upstream search.

A forced refresh (`nocache`) reaches upstream at most once per `force_refresh_min_seconds` per key,
fleet-wide: inside that window it is answered by the entry just fetched, with `refreshed=False`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from aws_lambda_powertools import Logger

from farewatch import insight
from farewatch.clock import Clock, utc_datetime
from farewatch.errors import UpstreamError, UpstreamTimeout
from farewatch.fare_memory import FareMemory
from farewatch.fare_query import FareQuery
from farewatch.fares.source import FareSource
from farewatch.insight import Insight
from farewatch.offers import Offer, cheapest
from farewatch.store.fare_cache import CachedFares, FareCacheStore
from farewatch.store.history import ClassState, Observation, PriceHistoryStore, read_entry_and_class


class SearchCounter(Protocol):
    def count_search(self, route: str, *, at: float, fare_query: str | None = None) -> None: ...


logger = Logger(child=True)

NO_PRICE = Insight("unknown", None, None, 0, "No price to judge.")  # no offers: nothing to compare


@dataclass(frozen=True)
class CachePolicy:
    fresh_seconds: float = 600.0
    stale_retention_seconds: float = 72 * 3600.0
    lease_seconds: float = 25.0
    poll_interval_seconds: float = 0.1
    budget_seconds: float = 20.0
    force_refresh_min_seconds: float = 60.0


@dataclass(frozen=True)
class FareResult:
    query: FareQuery
    offers: list[Offer]
    source: str
    fetched_at: float
    fresh_until: float
    cached: bool
    stale: bool = False
    refreshed: bool | None = None  # for a forced refresh: whether it reached upstream

    @property
    def cheapest(self) -> Offer | None:
        return cheapest(self.offers)


@dataclass(frozen=True)
class CalendarDay:
    """One departure date of a fare calendar: `ok` (with its fares), `no_offers`, `not_fetched` (cold,
    and the request's fetch budget or time ran out) or `failed` (upstream failed; `error` its code)."""

    query: FareQuery
    result: FareResult | None
    status: str
    error: str | None = None

    @classmethod
    def of(cls, query: FareQuery, result: FareResult) -> CalendarDay:
        return cls(query, result, "ok" if result.cheapest is not None else "no_offers")


class Unread:
    """`FareService.fares(read=...)`'s default: the caller has not read the cache entry."""


UNREAD = Unread()


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

    @property
    def source(self) -> FareSource:
        """The source this service asks (booking links ask the same one)."""
        return self._source

    def warm_up(self) -> None:
        self._source.warm_up()

    def price_history(self, query: FareQuery) -> list[Observation]:
        """Every cheapest price fetched for the trip, oldest first (GET /flights/history)."""
        return self._history.observations(query.cache_key)

    def searched_as(self, query: FareQuery) -> FareQuery:
        """The trip as the source searches it: the identity of its cache entry."""
        return self._source.upstream_query(query)

    def cached(self, query: FareQuery) -> FareResult | None:
        """The fresh cached fares of a trip, or None: no upstream call, no search counted."""
        searched = self.searched_as(query)
        entry = self._cache.read(searched.cache_key)
        if entry is None or not entry.is_fresh(self._clock.now()):
            return None
        return self._narrowed(query, self._from_entry(searched, entry, cached=True))

    def cache_item_key(self, query: FareQuery) -> str:
        """The CacheTable key of the entry that answers `query`: for a caller that reads the entry
        along with its own items (the poller, `TrackingStore.poll_state`) and passes it as `read`."""
        return self._cache.item_key(self.searched_as(query).cache_key)

    def fares(
        self,
        query: FareQuery,
        *,
        force_refresh: bool = False,
        count_search: bool = True,
        budget_seconds: float | None = None,
        read: CachedFares | Unread | None = UNREAD,
    ) -> FareResult:
        """The fares of `query`. `read` is its cache entry (None: absent) when the caller has just
        read it along with other items: it stands for the GetItem a request starts with."""
        started = self._clock.now()
        if count_search:
            self._stats.count_search(query.route, at=started, fare_query=query.cache_key)
        searched = self.searched_as(query)
        entry = None
        if not force_refresh:
            remembered = self._memory.fresh(searched.cache_key, started) if self._memory else None
            if remembered is not None:
                self._metrics.record("FareCacheHit")
                return self._narrowed(query, self._from_entry(searched, remembered, cached=True))
            entry = self._cache.read(searched.cache_key) if isinstance(read, Unread) else read
            if entry is not None and entry.is_fresh(started):
                self._remember(searched.cache_key, entry, checked_at=started)
                self._metrics.record("FareCacheHit")
                return self._narrowed(query, self._from_entry(searched, entry, cached=True))
        else:
            entry = self._cache.read(searched.cache_key)
            if entry is not None and self._recently_fetched(entry, started):
                self._metrics.record("ForcedRefreshAbsorbed")
                return self._narrowed(query, self._from_entry(searched, entry, cached=True))
        self._metrics.record("FareCacheMiss")
        result = self._fetch_once(
            searched,
            started=started,
            force_refresh=force_refresh,
            last_seen=entry,
            budget_seconds=self._policy.budget_seconds if budget_seconds is None else budget_seconds,
        )
        return self._narrowed(query, result, record_history=not result.cached)

    def _recently_fetched(self, entry: CachedFares, now: float) -> bool:
        return (
            entry.has_offers
            and entry.fetched_at is not None
            and now - entry.fetched_at < self._policy.force_refresh_min_seconds
        )

    def _narrowed(self, query: FareQuery, result: FareResult, *, record_history: bool = False) -> FareResult:
        """The result for the trip asked for: the shared entry's offers it admits (its stop limit)."""
        narrowed = replace(
            result,
            query=query,
            offers=[offer for offer in result.offers if query.admits(offer.stops_per_direction)],
        )
        if record_history and query.cache_key != result.query.cache_key:
            self._observe(query, cheapest(narrowed.offers), result.fetched_at)  # its own series
        return narrowed

    def _observe(self, query: FareQuery, best: Offer | None, fetched_at: float) -> None:
        """A fetched cheapest price: into the trip's history and its insight class."""
        if best is None:
            return
        klass = insight.comparable_class(query, utc_datetime(fetched_at).date())
        token = self._history.append_with_class(
            query.cache_key,
            klass,
            amount=best.price,
            currency=best.currency,
            source=self._source.name,
            observed_at=fetched_at,
        )
        if self._memory is not None:  # this container's own observation always counts
            self._memory.forget_comparables(klass, stale_token=token, at=fetched_at)

    def insight(self, query: FareQuery, price: Decimal | None) -> insight.Insight:
        """How `price` compares with Farewatch's own comparable observations: one Query, or none when
        the memory tier read the class less than its bound ago (`fare_memory`)."""
        now = self._clock.now()
        today = utc_datetime(now).date()
        if price is None:
            return NO_PRICE
        klass = insight.comparable_class(query, today)
        comparable = self._memory.comparables(klass, now) if self._memory is not None else None
        if comparable is None:
            comparable = self._history.comparable_amounts(klass, since=now - insight.WINDOW_DAYS * 86400)
            if self._memory is not None:
                self._memory.keep_comparables(klass, comparable, checked_at=now)
        return insight.judge(price, comparable, query, today)

    def priced(self, query: FareQuery, *, force_refresh: bool = False) -> tuple[FareResult, Insight]:
        """`fares` and the `insight` of their cheapest price (GET /flights/price).

        A hit costs no DynamoDB call when this container checked both the entry and the class within
        the memory bound. Otherwise it reads the entry with the class's mark and snapshot in one
        BatchGetItem (or only what memory lacks), and that is all while the snapshot answers. When it
        does not (the class has a newer observation, or the snapshot is older than its age limit),
        the reader runs the Query and writes a new snapshot (two calls more). A fetch made here
        writes the snapshot itself, so the next container's first hit finds it answering; a fetch
        made elsewhere (search, calendar, poller) leaves that to its class's next reader.
        """
        started = self._clock.now()
        read_class = insight.comparable_class(query, utc_datetime(started).date())
        read: CachedFares | Unread | None = UNREAD
        state: ClassState | None = None
        memory = self._memory
        if not force_refresh and (
            memory is None
            or (
                memory.comparables(read_class, started) is None
                and memory.fresh(self.searched_as(query).cache_key, started) is None
            )
        ):
            read, state = read_entry_and_class(self.cache_item_key(query), read_class)
        result = self.fares(query, force_refresh=force_refresh, read=read)
        if result.cheapest is None:
            return result, NO_PRICE
        today = utc_datetime(self._clock.now()).date()
        klass = insight.comparable_class(query, today)
        # What was read with the entry judges only the hit that entry itself answered: any fetch
        # since (ours, or another container's that this one waited for) added an observation.
        answered_by_read = (
            isinstance(read, CachedFares)
            and result.cached
            and not result.stale
            and result.fetched_at == read.fetched_at
            and klass == read_class
        )
        comparable = self._comparable(klass, state if answered_by_read else None, read_at=started)
        return result, insight.judge(result.cheapest.price, comparable, query, today)

    def _comparable(self, klass: str, state: ClassState | None, *, read_at: float) -> list[Decimal]:
        """The class's amounts for `priced`: from memory, the snapshot read with the entry (`state`),
        a rebuild right after this container's own fetch, or the class read now."""
        now = self._clock.now()
        memory = self._memory
        kept = memory.comparables(klass, now) if memory is not None else None
        if kept is not None:
            return kept
        since = now - insight.WINDOW_DAYS * 86400
        own_mark = memory.stale_token(klass, now) if memory is not None else None
        amounts: list[Decimal] | None = None
        if own_mark is None:
            if state is None:
                state, read_at = self._history.class_state(klass), now
            amounts = state.amounts(since=since, now=now)
        if amounts is None:
            mark = own_mark if own_mark is not None else state.mark if state is not None else None
            amounts, read_at = self._history.rebuild(klass, since=since, mark=mark, now=now), now
        if memory is not None:
            memory.keep_comparables(klass, amounts, checked_at=read_at)
        return amounts

    # -- the fare calendar ---------------------------------------------------------------------

    def calendar(
        self, queries: Sequence[FareQuery], *, max_fetches: int, budget_seconds: float
    ) -> list[CalendarDay]:
        """The fares of each trip (one per departure date): cached ones as they are, cold ones fetched
        one after another, nearest first, while fewer than `max_fetches` were made (the upstream's
        rate) and `budget_seconds` remain. A trip not fetched in time, or whose fetch failed, says so
        in its day; it never fails the others."""
        started = self._clock.now()
        days: dict[int, CalendarDay] = {}
        cold: list[int] = []
        for index, query in enumerate(queries):
            hit = self.cached(query)
            if hit is None:
                cold.append(index)
            else:
                days[index] = CalendarDay.of(query, hit)
        fetches = 0
        for index in cold:
            query, remaining = queries[index], started + budget_seconds - self._clock.now()
            if fetches >= max_fetches or remaining <= self._policy.poll_interval_seconds:
                days[index] = CalendarDay(query, None, "not_fetched")
                continue
            fetches += 1
            try:
                days[index] = CalendarDay.of(
                    query, self.fares(query, count_search=False, budget_seconds=remaining)
                )
            except UpstreamError as error:
                days[index] = CalendarDay(query, None, "failed", error.code)
        return [days[index] for index in range(len(queries))]

    # -- single flight ---------------------------------------------------------------------------

    def _fetch_once(
        self,
        query: FareQuery,
        *,
        started: float,
        force_refresh: bool,
        last_seen: CachedFares | None,
        budget_seconds: float,
    ) -> FareResult:
        owner = uuid.uuid4().hex
        deadline = started + budget_seconds
        key = query.cache_key
        while True:
            now = self._clock.now()
            # A forced refresh wants a fetch no older than the refresh limit; a miss any fresh entry.
            fetched_after = (
                started - self._policy.force_refresh_min_seconds
                if force_refresh
                else now - self._policy.fresh_seconds
            )
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
                        entry.fetched_at > started - self._policy.force_refresh_min_seconds
                        if force_refresh
                        else entry.is_fresh(self._clock.now())
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
        self._observe(query, cheapest(offers), fetched_at)
        return FareResult(
            query, offers, self._source.name, fetched_at, fresh_until, cached=False, refreshed=True
        )

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
            refreshed=False,
        )
