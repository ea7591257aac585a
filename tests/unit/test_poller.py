"""The poll cycle's logic with fakes: dispatch batching and retries, the worker's per-route step."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from farewatch import poller
from farewatch.poller import QueueEntry

NOW = 1_800_000_000.0


def route_keys(count: int) -> list[str]:
    return [f"JFK#LAX#2026-12-{day:02d}#1#USD" for day in range(1, count + 1)]


class FakeQueue:
    """SendMessageBatch that records every call and rejects the entry ids it is told to, per call."""

    def __init__(self, reject: list[set[str]] | None = None) -> None:
        self.calls: list[list[QueueEntry]] = []
        self._reject = list(reject or [])

    def send_batch(self, entries: Sequence[QueueEntry]) -> list[str]:
        self.calls.append(list(entries))
        rejected = self._reject.pop(0) if self._reject else set()
        return [entry.entry_id for entry in entries if entry.entry_id in rejected]


def test_dispatch_sends_25_due_routes_in_3_batches_of_at_most_10() -> None:
    queue = FakeQueue()

    report = poller.dispatch(NOW, queue.send_batch, lambda now: iter(route_keys(25)))

    assert [len(call) for call in queue.calls] == [10, 10, 5]
    assert report == poller.DispatchReport(routes_enqueued=25, batches=3)
    sent = [poller.route_key_of(entry.body) for call in queue.calls for entry in call]
    assert sent == route_keys(25)


def test_dispatch_with_no_due_routes_sends_nothing() -> None:
    queue = FakeQueue()

    report = poller.dispatch(NOW, queue.send_batch, lambda now: iter([]))

    assert queue.calls == []
    assert report.routes_enqueued == 0


def test_dispatch_retries_the_rejected_entries_once() -> None:
    queue = FakeQueue(reject=[{"3", "7"}])

    report = poller.dispatch(NOW, queue.send_batch, lambda now: iter(route_keys(10)))

    assert [len(call) for call in queue.calls] == [10, 2]
    assert [poller.route_key_of(entry.body) for entry in queue.calls[1]] == [
        route_keys(10)[3],
        route_keys(10)[7],
    ]
    assert report.routes_enqueued == 10 and report.failed_routes == ()


def test_dispatch_reports_entries_rejected_twice_and_carries_on() -> None:
    queue = FakeQueue(reject=[{"0"}, {"0"}])

    report = poller.dispatch(NOW, queue.send_batch, lambda now: iter(route_keys(12)))

    assert [len(call) for call in queue.calls] == [10, 1, 2]
    assert report.failed_routes == (route_keys(12)[0],)
    assert report.routes_enqueued == 11


@dataclass(frozen=True)
class Alert:
    id: str
    user_id: str
    tracker_id: str
    route: str
    price: float
    previous_price: float | None
    kind: str


@dataclass
class Refresh:
    upstream_call: bool
    alerts: list[Any]
    unpublished: list[Any] = field(default_factory=list)


@dataclass
class IdempotentTracking:
    """Stands in for refresh_watched_route and the outbox: one alert per (route, price) ever, like a
    conditional put, each waiting in `outbox` until marked published."""

    prices: dict[str, float]
    written: dict[str, Alert] = field(default_factory=dict)
    outbox: dict[str, Alert] = field(default_factory=dict)

    def refresh(self, route_key: str, now: float) -> Refresh:
        price = self.prices[route_key]
        alert = Alert(f"{route_key}#{price}", "u1", "t1", route_key, price, price + 50, "any_drop")
        created = []
        if alert.id not in self.written:
            self.written[alert.id] = self.outbox[alert.id] = alert
            created.append(alert)
        return Refresh(upstream_call=bool(created), alerts=created, unpublished=list(self.outbox.values()))

    def mark_published(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            self.outbox.pop(alert.id, None)


def test_work_one_publishes_one_price_drop_event_per_new_alert() -> None:
    route = route_keys(1)[0]
    alerts = [Alert(f"a{index}", "u1", f"t{index}", route, 90.0, 120.0, "target") for index in range(12)]
    published: list[list[dict[str, Any]]] = []
    marked: list[str] = []

    work = poller.work_one(
        route,
        NOW,
        refresh=lambda key, now: Refresh(upstream_call=True, alerts=alerts, unpublished=alerts),
        publish=lambda entries: published.append(list(entries)),
        mark_published=lambda done: marked.extend(alert.id for alert in done),
        event_bus="default",
    )

    assert work == poller.RouteWork(route_key=route, upstream_call=True, alerts_created=12)
    assert [len(call) for call in published] == [10, 2]  # PutEvents takes 10 entries at most
    assert marked == [f"a{index}" for index in range(12)]
    first = published[0][0]
    assert (first["Source"], first["DetailType"], first["EventBusName"]) == (
        "farewatch",
        "PriceDropDetected",
        "default",
    )
    assert json.loads(first["Detail"])["id"] == "a0"


def run_worker(tracking: IdempotentTracking, route: str, publish: Any) -> poller.RouteWork:
    return poller.work_one(
        route,
        NOW,
        refresh=tracking.refresh,
        publish=publish,
        mark_published=tracking.mark_published,
        event_bus="default",
    )


def test_a_redelivered_route_creates_and_publishes_nothing_twice() -> None:
    route = route_keys(1)[0]
    tracking = IdempotentTracking(prices={route: 99.0})
    published: list[dict[str, Any]] = []

    first, again = (
        run_worker(tracking, route, published.extend),
        run_worker(tracking, route, published.extend),
    )

    assert (first.alerts_created, again.alerts_created) == (1, 0)
    assert len(tracking.written) == 1 and len(published) == 1


def test_a_failing_publish_fails_the_route_and_the_retry_announces_the_alert() -> None:
    route = route_keys(1)[0]
    tracking = IdempotentTracking(prices={route: 99.0})
    published: list[dict[str, Any]] = []

    def broken_bus(entries: Sequence[dict[str, Any]]) -> None:
        raise RuntimeError("EventBridge is down")

    with pytest.raises(RuntimeError):
        run_worker(tracking, route, broken_bus)
    retried = run_worker(tracking, route, published.extend)

    assert retried.alerts_created == 0  # written by the first attempt
    assert [json.loads(entry["Detail"])["id"] for entry in published] == [f"{route}#99.0"]
    assert tracking.outbox == {}


def test_a_message_without_a_route_key_is_rejected() -> None:
    with pytest.raises(ValueError):
        poller.route_key_of(json.dumps({"route": "JFK#LAX"}))


def test_cycle_summary_adds_up_the_routes() -> None:
    works = [
        poller.RouteWork("a", upstream_call=True, alerts_created=2),
        poller.RouteWork("b", upstream_call=False, alerts_created=0),
    ]

    assert poller.CycleSummary.of(works).as_dict() == {
        "routes_polled": 2,
        "upstream_calls": 1,
        "alerts_created": 2,
    }
