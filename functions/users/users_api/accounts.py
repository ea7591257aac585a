"""Account routes: registration with email verification, sign-in, token refresh, password reset, profile
and mail preferences, one-click unsubscribe, and admin user management."""

from __future__ import annotations

import contextlib
import html
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Request, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field

from farewatch import composition
from farewatch.accounts.service import TokenPair
from farewatch.accounts.values import User
from farewatch.api.access import ADMIN_ONLY, SIGNED_IN, Caller
from farewatch.api.params import Cursor, PageLimit, ResourceId
from farewatch.api.resolver import JSON, NO_STORE, error_response, error_responses, render_json
from farewatch.clock import iso_utc
from farewatch.errors import InvalidRequest, NotFound, Unauthorized
from users_api import session_cookie

router = Router()


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320, examples=["alice@example.com"])
    password: str = Field(max_length=1024, description="8+ characters, at most 72 bytes.")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(
        None,
        max_length=512,
        description="Required, unless the request says `X-Farewatch-Session: cookie` and the "
        "browser's session cookie carries the token.",
    )


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=512, description="The token from the link in the mail.")


class EmailBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320, examples=["alice@example.com"])


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # No maxLength: a token longer than any we mail is a 400 invalid_token from the service (and the
    # body stays inside its 16 KiB limit with the longest password it may carry).
    token: str = Field(description="The token from the link in the mail.")
    new_password: str = Field(max_length=1024, description="8+ characters, at most 72 bytes.")


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email_alerts: bool = Field(strict=True, description="false: no price emails (alerts stay in /alerts).")


class UserView(BaseModel):
    id: str
    email: str
    role: str
    email_verified: bool = Field(description="Price emails go to verified addresses only.")
    email_alerts: bool = Field(description="Whether you want price emails (PATCH /users/me).")
    email_suppressed: str | None = Field(
        description="bounce or complaint: mail to this address bounced or was marked as spam; none is sent."
    )
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            email=user.email,
            role=user.role,
            email_verified=user.email_verified,
            email_alerts=user.email_alerts,
            email_suppressed=user.email_suppressed,
            created_at=iso_utc(user.created_at),
            updated_at=iso_utc(user.updated_at),
        )


class Accepted(BaseModel):
    status: Literal["verification_sent", "reset_requested"]


class AcceptedEnvelope(BaseModel):
    data: Accepted


class UserEnvelope(BaseModel):
    data: UserView


class UserPage(BaseModel):
    data: list[UserView]
    next_cursor: str | None = None


class Tokens(BaseModel):
    access_token: str
    refresh_token: str | None = Field(
        description="null when `X-Farewatch-Session: cookie` asked for it as an HttpOnly cookie instead."
    )
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")

    @classmethod
    def of(cls, pair: TokenPair) -> Tokens:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
        )


class TokensEnvelope(BaseModel):
    data: Tokens


def _source_ip(request: Request) -> str | None:
    context = request.resolved_event.get("requestContext") or {}
    identity = context.get("identity") or {}
    source_ip = identity.get("sourceIp")
    return source_ip if isinstance(source_ip, str) else None


BODY_ERRORS = (400, 413, 415)


def _accepted(status: Literal["verification_sent", "reset_requested"]) -> Response[str]:
    return Response(202, JSON, render_json({"data": {"status": status}}))


def _tokens(pair: TokenPair, request: Request) -> Response[str]:
    """Tokens, never kept by a cache on the way (RFC 6749 section 5.1). For the web app (the session
    header) the refresh token goes in the HttpOnly cookie only, never in a body a script reads."""
    event = request.resolved_event
    tokens = Tokens.of(pair)
    if not session_cookie.wants_cookie(event):
        return Response(200, JSON, render_json(TokensEnvelope(data=tokens).model_dump()), headers=NO_STORE)
    cookie = session_cookie.session_cookie(event, pair.refresh_token, pair.refresh_expires_in)
    tokens.refresh_token = None
    body = render_json(TokensEnvelope(data=tokens).model_dump())
    return Response(200, JSON, body, headers=NO_STORE, cookies=[cookie])


def _presented_refresh_token(body: RefreshRequest | None, request: Request) -> str:
    """The body's token, or (cookie session, same origin only) the cookie's."""
    event = request.resolved_event
    if body is not None and body.refresh_token is not None:
        return body.refresh_token
    if session_cookie.wants_cookie(event):
        session_cookie.check_same_origin(event)
        token = session_cookie.presented_token(event)
        if token is None:
            raise Unauthorized("You are not signed in on this browser.", code="missing_refresh_token")
        return token
    raise InvalidRequest(
        "The body has invalid fields.",
        code="invalid_body",
        details=[{"field": "refresh_token", "issue": "is required"}],
    )


