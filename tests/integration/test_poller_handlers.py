"""The poller's handlers on moto: the dispatcher fills the queue, the worker reports partial failures
and announces alerts on EventBridge. Tracking is faked here; the e2e tests use the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from farewatch import composition
from farewatch.clock import ManualClock
from farewatch.messaging import EventBus, PollQueue
from farewatch.tracking.events import PriceDropDetected
from farewatch.tracking.poll_cycle import RouteWork
from farewatch.tracking.values import Alert
from poller_jobs import dispatcher, worker
from tests.support.events import FakeLambdaContext, sqs_event


def alert_for(route_key: str) -> Alert:
    return Alert(
        id=f"alert-{route_key}",
        user_id="user-1",
        tracker_id="trk_1",
        route_key=route_key,
        kind="price_drop",
        price=Decimal("99.00"),
        previous_price=Decimal("120.00"),
        target_price=None,
        currency="USD",
        observed_at=1_800_000_000.0,
        created_at=1_800_000_000.0,
    )


@dataclass
class ScriptedCycle:
    """Stands in for the poll cycle behind the handlers (the dispatcher's and the worker's side): the
    due routes it is given, and per route either an alert announced on the real bus or the failure it
    is told to raise."""

    due: list[str] = field(default_factory=list)
    failing: str = "BAD"

    def dispatch(self, queue: Any, *, ahead: float = 0.0) -> Any:
        from farewatch.store.tracking import TrackingStore
        from farewatch.tracking.poll_dispatch import PollDispatcher

        class Due(TrackingStore):
            def __init__(self, keys: list[str]) -> None:
                self._keys = keys

            def due_routes(self, now: float) -> Any:
                return iter(self._keys)

        return PollDispatcher(trackers=Due(self.due), clock=ManualClock()).dispatch(queue, ahead=ahead)

    def flush_counts(self) -> None:
        return None

    def poll_route(self, route_key: str) -> RouteWork:
        if route_key.startswith(self.failing):
            raise RuntimeError("upstream exploded")
        EventBus(boto3.client("events", region_name="us-east-1")).announce([alert_for(route_key)])
        return RouteWork(route_key, upstream_call=True, alerts_created=1)


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def price_drop_inbox(sqs: Any) -> str:
    """A queue subscribed to every PriceDropDetected event on the default bus: what an integration sees."""
    events = boto3.client("events", region_name="us-east-1")
    url = sqs.create_queue(QueueName="price-drop-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["farewatch"], "detail-type": ["PriceDropDetected"]}
    events.put_rule(Name="price-drops", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="price-drops", Targets=[{"Id": "inbox", "Arn": queue_arn}])
    return str(url)


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        messages.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return messages


def test_dispatcher_enqueues_every_due_route(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqs.create_queue(QueueName="PollQueue")["QueueUrl"]
    due = [f"JFK#LAX#2027-12-{day:02d}#1#USD" for day in range(1, 26)]
    monkeypatch.setattr(composition, "poll_dispatcher", lambda: ScriptedCycle(due=due))
    monkeypatch.setattr(dispatcher.messaging, "poll_queue", lambda settings: PollQueue(url, sqs))

    result = dispatcher.lambda_handler({"detail-type": "Scheduled Event"}, FakeLambdaContext())

    assert result == {"routes_enqueued": 25, "batches": 3}
    bodies = sorted(json.loads(message["Body"])["route_key"] for message in received(sqs, url))
    assert bodies == due


def test_worker_reports_exactly_the_failing_record_and_publishes_the_others_alerts(
    sqs: Any, price_drop_inbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = ["JFK#LAX#2026-12-01#1#USD", "BAD#ONE#2026-12-01#1#USD", "LHR#CDG#2026-12-01#1#USD"]
    monkeypatch.setattr(composition, "poll_cycle", lambda: ScriptedCycle())

    response = worker.lambda_handler(sqs_event(routes), FakeLambdaContext(function_name="PollWorkerFunction"))

    assert response == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}  # exactly Lambda's shape
    events = [json.loads(message["Body"]) for message in received(sqs, price_drop_inbox)]
    details = sorted(
        (PriceDropDetected.model_validate(event["detail"]) for event in events), key=lambda d: d.origin
    )
    assert [(d.origin, d.destination, d.departure_date) for d in details] == [
        ("JFK", "LAX", "2026-12-01"),
        ("LHR", "CDG", "2026-12-01"),
    ]
    assert [(d.price, d.previous_price, d.user_id) for d in details] == [("99.00", "120.00", "user-1")] * 2
    assert {event["detail-type"] for event in events} == {"PriceDropDetected"}


def test_worker_fails_the_whole_batch_when_every_record_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(composition, "poll_cycle", lambda: ScriptedCycle(failing="JFK"))

    with pytest.raises(Exception, match="All records failed"):
        worker.lambda_handler(sqs_event(["JFK#LAX#2026-12-01#1#USD"]), FakeLambdaContext())


@dataclass
class DeadlineContext(FakeLambdaContext):
    """A Lambda context whose remaining time runs down on `clock`, from `seconds` at the start."""

    clock: ManualClock = field(default_factory=ManualClock)
    seconds: float = 120.0

    def __post_init__(self) -> None:
        self._deadline = self.clock.now() + self.seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self.clock.now()) * 1000))


@dataclass
class SlowUpstreamCycle:
    """Each route takes `seconds_per_route` of the clock, as a fare API answering slowly would."""

    clock: ManualClock
    seconds_per_route: float
    polled: list[str] = field(default_factory=list)
    flushes: int = 0

    def flush_counts(self) -> None:
        self.flushes += 1

    def poll_route(self, route_key: str) -> RouteWork:
        self.clock.advance(self.seconds_per_route)
        self.polled.append(route_key)
        return RouteWork(route_key, upstream_call=True, alerts_created=0)


def test_worker_hands_back_the_routes_it_has_no_time_to_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 60 s left, routes that take 15 s each, and the template's 25 s reserve per route
    clock = ManualClock()
    cycle = SlowUpstreamCycle(clock, seconds_per_route=15)
    monkeypatch.setattr(composition, "poll_cycle", lambda: cycle)
    routes = [f"JFK#LAX#2027-01-{day:02d}#1#USD" for day in range(1, 6)]

    # When the worker takes the batch
    response = worker.lambda_handler(sqs_event(routes), DeadlineContext(clock=clock, seconds=60))

    # Then the three routes started with 60, 45 and 30 s left are done and not handed back; the two
    # that would have started with 15 s left were never started and come back as failures
    assert cycle.polled == routes[:3]
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "message-3"}, {"itemIdentifier": "message-4"}]
    }


def test_worker_with_time_to_spare_finishes_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock()
    cycle = SlowUpstreamCycle(clock, seconds_per_route=1)
    monkeypatch.setattr(composition, "poll_cycle", lambda: cycle)
    routes = [f"JFK#LAX#2027-01-{day:02d}#1#USD" for day in range(1, 11)]

    response = worker.lambda_handler(sqs_event(routes), DeadlineContext(clock=clock, seconds=120))

    assert cycle.polled == routes
    assert response == {"batchItemFailures": []}
    assert cycle.flushes == 1  # the batch's search counts written once, at its end


def test_worker_invoked_with_too_little_time_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock()
    cycle = SlowUpstreamCycle(clock, seconds_per_route=1)
    monkeypatch.setattr(composition, "poll_cycle", lambda: cycle)

    # Every record handed back is a batch that failed whole: Lambda returns all of it to the queue.
    with pytest.raises(Exception, match="All records failed"):
        worker.lambda_handler(
            sqs_event(["JFK#LAX#2027-01-01#1#USD"]), DeadlineContext(clock=clock, seconds=20)
        )
    assert cycle.polled == []
