"""The fault matrix: every upstream fault the simulator can inject, against every surface that calls
upstream (price, search, tracker creation, a poll cycle), and DynamoDB faults during tracker creation.

The handlers run in-process on moto and call the Amadeus simulator over loopback HTTP, exactly as in
production but with short timeouts and no backoff, so the whole matrix takes seconds. Each case states
what a user (or the queue) observes: a stale answer flagged stale, a 502/503/504 envelope without a
traceback, a poll message reported as failed and then retried, and never a half-made tracker.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import botocore.client
import pytest
import requests
from botocore.exceptions import ClientError

from amadeus_sim.app import Simulator
from fare_sim.server import start
from tests.support.events import FakeLambdaContext, api_event, sqs_event

PASSWORD = "correct horse battery"
# Fault mode → what a request on a key with nothing cached answers, once retries are spent.
UPSTREAM_FAULTS = {
    "http500": (502, "upstream_error"),
    "http429": (503, "upstream_rate_limited"),
    "timeout": (504, "upstream_timeout"),
    "malformed": (502, "upstream_bad_response"),
    "expired_token": (502, "upstream_auth_failed"),
}


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    # The timeout fault holds the answer longer than the client's read timeout below, which is well
    # above a normal answer's time even on a loaded two-core machine.
    server = start(Simulator(rate_limit_tps=0, timeout_fault_seconds=2.5), port=0)
    yield server
    server.stop()


@dataclass
class Stack:
    price: ModuleType
    users: ModuleType
    worker: ModuleType
    sim_url: str

    def fault(self, mode: str, count: int | None = None) -> None:
        body: dict[str, Any] = {"mode": mode} if count is None else {"mode": mode, "count": count}
        requests.post(f"{self.sim_url}/__sim/faults", json=body, timeout=5).raise_for_status()

    def stats(self) -> dict[str, int]:
        return dict(requests.get(f"{self.sim_url}/__sim/stats", timeout=5).json())

    def searches(self) -> int:
        return int(self.stats()["search_requests"])

    def pin(self, route: tuple[str, str, str], amount: float) -> None:
        origin, destination, date = route
        requests.put(
            f"{self.sim_url}/__sim/prices/{origin}/{destination}/{date}", json={"amount": amount}, timeout=5
        ).raise_for_status()


def _clear_caches() -> None:
    from farewatch import composition, settings

    settings.get_settings.cache_clear()
    composition.fare_service.cache_clear()
    composition.tracking_service.cache_clear()
    composition.poll_cycle.cache_clear()
    composition.account_service.cache_clear()


@pytest.fixture
def stack(aws, simulator, monkeypatch) -> Iterator[Stack]:
    monkeypatch.setenv("AMADEUS_BASE_URL", simulator.url)
    monkeypatch.setenv("AMADEUS_CLIENT_ID", "farewatch-local")
    monkeypatch.setenv("AMADEUS_CLIENT_SECRET", "farewatch-local-secret")
    monkeypatch.setenv("UPSTREAM_BACKOFF_BASE_SECONDS", "0")
    monkeypatch.setenv("FORCE_REFRESH_MIN_SECONDS", "0")  # every nocache reaches upstream here
    monkeypatch.setenv("UPSTREAM_BACKOFF_CAP_SECONDS", "0")
    monkeypatch.setenv("UPSTREAM_READ_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("UPSTREAM_MAX_ATTEMPTS", "3")
    _clear_caches()
    requests.post(f"{simulator.url}/__sim/reset", timeout=5).raise_for_status()
    yield Stack(
        price=importlib.import_module("price_api.handler"),
        users=importlib.import_module("users_api.handler"),
        worker=importlib.import_module("poller_jobs.worker"),
        sim_url=simulator.url,
    )
    requests.post(f"{simulator.url}/__sim/faults", json={"mode": "none"}, timeout=5)
    _clear_caches()


def future(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def call(
    handler: ModuleType, method: str, path: str, body: Any = None, token: str | None = None, **params: str
) -> tuple[int, Any]:
    event = api_event(method, path, params or None, body)
    if body is not None:
        event["headers"]["Content-Type"] = "application/json"
    if token:
        event["headers"]["Authorization"] = f"Bearer {token}"
    response = handler.lambda_handler(event, FakeLambdaContext())
    text = response["body"] or "null"
    assert "Traceback" not in text and 'File "' not in text
    return response["statusCode"], json.loads(text)


def cache_entries(fare_query: str) -> list[Any]:
    from farewatch.store.models import FareCacheEntry

    return [entry for entry in FareCacheEntry.scan() if entry.pk.endswith(fare_query) and entry.offers_json]


def age_cached_fares(fare_query: str) -> None:
    """The fare cache's 10 minutes have passed for this fare query (its stale copy is still kept)."""
    entries = cache_entries(fare_query)
    assert entries
    for entry in entries:
        fetched_at = float(entry.fetched_at) - 601
        entry.update(
            actions=[type(entry).fetched_at.set(fetched_at), type(entry).fresh_until.set(fetched_at + 600)]
        )
    # Ten minutes later this container's memory tier no longer holds the entry either (it keeps an
    # entry only while the entry is fresh): the collaborators start again, as after that much time.
    _clear_caches()


