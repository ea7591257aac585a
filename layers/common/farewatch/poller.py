"""The poll cycle's logic: the dispatcher's fan-out of due watched routes to the queue, and the
worker's per-route step (refresh the route, then announce each new price-drop alert).

Collaborators are injected (the due-route reader, the queue sender, the refresher, the event
publisher), so tests hand in fakes; the handlers in functions/poller wire the AWS ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any, Protocol

from aws_lambda_powertools import Logger

logger = Logger(child=True)

# SQS SendMessageBatch and EventBridge PutEvents both take at most 10 entries per call.
SQS_BATCH_LIMIT = 10
PUT_EVENTS_LIMIT = 10
EVENT_SOURCE = "farewatch"
PRICE_DROP_DETAIL_TYPE = "PriceDropDetected"


# --------------------------------------------------------------------------------------------------
# Dispatcher.


@dataclass(frozen=True)
class QueueEntry:
    """One SendMessageBatch entry: `entry_id` is unique within its batch, `body` names the route."""

    entry_id: str
    route_key: str

    @property
    def body(self) -> str:
        return json.dumps({"route_key": self.route_key})


SendBatch = Callable[[Sequence[QueueEntry]], list[str]]
"""Sends up to 10 entries to the poll queue; returns the entry ids the queue did not accept."""

DueRoutes = Callable[[float], Iterable[str]]
"""The watched-route keys due for a poll at `now`."""


@dataclass(frozen=True)
class DispatchReport:
    routes_enqueued: int
    batches: int
    failed_routes: tuple[str, ...] = ()


def route_key_of(body: str) -> str:
    """The route key carried by a poll-queue message body (what QueueEntry.body writes)."""
    document = json.loads(body)
    route_key = document.get("route_key") if isinstance(document, dict) else None
    if not isinstance(route_key, str) or not route_key:
        raise ValueError("poll message has no route_key")
    return route_key


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def dispatch(now: float, send_batch: SendBatch, due_routes: DueRoutes) -> DispatchReport:
    """Enqueue every due watched route, ten per SendMessageBatch.

    Entries a batch rejects are retried once in their own call; what still fails is logged and left
    for the next scheduled cycle (the route stays due, so nothing is lost for long).
    """
    enqueued, batches, failed = 0, 0, []
    for chunk in _chunks(due_routes(now), SQS_BATCH_LIMIT):
        entries = [QueueEntry(str(index), route_key) for index, route_key in enumerate(chunk)]
        batches += 1
        rejected = set(send_batch(entries))
        if rejected:
            retry = [entry for entry in entries if entry.entry_id in rejected]
            rejected = set(send_batch(retry))
        lost = [entry.route_key for entry in entries if entry.entry_id in rejected]
        if lost:
            logger.error(
                "Poll queue rejected routes twice; they wait for the next cycle", extra={"routes": lost}
            )
        failed.extend(lost)
        enqueued += len(entries) - len(lost)
    return DispatchReport(routes_enqueued=enqueued, batches=batches, failed_routes=tuple(failed))


# --------------------------------------------------------------------------------------------------
# Worker.


class RefreshOutcome(Protocol):
    """What refreshing one watched route reports (farewatch.tracking.poll.RouteRefresh)."""

    @property
    def upstream_call(self) -> bool: ...

    @property
    def alerts(self) -> Sequence[Any]:
        """The alerts this refresh created."""
        ...

    @property
    def unpublished(self) -> Sequence[Any]:
        """Every alert of the route whose event is not on the bus yet: these and any an earlier,
        failed attempt left behind (the outbox)."""
        ...


RefreshRoute = Callable[[str, float], RefreshOutcome]
"""Refreshes one watched route at `now`: price, history, trackers, alerts written idempotently."""

PublishEvents = Callable[[Sequence[dict[str, Any]]], None]
"""Puts up to 10 EventBridge entries; raises when any entry is not accepted."""

MarkPublished = Callable[[Sequence[Any]], None]
"""Takes alerts out of the outbox once their events are on the bus."""


@dataclass(frozen=True)
class RouteWork:
    """What the worker did for one queued route."""

    route_key: str
    upstream_call: bool
    alerts_created: int


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def alert_detail(alert: Any) -> dict[str, Any]:
    """An alert as the JSON detail of its PriceDropDetected event (pydantic model or dataclass)."""
    if hasattr(alert, "model_dump"):
        raw = alert.model_dump(mode="json")
    elif is_dataclass(alert) and not isinstance(alert, type):
        raw = asdict(alert)
    else:
        raw = dict(vars(alert))
    detail: dict[str, Any] = json.loads(json.dumps(raw, default=_json_ready))
    return detail


def price_drop_entry(alert: Any, event_bus: str) -> dict[str, Any]:
    return {
        "Source": EVENT_SOURCE,
        "DetailType": PRICE_DROP_DETAIL_TYPE,
        "Detail": json.dumps(alert_detail(alert)),
        "EventBusName": event_bus,
    }


def work_one(
    route_key: str,
    now: float,
    *,
    refresh: RefreshRoute,
    publish: PublishEvents,
    mark_published: MarkPublished,
    event_bus: str,
) -> RouteWork:
    """Refresh one watched route, then announce every alert of it still in the outbox.

    The refresh writes alerts idempotently and each starts out unpublished, so a redelivered message
    creates nothing twice, and an alert whose PutEvents failed (or whose worker died before it) is
    announced by the retry: delivery is at least once, and the event carries the alert's
    deterministic id for consumers to deduplicate. An exception fails this record only: SQS
    redelivers it, then moves it to the dead-letter queue.
    """
    outcome = refresh(route_key, now)
    waiting = list(outcome.unpublished)
    for start in range(0, len(waiting), PUT_EVENTS_LIMIT):
        chunk = waiting[start : start + PUT_EVENTS_LIMIT]
        publish([price_drop_entry(alert, event_bus) for alert in chunk])
        mark_published(chunk)
    return RouteWork(
        route_key=route_key, upstream_call=bool(outcome.upstream_call), alerts_created=len(outcome.alerts)
    )


@dataclass(frozen=True)
class CycleSummary:
    """Totals over one worker batch, in the shape `POST /__local/poll` answers."""

    routes_polled: int = 0
    upstream_calls: int = 0
    alerts_created: int = 0

    @classmethod
    def of(cls, results: Iterable[RouteWork]) -> CycleSummary:
        done = list(results)
        return cls(
            routes_polled=len(done),
            upstream_calls=sum(1 for work in done if work.upstream_call),
            alerts_created=sum(work.alerts_created for work in done),
        )

    def plus(self, other: CycleSummary) -> CycleSummary:
        return CycleSummary(
            self.routes_polled + other.routes_polled,
            self.upstream_calls + other.upstream_calls,
            self.alerts_created + other.alerts_created,
        )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
