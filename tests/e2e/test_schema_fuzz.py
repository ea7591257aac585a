"""Schema fuzz: schemathesis drives every operation of the served /openapi.json against the `make dev`
stack, signed in as a user (and as an admin on admin routes), and holds every answer to the document
and to the error envelope: no 5xx, no undocumented status, no body the document does not describe.

The operations come from template.yaml (the routes API Gateway serves), so a route missing from the
document fails here instead of going unfuzzed. Schemathesis' own pytest loader for fixture-provided
schemas does not run on pytest 9, so each operation gets a Hypothesis test over its strategy.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from requests.adapters import HTTPAdapter
from schemathesis import GenerationMode, checks
from schemathesis.specs.openapi import checks as openapi_checks

from farewatch_local.template import load_template
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
EXAMPLES_PER_OPERATION = 30
# Served by the price function but, by design, not operations of the API they describe; and the web
# app's pages and files (WebFunction), which are no API operations either.
UNDOCUMENTED_ROUTES = {("GET", "/openapi.json"), ("GET", "/docs")} | {
    (event.method, event.path)
    for function, event in load_template(ROOT / "template.yaml").routes
    if function.logical_id == "WebFunction"
}
# ANY routes only carry other methods to the function for its 405 (README: "What the API refuses").
ROUTES = sorted(
    {
        (event.method, event.path)
        for _, event in load_template(ROOT / "template.yaml").routes
        if event.method != "ANY"
    }
    - UNDOCUMENTED_ROUTES,
    key=lambda route: (route[1], route[0]),
)

# The fuzz is one client of its own: its many failed logins fill its own per-IP login throttle
# (SPEC §5), not the one every other test on this stack signs in from (127.0.0.1).
FUZZ_CLIENT_ADDRESS = "127.0.0.2"


class _FromFuzzAddress(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (FUZZ_CLIENT_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    openapi_checks.ignored_auth,
    # Not positive_data_acceptance: which airport codes exist (bundled data) and which dates can be
    # booked (today in the origin's time zone to +365 days) cannot be said in JSON Schema, so
    # schema-valid input like origin=QQQ is rightly a 400 unknown_location, not a schema violation.
    # unsupported_method runs only in schemathesis' coverage phase (its pytest loader, see above);
    # test_hostile_inputs.py sends every method each path lacks instead.
]


def _sign_up(api: str, email: str) -> str:
    credentials = {"email": email, "password": PASSWORD}
    registered = requests.post(f"{api}/auth/register", json=credentials, timeout=30)
    assert registered.status_code == 202, registered.text
    login = requests.post(f"{api}/auth/login", json=credentials, timeout=30)
    assert login.status_code == 200, login.text
    return str(login.json()["data"]["access_token"])


@pytest.fixture(scope="module")
def tokens(dev_stack: Any) -> dict[str, str]:
    """A user's and an admin's access tokens; the admin is made by the operator command, as in AWS."""
    admin_email = f"fuzz-admin-{uuid.uuid4().hex[:8]}@example.com"
    admin = _sign_up(dev_stack.api, admin_email)
    granted = dev_stack.operator("grant-admin", admin_email)
    assert granted.returncode == 0, granted.stderr
    # The role is read from the user record on every request, so the token from before the grant works.
    return {"user": _sign_up(dev_stack.api, f"fuzz-user-{uuid.uuid4().hex[:8]}@example.com"), "admin": admin}


@pytest.fixture(scope="module")
def fuzz_client() -> Any:
    with requests.Session() as session:
        session.mount("http://", _FromFuzzAddress())
        yield session


@pytest.fixture(scope="module")
def served_schema(dev_stack: Any) -> Any:
    schema = schemathesis.openapi.from_url(f"{dev_stack.api}/openapi.json")
    # The test signs each case in itself (below); generated Authorization headers would be overwritten.
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _authorization(operation: Any, dev_stack: Any, tokens: dict[str, str]) -> dict[str, str]:
    if not operation.definition.raw.get("security"):
        return {}
    if (operation.method.upper(), operation.path) == ("DELETE", "/users/me"):
        # Deleting the shared user would sign every later case out: each deletion gets its own user.
        return {
            "Authorization": f"Bearer {_sign_up(dev_stack.api, f'fuzz-{uuid.uuid4().hex[:12]}@example.com')}"
        }
    admin = "(admin)" in (operation.definition.raw.get("summary") or "")
    return {"Authorization": f"Bearer {tokens['admin' if admin else 'user']}"}


def _has_inputs(operation: Any) -> bool:
    return bool(operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"))


def _assert_error_envelope(response: Any) -> None:
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    assert isinstance(error.get("details"), list), body
    assert "Traceback" not in response.text


def test_the_document_describes_every_route_of_the_template(served_schema: Any) -> None:
    operations = [result.ok() for result in served_schema.get_all_operations()]

    documented = {(operation.method.upper(), operation.path) for operation in operations}

    assert documented == set(ROUTES)


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value
)
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{method} {path}" for method, path in ROUTES])
def test_every_operation_answers_as_documented(
    served_schema: Any,
    dev_stack: Any,
    tokens: dict[str, str],
    fuzz_client: Any,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = served_schema[path][method]
    if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
        pytest.skip("no parameters and no body: there is nothing to make invalid")

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_as_documented(case: Any) -> None:
        headers = _authorization(operation, dev_stack, tokens)
        response = case.call_and_validate(headers=headers, checks=CHECKS, session=fuzz_client, timeout=30)

        assert response.status_code < 500, response.text
        if 400 <= response.status_code < 500:
            _assert_error_envelope(response)

    answers_as_documented()


def test_successful_answers_match_their_documented_schemas(
    served_schema: Any, tokens: dict[str, str], fuzz_client: Any
) -> None:
    """Random strings are rarely airports or bookable dates, so the fuzz seldom sees a 2xx on the fare
    and tracking routes: here each success is provoked with real inputs and held to the document."""
    date = (datetime.now(UTC).date() + timedelta(days=40)).isoformat()
    route = {"origin": "JFK", "destination": "LAX", "date": date}
    user = {"Authorization": f"Bearer {tokens['user']}"}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    email = f"fuzz-{uuid.uuid4().hex[:10]}@example.com"

    def answer(method: str, path: str, headers: dict[str, str] | None = None, **parts: Any) -> Any:
        case = served_schema[path][method].Case(**parts)
        response = case.call_and_validate(
            headers=headers or {}, checks=CHECKS, session=fuzz_client, timeout=30
        )
        assert 200 <= response.status_code < 300, response.text
        return response

    answer("GET", "/flights/ping")
    answer("GET", "/flights/price", query=route)
    answer("GET", "/flights/search", query={**route, "sort": "duration", "limit": "3"})
    answer("GET", "/flights/history", query=route)
    answer("GET", "/airports", query={"q": "par", "limit": "5"})
    answer(
        "POST", "/auth/register", body={"email": email, "password": PASSWORD}, media_type="application/json"
    )
    login = answer(
        "POST", "/auth/login", body={"email": email, "password": PASSWORD}, media_type="application/json"
    )
    refresh_token = login.json()["data"]["refresh_token"]
    answer("POST", "/auth/refresh", body={"refresh_token": refresh_token}, media_type="application/json")
    answer("GET", "/users/me", user)
    answer("GET", "/users", admin, query={"limit": "2"})
    tracker = answer(
        "POST",
        "/tracked-flights",
        user,
        body={"origin": "JFK", "destination": "LAX", "departure_date": date, "target_price": "99.00"},
        media_type="application/json",
    ).json()["data"]
    tracker_id = {"id": tracker["id"]}
    answer("GET", "/tracked-flights", user)
    answer("GET", "/tracked-flights/{id}", user, path_parameters=tracker_id)
    answer(
        "PATCH",
        "/tracked-flights/{id}",
        user,
        path_parameters=tracker_id,
        body={"version": tracker["version"], "notify_on_any_drop": True},
        media_type="application/json",
    )
    answer("GET", "/alerts", user, query={"unacked_only": "true"})
    answer("GET", "/stats/routes", admin, query={"days": "7"})
    answer("GET", "/stats/routes", admin, query={"format": "csv"})
    answer("DELETE", "/tracked-flights/{id}", user, path_parameters=tracker_id)