def sign_in(stack: Stack, email: str = "alice@example.com") -> str:
    assert call(stack.users, "POST", "/auth/register", {"email": email, "password": PASSWORD})[0] == 202
    status, body = call(stack.users, "POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200
    return str(body["data"]["access_token"])


def assert_envelope(status: int, body: Any, expected: tuple[int, str]) -> None:
    assert (status, body["error"]["code"]) == expected, body
    assert set(body) == {"error"} and body["error"]["message"]


def trackers_and_counts(stack: Stack, token: str, route_key: str) -> tuple[int, int, int]:
    """(trackers listed, the user's active count, the watched route's count)."""
    from farewatch.store.tracking import COUNTER_ID, TrackerCounter, TrackingStore

    status, listed = call(stack.users, "GET", "/tracked-flights", token=token)
    assert status == 200
    user_id = call(stack.users, "GET", "/users/me", token=token)[1]["data"]["id"]
    try:
        user_count = int(TrackerCounter.get(user_id, COUNTER_ID).active_count)
    except TrackerCounter.DoesNotExist:
        user_count = 0
    return len(listed["data"]), user_count, TrackingStore().watched_count(route_key)


# -- price and search ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/flights/price", "/flights/search"])
@pytest.mark.parametrize("mode", sorted(UPSTREAM_FAULTS))
def test_a_fault_on_a_key_with_nothing_cached_is_a_clean_5xx_envelope(stack, mode, path):
    stack.fault(mode)

    status, body = call(stack.price, "GET", path, origin="JFK", destination="LAX", date=future(40))

    assert_envelope(status, body, UPSTREAM_FAULTS[mode])


@pytest.mark.parametrize("path", ["/flights/price", "/flights/search"])
@pytest.mark.parametrize("mode", sorted(UPSTREAM_FAULTS))
def test_a_fault_on_a_known_key_serves_the_last_answer_flagged_stale(stack, mode, path):
    query = {"origin": "JFK", "destination": "LAX", "date": future(41)}
    status, first = call(stack.price, "GET", path, **query)
    assert status == 200 and first["meta"]["stale"] is False
    age_cached_fares(f"JFK#LAX#{query['date']}#1#USD")
    stack.fault(mode)

    status, body = call(stack.price, "GET", path, **query)

    assert status == 200, body
    assert body["meta"]["stale"] is True
    assert body["data"] == first["data"]


def test_an_expired_token_is_renewed_and_the_request_succeeds(stack):
    date = future(42)  # once: the pin and the search name the same day even if midnight passes
    call(stack.price, "GET", "/flights/price", origin="JFK", destination="LAX", date=date)
    stack.pin(("LHR", "CDG", date), 88.5)
    before = stack.stats()
    stack.fault("expired_token", count=1)

    status, body = call(stack.price, "GET", "/flights/price", origin="LHR", destination="CDG", date=date)

    after = stack.stats()
    assert status == 200 and body["meta"]["stale"] is False
    assert body["data"]["price"] == "88.50 USD"
    # One refused search, one new token, the search again.
    assert after["token_requests"] - before["token_requests"] == 1
    assert after["search_requests"] - before["search_requests"] == 2


# A malformed 200 is not retried: the same request would get the same answer (README, "Errors").
@pytest.mark.parametrize("mode", ["http500", "http429", "timeout"])
def test_one_transient_fault_is_retried_away(stack, mode):
    stack.fault(mode, count=1)

    status, body = call(
        stack.price, "GET", "/flights/price", origin="JFK", destination="LAX", date=future(43)
    )

    assert status == 200 and body["meta"]["cached"] is False
    assert stack.searches() == 2


# -- tracker creation ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(UPSTREAM_FAULTS))
def test_a_fault_while_creating_a_tracker_writes_nothing(stack, mode):
    token = sign_in(stack)
    date = future(44)
    stack.fault(mode)

    status, body = call(
        stack.users,
        "POST",
        "/tracked-flights",
        {"origin": "JFK", "destination": "LAX", "departure_date": date, "target_price": "250"},
        token=token,
    )

    assert_envelope(status, body, UPSTREAM_FAULTS[mode])
    assert trackers_and_counts(stack, token, f"JFK#LAX#{date}#1#USD") == (0, 0, 0)


@pytest.mark.parametrize("mode", sorted(UPSTREAM_FAULTS))
def test_a_tracker_on_a_freshly_cached_route_is_created_despite_a_fault(stack, mode):
    token = sign_in(stack)
    date = future(45)
    stack.pin(("JFK", "LAX", date), 231.4)
    call(stack.price, "GET", "/flights/price", origin="JFK", destination="LAX", date=date)
    stack.fault(mode)

    status, body = call(
        stack.users,
        "POST",
        "/tracked-flights",
        {"origin": "JFK", "destination": "LAX", "departure_date": date, "target_price": "250"},
        token=token,
    )

    assert status == 201, body
    assert (body["data"]["current_price"], body["data"]["lowest_price"]) == ("231.40", "231.40")
    assert trackers_and_counts(stack, token, f"JFK#LAX#{date}#1#USD") == (1, 1, 1)


# -- DynamoDB faults -------------------------------------------------------------------------

DYNAMODB_FAULTS = {
    "throttled": {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}},
    "transaction_throttled": {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [
            {"Code": "None"},
            {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"},
            {"Code": "None"},
        ],
    },
    "internal_error": {"Error": {"Code": "InternalServerError", "Message": "Internal server error"}},
}


@pytest.fixture
def failing_dynamodb(monkeypatch):
    """Makes DynamoDB answer chosen operations with an error, as the service does once botocore's own
    retries are spent; everything else reaches moto as usual."""
    failures: dict[str, dict[str, Any]] = {}
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):  # type: ignore[no-untyped-def]
        if self.meta.service_model.service_name == "dynamodb" and operation_name in failures:
            raise ClientError(failures[operation_name], operation_name)  # type: ignore[arg-type]
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return failures