ACCEPTED: dict[int, Any] = {202: {"description": "Accepted", "content": {JSON: {"model": AcceptedEnvelope}}}}
TOKENS: dict[int, Any] = {200: {"description": "Success", "content": {JSON: {"model": TokensEnvelope}}}}


@router.post(
    "/auth/register",
    summary="Create an account (a verification mail follows)",
    description="202 for a new address and for one that already has an account alike: the mail says which.",
    responses={**error_responses(*BODY_ERRORS, success=None), **ACCEPTED},
)
def register(credentials: Annotated[Credentials, Body()]) -> Response[str]:
    composition.account_service().register(credentials.email, credentials.password)
    return _accepted("verification_sent")


@router.post(
    "/auth/verify-email",
    summary="Verify your email address with the token from the mail",
    responses=error_responses(*BODY_ERRORS),
)
def verify_email(body: Annotated[TokenBody, Body()]) -> UserEnvelope:
    return UserEnvelope(data=UserView.of(composition.account_service().verify_email(body.token)))


@router.post(
    "/auth/verify-email/resend",
    summary="Send the verification mail again",
    security=SIGNED_IN,
    responses={**error_responses(401, 409, 429, success=None), **ACCEPTED},
)
def resend_verification(caller: Caller) -> Response[str]:
    composition.account_service().resend_verification(caller.user_id)
    return _accepted("verification_sent")


@router.post(
    "/auth/password-reset",
    summary="Mail a password-reset link",
    description="202 whatever the address: the answer never says whether it has an account.",
    responses={**error_responses(*BODY_ERRORS, success=None), **ACCEPTED},
)
def password_reset(body: Annotated[EmailBody, Body()]) -> Response[str]:
    composition.account_service().request_password_reset(body.email)
    return _accepted("reset_requested")


@router.post(
    "/auth/password-reset/confirm",
    summary="Set a new password with the token from the mail (signs you out everywhere)",
    responses=error_responses(*BODY_ERRORS, success=204),
)
def password_reset_confirm(body: Annotated[PasswordResetConfirm, Body()]) -> Response[str]:
    composition.account_service().reset_password(body.token, body.new_password)
    return Response(204, None, "")


@router.post(
    "/auth/login",
    summary="Sign in",
    responses={**error_responses(*BODY_ERRORS, 401, 429, success=None), **TOKENS},
)
def login(credentials: Annotated[Credentials, Body()], request: Request) -> Response[str]:
    pair = composition.account_service().login(
        credentials.email, credentials.password, source_ip=_source_ip(request)
    )
    return _tokens(pair, request)


SESSION_HEADER_NOTE = (
    " With `X-Farewatch-Session: cookie` (the web app) the refresh token travels as an HttpOnly, Secure,"
    " SameSite=Strict cookie on the /auth path instead of in the body."
)


@router.post(
    "/auth/refresh",
    summary="Rotate a refresh token",
    description="The body's refresh_token, or the session cookie."
    + SESSION_HEADER_NOTE
    + " 204: the session header came without a cookie (nobody is signed in on this browser).",
    responses={
        **error_responses(*BODY_ERRORS, 401, 403, success=None),
        **TOKENS,
        204: {"description": "No session cookie: not signed in"},
    },
)
def refresh(body: Annotated[RefreshRequest, Body()], request: Request) -> Response[str]:
    try:
        token = _presented_refresh_token(body, request)
    except Unauthorized:
        # The page asks at every load; a browser with no cookie is simply not signed in (no error).
        return Response(204, None, "", headers=NO_STORE)
    try:
        pair = composition.account_service().refresh(token)
    except Unauthorized as refused:
        if not session_cookie.wants_cookie(request.resolved_event):
            raise
        # The cookie is no good any more: say so, and make the browser forget it.
        status, code, message = refused.status, refused.code, refused.message
        answer = error_response(status, code, message, refused.details, refused.headers)
        answer.cookies.append(session_cookie.cleared_cookie(request.resolved_event))
        return answer
    return _tokens(pair, request)


