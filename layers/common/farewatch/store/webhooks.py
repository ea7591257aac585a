"""Webhook endpoints and their delivery log in DynamoDB (WebhooksTable): the only code that touches them.

WebhooksTable (pk, sk)                 user data: retained, deletion-protected, backed up
  pk = user#<user id>                  WebhookEndpointRecord: url, description, secret (whsec_...,
  sk = endpoint#<endpoint id>          shown to its owner once), created_at, disabled_at, failures
                                       (deliveries that ran out of retries in a row). Query on pk lists a
                                       user's endpoints (GET /webhooks; the limit of 5 counts them).
  pk = deliveries#<endpoint id>        WebhookDeliveryRecord: one attempt: at, status, duration_ms,
  sk = <ISO time>#<attempt>#<random>   attempt, error (never a body). Query on pk newest first, 50 a
                                       page; expires after 30 days (purge_at).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from farewatch.clock import sortable_utc
from farewatch.settings import get_settings
from farewatch.store.conditions import update_unless_condition_failed
from farewatch.store.models import TableMeta

_settings = get_settings()
DELIVERY_LOG_DAYS = 30
_ENDPOINT, _USER, _DELIVERIES = "endpoint#", "user#", "deliveries#"


class _WebhooksTableMeta(TableMeta):
    table_name = _settings.webhooks_table


class WebhookEndpointRecord(Model):
    class Meta(_WebhooksTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    endpoint_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    url = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    secret = UnicodeAttribute()
    created_at = NumberAttribute()
    disabled_at = NumberAttribute(null=True)
    failures = NumberAttribute(default=0)


class WebhookDeliveryRecord(Model):
    class Meta(_WebhooksTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    at = NumberAttribute()
    alert_id = UnicodeAttribute(null=True)
    status = NumberAttribute(null=True)
    duration_ms = NumberAttribute()
    attempt = NumberAttribute()
    error = UnicodeAttribute(null=True)
    purge_at = TTLAttribute()


WEBHOOK_MODELS: tuple[type[Model], ...] = (WebhookEndpointRecord, WebhookDeliveryRecord)


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    user_id: str
    url: str
    description: str | None
    secret: str
    created_at: float
    disabled_at: float | None = None
    failures: int = 0

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class DeliveryAttempt:
    at: float
    alert_id: str | None
    status: int | None
    duration_ms: int
    attempt: int
    error: str | None


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _endpoint_of(record: WebhookEndpointRecord) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=record.endpoint_id,
        user_id=record.user_id,
        url=record.url,
        description=record.description,
        secret=record.secret,
        created_at=float(record.created_at),
        disabled_at=float(record.disabled_at) if record.disabled_at is not None else None,
        failures=int(record.failures or 0),
    )


class WebhookStore:
    def create(self, user_id: str, *, url: str, description: str | None, now: float) -> WebhookEndpoint:
        endpoint_id = f"wh_{uuid.uuid4().hex}"
        record = WebhookEndpointRecord(
            f"{_USER}{user_id}",
            f"{_ENDPOINT}{endpoint_id}",
            endpoint_id=endpoint_id,
            user_id=user_id,
            url=url,
            description=description,
            secret=new_secret(),
            created_at=now,
            failures=0,
        )
        record.save(condition=WebhookEndpointRecord.pk.does_not_exist())
        return _endpoint_of(record)

    def of_user(self, user_id: str) -> list[WebhookEndpoint]:
        records = WebhookEndpointRecord.query(
            f"{_USER}{user_id}", WebhookEndpointRecord.sk.startswith(_ENDPOINT), consistent_read=True
        )
        return sorted((_endpoint_of(r) for r in records), key=lambda e: (e.created_at, e.id))

    def get(self, user_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        if not endpoint_id.startswith("wh_") or len(endpoint_id) > 64:
            return None
        try:
            record = WebhookEndpointRecord.get(
                f"{_USER}{user_id}", f"{_ENDPOINT}{endpoint_id}", consistent_read=True
            )
        except DoesNotExist:
            return None
        return _endpoint_of(record)

    def delete(self, user_id: str, endpoint_id: str) -> bool:
        endpoint = self.get(user_id, endpoint_id)
        if endpoint is None:
            return False
        WebhookEndpointRecord(f"{_USER}{user_id}", f"{_ENDPOINT}{endpoint_id}").delete()
        with WebhookDeliveryRecord.batch_write() as batch:
            for record in WebhookDeliveryRecord.query(f"{_DELIVERIES}{endpoint_id}"):
                batch.delete(record)
        return True

    def delete_all_of(self, user_id: str) -> None:
        for endpoint in self.of_user(user_id):
            self.delete(user_id, endpoint.id)

    def record_attempt(self, endpoint_id: str, attempt: DeliveryAttempt) -> None:
        WebhookDeliveryRecord(
            f"{_DELIVERIES}{endpoint_id}",
            f"{sortable_utc(attempt.at)}#{attempt.attempt:03d}#{secrets.token_hex(4)}",
            at=attempt.at,
            alert_id=attempt.alert_id,
            status=attempt.status,
            duration_ms=attempt.duration_ms,
            attempt=attempt.attempt,
            error=attempt.error,
            purge_at=datetime.fromtimestamp(attempt.at + DELIVERY_LOG_DAYS * 86400, tz=UTC),
        ).save()

    def deliveries(self, endpoint_id: str, *, limit: int = 50) -> list[DeliveryAttempt]:
        records = WebhookDeliveryRecord.query(
            f"{_DELIVERIES}{endpoint_id}", scan_index_forward=False, limit=limit, consistent_read=True
        )
        return [
            DeliveryAttempt(
                at=float(r.at),
                alert_id=r.alert_id,
                status=int(r.status) if r.status is not None else None,
                duration_ms=int(r.duration_ms),
                attempt=int(r.attempt),
                error=r.error,
            )
            for r in records
        ]

    def delivered(self, user_id: str, endpoint_id: str) -> None:
        """A success: the failure count starts again."""
        update_unless_condition_failed(
            WebhookEndpointRecord(f"{_USER}{user_id}", f"{_ENDPOINT}{endpoint_id}"),
            actions=[WebhookEndpointRecord.failures.set(0)],
            condition=WebhookEndpointRecord.pk.exists(),
        )

    def gave_up(self, user_id: str, endpoint_id: str, *, disable_after: int, now: float) -> bool:
        """A delivery ran out of retries. True exactly once: when this one disabled the endpoint."""
        record = WebhookEndpointRecord(f"{_USER}{user_id}", f"{_ENDPOINT}{endpoint_id}")
        if not update_unless_condition_failed(
            record,
            actions=[WebhookEndpointRecord.failures.add(1)],
            condition=WebhookEndpointRecord.pk.exists() & WebhookEndpointRecord.disabled_at.does_not_exist(),
        ):
            return False
        if int(record.failures) < disable_after:
            return False
        return update_unless_condition_failed(
            WebhookEndpointRecord(f"{_USER}{user_id}", f"{_ENDPOINT}{endpoint_id}"),
            actions=[WebhookEndpointRecord.disabled_at.set(now)],
            condition=WebhookEndpointRecord.pk.exists() & WebhookEndpointRecord.disabled_at.does_not_exist(),
        )
