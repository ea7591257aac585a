"""Webhook routes: add, list, delete and test your endpoints, and read their delivery log.

They live in the users function rather than a function of their own: they share its sign-in, its
tables and its warm containers, and a sixth API function would cost a cold start and a template
block for five small routes. The notifier (functions/notifier) delivers to them.
"""

from __future__ import annotations

import time
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field

from farewatch import composition
from farewatch.api.access import SIGNED_IN, Caller
from farewatch.api.params import ResourceId
from farewatch.api.resolver import JSON, NO_STORE, error_responses, render_json
from farewatch.clock import iso_utc
from farewatch.errors import Conflict, InvalidRequest, NotFound
from farewatch.settings import get_settings
from farewatch.store.webhooks import DeliveryAttempt, WebhookEndpoint, WebhookStore

router = Router()
BODY_ERRORS = (400, 413, 415)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, examples=["https://example.com/farewatch"])
    description: str | None = Field(None, max_length=200)


class WebhookView(BaseModel):
    id: str
    url: str
    description: str | None
    enabled: bool = Field(description="false once a delivery failed for about a day (add it again).")
    created_at: str
    disabled_at: str | None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookView:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            description=endpoint.description,
            enabled=endpoint.enabled,
            created_at=iso_utc(endpoint.created_at),
            disabled_at=iso_utc(endpoint.disabled_at) if endpoint.disabled_at is not None else None,
        )


class NewWebhookView(WebhookView):
    secret: str = Field(description="whsec_...: verify deliveries with it. Shown this once only.")


class NewWebhookEnvelope(BaseModel):
    data: NewWebhookView


class WebhookList(BaseModel):
    data: list[WebhookView]


class DeliveryView(BaseModel):
    at: str
    alert_id: str | None
    status: int | None = Field(description="The receiver's HTTP status; null when it did not answer.")
    duration_ms: int
    attempt: int
    error: str | None

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> DeliveryView:
        return cls(
            at=iso_utc(attempt.at),
            alert_id=attempt.alert_id,
            status=attempt.status,
            duration_ms=attempt.duration_ms,
            attempt=attempt.attempt,
            error=attempt.error,
        )


class DeliveryList(BaseModel):
    data: list[DeliveryView]


class DeliveryEnvelope(BaseModel):
    data: DeliveryView


def _own(caller: Caller, endpoint_id: str) -> WebhookEndpoint:
    endpoint = WebhookStore().get(caller.user_id, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook.", code="webhook_not_found")
    return endpoint


@router.post(
    "/webhooks",
    summary="Add a webhook (its signing secret is shown once)",
    security=SIGNED_IN,
    responses={
        **error_responses(*BODY_ERRORS, 401, 409, success=None),
        201: {"description": "Created", "content": {JSON: {"model": NewWebhookEnvelope}}},
    },
)
def create_webhook(caller: Caller, body: Annotated[WebhookCreate, Body()]) -> Response[str]:
    # The delivery module (requests, standardwebhooks) loads with the first webhook, not at init.
    from farewatch.notify.webhooks import UrlRefused

    settings = get_settings()
    try:
        composition.webhook_guard(settings).check_url(body.url)
    except UrlRefused as refused:
        raise InvalidRequest(
            f"This URL cannot receive webhooks: {refused}.",
            code="webhook_url_refused",
            details=[{"field": "url", "issue": str(refused)}],
        ) from None
    store = WebhookStore()
    if len(store.of_user(caller.user_id)) >= settings.max_webhooks_per_user:
        raise Conflict(
            f"You have {settings.max_webhooks_per_user} webhooks, the most there can be; delete one first.",
            code="webhook_limit_reached",
        )
    endpoint = store.create(caller.user_id, url=body.url, description=body.description, now=time.time())
    view = NewWebhookView(**WebhookView.of(endpoint).model_dump(), secret=endpoint.secret)
    return Response(201, JSON, render_json({"data": view.model_dump()}), headers=NO_STORE)


@router.get("/webhooks", summary="Your webhooks", security=SIGNED_IN, responses=error_responses(401))
def list_webhooks(caller: Caller) -> WebhookList:
    return WebhookList(data=[WebhookView.of(e) for e in WebhookStore().of_user(caller.user_id)])


@router.delete(
    "/webhooks/<id>",
    summary="Delete a webhook and its delivery log",
    security=SIGNED_IN,
    responses=error_responses(400, 401, 404, success=204),
)
def delete_webhook(caller: Caller, id: ResourceId) -> Response[str]:
    if not WebhookStore().delete(caller.user_id, _own(caller, id).id):
        raise NotFound("No such webhook.", code="webhook_not_found")
    return Response(204, None, "")


@router.post(
    "/webhooks/<id>/test",
    summary="Send a signed test delivery now",
    security=SIGNED_IN,
    responses=error_responses(400, 401, 404),
)
def test_webhook(caller: Caller, id: ResourceId) -> DeliveryEnvelope:
    endpoint = _own(caller, id)
    now = time.time()
    body = {
        "type": "webhook.test",
        "timestamp": iso_utc(now),
        "data": {"webhook_id": endpoint.id, "message": "A test delivery from Farewatch."},
    }
    result = composition.webhook_sender(get_settings()).deliver(
        url=endpoint.url, secret=endpoint.secret, message_id=f"msg_test_{int(now * 1000)}", body=body
    )
    attempt = DeliveryAttempt(now, None, result.status, result.duration_ms, 1, result.error)
    WebhookStore().record_attempt(endpoint.id, attempt)
    return DeliveryEnvelope(data=DeliveryView.of(attempt))


@router.get(
    "/webhooks/<id>/deliveries",
    summary="The last 50 delivery attempts (newest first; no bodies)",
    security=SIGNED_IN,
    responses=error_responses(400, 401, 404),
)
def webhook_deliveries(caller: Caller, id: ResourceId) -> DeliveryList:
    endpoint = _own(caller, id)
    return DeliveryList(data=[DeliveryView.of(a) for a in WebhookStore().deliveries(endpoint.id, limit=50)])
