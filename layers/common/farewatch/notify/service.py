"""The notifier: each (alert, channel) delivered once, a failed channel retried on its own.

What reaches the notifier's queue, and what becomes of it:
- a `PriceDropDetected` event (EventBridge rule → SQS): a price mail to a verified, unsuppressed address
  that wants them, and a signed webhook to each enabled endpoint, as the tracker's `notify` says;
- an account mail the users function handed over (verification, "someone tried to register",
  password reset);
- a webhook retry this notifier scheduled (SQS delay; the ticket carries the attempt and when it is due);
- an SES bounce or complaint (SES → EventBridge → the same queue): the address is suppressed.

Idempotency (Powertools, DynamoDB) is keyed on the alert id and the channel (`email`, or
`webhook:<endpoint>:<attempt>`): re-running, redelivering or a duplicated event never sends twice. A
mail that fails raises, so SQS gives the record back; the webhooks it already delivered are COMPLETED
records and are not sent again. A webhook that fails is not an SQS failure: the notifier schedules its
next attempt itself (1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h: about a day), with the same
`webhook-id`, and after the last one it disables the endpoint and mails its owner once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from farewatch.accounts.mailing import AccountMessage, UnsubscribeTokens, one_time_token_hash
from farewatch.accounts.values import User
from farewatch.clock import Clock, iso_utc
from farewatch.notify.mail import Mail, account_mail, price_drop_mail, webhook_disabled_mail
from farewatch.notify.webhooks import DeliveryResult, webhook_message_id
from farewatch.store.webhooks import DeliveryAttempt, WebhookEndpoint
from farewatch.tracking.events import PriceDropDetected, webhook_body

logger = Logger(child=True)

DEFAULT_RETRY_DELAYS = (60, 300, 1800, 3600, 7200, 14400, 28800, 28800)
MAX_SQS_DELAY_SECONDS = 900
CHANNELS = ("email", "webhook")


class Once(Protocol):
    def __call__(self, key: dict[str, str], action: Callable[[], Any]) -> Any:
        """Run `action` unless an earlier run with this key completed (then return its result)."""


class Mailer(Protocol):
    def send(self, mail: Mail) -> str: ...


class Webhooks(Protocol):
    def deliver(self, *, url: str, secret: str, message_id: str, body: dict[str, Any]) -> DeliveryResult: ...


class Later(Protocol):
    def send(self, body: dict[str, Any], *, delay_seconds: int) -> None:
        """Put a message on the notifier's queue, visible after `delay_seconds` (at most 900)."""


class Users(Protocol):
    def get(self, user_id: str) -> User | None: ...


