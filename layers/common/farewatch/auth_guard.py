"""Authorisation in one place: who is calling (401), may they (403), and is it theirs (404).

Routes declare what they need with `middlewares=[signed_in]` or `middlewares=[admin_only]`; the
route then reads the caller with `principal(app)`. A resource owned by someone else is reported as
not found, so nobody learns that it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from farewatch.accounts.service import Principal
from farewatch.accounts.wiring import account_service
from farewatch.errors import Forbidden, NotFound

_PRINCIPAL = "principal"


def _authenticate(app: Any) -> Principal:
    headers = app.current_event.headers or {}
    authorization = next((value for name, value in headers.items() if name.lower() == "authorization"), None)
    caller = account_service().authenticate(authorization)
    app.append_context(**{_PRINCIPAL: caller})
    return caller


def signed_in(app: Any, next_middleware: NextMiddleware) -> Response:
    _authenticate(app)
    return next_middleware(app)


def admin_only(app: Any, next_middleware: NextMiddleware) -> Response:
    if _authenticate(app).role != "admin":
        raise Forbidden("This needs the admin role.")
    return next_middleware(app)


def principal(app: Any) -> Principal:
    """The authenticated caller of the current request (set by `signed_in` / `admin_only`)."""
    caller = app.context.get(_PRINCIPAL)
    if not isinstance(caller, Principal):  # a route forgot its guard: fail closed
        raise RuntimeError("route is missing its authentication middleware")
    return caller


def owned_by_caller(owner_id: str, caller: Principal, what: str = "resource") -> None:
    """Another user's resource answers exactly like one that does not exist."""
    if owner_id != caller.user_id:
        raise NotFound(f"No such {what}.")


Guard = Callable[[Any, NextMiddleware], Response]
