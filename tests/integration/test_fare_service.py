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
    fetcher.priced(fare_query())  # a miss: fetches, observes and leaves the class's snapshot clean
    clock.advance(1)

    with DynamoCallCounter().installed() as counter:
        result, judged = other.priced(fare_query())

    assert dict(counter.calls) == {"BatchGetItem": 1}
    assert result.cached is True and result.cheapest is not None
    assert judged == judged_by_query(fare_query(), result.cheapest.price, clock.now())
    assert judged.observations == 1


@pytest.mark.parametrize("seed", range(4))
def test_an_insight_from_the_snapshot_is_always_what_a_query_of_the_class_says(aws, seed):
    """Containers answer hits, misses and forced refreshes of trips of one class, and a poller-like
    caller observes without rebuilding; after each price request its insight equals the Query's."""
    import random

    rng = random.Random(seed)
    clock = ManualClock(start=time.time())
    containers = [service(RandomSource(rng), clock, force_refresh_min_seconds=0) for _ in range(3)]
    days = ["2027-03-01", "2027-03-02", "2027-03-05"]  # one lead-time band: one class
    for _ in range(40):
        step, container = rng.random(), rng.choice(containers)
        query = fare_query(day=rng.choice(days))
        if step < 0.2:
            container.fares(query, force_refresh=True)  # observes; leaves the snapshot stale
        elif step < 0.3:
            clock.advance(rng.choice([1, 300, 601]))
        else:
            result, judged = container.priced(query, force_refresh=step > 0.9)
            assert result.cheapest is not None
            assert judged == judged_by_query(query, result.cheapest.price, clock.now())


def test_a_rebuild_that_lost_a_race_with_a_newer_observation_leaves_the_snapshot_stale(aws):
    from farewatch.store.history import COMPARABLE_LIMIT

    store, klass, now = PriceHistoryStore(), "insight#JFK-LAX#test", time.time()
    store.append_comparable(
        klass, amount=Decimal("200"), currency="USD", source="s", observed_at=now, trip="a"
    )
    seen = store.snapshot(klass)
    assert seen is not None and seen.amounts_since(now - 60) is None  # stale: the reader will rebuild

    # Between the reader's read and its write, another container observes the class.
    store.append_comparable(
        klass, amount=Decimal("300"), currency="USD", source="s", observed_at=now + 1, trip="b"
    )
    store.rebuild_snapshot(klass, since=now - 60, token=seen.token, now=now + 2)

    after = store.snapshot(klass)
    assert after is not None and after.amounts_since(now - 60) is None  # not clean: its write failed
    amounts = store.rebuild_snapshot(klass, since=now - 60, token=after.token, now=now + 3)
    clean = store.snapshot(klass)
    assert clean is not None and clean.amounts_since(now - 60, COMPARABLE_LIMIT) == amounts
    assert sorted(amounts) == [Decimal("200"), Decimal("300")]
