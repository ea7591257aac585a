"""The poller on the local stack: template.yaml's Schedule events on a faster local clock, SQS delivery
to the subscribed functions with Lambda's batch semantics, and `POST /__local/poll`.

A cycle fires every schedule (locally every watched route is due at each tick: the local clock is
compressed), then delivers until no message is visible, up to the consumer's pool size batches at a
time, like the event source mapping: up to BatchSize messages per invocation; those that succeeded are
deleted, those in `batchItemFailures` (or the whole batch when the function failed) stay in flight,
come back after the visibility timeout (FAREWATCH_SQS_VISIBILITY_SECONDS locally, if set) and move to
the dead-letter queue after maxReceiveCount. Each cycle is logged in one line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from farewatch_local.aws import client
from farewatch_local.functions import FunctionError, FunctionPools
from farewatch_local.gateway import error_envelope
from farewatch_local.template import (
    ACCOUNT_ID,
    REGION,
    FunctionSpec,
    QueueSpec,
    ScheduleEvent,
    SqsEvent,
    Template,
)

logger = logging.getLogger(__name__)

RETRY_CHECK_SECONDS = 1.0  # how often, between ticks, failed messages that came back are delivered
# What a cycle's `alerts_created` counts: the PriceDropDetected events it put on the bus, as an
# integration subscribed to them would see them (the worker answers only its batchItemFailures).
PRICE_DROP_PATTERN = {"source": ["farewatch"], "detail-type": ["PriceDropDetected"]}
OBSERVER_NAME = "farewatch-local-price-drops"


class PriceDropObserver:
    """A local-only queue subscribed to the default bus's PriceDropDetected events (never deployed)."""

    def __init__(self, aws_url: str) -> None:
        self._sqs, events = client("sqs", aws_url), client("events", aws_url)
        self._url = self._sqs.create_queue(QueueName=OBSERVER_NAME)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])
        events.put_rule(Name=OBSERVER_NAME, EventPattern=json.dumps(PRICE_DROP_PATTERN))
        events.put_targets(
            Rule=OBSERVER_NAME, Targets=[{"Id": "local-poll", "Arn": arn["Attributes"]["QueueArn"]}]
        )

    def drain(self) -> set[str]:
        """The alert ids announced since the last drain (an alert announced twice counts once)."""
        seen: set[str] = set()
        while batch := self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages"):
            for message in batch:
                detail = json.loads(message["Body"]).get("detail") or {}
                seen.add(str(detail.get("id", message["MessageId"])))
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)],
            )
        return seen


def scheduled_event(function: FunctionSpec, schedule: ScheduleEvent, *, poll_now: bool) -> Any:
    """What EventBridge sends: the Scheduled Event envelope. `poll_now` marks the local cycles, which
    pull every watched route forward instead of only those due this second."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{function.logical_id}-{schedule.name}"],
        "detail": {"poll_now": True} if poll_now else {},
    }


def sqs_record(message: Mapping[str, Any], queue: QueueSpec) -> dict[str, Any]:
    """One SQS message as the record Lambda's event source mapping puts in the event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
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
        "md5OfBody": hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": REGION,
    }


