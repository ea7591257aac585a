"""Accounts as a new user meets them with curl: register, log in, profile, refresh, delete."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


def new_email() -> str:
    return f"traveller-{uuid.uuid4().hex[:10]}@example.com"


def register_and_login(dev_stack, email: str) -> dict:
    assert (
        dev_stack.call("POST", "/auth/register", json={"email": email, "password": PASSWORD}).status_code
        == 202
    )
    response = dev_stack.call("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_register_login_profile_refresh_and_delete(dev_stack):
    email = new_email()

    registered = dev_stack.call("POST", "/auth/register", json={"email": email.upper(), "password": PASSWORD})
    login = dev_stack.call("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    tokens = login.json()["data"]
    me = dev_stack.call("GET", "/users/me", token=tokens["access_token"])
    rotated = dev_stack.call("POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    deleted = dev_stack.call("DELETE", "/users/me", token=rotated.json()["data"]["access_token"])
    after = dev_stack.call("GET", "/users/me", token=rotated.json()["data"]["access_token"])

    assert registered.status_code == 202, registered.text
    assert registered.json() == {"data": {"status": "verification_sent"}}
    assert login.status_code == 200 and tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    assert me.status_code == 200 and me.json()["data"]["email"] == email
    assert me.json()["data"]["role"] == "user" and me.json()["data"]["email_verified"] is False
    assert rotated.status_code == 200 and rotated.json()["data"]["refresh_token"] != tokens["refresh_token"]
    assert deleted.status_code == 204
    assert after.status_code == 401 and after.json()["error"]["code"]


def test_registering_an_existing_email_answers_exactly_like_a_new_one(dev_stack):
    email = new_email()
    first = dev_stack.call("POST", "/auth/register", json={"email": email, "password": PASSWORD})

    again = dev_stack.call("POST", "/auth/register", json={"email": email, "password": "another password"})

    assert (
        (again.status_code, again.json())
        == (first.status_code, first.json())
        == (
            202,
            {"data": {"status": "verification_sent"}},
        )
    )
    assert set(again.headers) == set(first.headers)


def test_reusing_a_rotated_refresh_token_revokes_the_family(dev_stack):
    tokens = register_and_login(dev_stack, new_email())
    first = dev_stack.call("POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json()[
        "data"
    ]

    reuse = dev_stack.call("POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    newest = dev_stack.call("POST", "/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert reuse.status_code == 401 and newest.status_code == 401


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": {"email": "a@example.com", "password": "longenough", "role": "admin"}}, 400),
        ({"data": "email=a", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415),
        ({"json": {"email": "a@example.com", "password": "x" * 20_000}}, 413),
        ({"json": {"email": "not-an-email", "password": "longenough"}}, 400),
        ({"json": {"email": "a@example.com", "password": "short"}}, 400),
        ({"json": {"email": "a@example.com", "password": "é" * 40}}, 400),
    ],
)
def test_bad_registration_bodies_get_the_documented_4xx(dev_stack, kwargs, status):
    response = dev_stack.call("POST", "/auth/register", **kwargs)

    assert response.status_code == status, response.text
    assert response.json()["error"]["code"]


def test_login_failures_lock_the_email_even_for_the_right_password(dev_stack):
    email = new_email()
    register_and_login(dev_stack, email)
    for _ in range(5):
        wrong = dev_stack.call("POST", "/auth/login", json={"email": email, "password": "wrong password"})
        assert wrong.status_code == 401

    locked = dev_stack.call("POST", "/auth/login", json={"email": email, "password": PASSWORD})

    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


@pytest.mark.parametrize("token", [None, "garbage", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_profile_without_a_valid_token_is_401(dev_stack, token):
    response = dev_stack.call("GET", "/users/me", token=token)

    assert response.status_code == 401 and response.json()["error"]["code"]


def test_admin_routes_are_403_for_a_plain_user(dev_stack):
    tokens = register_and_login(dev_stack, new_email())

    listing = dev_stack.call("GET", "/users", token=tokens["access_token"])
    deleting = dev_stack.call("DELETE", "/users/someone", token=tokens["access_token"])

    assert listing.status_code == 403 and deleting.status_code == 403


def test_openapi_document_describes_both_functions(dev_stack):
    paths = dev_stack.get("/openapi.json").json()["paths"]

    assert {"/flights/price", "/auth/register", "/auth/login", "/users/me", "/users/{id}"} <= set(paths)


def test_only_the_operator_command_makes_an_admin_who_can_list_and_delete_users(dev_stack):
    admin_email, victim_email = new_email(), new_email()
    register_and_login(dev_stack, admin_email)
    victim_tokens = register_and_login(dev_stack, victim_email)
    victim = dev_stack.call("GET", "/users/me", token=victim_tokens["access_token"]).json()

    granted = dev_stack.operator("grant-admin", admin_email)
    admin = dev_stack.call("POST", "/auth/login", json={"email": admin_email, "password": PASSWORD}).json()[
        "data"
    ]
    page = dev_stack.call("GET", "/users", token=admin["access_token"], params={"limit": "1"})
    deleted = dev_stack.call("DELETE", f"/users/{victim['data']['id']}", token=admin["access_token"])
    again = dev_stack.call("DELETE", f"/users/{victim['data']['id']}", token=admin["access_token"])
    victim_login = dev_stack.call("POST", "/auth/login", json={"email": victim_email, "password": PASSWORD})

    assert granted.returncode == 0, granted.stderr
    assert admin_email in granted.stdout
    assert page.status_code == 200, page.text
    assert len(page.json()["data"]) == 1 and page.json()["next_cursor"]
    assert deleted.status_code == 204 and again.status_code == 404
    assert victim_login.status_code == 401


def test_the_operator_command_refuses_an_unknown_email_without_a_traceback(dev_stack):
    result = dev_stack.operator("grant-admin", new_email())

    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_no_password_hash_or_token_reaches_the_log(dev_stack):
    email = new_email()
    tokens = register_and_login(dev_stack, email)
    dev_stack.call("GET", "/users/me", token=tokens["access_token"])
    dev_stack.call("POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    dev_stack.call("POST", "/auth/login", json={"email": email, "password": "a wrong password"})

    log = dev_stack.log_text()
    assert email in log or "/auth/login" in log  # the log is really being written
    for secret in (PASSWORD, "a wrong password", tokens["access_token"], tokens["refresh_token"], "$2b$"):
        assert secret not in log
