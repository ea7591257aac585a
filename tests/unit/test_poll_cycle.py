"""The poll cycle with in-memory collaborators: dispatch batching and retries, and the worker's outbox
(each new alert announced once, a failed announcement retried by the redelivered message)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from farewatch.clock import ManualClock
from farewatch.pricing import FareResult
from farewatch.store.tracking import RoutePollState, RouteSchedule, TrackerCheck
from farewatch.tracking.poll_cycle import (
    CycleSummary,
    DispatchReport,
    PollCycle,
    QueueEntry,
    RouteWork,
    route_key_of,
)
from farewatch.tracking.values import Alert, PricePoint, StoredTracker
from tests.support.offers import fare_query, offer

CLOCK_START = 1_800_000_000.0  # 2027-01-15, before every departure below


def route_keys(count: int) -> list[str]:
    return [f"JFK#LAX#2027-12-{day:02d}#1#USD" for day in range(1, count + 1)]


class FakeQueue:
    """SendMessageBatch that records every call and rejects the entry ids it is told to, per call."""

    def __init__(self, reject: list[set[str]] | None = None) -> None:
        self.calls: list[list[QueueEntry]] = []
        self._reject = list(reject or [])

    def send_batch(self, entries: Sequence[QueueEntry]) -> list[str]:
        self.calls.append(list(entries))
        rejected = self._reject.pop(0) if self._reject else set()
        return [entry.entry_id for entry in entries if entry.entry_id in rejected]


@dataclass
class Trackers:
    """The tracking store's contract in memory: one route, its trackers, and conditional writes."""

    due: list[str] = field(default_factory=list)
    trackers: dict[str, StoredTracker] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)  # written, by id (a conditional put)
    scheduled: dict[str, float] = field(default_factory=dict)
    last_price: dict[str, Decimal] = field(default_factory=dict)

    def due_routes(self, at: float) -> Iterator[str]:
        return iter(self.due)

    def unschedule(self, route_key: str) -> None:
        self.scheduled.pop(route_key, None)

    def watched_count(self, route_key: str) -> int:
        return sum(1 for tracker in self.trackers.values() if tracker.route_key == route_key)

    def poll_state(self, route_key: str, *, fare_item: str | None = None) -> tuple[RoutePollState, None]:
        # Outbox None: "read the outbox index" (`Outbox.unpublished_of_route`); the route's own outbox
        # set is tested against DynamoDB (tests/integration/test_poller_handlers.py).
        return RoutePollState(self.watched_count(route_key), self.last_price.get(route_key), None), None

    def of_route(self, route_key: str) -> list[StoredTracker]:
        return [tracker for tracker in self.trackers.values() if tracker.route_key == route_key]

    def get(self, user_id: str, tracker_id: str) -> StoredTracker | None:
        return self.trackers.get(tracker_id)

    def schedule(
        self,
        route_key: str,
        next_poll_at: float,
        *,
        polled_at: float | None = None,
        price: Decimal | None = None,
    ) -> None:
        self.scheduled[route_key] = next_poll_at
        if price is not None:
            self.last_price[route_key] = price

    def schedule_route(self, route_key: str, schedule: RouteSchedule) -> None:
        self.schedule(route_key, schedule.next_poll_at, polled_at=schedule.polled_at, price=schedule.price)

    def record_checks(
        self, route_key: str, checks: Sequence[TrackerCheck], *, schedule: RouteSchedule | None = None
    ) -> int:
        """All or nothing, as one transaction: nothing applies when an alert exists already."""
        if any(check.alert is not None and check.alert.id in self.alerts for check in checks):
            return 0
        for check in checks:
            self.record_check(
                check.tracker, seen=check.seen, last_alerted_price=check.last_alerted_price, alert=check.alert
            )
        if schedule is not None:
            self.schedule_route(route_key, schedule)
        return len(checks)

    def record_check(
        self,
        tracker: StoredTracker,
        *,
        seen: PricePoint,
        last_alerted_price: Decimal | None,
        alert: Alert | None,
    ) -> bool:
        if alert is not None and alert.id in self.alerts:
            return False
        if alert is not None:
            self.alerts[alert.id] = alert
        self.trackers[tracker.id] = replace(
            tracker, current_price=seen.amount, last_checked_at=seen.fetched_at, version=tracker.version + 1
        )
        return True


@dataclass
class Outbox:
    trackers: Trackers
    published: set[str] = field(default_factory=set)

    def unpublished_of_route(self, route_key: str) -> list[Alert]:
        return [
            a
            for a in self.trackers.alerts.values()
            if a.route_key == route_key and a.id not in self.published
        ]

    def mark_published(self, alerts: Sequence[Alert]) -> None:
        self.published.update(alert.id for alert in alerts)


@dataclass
class Bus:
    announced: list[list[Alert]] = field(default_factory=list)
    down: bool = False

    def announce(self, alerts: Sequence[Alert]) -> None:
        if self.down:
            raise RuntimeError("EventBridge is down")
        self.announced.append(list(alerts))


class Fares:
    def __init__(self, clock: ManualClock, price: str) -> None:
        self.clock, self.price, self.calls = clock, price, 0

    def fares(self, query, *, force_refresh: bool = False, count_search: bool = True) -> FareResult:
        self.calls += 1
        now = self.clock.now()
        return FareResult(query, [offer(self.price)], "fake", now, now + 600, cached=False)