class SqsDelivery:
    """One SQS event of a function: a batch from its queue, the invocation, then delete or leave in flight."""

    def __init__(
        self,
        functions: FunctionPools,
        function: FunctionSpec,
        event: SqsEvent,
        queue: QueueSpec,
        aws_url: str,
    ):
        self.function, self.event, self.queue = function, event, queue
        self._functions = functions
        self._sqs = client("sqs", aws_url)
        self.queue_url = self._sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]

    def deliver_once(self, retry_after: int | None) -> int | None:
        """One batch delivered; how many of its messages succeeded, or None when none was visible."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.event.batch_size, 10),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages")
        if not messages:
            return None
        records = [sqs_record(message, self.queue) for message in messages]
        every = {record["messageId"] for record in records}
        try:
            response = self._functions.invoke(self.function.logical_id, {"Records": records})
        except FunctionError as error:  # Lambda retries the whole batch
            logger.warning("%s failed on a batch of %d; SQS retries it", error, len(records))
            failed = every
        else:
            failed = set()
            if self.event.reports_batch_item_failures and isinstance(response, dict):
                ids = {str(item.get("itemIdentifier")) for item in response.get("batchItemFailures") or []}
                failed = ids if ids <= every else every  # an unknown identifier fails the whole batch
        handles = {record["messageId"]: record["receiptHandle"] for record in records}
        if retry_after is not None and failed:
            self._sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": handles[i], "VisibilityTimeout": retry_after}
                    for n, i in enumerate(failed)
                ],
            )
        done = [handles[i] for i in every - failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(done)],
            )
        return len(every - failed)


class Poller:
    """Schedules and SQS deliveries of the template, and the synchronous `POST /__local/poll` cycle."""

    def __init__(
        self,
        template: Template,
        functions: FunctionPools,
        aws_url: str,
        *,
        interval: int,
        visibility: int | None = None,
        upstream_calls: Callable[[], int | None] = lambda: None,
        announce: Callable[[str], None] = print,
    ) -> None:
        self.interval, self.visibility = interval, visibility
        self._functions, self._upstream_calls, self._announce = functions, upstream_calls, announce
        self.schedules = template.schedules
        self._price_drops = PriceDropObserver(aws_url)
        self.deliveries = [
            SqsDelivery(functions, function, event, template.queue(event.queue), aws_url)
            for function, event in template.queue_subscriptions
        ]
        # Queues that EventBridge rules fill (the notifier's) carry notifications, not routes to poll.
        self._notification_queues = {queue for rule in template.rules for queue in rule.queues}
        self._cycle = threading.Lock()  # one cycle at a time: a tick, a retry check or /__local/poll
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # Interval 0: nothing in the background; POST /__local/poll and GET /__local/mail deliver.
        if self.interval > 0 and (self.schedules or self.deliveries):
            self._thread = threading.Thread(target=self._run, name="local poller", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=90)

    def describe(self) -> list[tuple[str, str]]:
        """The banner's rows: each schedule, each queue subscription, and how to poll now."""
        every = f"every {self.interval} s locally" if self.interval > 0 else "only on POST /__local/poll"
        deployed = "deployed; FAREWATCH_POLL_INTERVAL_SECONDS"
        rows = [
            (
                "Schedule",
                f"{function.logical_id} {every}, every watched route ({schedule.expression} {deployed})",
            )
            for function, schedule in self.schedules
        ]
        for delivery in self.deliveries:
            name = delivery.function.logical_id
            at_a_time = (
                f"batches of {delivery.event.batch_size}, up to {self._functions[name].size} at a time"
            )
            rows.append(("SQS", f"{delivery.queue.name} -> {name} ({at_a_time})"))
        return rows + ([("Poll now", "POST /__local/poll")] if rows else [])

    def _run(self) -> None:
        next_tick = time.monotonic() + self.interval
        while not self._stopping.wait(RETRY_CHECK_SECONDS):
            tick = self.interval > 0 and time.monotonic() >= next_tick
            if tick:
                next_tick = time.monotonic() + self.interval
            try:
                self.cycle("schedule" if tick else "retries", dispatch=tick)
            except Exception:
                logger.exception("the local poll cycle failed")

    def cycle(self, reason: str, *, dispatch: bool = True) -> dict[str, int]:
        """Fire every schedule (if `dispatch`), then deliver until no message is visible; the totals."""
        with self._cycle:
            started, upstream_before = time.monotonic(), self._upstream_calls()
            self._price_drops.drain()  # what came before this cycle is not its doing
            for function, schedule in self.schedules if dispatch else []:
                try:
                    self._functions.invoke(
                        function.logical_id, scheduled_event(function, schedule, poll_now=True)
                    )
                except FunctionError as error:
                    logger.warning("the scheduled invocation failed: %s", error)
            totals: Counter[str] = Counter()

            def drain(delivery: SqsDelivery) -> tuple[str, int, int]:
                """One consumer instance's batches until its queue shows none: (kind, batches, delivered)."""
                kind = "notified" if delivery.queue.logical_id in self._notification_queues else "delivered"
                batches = delivered = 0
                while (
                    not self._stopping.is_set()
                    and (count := delivery.deliver_once(self.visibility)) is not None
                ):
                    batches, delivered = batches + 1, delivered + count
                return kind, batches, delivered

            # Rounds until one finds no batch: what a round's functions publish or enqueue (the notifier's
            # events, after the worker's PutEvents) is delivered in the same cycle.
            workers = [d for d in self.deliveries for _ in range(self._functions[d.function.logical_id].size)]
            while workers and not self._stopping.is_set():
                with ThreadPoolExecutor(max_workers=len(workers)) as threads:
                    drained = list(threads.map(drain, workers))
                for kind, _, delivered in drained:
                    totals[kind] += delivered
                if not any(batches for _, batches, _ in drained):
                    break
            upstream_after = self._upstream_calls()
            # Searches the simulator served meanwhile; an external fare API cannot be counted.
            counted = upstream_before is not None and upstream_after is not None
            summary = {
                "routes_polled": totals["delivered"],
                "upstream_calls": (upstream_after or 0) - (upstream_before or 0) if counted else 0,
                "alerts_created": len(self._price_drops.drain()),
            }
        if dispatch or totals["delivered"] or totals["notified"]:
            self._announce(
                f"poll cycle ({reason}): {summary['routes_polled']} routes polled, "
                f"{summary['upstream_calls']} upstream calls, {summary['alerts_created']} alerts created, "
                f"{totals['notified']} notifications in {time.monotonic() - started:.1f} s"
            )
        return summary

    def deliver_pending(self) -> None:
        """Deliver whatever the queues hold now, without firing the schedule (GET /__local/mail)."""
        self.cycle("deliveries", dispatch=False)

    def poll_route(self, request: Request) -> Response:
        """`POST /__local/poll`: one full cycle, synchronously."""
        try:
            totals = self.cycle("POST /__local/poll")
        except Exception:
            logger.exception("POST /__local/poll failed")
            return error_envelope(500, "poll_failed", "The poll cycle failed; see the log.")
        return Response(json.dumps({"data": totals}), content_type="application/json")
