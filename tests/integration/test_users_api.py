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


def raw_call(handler, method: str, path: str, body: Any = None, bearer: str | None = None, **params: str):
    """The whole Lambda answer: status, headers (multiValueHeaders flattened) and body text."""
    event = api_event(method, path, params or None, body)
    if body is not None:
        event["headers"]["Content-Type"] = "application/json"
    if bearer:
        event["headers"]["Authorization"] = f"Bearer {bearer}"
    response = handler.lambda_handler(event, FakeLambdaContext(function_name="UsersFunction"))
    headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return response["statusCode"], headers, response["body"]


def test_registering_a_taken_address_answers_exactly_like_a_new_one(users):
    credentials = {"email": "alice@example.com", "password": PASSWORD}

    new = raw_call(users, "POST", "/auth/register", credentials)
    taken = raw_call(users, "POST", "/auth/register", {**credentials, "password": "another password"})

    assert (new[0], new[2]) == (taken[0], taken[2]) == (202, '{"data":{"status":"verification_sent"}}')
    assert {k: v for k, v in new[1].items() if k.lower() != "x-amzn-requestid"} == {
        k: v for k, v in taken[1].items() if k.lower() != "x-amzn-requestid"
    }


def test_token_answers_are_never_stored_and_every_answer_says_nosniff(users):
    call(users, "POST", "/auth/register", {"email": "alice@example.com", "password": PASSWORD})

    login = raw_call(users, "POST", "/auth/login", {"email": "alice@example.com", "password": PASSWORD})
    refresh_token = json.loads(login[2])["data"]["refresh_token"]
    refreshed = raw_call(users, "POST", "/auth/refresh", {"refresh_token": refresh_token})
    failed = raw_call(users, "POST", "/auth/login", {"email": "alice@example.com", "password": "wrong one!"})
    unknown = raw_call(users, "GET", "/no/such/route")

    for status, headers, _ in (login, refreshed):
        assert status == 200 and headers["Cache-Control"] == "no-store"
    for _, headers, _ in (login, refreshed, failed, unknown):
        assert headers["X-Content-Type-Options"] == "nosniff"
    assert (failed[0], unknown[0]) == (401, 404)


def test_email_alerts_can_be_turned_off_and_on(users):
    token = signed_in(users)

    off = call(users, "PATCH", "/users/me", {"email_alerts": False}, token=token)
    on = call(users, "PATCH", "/users/me", {"email_alerts": True}, token=token)
    wrong = call(users, "PATCH", "/users/me", {"email_alerts": "no"}, token=token)

    assert off[0] == 200 and off[1]["data"]["email_alerts"] is False
    assert on[0] == 200 and on[1]["data"]["email_alerts"] is True
    assert wrong[0] == 400


def test_one_click_unsubscribe_takes_a_form_post_without_a_session(users):
    from farewatch import composition

    token = signed_in(users)
    user_id = call(users, "GET", "/users/me", token=token)[1]["data"]["id"]
    link_token = composition.unsubscribe_tokens().make(user_id)
    event = api_event("POST", "/unsubscribe", {"token": link_token}, None)
    event["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
    event["body"] = "List-Unsubscribe=One-Click"

    answer = users.lambda_handler(event, FakeLambdaContext(function_name="UsersFunction"))
    page = raw_call(users, "GET", "/unsubscribe", token=link_token)
    forged = raw_call(users, "POST", "/unsubscribe", token=link_token[:-2] + "xx")

    assert answer["statusCode"] == 200
    assert call(users, "GET", "/users/me", token=token)[1]["data"]["email_alerts"] is False
    assert page[0] == 200 and "<button" in page[2] and page[1]["Content-Type"].startswith("text/html")
    assert forged[0] == 400 and json.loads(forged[2])["error"]["code"] == "invalid_token"


def test_webhooks_are_listed_without_their_secret_and_limited_to_five(users):
    token = signed_in(users)
    url = "https://93.184.216.34/farewatch"

    created = [call(users, "POST", "/webhooks", {"url": url}, token=token) for _ in range(5)]
    sixth = call(users, "POST", "/webhooks", {"url": url}, token=token)
    refused = call(users, "POST", "/webhooks", {"url": "https://169.254.169.254/"}, token=token)
    listed = call(users, "GET", "/webhooks", token=token)

    assert all(status == 201 and body["data"]["secret"].startswith("whsec_") for status, body in created)
    assert sixth[0] == 409 and sixth[1]["error"]["code"] == "webhook_limit_reached"
    assert refused[0] == 400 and refused[1]["error"]["code"] == "webhook_url_refused"
    assert len(listed[1]["data"]) == 5 and all("secret" not in hook for hook in listed[1]["data"])
