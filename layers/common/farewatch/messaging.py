"""The poller's AWS messaging clients: the poll queue (SQS SendMessageBatch) and the event bus
(EventBridge PutEvents of PriceDropDetected events). The only code that talks to SQS or EventBridge."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from farewatch import aws
from farewatch.settings import Settings
from farewatch.tracking.poll_dispatch import QueueEntry

if TYPE_CHECKING:
    from farewatch.accounts.mailing import AccountMessage
    from farewatch.tracking.values import Alert


def _client(service: str, settings: Settings) -> Any:
    return aws.client(service, region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)


class PollQueue:
    """SendMessageBatch to the poll queue; answers the entry ids it did not accept."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self._queue_url = queue_url
        self._client = client

    def send_batch(self, entries: Sequence[QueueEntry]) -> list[str]:
        if not entries:
            return []
        response = self._client.send_message_batch(
            QueueUrl=self._queue_url,
            Entries=[{"Id": entry.entry_id, "MessageBody": entry.body} for entry in entries],
        )
        return [str(failure["Id"]) for failure in response.get("Failed") or []]


class PartialPublishError(Exception):
    """EventBridge accepted some entries of a PutEvents call but not all."""


class EventBus:
    """PutEvents of PriceDropDetected events; raises when EventBridge rejects any entry, so the SQS
    record is retried (and the alerts stay in the outbox)."""

    def __init__(self, client: Any, bus_name: str = "default") -> None:
        self._client = client
        self._bus_name = bus_name

    def announce(self, alerts: Sequence[Alert]) -> None:
        if not alerts:
            return
        # Imported with the first alert: the event's model is not built by a dispatcher or a quiet poll.
        from farewatch.tracking.events import EVENT_SOURCE, PRICE_DROP_DETAIL_TYPE, PriceDropDetected

        entries = [
            {
                "Source": EVENT_SOURCE,
                "DetailType": PRICE_DROP_DETAIL_TYPE,
                "Detail": PriceDropDetected.of(alert).model_dump_json(),
                "EventBusName": self._bus_name,
            }
            for alert in alerts
        ]
        response = self._client.put_events(Entries=entries)
        if response.get("FailedEntryCount"):
            codes = sorted(
                {str(item.get("ErrorCode")) for item in response["Entries"] if item.get("ErrorCode")}
            )
            raise PartialPublishError(
                f"{response['FailedEntryCount']} PriceDropDetected events failed: {codes}"
            )


@lru_cache(maxsize=1)
def poll_queue(settings: Settings) -> PollQueue:
    if not settings.poll_queue_url:
        raise RuntimeError("POLL_QUEUE_URL is not set")
    return PollQueue(settings.poll_queue_url, _client("sqs", settings))


@lru_cache(maxsize=1)
def event_bus(settings: Settings) -> EventBus:
    return EventBus(_client("events", settings), settings.event_bus_name)


class AlertAnnouncements:
    """The worker's AlertAnnouncer: the event bus, whose EventBridge client is made with the first
    alert to announce (most poll batches announce none)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def announce(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            event_bus(self._settings).announce(alerts)


class NotifyQueue:
    """The notifier's queue: account mails from the users function, and the notifier's own retries."""

    def __init__(self, client: Any, queue_url: str | None) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, body: dict[str, Any], *, delay_seconds: int = 0) -> None:
        if not self._url:
            raise RuntimeError("NOTIFY_QUEUE_URL is not set")
        self._sqs.send_message(
            QueueUrl=self._url, MessageBody=json.dumps(body), DelaySeconds=max(0, min(900, delay_seconds))
        )

    def send_account_mail(self, message: AccountMessage) -> None:
        self.send({"account_mail": asdict(message)})


class RetryQueue:
    """The notifier's Later: its own queue, whose SQS client is made with the first retry to schedule
    (most records schedule none)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._queue: NotifyQueue | None = None

    def send(self, body: dict[str, Any], *, delay_seconds: int = 0) -> None:
        if self._queue is None:
            self._queue = NotifyQueue(_client("sqs", self._settings), self._settings.notify_queue_url)
        self._queue.send(body, delay_seconds=delay_seconds)


class AccountMailOutbox:
    """AccountMail for the accounts service: each mail goes to the notifier's queue, whose SQS client
    is made with the first mail (most requests of the users function send none)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, message: AccountMessage) -> None:
        notify_queue(self._settings).send_account_mail(message)


@lru_cache(maxsize=1)
def notify_queue(settings: Settings) -> NotifyQueue:
    return NotifyQueue(_client("sqs", settings), settings.notify_queue_url)