@pytest.mark.parametrize("fault", sorted(DYNAMODB_FAULTS))
def test_a_failed_write_while_creating_a_tracker_leaves_no_half_made_tracker(stack, failing_dynamodb, fault):
    token = sign_in(stack)
    date = future(46)
    route_key = f"JFK#LAX#{date}#1#USD"
    tracker = {"origin": "JFK", "destination": "LAX", "departure_date": date, "target_price": "250"}
    failing_dynamodb["TransactWriteItems"] = DYNAMODB_FAULTS[fault]

    status, body = call(stack.users, "POST", "/tracked-flights", tracker, token=token)

    assert_envelope(status, body, (503, "storage_unavailable"))
    failing_dynamodb.clear()
    assert trackers_and_counts(stack, token, route_key) == (0, 0, 0)
    assert call(stack.users, "POST", "/tracked-flights", tracker, token=token)[0] == 201
    assert trackers_and_counts(stack, token, route_key) == (1, 1, 1)


def test_a_failed_write_while_deleting_a_tracker_keeps_it_and_its_counts(stack, failing_dynamodb):
    token = sign_in(stack)
    date = future(47)
    route_key = f"JFK#LAX#{date}#1#USD"
    body = {"origin": "JFK", "destination": "LAX", "departure_date": date, "notify_on_any_drop": True}
    tracker_id = call(stack.users, "POST", "/tracked-flights", body, token=token)[1]["data"]["id"]
    failing_dynamodb["TransactWriteItems"] = DYNAMODB_FAULTS["transaction_throttled"]

    status, answer = call(stack.users, "DELETE", f"/tracked-flights/{tracker_id}", token=token)

    assert_envelope(status, answer, (503, "storage_unavailable"))
    failing_dynamodb.clear()
    assert trackers_and_counts(stack, token, route_key) == (1, 1, 1)
    assert call(stack.users, "DELETE", f"/tracked-flights/{tracker_id}", token=token)[0] == 204
    assert trackers_and_counts(stack, token, route_key) == (0, 0, 0)


