"""The fare cache in front of the fare source: hits, misses, refreshes, stale answers, single flight."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest

from farewatch.clock import ManualClock, SystemClock
from farewatch.errors import UpstreamError, UpstreamTimeout
from farewatch.fare_query import FareQuery
from farewatch.offers import Leg
from farewatch.pricing import CachePolicy, FareService
from farewatch.store.fare_cache import FareCacheStore
from farewatch.store.history import PriceHistoryStore
from farewatch.store.search_stats import SearchStatsStore
from tests.support.offers import fare_query, offer


class ScriptedSource:
    """A fare source that answers from a script and counts the searches it was asked for."""

    name = "scripted"

    def __init__(self, *answers, delay: float = 0.0) -> None:
        self.answers = list(answers) or [[offer("300.00", id="a"), offer("250.00", id="b")]]
        self.searches = 0
        self.delay = delay
        self._lock = threading.Lock()

    def search(self, query, *, deadline):
        with self._lock:
            self.searches += 1
            answer = self.answers[min(self.searches, len(self.answers)) - 1]
        if self.delay:
            time.sleep(self.delay)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def upstream_query(self, query):
        """Like Amadeus: "nonstop" is searched upstream, any other stop limit filtered after."""
        return query if query.max_stops in (None, 0) else query.model_copy(update={"max_stops": None})

    def warm_up(self) -> None:
        return None


def service(source, clock, **policy) -> FareService:
    return FareService(
        source=source,
        cache=FareCacheStore(),
        history=PriceHistoryStore(),
        stats=SearchStatsStore(),
        clock=clock,
        policy=CachePolicy(**{"fresh_seconds": 600, "stale_retention_seconds": 3600, **policy}),
    )


def test_first_request_fetches_and_computes_the_cheapest(aws):
    source = ScriptedSource()

    result = service(source, ManualClock()).fares(fare_query())

    assert result.cached is False
    assert result.cheapest is not None and result.cheapest.price == Decimal("250.00")
    assert source.searches == 1


def test_second_identical_request_is_a_cache_hit_without_upstream_call(aws):
    source, clock = ScriptedSource(), ManualClock()
    fares = service(source, clock)
    first = fares.fares(fare_query())
    clock.advance(599)

    second = fares.fares(fare_query())

    assert second.cached is True and second.stale is False
    assert second.fetched_at == first.fetched_at
    assert source.searches == 1


def test_an_entry_older_than_the_ttl_is_fetched_again(aws):
    source, clock = ScriptedSource([offer("250.00")], [offer("240.00")]), ManualClock()
    fares = service(source, clock)
    fares.fares(fare_query())
    clock.advance(600)

    result = fares.fares(fare_query())

    assert result.cached is False
    assert result.cheapest is not None and result.cheapest.price == Decimal("240.00")
    assert source.searches == 2


def test_force_refresh_makes_one_upstream_call_and_refreshes_the_cache(aws):
    source, clock = ScriptedSource([offer("250.00")], [offer("199.00")]), ManualClock()
    fares = service(source, clock)
    fares.fares(fare_query())
    clock.advance(61)  # past FORCE_REFRESH_MIN_SECONDS (60)

    forced = fares.fares(fare_query(), force_refresh=True)
    after = fares.fares(fare_query())

    assert forced.cached is False and forced.cheapest is not None
    assert forced.cheapest.price == Decimal("199.00")
    assert after.cached is True and after.cheapest is not None and after.cheapest.price == Decimal("199.00")
    assert source.searches == 2


def test_other_keys_do_not_share_an_entry(aws):
    source = ScriptedSource()
    fares = service(source, ManualClock())

    fares.fares(fare_query(day="2027-01-15"))
    fares.fares(fare_query(day="2027-01-16"))
    fares.fares(fare_query(origin="EWR"))

    assert source.searches == 3


def test_no_offers_is_cached_too(aws):
    source = ScriptedSource([])
    fares = service(source, ManualClock())

    first = fares.fares(fare_query())
    second = fares.fares(fare_query())

    assert first.cheapest is None and second.cheapest is None
    assert second.cached is True
    assert source.searches == 1


def test_upstream_failure_on_a_known_key_serves_the_last_fares_flagged_stale(aws):
    source, clock = ScriptedSource([offer("250.00")], UpstreamError("boom")), ManualClock()
    fares = service(source, clock)
    fares.fares(fare_query())
    clock.advance(601)

    result = fares.fares(fare_query())

    assert result.stale is True and result.cached is True
    assert result.cheapest is not None and result.cheapest.price == Decimal("250.00")


def test_upstream_failure_during_a_forced_refresh_serves_the_last_fares_flagged_stale(aws):
    source, clock = ScriptedSource([offer("250.00")], UpstreamError("boom")), ManualClock()
    fares = service(source, clock)
    fares.fares(fare_query())
    clock.advance(61)

    result = fares.fares(fare_query(), force_refresh=True)

    assert result.stale is True and result.cached is True


def test_upstream_failure_on_a_cold_key_raises_the_upstream_error(aws):
    fares = service(ScriptedSource(UpstreamTimeout("slow")), ManualClock())

    with pytest.raises(UpstreamTimeout):
        fares.fares(fare_query())


def test_stale_fares_are_not_served_after_the_retention_window(aws):
    source, clock = ScriptedSource([offer("250.00")], UpstreamError("boom")), ManualClock()
    fares = service(source, clock)
    fares.fares(fare_query())
    clock.advance(600 + 3600)

    with pytest.raises(UpstreamError):
        fares.fares(fare_query())


def test_a_failed_fetch_releases_the_key_so_the_next_request_can_fetch(aws):
    source, clock = ScriptedSource(UpstreamError("boom"), [offer("250.00")]), ManualClock()
    fares = service(source, clock)
    with pytest.raises(UpstreamError):
        fares.fares(fare_query())

    result = fares.fares(fare_query())

    assert result.cheapest is not None and source.searches == 2


def test_every_request_hit_or_miss_counts_toward_the_route_statistics(aws):
    clock = ManualClock()
    fares = service(ScriptedSource(), clock)

    for _ in range(3):
        fares.fares(fare_query())
    fares.fares(fare_query(origin="EWR"))

    day = time.strftime("%Y-%m-%d", time.gmtime(clock.now()))
    assert SearchStatsStore().searches_on(day) == {"JFK-LAX": 3, "EWR-LAX": 1}


def test_every_fetched_price_is_appended_to_the_history(aws):
    source = ScriptedSource([offer("250.00")], [offer("240.00")], [offer("260.00")])
    clock = ManualClock()
    fares = service(source, clock)

    for _ in range(3):
        fares.fares(fare_query(), force_refresh=True)
        clock.advance(61)
    fares.fares(fare_query())  # a hit adds nothing

    rows = PriceHistoryStore().observations(fare_query().cache_key)
    assert [row.amount for row in rows] == [Decimal("250.00"), Decimal("240.00"), Decimal("260.00")]


def test_concurrent_cold_requests_on_one_key_make_one_upstream_search(aws, atomic_dynamodb):
    source = ScriptedSource(delay=0.2)
    fares = service(source, SystemClock(), poll_interval_seconds=0.01, budget_seconds=10)
    results = []

    def ask() -> None:
        results.append(fares.fares(fare_query()))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert source.searches == 1
    assert len(results) == 16
    assert {result.cheapest.price for result in results if result.cheapest} == {Decimal("250.00")}


def test_concurrent_forced_refreshes_share_one_upstream_search(aws, atomic_dynamodb):
    source = ScriptedSource(delay=0.2)
    fares = service(source, SystemClock(), poll_interval_seconds=0.01, budget_seconds=10)
    threads = [
        threading.Thread(target=fares.fares, args=(fare_query(),), kwargs={"force_refresh": True})
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Every forced request started before the one fetch finished, so that fetch answers them all.
    assert source.searches == 1


# -- forced refreshes cannot run up the bill (issue 15) -------------------------------------------


def test_twenty_forced_refreshes_of_one_key_within_a_minute_cost_one_upstream_search(aws):
    source, clock = ScriptedSource([offer("250.00")], [offer("199.00")]), ManualClock()
    fares = service(source, clock)

    answers = []
    for _ in range(20):
        answers.append(fares.fares(fare_query(), force_refresh=True))
        clock.advance(2.9)  # 20 requests over 58 s

    assert source.searches == 1
    assert answers[0].refreshed is True and answers[0].cached is False
    assert all(answer.refreshed is False and answer.cached for answer in answers[1:])
    assert {answer.fetched_at for answer in answers} == {answers[0].fetched_at}  # the entry just fetched


def test_a_forced_refresh_after_the_limit_reaches_upstream_again(aws):
    source, clock = ScriptedSource([offer("250.00")], [offer("199.00")]), ManualClock()
    fares = service(source, clock, force_refresh_min_seconds=60)
    fares.fares(fare_query())
    clock.advance(59)
    held = fares.fares(fare_query(), force_refresh=True)
    clock.advance(1)

    again = fares.fares(fare_query(), force_refresh=True)

    assert held.refreshed is False and held.cheapest is not None and held.cheapest.price == Decimal("250.00")
    assert (
        again.refreshed is True and again.cheapest is not None and again.cheapest.price == Decimal("199.00")
    )
    assert source.searches == 2


# -- the trip's shape in the cache key (issue 15) -------------------------------------------------


def trip(**shape) -> FareQuery:
    return fare_query().model_copy(update=shape)


def test_every_trip_dimension_that_changes_the_upstream_answer_has_its_own_search(aws):
    source = ScriptedSource()
    fares = service(source, ManualClock())
    trips = [
        trip(),
        trip(return_date=dt.date(2027, 1, 22)),
        trip(return_date=dt.date(2027, 1, 23)),
        trip(cabin="business"),
        trip(cabin="business", return_date=dt.date(2027, 1, 22)),
        trip(max_stops=0),
        trip(adults=2),
        trip(currency="EUR"),
        trip(departure_date=dt.date(2027, 1, 16)),
    ]

    for shape in trips:
        fares.fares(shape)
    for shape in trips:  # each is now a cache hit
        assert fares.fares(shape).cached is True

    assert source.searches == len(trips)
    assert len({shape.cache_key for shape in trips}) == len(trips)


def test_stop_limits_the_source_cannot_search_share_one_upstream_search(aws):
    source = ScriptedSource()
    fares = service(source, ManualClock())

    for stops in (None, 1, 2):
        fares.fares(trip(max_stops=stops))

    assert source.searches == 1
    assert fares.searched_as(trip(max_stops=1)).cache_key == trip().cache_key


def test_a_stop_limit_the_source_lacks_is_applied_to_the_normalised_offers(aws):
    shared = [offer("180.00", id="two", stops=2), offer("240.00", id="one", stops=1), offer("300.00", id="n")]
    fares = service(ScriptedSource(shared), ManualClock())

    anything = fares.fares(trip())
    one_stop = fares.fares(trip(max_stops=1))

    assert [o.id for o in anything.offers] == ["two", "one", "n"]
    assert [o.id for o in one_stop.offers] == ["one", "n"]
    assert one_stop.cheapest is not None and one_stop.cheapest.price == Decimal("240.00")
    assert one_stop.query == trip(max_stops=1)


def test_a_filtered_trip_keeps_a_history_of_its_own_cheapest_price(aws):
    shared = [offer("180.00", id="two", stops=2), offer("240.00", id="one", stops=1)]
    fares = service(ScriptedSource(shared), ManualClock())

    fares.fares(trip(max_stops=1))

    assert [row.amount for row in fares.price_history(trip(max_stops=1))] == [Decimal("240.00")]
    assert [row.amount for row in fares.price_history(trip())] == [Decimal("180.00")]


def test_a_round_trip_offer_is_held_to_the_stop_limit_in_both_directions(aws):
    back = Leg(
        flight_numbers=["AA1", "AA2"],
        stops=1,
        departure_at="2027-01-22T08:00:00",
        arrival_at="2027-01-22T18:00:00",
        origin="LAX",
        destination="JFK",
        duration_minutes=420,
    )
    round_trip = offer("400.00", id="rt").model_copy(update={"inbound": back})
    fares = service(ScriptedSource([round_trip]), ManualClock())

    nonstop = fares.fares(trip(return_date=dt.date(2027, 1, 22), max_stops=0))
    one_stop = fares.fares(trip(return_date=dt.date(2027, 1, 22), max_stops=1))

    assert nonstop.offers == [] and [o.id for o in one_stop.offers] == ["rt"]


def test_a_hit_from_memory_judges_its_price_without_a_dynamodb_call_and_sees_others_within_the_bound(aws):
    from bench.dynamo_calls import DynamoCallCounter
    from farewatch.fare_memory import FareMemory
    from farewatch.store.search_stats import BatchedSearchCounter

    clock = ManualClock(start=time.time())
    query = fare_query()

    def container(source: ScriptedSource) -> FareService:
        return FareService(
            source=source,
            cache=FareCacheStore(),
            history=PriceHistoryStore(),
            stats=BatchedSearchCounter(SearchStatsStore(), clock, flush_seconds=60),  # as composition's
            clock=clock,
            policy=CachePolicy(fresh_seconds=600, stale_retention_seconds=3600, force_refresh_min_seconds=0),
            memory=FareMemory(recheck_seconds=5),
        )

    hot, other = container(ScriptedSource()), container(ScriptedSource([offer("240.00")], [offer("230.00")]))
    first = hot.fares(query)
    assert hot.insight(query, first.cheapest.price).observations == 1  # its own fetch counts at once

    with DynamoCallCounter().installed() as counter:
        hit = hot.fares(query)
        judged = hot.insight(query, hit.cheapest.price)
    assert counter.total == 0 and hit.cached is True and judged.observations == 1

    for _ in range(2):  # another container observes the class twice (1 s apart)
        clock.advance(1)
        other.fares(query, force_refresh=True)
    clock.advance(2.9)
    assert hot.insight(query, hit.cheapest.price).observations == 1  # within the 5 s bound: not yet
    clock.advance(0.1)
    assert hot.insight(query, hit.cheapest.price).observations == 3


# -- a hit's insight from the class snapshot (issue 18: at most one DynamoDB call) --------------------


class RandomSource(ScriptedSource):
    """A fare source whose every search answers one offer at a new price."""

    def __init__(self, rng) -> None:
        super().__init__()
        self.rng = rng

    def search(self, query, *, deadline):
        with self._lock:
            self.searches += 1
        return [offer(f"{self.rng.randint(100, 400)}.00")]


def days_ahead(clock: ManualClock, days: int) -> str:
    """A departure date `days` after the clock's day: its lead-time band is the same on any real date."""
    from farewatch.clock import utc_datetime

    return (utc_datetime(clock.now()).date() + dt.timedelta(days=days)).isoformat()


