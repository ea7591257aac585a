"""Who may call a route, declared once: its OpenAPI `security` (shown in /openapi.json, enforced by
the request gate in farewatch.api.resolver), and the caller handed to the route as a parameter.

    @router.get("/users/me", security=SIGNED_IN)
    def my_profile(caller: Caller) -> UserEnvelope: ...

`SIGNED_IN` asks for a valid access token (401 without one); `ADMIN_ONLY` also for the admin role
(403). OpenAPI 3.1 lets a bearer requirement list the roles it needs, so the document says it too.
A resource owned by someone else is reported as not found by the logic, so nobody learns it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Request

from farewatch.accounts.principal import Principal

BEARER_SCHEME = "bearerAuth"
PRINCIPAL_KEY = "principal"

SIGNED_IN: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
ADMIN_ONLY: list[dict[str, list[str]]] = [{BEARER_SCHEME: ["admin"]}]

Authenticate = Callable[[str | None], Principal]
"""Reads an `Authorization` header: the caller, or a 401."""


def security_schemes() -> dict[str, Any]:
    # Powertools' OpenAPI models (~0.1 s of pydantic classes) only for building the document.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {BEARER_SCHEME: HTTPBearer(bearerFormat="JWT", description="Access token from POST /auth/login.")}


def current_caller(request: Request) -> Principal:
    """The caller the request gate authenticated for this request."""
    caller = request.context.get(PRINCIPAL_KEY)
    if not isinstance(caller, Principal):  # a route that reads its caller but declares no security
        raise RuntimeError("route reads its caller but declares no security")
    return caller


Caller = Annotated[Principal, Depends(current_caller)]
