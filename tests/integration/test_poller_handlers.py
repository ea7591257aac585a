"""The poller's handlers on moto: the dispatcher fills the queue, the worker reports partial failures
and announces alerts on EventBridge. Tracking is faked here; the e2e tests use the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from farewatch.messaging import EventBus, PollQueue
from poller_jobs import dispatcher, worker
from tests.support.events import FakeLambdaContext, sqs_event


@dataclass(frozen=True)
class Alert:
    id: str
    user_id: str
    tracker_id: str
    route: str
    price: float
    previous_price: float
    kind: str


@dataclass
class Refresh:
    upstream_call: bool
    alerts: list[Alert]

    @property
    def unpublished(self) -> list[Alert]:
        return self.alerts


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
    due = [f"JFK#LAX#2026-12-{day:02d}#1#USD" for day in range(1, 26)]
    monkeypatch.setattr(dispatcher.tracking, "due_routes", lambda now: iter(due), raising=False)
    monkeypatch.setattr(dispatcher.messaging, "poll_queue", lambda settings: PollQueue(url, sqs))

    result = dispatcher.lambda_handler({"detail-type": "Scheduled Event"}, FakeLambdaContext())

    assert result == {"routes_enqueued": 25, "batches": 3}
    bodies = sorted(json.loads(message["Body"])["route_key"] for message in received(sqs, url))
    assert bodies == due


def test_worker_reports_exactly_the_failing_record_and_publishes_the_others_alerts(
    sqs: Any, price_drop_inbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = ["JFK#LAX#2026-12-01#1#USD", "BAD#ONE#2026-12-01#1#USD", "LHR#CDG#2026-12-01#1#USD"]

    def refresh(route_key: str, *, now: float) -> Refresh:
        if route_key.startswith("BAD"):
            raise RuntimeError("upstream exploded")
        alert = Alert(f"alert-{route_key}", "user-1", "tracker-1", route_key, 99.0, 120.0, "any_drop")
        return Refresh(upstream_call=True, alerts=[alert])

    monkeypatch.setattr(worker.tracking, "refresh_watched_route", refresh, raising=False)
    monkeypatch.setattr(worker.tracking, "mark_published", lambda alerts: None, raising=False)
    monkeypatch.setattr(worker.messaging, "event_bus", lambda settings: EventBus(boto3.client("events")))

    response = worker.lambda_handler(sqs_event(routes), FakeLambdaContext(function_name="PollWorkerFunction"))

    assert response["batchItemFailures"] == [{"itemIdentifier": "message-1"}]
    assert response["polled"] == {"routes_polled": 2, "upstream_calls": 2, "alerts_created": 2}
    events = [json.loads(message["Body"]) for message in received(sqs, price_drop_inbox)]
    assert sorted(event["detail"]["route"] for event in events) == [routes[0], routes[2]]
    assert {event["detail-type"] for event in events} == {"PriceDropDetected"}


def test_worker_fails_the_whole_batch_when_every_record_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def refresh(route_key: str, *, now: float) -> Refresh:
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(worker.tracking, "refresh_watched_route", refresh, raising=False)

    with pytest.raises(Exception, match="All records failed"):
        worker.lambda_handler(sqs_event(["JFK#LAX#2026-12-01#1#USD"]), FakeLambdaContext())