# -- a poll cycle ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(UPSTREAM_FAULTS))
def test_a_fault_during_a_poll_fails_the_message_and_its_retry_flags_the_drop_once(stack, mode):
    token = sign_in(stack)
    date = future(48)
    route_key = f"JFK#LAX#{date}#1#USD"
    body = {"origin": "JFK", "destination": "LAX", "departure_date": date, "notify_on_any_drop": True}
    assert call(stack.users, "POST", "/tracked-flights", body, token=token)[0] == 201
    stack.pin(("JFK", "LAX", date), 99.0)
    for entry in cache_entries(route_key):
        entry.delete()  # the cached fare has expired and been purged
    _clear_caches()  # ...and so has this container's memory of it (it keeps fresh entries only)
    stack.fault(mode)
    # A second route nobody watches succeeds, so the batch is a partial failure, not a failed invocation.
    event = sqs_event([route_key, f"BOS#MIA#{date}#1#USD"])

    def alert_prices() -> list[str]:
        return [alert["price"] for alert in call(stack.users, "GET", "/alerts", token=token)[1]["data"]]

    failed = stack.worker.lambda_handler(event, FakeLambdaContext(function_name="PollWorkerFunction"))
    after_failure = alert_prices()
    stack.fault("none")
    retried = stack.worker.lambda_handler(event, FakeLambdaContext(function_name="PollWorkerFunction"))
    after_retry = alert_prices()
    again = stack.worker.lambda_handler(event, FakeLambdaContext(function_name="PollWorkerFunction"))

    assert failed == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}  # only the faulted route
    assert after_failure == []
    assert retried == {"batchItemFailures": []} and after_retry == ["99.00"]
    assert again == {"batchItemFailures": []} and alert_prices() == ["99.00"]  # flagged once


# -- Ignav's errors ----------------------------------------------------------------------------
# The same surfaces with FAREWATCH_FARE_SOURCE=ignav: each error Ignav documents (or was seen to send),
# injected in its own envelope by the Ignav simulator, plus the shared timeout and malformed faults.

IGNAV_FAULTS: dict[str, tuple[dict[str, Any] | str, tuple[int, str]]] = {
    "400": ({"status": 400, "code": "invalid_request"}, (400, "rejected_by_fare_source")),
    "401": ({"status": 401, "code": "invalid_api_key"}, (503, "upstream_not_configured")),
    "402": ({"status": 402, "code": "billing_required"}, (503, "upstream_not_configured")),
    "403": ({"status": 403, "code": "email_not_verified"}, (503, "upstream_not_configured")),
    "424": ({"status": 424, "code": "unable_to_complete_request"}, (502, "upstream_error")),
    "timeout": ("timeout", (504, "upstream_timeout")),
    "malformed": ("malformed", (502, "upstream_bad_response")),
}
# A 400 is about the query itself: no stale answer stands in for it (the query would be refused again).
IGNAV_UPSTREAM_FAULTS = sorted(name for name in IGNAV_FAULTS if name != "400")


@pytest.fixture(scope="module")
def ignav_simulator() -> Iterator[Any]:
    from ignav_sim.app import Simulator as IgnavSimulator

    server = start(IgnavSimulator(timeout_fault_seconds=2.5), port=0)
    yield server
    server.stop()