@router.post(
    "/auth/logout",
    summary="Sign out: the sign-in's refresh tokens (its whole family) stop working",
    description="The body's refresh_token, or the session cookie, which the answer clears."
    " Always 204: an unknown or already revoked token is signed out already." + SESSION_HEADER_NOTE,
    responses=error_responses(*BODY_ERRORS, 403, success=204),
)
def logout(body: Annotated[RefreshRequest, Body()], request: Request) -> Response[str]:
    event = request.resolved_event
    cookie_session = session_cookie.wants_cookie(event)
    try:
        token: str | None = _presented_refresh_token(body, request)
    except Unauthorized:
        token = None  # no cookie: this browser is signed out already
    if token is not None:
        composition.account_service().logout(token)
    cookies = [session_cookie.cleared_cookie(event)] if cookie_session else []
    return Response(204, None, "", headers=NO_STORE, cookies=cookies)


@router.get("/users/me", summary="Your profile", security=SIGNED_IN, responses=error_responses(401))
def my_profile(caller: Caller) -> UserEnvelope:
    return UserEnvelope(data=UserView.of(composition.account_service().get_user(caller.user_id)))


@router.patch(
    "/users/me",
    summary="Change your mail preferences",
    security=SIGNED_IN,
    responses=error_responses(*BODY_ERRORS, 401),
)
def update_my_profile(caller: Caller, body: Annotated[ProfileUpdate, Body()]) -> UserEnvelope:
    user = composition.account_service().set_email_alerts(caller.user_id, body.email_alerts)
    return UserEnvelope(data=UserView.of(user))


HTML_PAGE: dict[int, Any] = {200: {"description": "An HTML page", "content": {"text/html": {}}}}
# No maxLength: any string that is not a token we signed (a long one too) is the same 400 invalid_token.
UnsubscribeToken = Annotated[str, Query(description="The signed token from the mail's link.")]
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def _unsubscribe_user(token: str) -> str:
    user_id = composition.unsubscribe_tokens().user_of(token)
    if user_id is None:
        from farewatch.errors import InvalidRequest

        raise InvalidRequest(
            "This unsubscribe link is not valid.",
            code="invalid_token",
            details=[{"field": "token", "issue": "is not a token Farewatch signed"}],
        )
    return user_id


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1>{body}</html>"
    )


@router.get(
    "/unsubscribe",
    summary="The one-click unsubscribe page (a button that POSTs)",
    responses={
        **error_responses(400, success=None),
        200: {"description": "An HTML page", "content": {"text/html": {}}},
    },
)
def unsubscribe_page(token: UnsubscribeToken) -> Response[str]:
    _unsubscribe_user(token)
    page = _page(
        "Stop price emails?",
        f'<form method=post action="?token={html.escape(token)}">'
        "<p>Farewatch will stop mailing you price alerts. They stay on your Alerts page, "
        "and you can turn mail on again in your settings.</p>"
        "<button type=submit>Stop price emails</button></form>",
    )
    return Response(200, "text/html; charset=utf-8", page, headers=_PAGE_HEADERS)


@router.post(
    "/unsubscribe",
    summary="Stop price emails (RFC 8058 one-click: no session needed)",
    responses={
        **error_responses(400, success=None),
        200: {"description": "An HTML page", "content": {"text/html": {}}},
    },
)
def unsubscribe(token: UnsubscribeToken) -> Response[str]:
    # The body (List-Unsubscribe=One-Click, form-encoded) carries nothing we need: the token says who.
    user_id = _unsubscribe_user(token)
    with contextlib.suppress(NotFound):  # the account is gone: nothing will be mailed to it anyway
        composition.account_service().set_email_alerts(user_id, False)
    page = _page("You will get no more price emails", "<p>Your alerts stay on your Alerts page.</p>")
    return Response(200, "text/html; charset=utf-8", page, headers=_PAGE_HEADERS)


@router.delete(
    "/users/me",
    summary="Delete your account and everything it owns",
    security=SIGNED_IN,
    responses=error_responses(401, success=204),
)
def delete_my_account(caller: Caller) -> Response[str]:
    composition.account_service().delete_user(caller.user_id)
    return Response(204, None, "")


@router.get(
    "/users", summary="List users (admin)", security=ADMIN_ONLY, responses=error_responses(400, 401, 403)
)
def list_users(limit: PageLimit = 20, cursor: Cursor = None) -> UserPage:
    users, next_cursor = composition.account_service().list_users(limit=limit, cursor=cursor)
    return UserPage(data=[UserView.of(user) for user in users], next_cursor=next_cursor)


@router.delete(
    "/users/<id>",
    summary="Delete a user and everything they own (admin)",
    security=ADMIN_ONLY,
    responses=error_responses(400, 401, 403, 404, success=204),
)
def delete_user(id: ResourceId) -> Response[str]:
    composition.account_service().delete_user(id)
    return Response(204, None, "")