def tracker(index: int, *, seen: str = "300.00") -> StoredTracker:
    return StoredTracker(
        id=f"trk_{index}",
        user_id=f"user-{index}",
        query=fare_query(day="2027-02-01"),
        target_price=None,
        notify_on_any_drop=True,
        current_price=Decimal(seen),
        lowest_price=Decimal(seen),
        last_alerted_price=None,
        last_checked_at=CLOCK_START - 3600,
        created_at=CLOCK_START - 7200,
        updated_at=CLOCK_START - 7200,
        version=1,
    )


def cycle(trackers: Trackers, bus: Bus, *, price: str = "250.00") -> tuple[PollCycle, Outbox]:
    clock = ManualClock(CLOCK_START)
    outbox = Outbox(trackers)
    made = PollCycle(
        trackers=trackers,  # type: ignore[arg-type]
        alerts=outbox,  # type: ignore[arg-type]
        fares=Fares(clock, price),
        events=bus,
        clock=clock,
        poll_interval_seconds=1800,
    )
    return made, outbox


# -- the dispatcher ---------------------------------------------------------------------------


def test_dispatch_sends_25_due_routes_in_3_batches_of_at_most_10() -> None:
    queue = FakeQueue()

    report = cycle(Trackers(due=route_keys(25)), Bus())[0].dispatch(queue)

    assert [len(call) for call in queue.calls] == [10, 10, 5]
    assert report == DispatchReport(routes_enqueued=25, batches=3)
    assert [route_key_of(entry.body) for call in queue.calls for entry in call] == route_keys(25)


def test_dispatch_with_no_due_routes_sends_nothing() -> None:
    queue = FakeQueue()

    report = cycle(Trackers(), Bus())[0].dispatch(queue)

    assert queue.calls == [] and report.routes_enqueued == 0


def test_dispatch_retries_the_rejected_entries_once() -> None:
    queue = FakeQueue(reject=[{"3", "7"}])

    report = cycle(Trackers(due=route_keys(10)), Bus())[0].dispatch(queue)

    assert [len(call) for call in queue.calls] == [10, 2]
    assert [route_key_of(entry.body) for entry in queue.calls[1]] == [route_keys(10)[3], route_keys(10)[7]]
    assert report.routes_enqueued == 10 and report.failed_routes == ()


def test_dispatch_reports_entries_rejected_twice_and_carries_on() -> None:
    queue = FakeQueue(reject=[{"0"}, {"0"}])

    report = cycle(Trackers(due=route_keys(12)), Bus())[0].dispatch(queue)

    assert [len(call) for call in queue.calls] == [10, 1, 2]
    assert report.failed_routes == (route_keys(12)[0],) and report.routes_enqueued == 11


def test_a_departed_route_is_taken_out_of_the_schedule_and_not_dispatched() -> None:
    trackers = Trackers(
        due=["JFK#LAX#2020-01-01#1#USD", route_keys(1)[0]], scheduled={"JFK#LAX#2020-01-01#1#USD": 1}
    )

    due = list(cycle(trackers, Bus())[0].due_routes())

    assert due == route_keys(1) and trackers.scheduled == {}


# -- the worker -------------------------------------------------------------------------------


def test_a_price_drop_alerts_every_any_drop_tracker_and_announces_ten_per_call() -> None:
    route = fare_query(day="2027-02-01").cache_key
    trackers = Trackers(trackers={f"trk_{index}": tracker(index) for index in range(12)})
    bus = Bus()
    poll, outbox = cycle(trackers, bus)

    work = poll.poll_route(route)

    assert work == RouteWork(route, upstream_call=True, alerts_created=12)
    assert [len(call) for call in bus.announced] == [10, 2]  # PutEvents takes 10 entries at most
    first = bus.announced[0][0]
    assert (first.kind, first.price, first.previous_price) == (
        "price_drop",
        Decimal("250.00"),
        Decimal("300.00"),
    )
    assert (
        outbox.unpublished_of_route(route) == [] and trackers.scheduled[route] == CLOCK_START + 6 * 3600
    )  # 17 days out: every 6 h


def test_a_redelivered_route_creates_and_announces_nothing_twice() -> None:
    route = fare_query(day="2027-02-01").cache_key
    trackers = Trackers(trackers={"trk_1": tracker(1)})
    bus = Bus()
    poll, _ = cycle(trackers, bus)

    first, again = poll.poll_route(route), poll.poll_route(route)

    assert (first.alerts_created, again.alerts_created) == (1, 0)
    assert len(trackers.alerts) == 1 and sum(len(call) for call in bus.announced) == 1


def test_a_failing_announcement_fails_the_route_and_the_retry_announces_the_alert() -> None:
    route = fare_query(day="2027-02-01").cache_key
    trackers = Trackers(trackers={"trk_1": tracker(1)})
    bus = Bus(down=True)
    poll, outbox = cycle(trackers, bus)

    with pytest.raises(RuntimeError):
        poll.poll_route(route)
    bus.down = False
    retried = poll.poll_route(route)

    assert retried.alerts_created == 0  # written by the first attempt
    assert [alert.tracker_id for call in bus.announced for alert in call] == ["trk_1"]
    assert outbox.unpublished_of_route(route) == []


def test_a_message_without_a_route_key_is_rejected() -> None:
    with pytest.raises(ValueError):
        route_key_of(json.dumps({"route": "JFK#LAX"}))


def test_cycle_summary_adds_up_the_routes() -> None:
    works = [
        RouteWork("a", upstream_call=True, alerts_created=2),
        RouteWork("b", upstream_call=False, alerts_created=0),
    ]

    assert CycleSummary.of(works).as_dict() == {"routes_polled": 2, "upstream_calls": 1, "alerts_created": 2}
