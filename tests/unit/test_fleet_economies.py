"""The memory tier, the batched search counter and the pacer on their own, with injected clocks."""

from __future__ import annotations

from collections import Counter

import pytest

from farewatch.clock import ManualClock
from farewatch.errors import UpstreamUnavailable
from farewatch.fare_memory import FareMemory
from farewatch.fares.pacing import UpstreamPacer
from farewatch.store.fare_cache import CachedFares
from farewatch.store.search_stats import BatchedSearchCounter


def entry(fresh_until: float) -> CachedFares:
    return CachedFares([], "amadeus", fresh_until - 600, fresh_until, fresh_until + 3600, None, None, None)


# -- memory tier ---------------------------------------------------------------------------------


def test_memory_answers_a_fresh_entry_until_the_recheck_bound_then_forgets_it():
    memory = FareMemory(recheck_seconds=5)
    memory.keep("k", entry(fresh_until=1000), checked_at=100)

    assert memory.fresh("k", 104.999) is not None
    assert memory.fresh("k", 105) is None
    assert memory.fresh("k", 101) is None  # forgotten: the next request reads DynamoDB again


def test_memory_never_answers_an_entry_past_its_own_freshness():
    memory = FareMemory(recheck_seconds=60)
    memory.keep("k", entry(fresh_until=110), checked_at=100)

    assert memory.fresh("k", 109.9) is not None
    assert memory.fresh("k", 110) is None


def test_memory_keeps_the_latest_check_and_drops_the_least_recently_used():
    memory = FareMemory(recheck_seconds=5, max_entries=2)
    memory.keep("a", entry(fresh_until=1000), checked_at=100)
    memory.keep("a", entry(fresh_until=900), checked_at=99)  # an older read never wins
    memory.keep("b", entry(fresh_until=1000), checked_at=100)
    memory.fresh("a", 101)
    memory.keep("c", entry(fresh_until=1000), checked_at=101)

    assert memory.fresh("a", 102).fresh_until == 1000
    assert memory.fresh("b", 102) is None
    assert memory.fresh("c", 102) is not None


def test_a_zero_bound_turns_the_memory_off():
    memory = FareMemory(recheck_seconds=0)
    memory.keep("k", entry(fresh_until=1000), checked_at=100)

    assert memory.fresh("k", 100) is None


def test_memory_keeps_an_insight_class_within_the_bound_and_forgets_it_on_demand():
    from decimal import Decimal

    memory = FareMemory(recheck_seconds=5)
    memory.keep_comparables("JFK-LAX economy", [Decimal("250")], checked_at=100)
    memory.keep_comparables("JFK-LAX economy", [], checked_at=99)  # an older read never wins

    assert memory.comparables("JFK-LAX economy", 104.9) == [Decimal("250")]
    assert memory.comparables("JFK-LAX economy", 105) is None
    memory.keep_comparables("JFK-LAX economy", [Decimal("250")], checked_at=106)
    memory.forget_comparables("JFK-LAX economy")  # this container observed the class again
    assert memory.comparables("JFK-LAX economy", 106) is None
    off = FareMemory(recheck_seconds=0)
    off.keep_comparables("k", [Decimal("1")], checked_at=100)
    assert off.comparables("k", 100) is None


# -- batched search counts -----------------------------------------------------------------------


class RecordingStats:
    def __init__(self, failing: bool = False) -> None:
        self.writes: list[tuple[str, int, str | None]] = []
        self.failing = failing

    def count_search(self, route, *, at, fare_query=None, searches=1):  # type: ignore[no-untyped-def]
        if self.failing:
            raise RuntimeError("DynamoDB is down")
        self.writes.append((route, searches, fare_query))

    def totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for route, searches, _ in self.writes:
            totals[route] += searches
        return totals


