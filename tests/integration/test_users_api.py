"""The users function in-process: API Gateway events → handler → accounts on moto."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from tests.support.events import FakeLambdaContext, api_event

PASSWORD = "correct horse battery"


@pytest.fixture
def users(aws):
    from farewatch import composition, settings

    settings.get_settings.cache_clear()
    composition.account_service.cache_clear()
    yield importlib.import_module("users_api.handler")
    composition.account_service.cache_clear()


def call(handler, method: str, path: str, body: Any = None, token: str | None = None, **params: str):
    event = api_event(method, path, params or None, body)
    event["headers"]["Content-Type"] = "application/json"
    if token:
        event["headers"]["Authorization"] = f"Bearer {token}"
    response = handler.lambda_handler(event, FakeLambdaContext(function_name="UsersFunction"))
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def signed_in(users, email: str = "alice@example.com") -> str:
    assert call(users, "POST", "/auth/register", {"email": email, "password": PASSWORD})[0] == 202
    status, body = call(users, "POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200
    return body["data"]["access_token"]


def test_profile_of_the_signed_in_user(users):
    token = signed_in(users)

    status, body = call(users, "GET", "/users/me", token=token)

    assert status == 200 and body["data"]["email"] == "alice@example.com"


def test_registration_ignores_nothing_and_grants_nothing(users):
    status, body = call(
        users, "POST", "/auth/register", {"email": "eve@example.com", "password": PASSWORD, "role": "admin"}
    )

    assert status == 400 and body["error"]["code"] == "invalid_body"


def test_a_deleted_users_token_stops_working(users):
    token = signed_in(users)

    assert call(users, "DELETE", "/users/me", token=token)[0] == 204
    status, body = call(users, "GET", "/users/me", token=token)

    assert status == 401 and body["error"]["code"]
