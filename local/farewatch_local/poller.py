"""The poller on the local stack: template.yaml's Schedule events on a faster local clock, SQS
deliveries to the subscribed functions with Lambda's batch semantics, and `POST /__local/poll`.

Delivery works like Lambda's SQS event source mapping: up to BatchSize messages per invocation as real
SQS event records; after the invocation the messages that succeeded are deleted, those named in
`batchItemFailures` (or the whole batch when the function raised) are left in flight, reappear after
the visibility timeout, and moto's redrive moves them to the dead-letter queue after maxReceiveCount.

Local settings (FAREWATCH_*, read from the stack's configuration):
- FAREWATCH_POLL_INTERVAL_SECONDS: how often each schedule fires locally (default 60; 0 = never,
  only `POST /__local/poll`);
- FAREWATCH_SQS_VISIBILITY_SECONDS: how long a failed message stays invisible locally (set on the
  failed messages only), so it comes back in seconds rather than after the template's
  VisibilityTimeout (default: the template's value).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from werkzeug.wrappers import Request, Response

from farewatch_local.template import ACCOUNT_ID, REGION, FunctionSpec, QueueSpec, ScheduleEvent, SqsEvent

if TYPE_CHECKING:
    from farewatch_local.stack import LocalStack

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL_SECONDS = 60
# Long-poll wait of the background delivery: short, so Ctrl-C and /__local/poll never wait long.
RECEIVE_WAIT_SECONDS = 1
SUMMARY_KEYS = ("routes_polled", "upstream_calls", "alerts_created")


def _setting(stack: LocalStack, name: str, default: int | None) -> int | None:
    raw = stack.config.exported.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number of seconds, got {raw!r}")
    return int(raw)


def scheduled_event(
    function: FunctionSpec, schedule: ScheduleEvent, now: datetime, *, poll_now: bool = False
) -> Any:
    """What EventBridge sends the function: the rule's Input, else the Scheduled Event envelope.

    `poll_now` (POST /__local/poll) marks the envelope's detail, so the dispatcher pulls the next
    cycle forward instead of enqueueing only what is due this second.
    """
    if schedule.input is not None:
        return json.loads(schedule.input)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{function.logical_id}-{schedule.name}"],
        "detail": {"poll_now": True} if poll_now else {},
    }


def sqs_record(message: Mapping[str, Any], queue: QueueSpec) -> dict[str, Any]:
    """One SQS message as the record Lambda's event source mapping puts in the event."""
    attributes = dict(message.get("Attributes") or {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody")
        or hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": REGION,
    }


@dataclass
class DeliveryResult:
    """One invocation: how many records it got, which failed, and the totals the worker reported."""

    received: int
    failed: int
    summary: dict[str, int]


class SqsDelivery:
    """One SQS event of a function: receives batches from its queue and invokes the function."""

    def __init__(self, stack: LocalStack, function: FunctionSpec, event: SqsEvent) -> None:
        assert stack.template is not None and stack.functions is not None
        self.function, self.event = function, event
        self.queue = stack.template.queue(event.queue)
        self._functions = stack.functions
        self._sqs = boto3.client("sqs", endpoint_url=stack.aws_url, region_name=REGION)
        self.queue_url = self._sqs.get_queue_url(QueueName=self.queue.name)["QueueUrl"]

    def deliver_once(self, wait_seconds: int = 0, retry_after: int | None = None) -> DeliveryResult | None:
        """Receive one batch and invoke the function with it; None when the queue had nothing visible."""
        received = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.event.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages") or []
        if not messages:
            return None
        records = [sqs_record(message, self.queue) for message in messages]
        failed_ids: set[str]
        summary: dict[str, int] = {}
        try:
            response = self._functions.invoke(self.function.logical_id, {"Records": records})
        except Exception as error:
            # Lambda retries the whole batch: every message stays in flight until its visibility ends.
            # One line, as the handler's own log already tells why.
            logger.warning(
                "%s failed on a batch of %d (%s: %s); SQS retries it",
                self.function.logical_id,
                len(records),
                type(error).__name__,
                error,
            )
            failed_ids = {record["messageId"] for record in records}
        else:
            failed_ids = self._failed_ids(response, records)
            polled = response.get("polled") if isinstance(response, dict) else None
            if isinstance(polled, dict):
                summary = {key: int(polled.get(key, 0)) for key in SUMMARY_KEYS}
        if retry_after is not None and failed_ids:
            # The local override of the queue's VisibilityTimeout, for these messages only.
            failed = [record for record in records if record["messageId"] in failed_ids]
            self._sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": retry_after}
                    for index, r in enumerate(failed)
                ],
            )
        done = [record for record in records if record["messageId"] not in failed_ids]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": r["receiptHandle"]} for index, r in enumerate(chunk)
                ],
            )
        return DeliveryResult(received=len(records), failed=len(failed_ids), summary=summary)

    def _failed_ids(self, response: Any, records: list[dict[str, Any]]) -> set[str]:
        every = {record["messageId"] for record in records}
        if not self.event.reports_batch_item_failures:
            return set()
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            return set()
        ids = {str(item.get("itemIdentifier")) for item in failures if isinstance(item, dict)}
        # Lambda treats an unknown or empty identifier as a failure of the whole batch.
        return every if not ids <= every else ids