class EndpointStore(Protocol):
    def of_user(self, user_id: str) -> list[WebhookEndpoint]: ...
    def get(self, user_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...
    def record_attempt(self, endpoint_id: str, attempt: DeliveryAttempt) -> None: ...
    def delivered(self, user_id: str, endpoint_id: str) -> None: ...
    def gave_up(self, user_id: str, endpoint_id: str, *, disable_after: int, now: float) -> bool: ...


class ChannelFailed(Exception):
    """A channel of this record failed; SQS gives the record back and only that channel runs again."""


@dataclass(frozen=True)
class NotifierPolicy:
    public_url: str
    verify_hours: float = 24
    reset_minutes: float = 30
    retry_delays: Sequence[int] = DEFAULT_RETRY_DELAYS
    disable_after: int = 1  # deliveries that ran out of retries in a row (each ~a day of failures)


class Notifier:
    def __init__(
        self,
        *,
        users: Users,
        channels_of: Callable[[str, str], Sequence[str]],
        endpoints: EndpointStore,
        mailer: Mailer,
        webhooks: Webhooks,
        later: Later,
        once: Once,
        unsubscribe: UnsubscribeTokens,
        suppress: Callable[[str, str], object],
        clock: Clock,
        policy: NotifierPolicy,
    ) -> None:
        self._suppress = suppress
        self._users = users
        self._channels_of = channels_of
        self._endpoints = endpoints
        self._mailer = mailer
        self._webhooks = webhooks
        self._later = later
        self._once = once
        self._unsubscribe = unsubscribe
        self._clock = clock
        self._policy = policy

    # -- what arrives ------------------------------------------------------------------------------

    def handle(self, body: str, *, message_id: str) -> str:
        """One queue message, whichever kind it is; what was done, for the log."""
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ValueError("a notifier message is a JSON object")
        if "account_mail" in message:
            return self.account_mail(AccountMessage(**message["account_mail"]), message_id=message_id)
        if "webhook_retry" in message:
            return self.webhook_retry(message["webhook_retry"])
        source, kind = message.get("source"), message.get("detail-type")
        if source == "farewatch" and kind == "PriceDropDetected":
            return self.price_drop(PriceDropDetected.model_validate(message["detail"]))
        if source == "aws.ses":
            return self.ses_event(kind, message.get("detail") or {})
        raise ValueError(f"unknown notifier message ({source!r}, {kind!r})")

    def price_drop(self, event: PriceDropDetected) -> str:
        user = self._users.get(event.user_id)
        if user is None:
            return "account gone"
        channels = set(self._channels_of(event.user_id, event.tracked_flight_id))
        done: list[str] = []
        failed: Exception | None = None
        if "webhook" in channels:
            for endpoint in self._endpoints.of_user(user.id):
                if endpoint.enabled:
                    done.append(self._webhook_attempt(event, endpoint, attempt=1))
        if "email" in channels:
            if user.can_receive_price_mail:
                try:
                    self._once(
                        {"alert_id": event.id, "channel": "email"}, lambda: self._price_mail(event, user)
                    )
                    done.append("email sent")
                except Exception as error:  # SES refused or failed: this channel alone goes again
                    logger.warning("Price mail failed; SQS retries it", extra={"alert_id": event.id})
                    failed = error
            else:
                done.append(f"no email ({_why_no_mail(user)})")
        if failed is not None:
            raise ChannelFailed(f"email failed: {type(failed).__name__}") from failed
        return ", ".join(done) or "no channel"

    def _price_mail(self, event: PriceDropDetected, user: User) -> str:
        url = self._policy.public_url
        mail = price_drop_mail(
            event,
            to=user.email,
            tracker_url=f"{url}/trackers/{event.tracked_flight_id}",
            unsubscribe_url=f"{url}/unsubscribe?token={self._unsubscribe.make(user.id)}",
        )
        return self._mailer.send(mail)

    def account_mail(self, message: AccountMessage, *, message_id: str) -> str:
        user = self._users.get(message.user_id)
        if user is None or user.email != message.email:
            return "account gone or address changed"
        if user.email_suppressed is not None:
            return f"no email ({_why_no_mail(user)})"
        key = one_time_token_hash(message.token) if message.token else message_id
        hours = (
            self._policy.reset_minutes / 60 if message.kind == "password_reset" else self._policy.verify_hours
        )
        mail = account_mail(message, public_url=self._policy.public_url, valid_hours=hours)
        self._once({"alert_id": f"{message.kind}:{key}", "channel": "email"}, lambda: self._mailer.send(mail))
        return f"{message.kind} mail sent"

    def ses_event(self, kind: Any, detail: dict[str, Any]) -> str:
        """Bounces (permanent) and complaints suppress the address; anything else is only logged."""
        if kind == "Email Bounced" and (detail.get("bounce") or {}).get("bounceType") == "Permanent":
            reason, recipients = "bounce", (detail.get("bounce") or {}).get("bouncedRecipients") or []
        elif kind == "Email Complaint Received":
            reason, recipients = (
                "complaint",
                (detail.get("complaint") or {}).get("complainedRecipients") or [],
            )
        else:
            return f"ignored SES event {kind!r}"
        for recipient in recipients:
            address = str(recipient.get("emailAddress") or "")
            if address and self._suppress(address, reason) is not None:
                logger.warning("Address suppressed after SES feedback", extra={"reason": reason})
        return f"suppressed after {reason}"

    # -- webhooks ----------------------------------------------------------------------------------

    def webhook_retry(self, ticket: dict[str, Any]) -> str:
        due_at = float(ticket["due_at"])
        wait = due_at - self._clock.now()
        if wait > 1:  # SQS delays at most 15 minutes: hop again until it is due
            self._later.send({"webhook_retry": ticket}, delay_seconds=min(MAX_SQS_DELAY_SECONDS, int(wait)))
            return "retry not due yet"
        event = PriceDropDetected.model_validate(ticket["event"])
        endpoint = self._endpoints.get(event.user_id, str(ticket["endpoint_id"]))
        if endpoint is None or not endpoint.enabled:
            return "endpoint gone or disabled"
        return self._webhook_attempt(event, endpoint, attempt=int(ticket["attempt"]))

    def _webhook_attempt(self, event: PriceDropDetected, endpoint: WebhookEndpoint, *, attempt: int) -> str:
        key = {"alert_id": event.id, "channel": f"webhook:{endpoint.id}:{attempt}"}
        return str(self._once(key, lambda: self._deliver(event, endpoint, attempt)))

    def _deliver(self, event: PriceDropDetected, endpoint: WebhookEndpoint, attempt: int) -> str:
        now = self._clock.now()
        body = webhook_body(event, timestamp=iso_utc(now))
        result = self._webhooks.deliver(
            url=endpoint.url,
            secret=endpoint.secret,
            message_id=webhook_message_id(event.id, endpoint.id),
            body=body,
        )
        self._endpoints.record_attempt(
            endpoint.id,
            DeliveryAttempt(now, event.id, result.status, result.duration_ms, attempt, result.error),
        )
        if result.ok:
            self._endpoints.delivered(endpoint.user_id, endpoint.id)
            return f"webhook {endpoint.id} delivered (attempt {attempt})"
        delays = self._policy.retry_delays
        if attempt <= len(delays):
            delay = int(delays[attempt - 1])
            ticket = {
                "event": event.model_dump(mode="json"),
                "endpoint_id": endpoint.id,
                "attempt": attempt + 1,
                "due_at": now + delay,
            }
            self._later.send({"webhook_retry": ticket}, delay_seconds=min(MAX_SQS_DELAY_SECONDS, delay))
            return f"webhook {endpoint.id} failed ({result.error}); attempt {attempt + 1} in {delay} s"
        if self._endpoints.gave_up(
            endpoint.user_id, endpoint.id, disable_after=self._policy.disable_after, now=now
        ):
            user = self._users.get(endpoint.user_id)
            if user is not None and user.email_suppressed is None:
                self._once(
                    {"alert_id": f"webhook_disabled:{endpoint.id}", "channel": "email"},
                    lambda: self._mailer.send(
                        webhook_disabled_mail(
                            to=user.email, url=endpoint.url, public_url=self._policy.public_url
                        )
                    ),
                )
            logger.warning("Webhook disabled after a day of failures", extra={"endpoint_id": endpoint.id})
            return f"webhook {endpoint.id} disabled"
        return f"webhook {endpoint.id} gave up on alert {event.id}"


def _why_no_mail(user: User) -> str:
    if user.email_suppressed is not None:
        return f"address suppressed after a {user.email_suppressed}"
    if not user.email_verified:
        return "address not verified"
    return "price emails turned off"