def judged_by_query(query: FareQuery, price: Decimal, now: float):
    """What the insight is when the class's observations are read by a Query, as before snapshots."""
    from farewatch import insight
    from farewatch.clock import utc_datetime

    today = utc_datetime(now).date()
    klass = insight.comparable_class(query, today)
    amounts = PriceHistoryStore().comparable_amounts(klass, since=now - insight.WINDOW_DAYS * 86400)
    return insight.judge(price, amounts, query, today)


def test_a_first_hit_in_another_container_reads_the_entry_and_the_class_in_one_call(aws):
    from bench.dynamo_calls import DynamoCallCounter
    from farewatch.fare_memory import FareMemory
    from farewatch.store.search_stats import BatchedSearchCounter

    clock = ManualClock(start=time.time())

    def container() -> FareService:
        return FareService(
            source=ScriptedSource(),
            cache=FareCacheStore(),
            history=PriceHistoryStore(),
            stats=BatchedSearchCounter(SearchStatsStore(), clock, flush_seconds=60),  # as composition's
            clock=clock,
            policy=CachePolicy(fresh_seconds=600, stale_retention_seconds=3600),
            memory=FareMemory(recheck_seconds=5),
        )

    fetcher, other = container(), container()
    other.priced(fare_query("LHR", "CDG"))  # a warm container (its first count is written at once)
    fetcher.priced(fare_query("LHR", "CDG"))
    with DynamoCallCounter().installed() as counter:
        fetcher.priced(fare_query())  # a miss: fetches, observes and writes the class's snapshot
    # The class read with the entry, nothing read again after the fetch: its own mark token serves.
    assert counter.calls["BatchGetItem"] == 1 and counter.calls["Query"] == 1
    clock.advance(1)

    with DynamoCallCounter().installed() as counter:
        result, judged = other.priced(fare_query())

    assert dict(counter.calls) == {"BatchGetItem": 1}
    assert result.cached is True and result.cheapest is not None
    assert judged == judged_by_query(fare_query(), result.cheapest.price, clock.now())
    assert judged.observations == 1