class PollerService:
    """Schedules and SQS deliveries of the template, and the synchronous `POST /__local/poll` cycle."""

    name = "poller"

    def __init__(self, stack: LocalStack) -> None:
        assert stack.template is not None and stack.functions is not None and stack.gateway is not None
        self._functions = stack.functions
        self.interval = _setting(stack, "FAREWATCH_POLL_INTERVAL_SECONDS", DEFAULT_POLL_INTERVAL_SECONDS) or 0
        self.visibility = _setting(stack, "FAREWATCH_SQS_VISIBILITY_SECONDS", None)
        self.schedules = [(f, s) for f, s in stack.template.schedules if s.enabled]
        self.deliveries = [
            SqsDelivery(stack, f, e) for f, e in stack.template.queue_subscriptions if e.enabled
        ]
        # One cycle at a time: a scheduled tick, a background batch or /__local/poll.
        self._cycle = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        stack.gateway.add_local_route("POST", "/__local/poll", self.poll_route)

    def start(self) -> None:
        if self.interval > 0:
            for function, schedule in self.schedules:
                self._spawn(f"schedule {function.logical_id}", self._schedule_loop, function, schedule)
        for delivery in self.deliveries:
            self._spawn(f"sqs {delivery.function.logical_id}", self._delivery_loop, delivery)

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=RECEIVE_WAIT_SECONDS + 5)
        self._threads.clear()

    def describe(self) -> list[str]:
        lines = []
        for function, schedule in self.schedules:
            every = f"every {self.interval} s locally" if self.interval > 0 else "only on POST /__local/poll"
            lines.append(
                f"  {'Schedule':<13}{function.logical_id} {every} ({schedule.expression} deployed; "
                "FAREWATCH_POLL_INTERVAL_SECONDS)"
            )
        for delivery in self.deliveries:
            lines.append(
                f"  {'SQS':<13}{delivery.queue.name} -> {delivery.function.logical_id} "
                f"(batches of {delivery.event.batch_size})"
            )
        if self.schedules or self.deliveries:
            lines.append(f"  {'Poll now':<13}POST /__local/poll")
        return lines

    # -- background ----------------------------------------------------------------------------------

    def _schedule_loop(self, function: FunctionSpec, schedule: ScheduleEvent) -> None:
        while not self._stopping.wait(self.interval):
            with self._cycle:
                self._fire(function, schedule)

    def _fire(self, function: FunctionSpec, schedule: ScheduleEvent) -> None:
        try:
            self._functions.invoke(
                function.logical_id, scheduled_event(function, schedule, datetime.now(UTC))
            )
        except Exception as error:
            logger.warning(
                "scheduled invocation of %s failed (%s: %s)", function.logical_id, type(error).__name__, error
            )

    def _delivery_loop(self, delivery: SqsDelivery) -> None:
        while not self._stopping.is_set():
            try:
                with self._cycle:
                    result = delivery.deliver_once(wait_seconds=0, retry_after=self.visibility)
                if result is None:
                    self._stopping.wait(RECEIVE_WAIT_SECONDS)
            except Exception:
                if self._stopping.is_set():
                    return
                logger.exception("SQS delivery to %s failed", delivery.function.logical_id)
                self._stopping.wait(RECEIVE_WAIT_SECONDS)

    # -- one synchronous cycle -----------------------------------------------------------------------

    def poll_once(self) -> dict[str, int]:
        """Fire every schedule once, then deliver until no message is visible; the workers' totals."""
        totals = dict.fromkeys(SUMMARY_KEYS, 0)
        with self._cycle:
            for function, schedule in self.schedules:
                self._functions.invoke(
                    function.logical_id, scheduled_event(function, schedule, datetime.now(UTC), poll_now=True)
                )
            for delivery in self.deliveries:
                while (
                    result := delivery.deliver_once(wait_seconds=0, retry_after=self.visibility)
                ) is not None:
                    for key in SUMMARY_KEYS:
                        totals[key] += result.summary.get(key, 0)
        return totals

    def poll_route(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            totals = self.poll_once()
        except Exception:
            logger.exception("POST /__local/poll failed")
            body = {
                "error": {
                    "code": "poll_failed",
                    "message": "The poll cycle failed; see the log.",
                    "details": [],
                }
            }
            return Response(json.dumps(body), status=500, content_type="application/json")
        logger.debug("poll cycle took %.2f s", time.perf_counter() - started)
        return Response(json.dumps({"data": totals}), status=200, content_type="application/json")


def poller_service(stack: LocalStack) -> PollerService:
    return PollerService(stack)
