"""Hostile input against the `make dev` stack over HTTP: every request below is answered with its
documented 4xx in the error envelope, never a 5xx, a traceback or an internal detail.

Table-driven: each row is one request a careless or malicious client could send, and the status and
error code a user gets for it. Wrong methods are generated from template.yaml, so a new route is
covered the day it is added.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from farewatch_local.template import load_template
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
DATE = (datetime.now(UTC).date() + timedelta(days=40)).isoformat()
ROUTE = f"origin=JFK&destination=LAX&date={DATE}"
JSON = {"Content-Type": "application/json"}
# What must never reach a client: Python's and our dependencies' insides.
INTERNAL_MARKERS = (
    "Traceback",
    'File "',
    "botocore",
    "pynamodb",
    "pydantic",
    "Exception",
    "/work/",
    "site-packages",
)


@dataclass(frozen=True)
class Hostile:
    method: str
    path: str  # sent as is: percent-escapes in it are the client's bytes
    status: int
    code: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    signed_in: bool = False


def tracker_body(**overrides: Any) -> bytes:
    document = {"origin": "JFK", "destination": "LAX", "departure_date": DATE, **overrides}
    return json.dumps(document).encode()


def raw_tracker_body(fragment: str) -> bytes:
    """A tracker body with one member written by hand (for what json.dumps would refuse to write)."""
    return f'{{"origin": "JFK", "destination": "LAX", "departure_date": "{DATE}", {fragment}}}'.encode()


QUERY_CASES = {
    # Values just under API Gateway's 8,192-character URL limit (edge-optimized); past it is a 414.
    "8kB-origin": Hostile(
        "GET",
        "/flights/price?origin=" + "A" * 8_000 + f"&destination=LAX&date={DATE}",
        400,
        "invalid_parameter",
    ),
    "8kB-airport-search": Hostile("GET", "/airports?q=" + "par" * 2_700, 400, "invalid_parameter"),
    "10kB-url": Hostile("GET", "/airports?q=" + "par" * 3_400, 414, "uri_too_long"),
    "nul-in-origin": Hostile(
        "GET", f"/flights/price?origin=J%00K&destination=LAX&date={DATE}", 400, "invalid_parameter"
    ),
    "rtl-override-in-origin": Hostile(
        "GET", f"/flights/price?origin=%E2%80%AEJFK&destination=LAX&date={DATE}", 400, "invalid_parameter"
    ),
    "emoji-origin": Hostile(
        "GET", f"/flights/price?origin=%F0%9F%9B%AB&destination=LAX&date={DATE}", 400, "invalid_parameter"
    ),
    "lone-surrogate-origin": Hostile(
        "GET", f"/flights/price?origin=%ED%A0%80&destination=LAX&date={DATE}", 400, "invalid_parameter"
    ),
    "invalid-utf8-origin": Hostile(
        "GET", f"/flights/price?origin=%FF%FE%FD&destination=LAX&date={DATE}", 400, "invalid_parameter"
    ),
    "sql-injection-origin": Hostile(
        "GET",
        f"/flights/price?origin=%27%20OR%201%3D1--&destination=LAX&date={DATE}",
        400,
        "invalid_parameter",
    ),
    "sql-injection-currency": Hostile(
        "GET", f"/flights/price?{ROUTE}&currency=USD%27%3B%20DROP%20TABLE%20x--", 400, "invalid_currency"
    ),
    "jndi-destination": Hostile(
        "GET",
        f"/flights/price?origin=JFK&destination=%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D&date={DATE}",
        400,
        "invalid_parameter",
    ),
    "path-traversal-date": Hostile(
        "GET", "/flights/price?origin=JFK&destination=LAX&date=..%2F..%2Fetc%2Fpasswd", 400, "invalid_date"
    ),
    "script-tag-origin": Hostile(
        "GET",
        f"/flights/search?origin=%3Cscript%3Ealert(1)%3C%2Fscript%3E&destination=LAX&date={DATE}",
        400,
        "invalid_parameter",
    ),
    "dynamodb-expression-origin": Hostile(
        "GET",
        f"/flights/history?origin=%23pk%20%3D%20%3Av%20OR%20attribute_exists(pk)&destination=LAX&date={DATE}",
        400,
        "invalid_parameter",
    ),
    "huge-adults": Hostile(
        "GET", f"/flights/price?{ROUTE}&adults=99999999999999999999999999", 400, "invalid_parameter"
    ),
    "nan-limit": Hostile("GET", f"/flights/search?{ROUTE}&limit=NaN", 400, "invalid_parameter"),
    "float-limit": Hostile("GET", "/airports?q=par&limit=1e3", 400, "invalid_parameter"),
    "negative-limit": Hostile("GET", "/airports?q=par&limit=-1", 400, "invalid_parameter"),
    "nocache-gibberish": Hostile("GET", f"/flights/price?{ROUTE}&nocache=%00", 400, "invalid_parameter"),
    "missing-required": Hostile("GET", "/flights/price?origin=JFK", 400, "missing_parameter"),
    "duplicate-origin": Hostile(
        "GET", f"/flights/price?origin=MAD&origin=BCN&destination=LAX&date={DATE}", 400, "repeated_parameter"
    ),
    "duplicate-optional-limit": Hostile("GET", "/airports?q=par&limit=1&limit=2", 400, "repeated_parameter"),
    "unknown-parameter-typo": Hostile("GET", f"/flights/price?{ROUTE}&nocahce=1", 400, "unknown_parameter"),
    "unknown-parameter-on-signed-in-route": Hostile(
        "GET", "/tracked-flights?page=2", 400, "unknown_parameter", signed_in=True
    ),
    "8kB-path-id": Hostile(
        "GET", "/tracked-flights/" + "a" * 8_000, 400, "invalid_parameter", signed_in=True
    ),
    "dynamodb-key-shaped-id": Hostile(
        "GET", "/tracked-flights/user%23x%23tracker", 404, "not_found", signed_in=True
    ),
    "traversal-shaped-id": Hostile(
        "DELETE", "/tracked-flights/..%2F..%2Fetc%2Fpasswd", 404, "not_found", signed_in=True
    ),
    "sql-shaped-alert-id": Hostile(
        "POST", "/alerts/%27%20OR%201%3D1--/ack", 404, "not_found", signed_in=True
    ),
}

BODY_CASES = {
    "1MB-body": Hostile(
        "POST", "/auth/register", 413, "payload_too_large", b'{"email": "' + b"a" * 1_000_000 + b'"}', JSON
    ),
    "malformed-json": Hostile(
        "POST", "/auth/login", 400, "malformed_json", b'{"email": "a@example.com", ', JSON
    ),
    "json-with-NaN": Hostile(
        "POST", "/tracked-flights", 400, "malformed_json", raw_tracker_body('"target_price": NaN'), JSON, True
    ),
    "json-with-Infinity": Hostile(
        "POST",
        "/tracked-flights",
        400,
        "malformed_json",
        raw_tracker_body('"target_price": Infinity'),
        JSON,
        True,
    ),
    "deeply-nested-json": Hostile(
        "POST", "/auth/login", 400, "malformed_json", b"[" * 8_000 + b"]" * 8_000, JSON
    ),
    "invalid-utf8-body": Hostile(
        "POST", "/auth/login", 400, "malformed_json", b'{"email": "\xff\xfe"}', JSON
    ),
    "body-is-an-array": Hostile(
        "POST", "/auth/register", 400, "invalid_body", b'["a@example.com", "password"]', JSON
    ),
    "body-is-null": Hostile("POST", "/auth/register", 400, "invalid_body", b"null", JSON),
    "body-is-a-string": Hostile("POST", "/auth/refresh", 400, "invalid_body", b'"token"', JSON),
    "empty-body": Hostile("POST", "/auth/login", 400, "missing_body", b"", JSON),
    "unknown-field": Hostile(
        "POST",
        "/auth/register",
        400,
        "invalid_body",
        b'{"email": "a@example.com", "password": "longenough", "role": "admin"}',
        JSON,
    ),
    "duplicate-key": Hostile(
        "POST",
        "/auth/login",
        400,
        "invalid_body",
        b'{"email": "a@example.com", "email": "b@example.com", "password": "x"}',
        JSON,
    ),
    "nested-object-for-string": Hostile(
        "POST", "/auth/login", 400, "invalid_body", b'{"email": {"$ne": null}, "password": "x"}', JSON
    ),
    "array-for-string": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(origin=["JFK"]), JSON, True
    ),
    "null-for-required": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(origin=None), JSON, True
    ),
    "number-as-string-for-int": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(adults="2"), JSON, True
    ),
    "boolean-for-int": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(adults=True), JSON, True
    ),
    "float-for-int": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(adults=1.5), JSON, True
    ),
    "string-for-boolean": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(notify_on_any_drop="yes"), JSON, True
    ),
    "number-for-boolean": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(notify_on_any_drop=1), JSON, True
    ),
    "huge-integer": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(adults=10**40), JSON, True
    ),
    "huge-price": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(target_price="1e400"), JSON, True
    ),
    "huge-float-price": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", raw_tracker_body('"target_price": 1e400'), JSON, True
    ),
    "NaN-price-as-string": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(target_price="NaN"), JSON, True
    ),
    "Infinity-price-as-string": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(target_price="Infinity"), JSON, True
    ),
    "negative-price": Hostile(
        "POST", "/tracked-flights", 400, "invalid_body", tracker_body(target_price="-1.00"), JSON, True
    ),
    "injection-in-body-origin": Hostile(
        "POST", "/tracked-flights", 400, "invalid_parameter", tracker_body(origin="' OR 1=1--"), JSON, True
    ),
    "control-characters-in-email": Hostile(
        "POST",
        "/auth/register",
        400,
        "invalid_email",
        json.dumps({"email": "a\u0000\u202e@example.com", "password": PASSWORD}).encode(),
        JSON,
    ),
    "lone-surrogate-in-password": Hostile(
        "POST",
        "/auth/register",
        400,
        "invalid_body",
        b'{"email": "s@example.com", "password": "abcdefgh\\ud800"}',
        JSON,
    ),
    "text-plain": Hostile(
        "POST",
        "/auth/login",
        415,
        "unsupported_media_type",
        b'{"email": "a@example.com", "password": "x"}',
        {"Content-Type": "text/plain"},
    ),
    "form-encoded": Hostile(
        "POST",
        "/tracked-flights",
        415,
        "unsupported_media_type",
        b"origin=JFK",
        {"Content-Type": "application/x-www-form-urlencoded"},
        True,
    ),
    "no-content-type": Hostile(
        "POST",
        "/auth/refresh",
        415,
        "unsupported_media_type",
        b'{"refresh_token": "x"}',
        {"Content-Type": ""},
    ),
    "json-lookalike-type": Hostile(
        "POST",
        "/auth/login",
        415,
        "unsupported_media_type",
        b"{}",
        {"Content-Type": "application/json-patch+json"},
    ),
    "body-on-get": Hostile(
        "GET", f"/flights/price?{ROUTE}", 400, "unexpected_body", b'{"origin": "JFK"}', JSON
    ),
    "body-on-signed-in-get": Hostile("GET", "/users/me", 400, "unexpected_body", b"{}", JSON, True),
    "body-on-delete": Hostile(
        "DELETE", "/tracked-flights/some-id", 400, "unexpected_body", b'{"force": true}', JSON, True
    ),
}

AUTH_CASES = {
    "sql-shaped-token": Hostile(
        "GET", "/users/me", 401, "invalid_token", headers={"Authorization": "Bearer ' OR 1=1--"}
    ),
    "10kB-token": Hostile(
        "GET", "/users/me", 401, "invalid_token", headers={"Authorization": "Bearer " + "a" * 10_000}
    ),
    "alg-none-token": Hostile(
        "GET",
        "/alerts",
        401,
        "invalid_token",
        headers={
            "Authorization": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0."
        },
    ),
    "basic-scheme": Hostile(
        "GET", "/tracked-flights", 401, "invalid_token", headers={"Authorization": "Basic YTpi"}
    ),
    "no-token-on-admin-route": Hostile("GET", "/stats/routes", 401, "missing_token"),
}

UNKNOWN_ROUTES = {
    "page-file-by-name": Hostile("GET", "/index.html", 404, "not_found"),
    "unknown-asset": Hostile("GET", "/assets/main-00000000.js", 404, "not_found"),
    "asset-traversal": Hostile("GET", "/assets/..%2F..%2Ftemplate.yaml", 404, "not_found"),
    "asset-folder": Hostile("GET", "/assets/", 404, "not_found"),
    "page-with-newline-id": Hostile("GET", "/trackers/%0A", 404, "not_found"),
    "page-child": Hostile("GET", "/inbox/everything", 404, "not_found"),
    "unknown-path": Hostile("GET", "/nowhere", 404, "not_found"),
    "parent-of-a-route": Hostile("GET", "/flights", 404, "not_found"),
    "child-of-a-route": Hostile("GET", "/flights/price/extra", 404, "not_found"),
    "child-of-me": Hostile("DELETE", "/users/me/everything", 404, "not_found"),
    "lone-surrogate-id": Hostile("GET", "/tracked-flights/%ED%A0%80", 404, "not_found", signed_in=True),
    "nul-id": Hostile("POST", "/alerts/%00/ack", 404, "not_found", signed_in=True),
    "rtl-override-id": Hostile("DELETE", "/users/%E2%80%AEnimda", 404, "not_found", signed_in=True),
    "newline-as-id": Hostile("GET", "/tracked-flights/%0A", 404, "not_found"),
    "newline-as-id-signed-in": Hostile("GET", "/tracked-flights/%0A", 404, "not_found", signed_in=True),
    "newline-after-route": Hostile("PATCH", "/tracked-flights/%0A", 404, "not_found", signed_in=True),
    "script-path": Hostile("GET", "/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404, "not_found"),
    "encoded-traversal-path": Hostile("GET", "/flights/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
}


def _wrong_method_cases() -> dict[str, Hostile]:
    """For every resource of template.yaml, each common method it does not serve: 405."""
    served: dict[str, set[str]] = defaultdict(set)
    for _, event in load_template(ROOT / "template.yaml").routes:
        served[event.path].add(event.method)
    cases = {}
    for resource, methods in sorted(served.items()):
        path = resource.replace("{id}", "some-id")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if method not in methods:
                cases[f"{method}-{resource}"] = Hostile(method, path, 405, "method_not_allowed")
    return cases


WRONG_METHODS = _wrong_method_cases()
CASES = {**QUERY_CASES, **BODY_CASES, **AUTH_CASES, **UNKNOWN_ROUTES, **WRONG_METHODS}


@pytest.fixture(scope="module")
def user_token(dev_stack: Any) -> str:
    credentials = {"email": f"hostile-{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD}
    assert dev_stack.call("POST", "/auth/register", json=credentials).status_code == 202
    return str(dev_stack.call("POST", "/auth/login", json=credentials).json()["data"]["access_token"])


def send(dev_stack: Any, case: Hostile, token: str | None) -> requests.Response:
    headers = dict(case.headers)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = requests.Request(case.method, dev_stack.api + case.path, headers=headers, data=case.body)
    prepared = request.prepare()
    prepared.url = dev_stack.api + case.path  # no re-encoding: the client's bytes, as sent by curl
    if case.headers.get("Content-Type") == "":
        prepared.headers.pop("Content-Type", None)
    with requests.Session() as session:
        return session.send(prepared, timeout=30)


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_hostile_request_gets_its_documented_4xx_in_the_envelope(
    dev_stack: Any, user_token: str, case: Hostile
) -> None:
    response = send(dev_stack, case, user_token if case.signed_in else None)

    assert response.status_code == case.status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == case.code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    for marker in INTERNAL_MARKERS:
        assert marker not in response.text, response.text[:500]
    assert "<script>" not in response.text


def test_a_wrong_method_says_which_methods_the_path_accepts(dev_stack: Any) -> None:
    response = dev_stack.call("PUT", "/tracked-flights/some-id")

    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, PATCH"


def test_a_wrong_method_is_a_405_whatever_query_it_carries(dev_stack: Any) -> None:
    response = dev_stack.call("PUT", "/flights/price?origin=JFK&origin=LAX")

    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_every_resource_of_the_template_routes_its_other_methods_to_its_function() -> None:
    # Without an ANY route, API Gateway itself answers a wrong method (403, our 404), never a 405.
    served: dict[str, set[str]] = defaultdict(set)
    for _, event in load_template(ROOT / "template.yaml").routes:
        served[event.path].add(event.method)

    assert {resource for resource, methods in served.items() if "ANY" not in methods} == set()
