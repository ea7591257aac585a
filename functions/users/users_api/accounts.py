"""Account routes: registration, sign-in, token refresh, profile and admin user management."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Request, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field

from farewatch import composition
from farewatch.accounts.service import TokenPair
from farewatch.accounts.values import User
from farewatch.api.access import ADMIN_ONLY, SIGNED_IN, Caller
from farewatch.api.params import Cursor, PageLimit, ResourceId
from farewatch.api.resolver import error_responses
from farewatch.clock import iso_utc

router = Router()


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


def _source_ip(request: Request) -> str | None:
    context = request.resolved_event.get("requestContext") or {}
    identity = context.get("identity") or {}
    source_ip = identity.get("sourceIp")
    return source_ip if isinstance(source_ip, str) else None


BODY_ERRORS = (400, 413, 415)


@router.post(
    "/auth/register",
    summary="Create an account",
    status_code=201,
    responses=error_responses(*BODY_ERRORS, 409, success=201),
)
def register(credentials: Annotated[Credentials, Body()]) -> UserEnvelope:
    user = composition.account_service().register(credentials.email, credentials.password)
    return UserEnvelope(data=UserView.of(user))


@router.post("/auth/login", summary="Sign in", responses=error_responses(*BODY_ERRORS, 401, 429))
def login(credentials: Annotated[Credentials, Body()], request: Request) -> TokensEnvelope:
    pair = composition.account_service().login(
        credentials.email, credentials.password, source_ip=_source_ip(request)
    )
    return TokensEnvelope(data=Tokens.of(pair))


@router.post("/auth/refresh", summary="Rotate a refresh token", responses=error_responses(*BODY_ERRORS, 401))
def refresh(body: Annotated[RefreshRequest, Body()]) -> TokensEnvelope:
    return TokensEnvelope(data=Tokens.of(composition.account_service().refresh(body.refresh_token)))


@router.get("/users/me", summary="Your profile", security=SIGNED_IN, responses=error_responses(401))
def my_profile(caller: Caller) -> UserEnvelope:
    return UserEnvelope(data=UserView.of(composition.account_service().get_user(caller.user_id)))


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