@dataclass
class IgnavStack(Stack):
    def ignav_fault(self, name: str, count: int | None = None) -> None:
        fault = IGNAV_FAULTS[name][0]
        if isinstance(fault, str):
            self.fault(fault, count)
        else:
            body = {**fault, "count": count}
            requests.post(f"{self.sim_url}/__sim/errors", json=body, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        requests.post(f"{self.sim_url}/__sim/errors", json={"status": None}, timeout=5).raise_for_status()
        self.fault("none")


@pytest.fixture
def ignav_stack(aws, ignav_simulator, monkeypatch) -> Iterator[IgnavStack]:
    from ignav_sim.app import DEFAULT_API_KEY

    monkeypatch.setenv("FAREWATCH_FARE_SOURCE", "ignav")
    monkeypatch.setenv("IGNAV_BASE_URL", ignav_simulator.url)
    monkeypatch.setenv("IGNAV_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("UPSTREAM_BACKOFF_BASE_SECONDS", "0")
    monkeypatch.setenv("UPSTREAM_BACKOFF_CAP_SECONDS", "0")
    monkeypatch.setenv("IGNAV_READ_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("UPSTREAM_MAX_ATTEMPTS", "3")
    _clear_caches()
    requests.post(f"{ignav_simulator.url}/__sim/reset", timeout=5).raise_for_status()
    stack = IgnavStack(
        price=importlib.import_module("price_api.handler"),
        users=importlib.import_module("users_api.handler"),
        worker=importlib.import_module("poller_jobs.worker"),
        sim_url=ignav_simulator.url,
    )
    yield stack
    stack.clear_faults()
    _clear_caches()


@pytest.mark.parametrize("path", ["/flights/price", "/flights/search"])
@pytest.mark.parametrize("name", sorted(IGNAV_FAULTS))
def test_an_ignav_error_on_a_key_with_nothing_cached_is_its_envelope(ignav_stack, name, path):
    ignav_stack.ignav_fault(name)

    status, body = call(ignav_stack.price, "GET", path, origin="JFK", destination="LAX", date=future(50))

    assert_envelope(status, body, IGNAV_FAULTS[name][1])


@pytest.mark.parametrize("name", IGNAV_UPSTREAM_FAULTS)
def test_an_ignav_error_on_a_known_key_serves_the_last_answer_flagged_stale(ignav_stack, name):
    query = {"origin": "JFK", "destination": "LAX", "date": future(51)}
    status, first = call(ignav_stack.price, "GET", "/flights/price", **query)
    assert status == 200 and first["meta"]["source"] == "ignav"
    age_cached_fares(f"JFK#LAX#{query['date']}#1#USD")
    ignav_stack.ignav_fault(name)

    status, body = call(ignav_stack.price, "GET", "/flights/price", **query)

    assert status == 200, body
    assert body["meta"]["stale"] is True and body["data"] == first["data"]


def test_one_ignav_424_is_retried_away_and_an_account_error_is_not_retried(ignav_stack):
    ignav_stack.ignav_fault("424", count=1)
    retried, _ = call(
        ignav_stack.price, "GET", "/flights/price", origin="JFK", destination="LAX", date=future(52)
    )
    searches_after_424 = ignav_stack.searches()
    ignav_stack.ignav_fault("402", count=1)
    refused, _ = call(
        ignav_stack.price, "GET", "/flights/price", origin="JFK", destination="BOS", date=future(52)
    )

    assert (retried, searches_after_424) == (200, 2)
    assert refused == 503 and ignav_stack.searches() == 3  # the 402 once, no retry


@pytest.mark.parametrize("name", sorted(IGNAV_FAULTS))
def test_an_ignav_error_while_creating_a_tracker_writes_nothing(ignav_stack, name):
    token = sign_in(ignav_stack)
    date = future(53)
    ignav_stack.ignav_fault(name)

    status, body = call(
        ignav_stack.users,
        "POST",
        "/tracked-flights",
        {"origin": "JFK", "destination": "LAX", "departure_date": date, "target_price": "250"},
        token=token,
    )

    assert_envelope(status, body, IGNAV_FAULTS[name][1])
    assert trackers_and_counts(ignav_stack, token, f"JFK#LAX#{date}#1#USD") == (0, 0, 0)


@pytest.mark.parametrize("name", IGNAV_UPSTREAM_FAULTS)
def test_an_ignav_error_during_a_poll_fails_the_message_and_the_retry_alerts_once_with_a_booking_link(
    ignav_stack, name
):
    token = sign_in(ignav_stack)
    date = future(54)
    route_key = f"JFK#LAX#{date}#1#USD"
    body = {"origin": "JFK", "destination": "LAX", "departure_date": date, "notify_on_any_drop": True}
    assert call(ignav_stack.users, "POST", "/tracked-flights", body, token=token)[0] == 201
    ignav_stack.pin(("JFK", "LAX", date), 99.0)
    for entry in cache_entries(route_key):
        entry.delete()
    ignav_stack.ignav_fault(name)
    event = sqs_event([route_key, f"BOS#MIA#{date}#1#USD"])
    context = FakeLambdaContext(function_name="PollWorkerFunction")

    def alerts() -> list[dict[str, Any]]:
        return list(call(ignav_stack.users, "GET", "/alerts", token=token)[1]["data"])

    failed = ignav_stack.worker.lambda_handler(event, context)
    after_failure = alerts()
    ignav_stack.clear_faults()
    retried = ignav_stack.worker.lambda_handler(event, context)
    again = ignav_stack.worker.lambda_handler(event, context)
    (alert,) = alerts()
    page = requests.get(alert["booking_url"], timeout=5)

    assert failed == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}
    assert after_failure == []
    assert retried == {"batchItemFailures": []} and again == {"batchItemFailures": []}
    assert alert["price"] == "99.00" and alert["offer_id"] in alert["booking_url"]
    assert page.status_code == 200 and "99" in page.text