def memory_container(source, clock) -> FareService:
    """A container as composition builds it: its own memory tier and batched search counts."""
    from farewatch.fare_memory import FareMemory
    from farewatch.store.search_stats import BatchedSearchCounter

    return FareService(
        source=source,
        cache=FareCacheStore(),
        history=PriceHistoryStore(),
        stats=BatchedSearchCounter(SearchStatsStore(), clock, flush_seconds=60),
        clock=clock,
        policy=CachePolicy(fresh_seconds=600, stale_retention_seconds=3600, force_refresh_min_seconds=0),
        memory=FareMemory(recheck_seconds=5),
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("memory", [False, True], ids=["no-memory", "memory"])
def test_an_insight_from_the_snapshot_is_always_what_a_query_of_the_class_says(aws, seed, memory):
    """Containers answer hits, misses and forced refreshes of trips of one class, and a poller-like
    caller observes without rebuilding, while time moves by seconds, minutes and weeks (so entries,
    the memory bound, snapshots and the 60-day window all run out); after each price request its
    insight equals the Query's, except within the memory tier's documented 5 s."""
    import random

    rng = random.Random(seed)
    clock = ManualClock(start=time.time())
    build = (
        memory_container
        if memory
        else (lambda source, clock: service(source, clock, force_refresh_min_seconds=0))
    )
    containers = [build(RandomSource(rng), clock) for _ in range(3)]
    days = [days_ahead(clock, n) for n in (180, 181, 184)]  # one lead-time band (120-365 days): one class
    seen_elsewhere = [float("-inf")] * 3  # per container: when another one last observed the class

    def observed_by(index: int) -> None:
        for other in range(3):
            if other != index:
                seen_elsewhere[other] = clock.now()

    for _ in range(60):
        step, index = rng.random(), rng.randrange(3)
        container, query = containers[index], fare_query(day=rng.choice(days))
        if step < 0.2:
            container.fares(query, force_refresh=True)  # observes; leaves the snapshot stale
            observed_by(index)
        elif step < 0.35:
            clock.advance(rng.choice([1, 6, 301, 601, 20 * 86400]))
        else:
            result, judged = container.priced(query, force_refresh=step > 0.9)
            assert result.cheapest is not None
            if not result.cached:
                observed_by(index)
            expected = judged_by_query(query, result.cheapest.price, clock.now())
            if memory and clock.now() - seen_elsewhere[index] < 5:
                # Within the memory tier's bound another container's observation may not count yet.
                assert judged.observations <= expected.observations
                continue
            assert judged == expected


def test_a_snapshot_built_from_a_query_that_missed_a_newer_observation_does_not_answer(aws, monkeypatch):
    """The dangerous order: a reader's Query runs, another container stores an observation and its
    mark, then the reader writes its snapshot. That snapshot must not answer; the next one counts all."""
    klass, now = "insight#JFK-LAX#test", time.time()
    reader, other = PriceHistoryStore(), PriceHistoryStore()
    other.append_comparable(
        klass, amount=Decimal("200"), currency="USD", source="s", observed_at=now, trip="a"
    )
    state = reader.class_state(klass)
    assert state.amounts(since=now - 60, now=now) is None  # no snapshot yet: the reader rebuilds
    query = PriceHistoryStore._comparable

    def query_then_another_observation(store, *args, **kwargs):
        found = query(store, *args, **kwargs)
        other.append_comparable(
            klass, amount=Decimal("300"), currency="USD", source="s", observed_at=now + 1, trip="b"
        )
        return found

    monkeypatch.setattr(PriceHistoryStore, "_comparable", query_then_another_observation)
    assert reader.rebuild(klass, since=now - 60, mark=state.mark, now=now + 2) == [Decimal("200")]
    monkeypatch.setattr(PriceHistoryStore, "_comparable", query)

    after = reader.class_state(klass)
    assert after.amounts(since=now - 60, now=now + 2) is None  # built for the old mark: it cannot say
    amounts = reader.rebuild(klass, since=now - 60, mark=after.mark, now=now + 3)
    assert reader.class_state(klass).amounts(since=now - 60, now=now + 3) == amounts
    assert amounts == [Decimal("300"), Decimal("200")]  # newest first, as the Query answers


def test_a_snapshot_keeps_the_query_window_and_limit_and_expires_with_its_age(aws):
    from farewatch.store.history import COMPARABLE_LIMIT, SNAPSHOT_MAX_AGE_SECONDS
    from farewatch.store.models import PriceObservation

    klass, start, store = "insight#JFK-LAX#many", time.time(), PriceHistoryStore()
    with PriceObservation.batch_write() as batch:  # 1,010 observations a minute apart
        for minute in range(1010):
            at = start + minute * 60
            batch.save(
                PriceObservation(
                    klass, f"{sortable(at)}#trip", amount=f"{minute}.00", currency="USD", source="s"
                )
            )
    now = start + 1010 * 60
    amounts = store.rebuild(klass, since=now - 86400 * 60, mark=None, now=now)
    state = store.class_state(klass)

    assert len(amounts) == COMPARABLE_LIMIT and amounts[0] == Decimal("1009.00")  # the newest 1,000
    for since in (now - 86400 * 60, start + 500 * 60 + 0.5, start + 500 * 60):  # a bound between, at one
        assert state.amounts(since=since, now=now) == store.comparable_amounts(klass, since=since)
    assert state.amounts(since=now - 86400 * 61, now=now) is None  # a wider window than it was built for
    assert state.amounts(since=now - 86400 * 60, now=now + SNAPSHOT_MAX_AGE_SECONDS) is None  # too old


def sortable(at: float) -> str:
    from farewatch.clock import sortable_utc

    return sortable_utc(at)


def test_a_failed_mark_keeps_the_answer_and_the_snapshot_counts_the_price_once_it_expires(aws, monkeypatch):
    from pynamodb.exceptions import PutError

    from farewatch.store.history import SNAPSHOT_MAX_AGE_SECONDS
    from farewatch.store.models import ClassMark

    clock = ManualClock(start=time.time())
    first, second = memory_container(ScriptedSource(), clock), memory_container(ScriptedSource(), clock)
    day, next_day = days_ahead(clock, 180), days_ahead(clock, 181)  # one class (lead time 120-365 days)
    first.priced(fare_query(day=day))  # the class's first observation and a snapshot of it
    clock.advance(601)
    failing = ClassMark.save

    def throttled(self, *args, **kwargs):
        raise PutError("simulated throttling")

    monkeypatch.setattr(ClassMark, "save", throttled)
    result, _ = first.priced(fare_query(day=next_day), force_refresh=True)  # observes; its mark fails
    monkeypatch.setattr(ClassMark, "save", failing)
    assert result.cached is False and result.cheapest is not None  # the traveller still gets the fare

    clock.advance(SNAPSHOT_MAX_AGE_SECONDS)
    hit, judged = second.priced(fare_query(day=next_day))
    assert hit.cached is True and hit.cheapest is not None
    assert judged == judged_by_query(fare_query(day=next_day), hit.cheapest.price, clock.now())
    assert judged.observations == 2


def test_a_fetch_across_midnight_counts_in_the_class_of_the_day_it_was_judged(aws):
    import datetime as dt

    class SlowSource(ScriptedSource):
        def search(self, query, *, deadline):
            clock.advance(1)  # the fetch takes a second and ends on the next UTC day
            return super().search(query, deadline=deadline)

    clock = ManualClock(start=dt.datetime(2026, 12, 1, 23, 59, 59, 500000, tzinfo=dt.UTC).timestamp())
    query = fare_query(day="2026-12-31")  # 30 days out on 12-01 (band 30-59), 29 on 12-02 (14-29)

    result, judged = memory_container(SlowSource(), clock).priced(query)

    assert result.cheapest is not None
    assert judged == judged_by_query(query, result.cheapest.price, clock.now())
    assert judged.observations == 1


def test_a_batch_read_asks_again_for_what_dynamodb_left_unprocessed_and_gives_none_for_a_missing_item(
    aws, monkeypatch
):
    from pynamodb.connection import Connection

    from farewatch.store import batch_get as module
    from farewatch.store.models import ClassMark, FareCacheEntry

    ClassMark("insight#k", "#mark", token="t1").save()
    dispatch, answers = Connection.dispatch, []

    def first_leaves_one_key(connection, operation, kwargs):
        answer = dispatch(connection, operation, kwargs)
        answers.append(answer)
        if len(answers) == 1:  # as DynamoDB does under throttling: the mark's key not read this time
            table = ClassMark.Meta.table_name
            answer = {
                "Responses": {name: items for name, items in answer["Responses"].items() if name != table},
                "UnprocessedKeys": {table: kwargs["RequestItems"][table]},
            }
        return answer

    monkeypatch.setattr(Connection, "dispatch", first_leaves_one_key)
    monkeypatch.setattr(module, "_pause", lambda attempt: None)
    entry, mark = module.batch_get((FareCacheEntry, "fares#none", None), (ClassMark, "insight#k", "#mark"))

    assert entry is None and isinstance(mark, ClassMark) and mark.token == "t1"
    assert len(answers) == 2
