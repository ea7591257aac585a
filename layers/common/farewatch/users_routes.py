"""Account routes (registration, login, tokens, profile, admin user management) as a Router.

They live in the layer, not in the users function, because the price function also reads them to
serve one merged OpenAPI document for the whole API.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from farewatch.accounts.service import TokenPair, User
from farewatch.accounts.wiring import account_service
from farewatch.api import error_responses
from farewatch.auth_guard import admin_only, principal, signed_in
from farewatch.clock import iso_utc
from farewatch.fare_query import parse_int
from farewatch.json_body import documented_body, request_body

router = Router()
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320, examples=["alice@example.com"])
    password: str = Field(max_length=1024, description="8+ characters, at most 72 bytes.")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(max_length=512)


class UserView(BaseModel):
    id: str
    email: str
    role: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            email=user.email,
            role=user.role,
            created_at=iso_utc(user.created_at),
            updated_at=iso_utc(user.updated_at),
        )


class UserEnvelope(BaseModel):
    data: UserView


class UserPage(BaseModel):
    data: list[UserView]
    next_cursor: str | None = None


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
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


_Body = TypeVar("_Body", bound=BaseModel)


def _body(model: type[_Body]) -> _Body:
    return request_body(router, model)


def _source_ip() -> str | None:
    context = router.current_event.get("requestContext") or {}
    identity = context.get("identity") or {}
    source_ip = identity.get("sourceIp")
    return source_ip if isinstance(source_ip, str) else None


BODY_ERRORS = (400, 413, 415)


@router.post(
    "/auth/register",
    summary="Create an account",
    status_code=201,
    responses=error_responses(*BODY_ERRORS, 409, success=201),
    openapi_extensions=documented_body(Credentials),
)
def register() -> UserEnvelope:
    credentials = _body(Credentials)
    user = account_service().register(credentials.email, credentials.password)
    return UserEnvelope(data=UserView.of(user))


@router.post(
    "/auth/login",
    summary="Sign in",
    responses=error_responses(*BODY_ERRORS, 401, 429),
    openapi_extensions=documented_body(Credentials),
)
def login() -> TokensEnvelope:
    credentials = _body(Credentials)
    source_ip = _source_ip()
    pair = account_service().login(credentials.email, credentials.password, source_ip=source_ip)
    return TokensEnvelope(data=Tokens.of(pair))


@router.post(
    "/auth/refresh",
    summary="Rotate a refresh token",
    responses=error_responses(*BODY_ERRORS, 401),
    openapi_extensions=documented_body(RefreshRequest),
)
def refresh() -> TokensEnvelope:
    request = _body(RefreshRequest)
    return TokensEnvelope(data=Tokens.of(account_service().refresh(request.refresh_token)))


@router.get(
    "/users/me",
    summary="Your profile",
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(401),
)
def my_profile() -> UserEnvelope:
    return UserEnvelope(data=UserView.of(account_service().get_user(principal(router).user_id)))


@router.delete(
    "/users/me",
    summary="Delete your account and everything it owns",
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(401, success=204),
)
def delete_my_account() -> Response[str]:
    account_service().delete_user(principal(router).user_id)
    return Response(204, None, "")


@router.get(
    "/users",
    summary="List users (admin)",
    middlewares=[admin_only],
    security=BEARER,
    responses=error_responses(400, 401, 403),
)
def list_users(
    limit: Annotated[str | None, Query(description="1-100 (default 20).")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> UserPage:
    count = parse_int(limit, "limit", default=20, minimum=1, maximum=100)
    users, next_cursor = account_service().list_users(limit=count, cursor=cursor or None)
    return UserPage(data=[UserView.of(user) for user in users], next_cursor=next_cursor)


@router.delete(
    "/users/<id>",
    summary="Delete a user and everything they own (admin)",
    middlewares=[admin_only],
    security=BEARER,
    responses=error_responses(400, 401, 403, 404, success=204),
)
def delete_user(id: Annotated[str, Path(max_length=100)]) -> Response[str]:
    account_service().delete_user(id)
    return Response(204, None, "")
