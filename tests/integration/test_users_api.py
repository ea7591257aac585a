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


# -- the web app's cookie session (X-Farewatch-Session: cookie) ----------------------------------------


def cookie_call(
    handler,
    method: str,
    path: str,
    body: Any = None,
    *,
    cookie: str | None = None,
    origin: str | None = "http://localhost",
    session_header: bool = True,
    host: str = "localhost",
):
    """A call as the page makes it: the session header, the browser's Origin and cookie."""
    event = api_event(method, path, None, body)
    event["headers"].update({"Content-Type": "application/json", "Host": host})
    if session_header:
        event["headers"]["X-Farewatch-Session"] = "cookie"
    if origin is not None:
        event["headers"]["Origin"] = origin
    if cookie is not None:
        event["headers"]["Cookie"] = f"theme=dark; farewatch_refresh={cookie}"
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    response = handler.lambda_handler(event, FakeLambdaContext(function_name="UsersFunction"))
    set_cookies = (response.get("multiValueHeaders") or {}).get("Set-Cookie", [])
    return response["statusCode"], set_cookies, json.loads(response["body"]) if response["body"] else None


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def registered(users, email: str = "alice@example.com") -> dict[str, str]:
    credentials = {"email": email, "password": PASSWORD}
    assert call(users, "POST", "/auth/register", credentials)[0] == 202
    return credentials


def test_given_the_session_header_when_signing_in_then_the_refresh_token_is_an_httponly_cookie_only(users):
    credentials = registered(users)

    status, set_cookies, body = cookie_call(users, "POST", "/auth/login", credentials)

    assert status == 200 and body["data"]["access_token"] and body["data"]["refresh_token"] is None
    (set_cookie,) = set_cookies
    name_value, *attributes = [part.strip() for part in set_cookie.split(";")]
    assert name_value.startswith("farewatch_refresh=") and len(cookie_value(set_cookie)) > 30
    assert set(attributes) >= {"Path=/auth", "HttpOnly", "Secure", "SameSite=Strict"}
    max_age = next(int(a.split("=")[1]) for a in attributes if a.startswith("Max-Age="))
    assert 29 * 86400 < max_age <= 30 * 86400  # the sign-in's lifetime (REFRESH_TOKEN_DAYS)


def test_given_no_session_header_then_login_and_refresh_answer_json_tokens_as_before(users):
    credentials = registered(users)

    status, set_cookies, body = cookie_call(users, "POST", "/auth/login", credentials, session_header=False)
    refreshed = call(users, "POST", "/auth/refresh", {"refresh_token": body["data"]["refresh_token"]})

    assert status == 200 and set_cookies == [] and body["data"]["refresh_token"]
    assert refreshed[0] == 200 and refreshed[1]["data"]["refresh_token"]
    missing = call(users, "POST", "/auth/refresh", {})
    assert missing[0] == 400 and missing[1]["error"]["details"] == [
        {"field": "refresh_token", "issue": "is required"}
    ]


def test_given_the_cookie_when_refreshing_then_it_rotates_and_the_old_one_ends_the_sign_in(users):
    _, (first,), _ = cookie_call(users, "POST", "/auth/login", registered(users))

    status, (second,), body = cookie_call(users, "POST", "/auth/refresh", {}, cookie=cookie_value(first))
    reused = cookie_call(users, "POST", "/auth/refresh", {}, cookie=cookie_value(first))
    after = cookie_call(users, "POST", "/auth/refresh", {}, cookie=cookie_value(second))

    assert status == 200 and body["data"]["access_token"] and body["data"]["refresh_token"] is None
    assert cookie_value(second) != cookie_value(first)
    assert reused[0] == 401 and reused[2]["error"]["code"] == "refresh_token_reused"
    assert reused[1] and "Max-Age=0" in reused[1][0] and cookie_value(reused[1][0]) == ""
    assert after[0] == 401  # the whole family went with the reuse


def test_given_another_sites_origin_or_no_cookie_then_the_cookie_refresh_is_refused(users):
    _, (cookie,), _ = cookie_call(users, "POST", "/auth/login", registered(users))

    cross = cookie_call(
        users, "POST", "/auth/refresh", {}, cookie=cookie_value(cookie), origin="https://evil.example"
    )
    none = cookie_call(users, "POST", "/auth/refresh", {})
    still = cookie_call(users, "POST", "/auth/refresh", {}, cookie=cookie_value(cookie))

    assert cross[0] == 403 and cross[2]["error"]["code"] == "cross_origin"
    assert none[:3] == (204, [], None)  # a browser nobody signed in on: no session, no error
    assert still[0] == 200  # the refused cross-site call did not use the token up


def test_given_a_cookie_session_when_signing_out_then_the_family_is_revoked_and_the_cookie_cleared(users):
    _, (first,), _ = cookie_call(users, "POST", "/auth/login", registered(users))
    _, (second,), _ = cookie_call(users, "POST", "/auth/refresh", {}, cookie=cookie_value(first))

    status, (cleared,), body = cookie_call(users, "POST", "/auth/logout", {}, cookie=cookie_value(second))
    again = cookie_call(users, "POST", "/auth/refresh", {}, cookie=cookie_value(second))
    twice = cookie_call(users, "POST", "/auth/logout", {})

    assert (status, body) == (204, None)
    assert cookie_value(cleared) == "" and "Max-Age=0" in cleared and "Path=/auth" in cleared
    assert again[0] == 401
    assert twice[0] == 204  # signed out already: still a clean sign-out


def test_an_api_client_signs_out_with_its_refresh_token_and_other_sign_ins_keep_working(users):
    credentials = registered(users)
    laptop = call(users, "POST", "/auth/login", credentials)[1]["data"]
    phone = call(users, "POST", "/auth/login", credentials)[1]["data"]

    status, _ = call(users, "POST", "/auth/logout", {"refresh_token": laptop["refresh_token"]})

    assert status == 204
    assert call(users, "POST", "/auth/refresh", {"refresh_token": laptop["refresh_token"]})[0] == 401
    assert call(users, "POST", "/auth/refresh", {"refresh_token": phone["refresh_token"]})[0] == 200


def test_on_api_gateways_own_domain_the_cookie_path_starts_with_the_stage(users):
    host = "abc123.execute-api.eu-west-1.amazonaws.com"

    _, (cookie,), _ = cookie_call(
        users, "POST", "/auth/login", registered(users), host=host, origin=f"https://{host}"
    )

    assert "Path=/dev/auth" in cookie


@pytest.mark.parametrize(
    ("host", "stage", "path"),
    [
        ("abc123.execute-api.eu-west-1.amazonaws.com", "my-stage", "/my-stage/auth"),
        ("farewatch.example.com", "prod", "/auth"),  # a custom domain mapped at its root
        ("127.0.0.1:8080", "dev", "/auth"),  # make dev
    ],
)
def test_the_cookie_path_is_the_auth_routes_under_whatever_root_the_page_has(host, stage, path):
    from users_api.session_cookie import cookie_path

    assert cookie_path({"headers": {"Host": host}, "requestContext": {"stage": stage}}) == path
