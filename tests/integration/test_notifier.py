"""The notifier on moto (DynamoDB, SQS, SES v2) with a real receiver on loopback: each (alert, channel)
is delivered once, a failed channel is retried alone, mail goes only where it may."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from email import message_from_string, policy
from typing import Any

import boto3
import pytest
from moto.ses.models import ses_backends

from farewatch.clock import ManualClock
from farewatch.composition import build_notifier
from farewatch.fare_query import FareQuery
from farewatch.notify.service import ChannelFailed, Notifier
from farewatch.settings import Settings, get_settings
from farewatch.store.tracking import TrackingStore
from farewatch.store.users import UserStore
from farewatch.store.webhooks import WebhookStore
from farewatch.tracking.events import PriceDropDetected
from farewatch.tracking.values import Alert, StoredTracker
from tests.support.webhook_receiver import webhook_receiver

SENDER = "alerts@farewatch.test"
USER_ID = "0123456789abcdef0123456789abcdef"
TRACKER_ID = "trk_0123456789abcdef0123456789abcdef"
DAY = "2027-01-15"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(aws) -> Settings:
    return get_settings().model_copy(
        update={
            "webhook_allow_http_loopback": True,  # the receiver is on loopback, as with make dev
            "public_url": "https://farewatch.example",
            "mail_sender": SENDER,
            "webhook_retry_delays_seconds": "60,300",
        }
    )


@pytest.fixture
def sender_verified(aws) -> None:
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)


@pytest.fixture
def notifier(settings, clock, aws) -> Notifier:
    boto3.client("secretsmanager").put_secret_value(SecretId="JwtSigningKey", SecretString="k" * 64)
    return build_notifier(settings, clock)


def a_user(clock: ManualClock, *, verified: bool = True, email: str = "alice@example.com") -> str:
    users = UserStore()
    users.create(user_id=USER_ID, email=email, role="user", password_hash="$2b$04$x", now=clock.now())
    if verified:
        users.mark_verified(USER_ID, email, now=clock.now())
    return USER_ID


def a_tracker(clock: ManualClock, *, notify: tuple[str, ...] | None = None) -> None:
    tracker = StoredTracker(
        id=TRACKER_ID,
        user_id=USER_ID,
        query=FareQuery(
            origin="JFK", destination="LAX", departure_date=date.fromisoformat(DAY), adults=1, currency="USD"
        ),
        target_price=Decimal("250"),
        notify_on_any_drop=True,
        current_price=Decimal("287"),
        lowest_price=Decimal("287"),
        last_alerted_price=None,
        last_checked_at=clock.now(),
        created_at=clock.now(),
        updated_at=clock.now(),
        notify=notify,
    )
    TrackingStore().create(tracker, limit=50, next_poll_at=clock.now() + 1800)


def event(clock: ManualClock, alert_id: str = "a1b2c3d4e5f6a1b2c3d4e5f6") -> PriceDropDetected:
    return PriceDropDetected.of(
        Alert(
            id=alert_id,
            user_id=USER_ID,
            tracker_id=TRACKER_ID,
            route_key=f"JFK#LAX#{DAY}#1#USD",
            kind="target_reached",
            price=Decimal("240"),
            previous_price=Decimal("287"),
            target_price=Decimal("250"),
            currency="USD",
            observed_at=clock.now(),
            created_at=clock.now(),
            lowest_price=Decimal("240"),
        )
    )


def as_eventbridge(detail: PriceDropDetected) -> str:
    """The body EventBridge puts on the queue for PriceDropRule: the whole event."""
    return json.dumps(
        {
            "version": "0",
            "id": "e-1",
            "detail-type": "PriceDropDetected",
            "source": "farewatch",
            "account": "123456789012",
            "time": "2026-12-01T12:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(detail.model_dump_json()),
        }
    )


def sent_mail() -> list[Any]:
    return [
        message_from_string(m.raw_data, policy=policy.default)
        for m in ses_backends["123456789012"]["us-east-1"].sent_messages
    ]


def queued(settings: Settings, *, delays: list[int] | None = None) -> list[dict[str, Any]]:
    """Every message on NotifyQueue, delayed ones included (SQS's delay runs on the wall clock, the
    test's on a ManualClock), taken off the queue; `delays` gets each one's DelaySeconds."""
    from moto.sqs.models import sqs_backends

    queue = sqs_backends["123456789012"]["us-east-1"].queues[settings.notify_queue_url.rsplit("/", 1)[1]]
    messages, queue._messages = list(queue._messages), []
    if delays is not None:
        # As sent: delayed_until less the send time (not the time now, which a busy machine moves on).
        delays.extend(round(max(0, m.delayed_until - m.sent_timestamp) / 1000) for m in messages)
    return [json.loads(m.body) for m in messages]


def add_webhook(url: str) -> tuple[str, str]:
    endpoint = WebhookStore().create(USER_ID, url=url, description=None, now=0)
    return endpoint.id, endpoint.secret


def test_a_price_drop_sends_one_mail_that_says_it_all_and_one_verified_webhook(
    notifier, clock, sender_verified
):
    a_user(clock)
    a_tracker(clock)
    with webhook_receiver() as receiver:
        endpoint_id, receiver.secret = add_webhook(receiver.url)

        notifier.handle(as_eventbridge(event(clock)), message_id="m-1")

    (mail,) = sent_mail()
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert mail["Subject"] == "JFK → LAX 15 Jan: $240 (was $287)"
    assert mail["To"] == "alice@example.com" and mail["From"] == SENDER
    for expected in ("New York", "Los Angeles", "15 Jan 2027", "$240", "$287", "$250"):
        assert expected in text and expected in html
    assert f"https://farewatch.example/trackers/{TRACKER_ID}" in text
    assert "<img" not in html and "<script" not in html
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = mail["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://farewatch.example/unsubscribe?token=") and "@" not in unsubscribe
    (delivery,) = receiver.deliveries
    assert delivery.verified and delivery.status == 204
    assert delivery.webhook_id == f"msg_a1b2c3d4e5f6a1b2c3d4e5f6_{endpoint_id}"
    assert delivery.body["type"] == "price_drop.detected"
    data = delivery.body["data"]
    assert (data["origin"], data["destination"], data["departure_date"], data["price"]) == (
        "JFK",
        "LAX",
        DAY,
        "240.00",
    )
    assert "user_id" not in data and "route" not in data and "route_key" not in data


def test_a_redelivered_or_duplicated_event_sends_nothing_twice(notifier, clock, sender_verified):
    a_user(clock)
    a_tracker(clock)
    with webhook_receiver() as receiver:
        _, receiver.secret = add_webhook(receiver.url)
        body = as_eventbridge(event(clock))

        notifier.handle(body, message_id="m-1")
        notifier.handle(body, message_id="m-1")  # SQS redelivery
        notifier.handle(body, message_id="m-2")  # the outbox published it twice

    assert len(sent_mail()) == 1
    assert len(receiver.deliveries) == 1


def test_an_ses_failure_retries_the_mail_alone_and_the_webhook_is_not_sent_again(notifier, clock):
    a_user(clock)
    a_tracker(clock)
    with webhook_receiver() as receiver:
        _, receiver.secret = add_webhook(receiver.url)
        body = as_eventbridge(event(clock))

        # Given SES refuses the sender (not verified yet), the record fails for SQS to give it back
        with pytest.raises(ChannelFailed):
            notifier.handle(body, message_id="m-1")
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        # When SQS redelivers it
        notifier.handle(body, message_id="m-1")

    # Then the mail goes once, and the webhook that had succeeded is not repeated
    assert len(sent_mail()) == 1
    assert len(receiver.deliveries) == 1


def test_a_webhook_500_is_retried_alone_with_the_same_webhook_id(notifier, clock, settings, sender_verified):
    a_user(clock)
    a_tracker(clock)
    with webhook_receiver(statuses=[500, 500]) as receiver:
        endpoint_id, receiver.secret = add_webhook(receiver.url)
        notifier.handle(as_eventbridge(event(clock)), message_id="m-1")
        delays: list[int] = []
        (retry,) = queued(settings, delays=delays)
        clock.advance(60)
        notifier.handle(json.dumps(retry), message_id="m-2")
        (retry,) = queued(settings)
        clock.advance(300)
        notifier.handle(json.dumps(retry), message_id="m-3")
        notifier.handle(json.dumps(retry), message_id="m-3")  # that ticket redelivered

    assert [d.status for d in receiver.deliveries] == [500, 500, 204]
    assert len({d.webhook_id for d in receiver.deliveries}) == 1
    assert all(d.verified for d in receiver.deliveries)
    assert len(sent_mail()) == 1
    log = WebhookStore().deliveries(endpoint_id)
    assert [(a.attempt, a.status) for a in log] == [(3, 204), (2, 500), (1, 500)]
    assert queued(settings) == []
    assert delays == [60]


def test_a_retry_that_is_not_due_hops_again_without_calling_the_receiver(notifier, clock, settings):
    a_user(clock, verified=False)
    a_tracker(clock)
    with webhook_receiver(statuses=[500]) as receiver:
        add_webhook(receiver.url)
        notifier.handle(as_eventbridge(event(clock)), message_id="m-1")
        (retry,) = queued(settings)
        clock.advance(10)

        notifier.handle(json.dumps(retry), message_id="m-2")  # 10 s of its 60 s have passed

        assert len(receiver.deliveries) == 1
    delays: list[int] = []
    assert queued(settings, delays=delays) == [retry]
    assert delays == [50]


def test_after_the_last_retry_the_endpoint_is_disabled_and_its_owner_mailed_once(
    notifier, clock, settings, sender_verified
):
    a_user(clock)
    a_tracker(clock, notify=("webhook",))
    with webhook_receiver(statuses=[500] * 10) as receiver:
        endpoint_id, _ = add_webhook(receiver.url)
        notifier.handle(as_eventbridge(event(clock)), message_id="m-1")
        for _ in range(2):
            (retry,) = queued(settings)
            clock.advance(300)
            notifier.handle(json.dumps(retry), message_id=f"r-{retry['webhook_retry']['attempt']}")
        notifier.handle(as_eventbridge(event(clock, "b" * 24)), message_id="m-2")  # a later alert

    assert len(receiver.deliveries) == 3  # the later alert finds the endpoint disabled
    assert WebhookStore().get(USER_ID, endpoint_id).enabled is False
    (mail,) = sent_mail()
    assert mail["Subject"] == "Your Farewatch webhook is disabled"


@pytest.mark.parametrize("why", ["unverified", "suppressed", "unsubscribed"])
def test_no_price_mail_goes_to_an_address_that_may_not_get_one(notifier, clock, sender_verified, why):
    a_user(clock, verified=why != "unverified")
    if why == "suppressed":
        UserStore().suppress_email(USER_ID, "bounce", now=clock.now())
    if why == "unsubscribed":
        UserStore().set_email_alerts(USER_ID, False, now=clock.now())
    a_tracker(clock)

    outcome = notifier.handle(as_eventbridge(event(clock)), message_id="m-1")

    assert sent_mail() == []
    assert "no email" in outcome


def test_a_tracker_that_asks_for_webhooks_only_gets_no_mail(notifier, clock, sender_verified):
    a_user(clock)
    a_tracker(clock, notify=("webhook",))

    notifier.handle(as_eventbridge(event(clock)), message_id="m-1")

    assert sent_mail() == []


@pytest.mark.parametrize(
    ("detail_type", "detail", "suppressed"),
    [
        (
            "Email Bounced",
            {
                "bounce": {
                    "bounceType": "Permanent",
                    "bouncedRecipients": [{"emailAddress": "alice@example.com"}],
                }
            },
            "bounce",
        ),
        (
            "Email Complaint Received",
            {"complaint": {"complainedRecipients": [{"emailAddress": "Alice@Example.com"}]}},
            "complaint",
        ),
        (
            "Email Bounced",
            {
                "bounce": {
                    "bounceType": "Transient",
                    "bouncedRecipients": [{"emailAddress": "alice@example.com"}],
                }
            },
            None,
        ),
    ],
)
def test_ses_bounces_and_complaints_suppress_the_address(notifier, clock, detail_type, detail, suppressed):
    a_user(clock)
    message = {"source": "aws.ses", "detail-type": detail_type, "detail": detail}

    notifier.handle(json.dumps(message), message_id="m-1")

    assert UserStore().get(USER_ID).email_suppressed == suppressed


def test_an_unknown_message_fails_its_record(notifier):
    with pytest.raises(ValueError):
        notifier.handle(json.dumps({"source": "elsewhere"}), message_id="m-1")