def test_counts_within_the_flush_interval_are_written_as_one_add_per_route():
    clock, stats = ManualClock(), RecordingStats()
    counter = BatchedSearchCounter(stats, clock, flush_seconds=10)  # type: ignore[arg-type]

    counter.count_search("JFK-LAX", at=clock.now(), fare_query="q1")  # quiet container: written at once
    for _ in range(5):
        clock.advance(1)
        counter.count_search("JFK-LAX", at=clock.now(), fare_query="q2")
        counter.count_search("BOS-SEA", at=clock.now())
    assert len(stats.writes) == 1 and counter.pending == 10

    clock.advance(5)
    counter.count_search("BOS-SEA", at=clock.now())  # ten seconds after the last write: a batch

    assert sorted(stats.writes) == [("BOS-SEA", 6, None), ("JFK-LAX", 1, "q1"), ("JFK-LAX", 5, "q2")]
    assert counter.pending == 0


def test_flush_writes_everything_pending_and_a_failed_write_keeps_its_counts():
    clock, stats = ManualClock(), RecordingStats()
    counter = BatchedSearchCounter(stats, clock, flush_seconds=10)  # type: ignore[arg-type]
    counter.count_search("JFK-LAX", at=clock.now())
    counter.count_search("JFK-LAX", at=clock.now())
    counter.count_search("JFK-LAX", at=clock.now())

    stats.failing = True
    counter.flush()
    assert counter.pending == 2
    stats.failing = False
    counter.flush()

    assert stats.totals() == {"JFK-LAX": 3}


def test_a_zero_flush_interval_writes_every_count():
    clock, stats = ManualClock(), RecordingStats()
    counter = BatchedSearchCounter(stats, clock, flush_seconds=0)  # type: ignore[arg-type]
    for _ in range(3):
        counter.count_search("JFK-LAX", at=clock.now())

    assert stats.writes == [("JFK-LAX", 1, None)] * 3


def test_discarded_counts_are_never_written_and_the_background_timer_is_stopped():
    clock, stats = ManualClock(), RecordingStats()
    counter = BatchedSearchCounter(stats, clock, flush_seconds=10, flush_in_background=True)  # type: ignore[arg-type]
    counter.count_search("JFK-LAX", at=clock.now())  # written at once
    counter.count_search("JFK-LAX", at=clock.now())  # pending, with the timer started
    timer = counter._timer
    assert timer is not None and counter.pending == 1

    counter.discard()
    counter.flush()

    assert counter.pending == 0 and stats.writes == [("JFK-LAX", 1, None)]
    assert timer.finished.is_set()  # cancelled: it will not fire


# -- pacing --------------------------------------------------------------------------------------


class Schedule:
    """The DynamoDB schedule's contract in memory: slots `interval` apart, none past `latest`."""

    def __init__(self) -> None:
        self.next_at = 0.0
        self.claims = 0

    def claim(self, *, now: float, interval: float, latest: float) -> float | None:
        self.claims += 1
        slot = max(now, self.next_at)
        if slot > latest:
            return None
        self.next_at = slot + interval
        return slot


class LateClock(ManualClock):
    """Wakes `late` seconds after every sleep, as a busy CPU does."""

    def __init__(self, late: float) -> None:
        super().__init__()
        self.late = late

    def sleep(self, seconds: float) -> None:
        self.advance(seconds + self.late)


def test_requests_are_sent_at_their_slots_one_interval_apart():
    clock, schedule = ManualClock(), Schedule()
    pacer = UpstreamPacer(schedule, clock, per_second=8)
    sent = []
    for _ in range(4):
        pacer.wait_turn(deadline=clock.now() + 20, what="search")
        sent.append(clock.now())

    assert [round(at - sent[0], 3) for at in sent] == [0, 0.125, 0.25, 0.375]


def test_a_request_without_a_slot_in_its_budget_is_rate_limited_without_waiting():
    clock, schedule = ManualClock(), Schedule()
    schedule.next_at = clock.now() + 30
    pacer = UpstreamPacer(schedule, clock, per_second=8)
    started = clock.now()

    with pytest.raises(UpstreamUnavailable) as raised:
        pacer.wait_turn(deadline=started + 20, what="search")

    assert raised.value.code == "upstream_rate_limited" and clock.now() == started


def test_a_caller_that_wakes_late_claims_a_later_slot_instead_of_crowding_the_next_one():
    clock, schedule = LateClock(late=0.1), Schedule()
    pacer = UpstreamPacer(schedule, clock, per_second=8)

    pacer.wait_turn(deadline=clock.now() + 20, what="search")

    assert schedule.claims == 3  # late (0.1 s > half an interval) on every wake: gave up claiming
