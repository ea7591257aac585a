"""The Amadeus fare source against the Amadeus simulator over real HTTP (port 0 on 127.0.0.1): a real
token issuer, a simple in-memory token provider, and every simulator fault mode mapped to its outcome."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from amadeus_sim.app import Simulator
from fare_sim.server import start
from farewatch.clock import SystemClock
from farewatch.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from farewatch.fare_query import FareQuery
from farewatch.fares.amadeus import AmadeusCredentials, AmadeusFareSource, AmadeusTokenIssuer
from farewatch.fares.tokens_api import IssuedToken
from farewatch.offers import cheapest

CLIENT_ID = "farewatch-local"
CLIENT_SECRET = "farewatch-local-secret"  # the simulator's local default, not a real secret
# A normal answer comes well inside READ_TIMEOUT even on a loaded two-core machine; the timeout
# fault holds its answer past it.
TIMEOUT_FAULT_SECONDS = 4.0
READ_TIMEOUT = 1.5
MAX_ATTEMPTS = 3
DEPARTURE = dt.date.today() + dt.timedelta(days=60)
JFK_LAX = FareQuery(origin="JFK", destination="LAX", departure_date=DEPARTURE, adults=1, currency="USD")


class SimulatorControl:
    """The simulator's local-only control routes (SPEC §6)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def fault(self, mode: str, count: int | None = None) -> None:
        """Fault the next `count` searches; without a count, until the mode is set back to "none"."""
        body: dict[str, Any] = {"mode": mode} if count is None else {"mode": mode, "count": count}
        requests.post(f"{self.url}/__sim/faults", json=body, timeout=5).raise_for_status()

    def pin_price(self, query: FareQuery, body: dict[str, Any]) -> None:
        path = f"/__sim/prices/{query.origin}/{query.destination}/{query.departure_date.isoformat()}"
        requests.put(self.url + path, json=body, timeout=5).raise_for_status()

    def stats(self) -> dict[str, int]:
        response = requests.get(f"{self.url}/__sim/stats", timeout=5)
        response.raise_for_status()
        body = response.json()
        return body.get("data", body)


class RememberedToken:
    """The simplest TokenProvider: one token in memory, fetched when missing or expiring."""

    def __init__(self, issue: AmadeusTokenIssuer, clock: SystemClock) -> None:
        self._issue = issue
        self._clock = clock
        self._token: IssuedToken | None = None
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._token.expires_at - 30 <= self._clock.now():
                self._token = self._issue()
            return self._token.value

    def invalidate(self, token: str) -> None:
        with self._lock:
            if self._token is not None and self._token.value == token:
                self._token = None


@pytest.fixture(scope="module")
def served_simulator() -> Iterator[str]:
    """One simulator per module (stopping a server takes half a second); each test resets it."""
    app = Simulator(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=time.time,
        rate_limit_tps=10,
        sleep=time.sleep,
        timeout_fault_seconds=TIMEOUT_FAULT_SECONDS,
    )
    handle = start(app, "127.0.0.1", port=0)
    try:
        yield handle.url
    finally:
        handle.stop()


@pytest.fixture
def simulator(served_simulator: str) -> str:
    requests.post(f"{served_simulator}/__sim/reset", timeout=5).raise_for_status()
    return served_simulator


@pytest.fixture
def control(simulator: str) -> SimulatorControl:
    return SimulatorControl(simulator)


def token_issuer(base_url: str, secret: str = CLIENT_SECRET) -> AmadeusTokenIssuer:
    return AmadeusTokenIssuer(
        base_url,
        lambda: AmadeusCredentials(CLIENT_ID, SecretStr(secret)),
        clock=SystemClock(),
        connect_timeout=1.0,
        read_timeout=2.0,
    )


def fare_source(base_url: str) -> AmadeusFareSource:
    clock = SystemClock()
    return AmadeusFareSource(
        base_url=base_url,
        tokens=RememberedToken(token_issuer(base_url), clock),
        clock=clock,
        connect_timeout=1.0,
        read_timeout=READ_TIMEOUT,
        max_attempts=MAX_ATTEMPTS,
        backoff_base=0.02,
        backoff_cap=0.1,
    )


def search(source: AmadeusFareSource, budget: float = 5.0) -> list[Any]:
    return source.search(JFK_LAX, deadline=time.time() + budget)


def test_a_search_returns_the_simulated_offers_and_the_cheapest_is_the_pinned_fare(
    simulator: str, control: SimulatorControl
) -> None:
    control.pin_price(JFK_LAX, {"amount": 123.45, "currency": "USD"})

    offers = search(fare_source(simulator))

    assert offers
    best = cheapest(offers)
    assert best is not None and (best.price, best.currency) == (Decimal("123.45"), "USD")
    assert all(offer.origin == "JFK" and offer.destination == "LAX" for offer in offers)
    assert control.stats() == {"token_requests": 1, "search_requests": 1, "rate_limited": 0}


def test_a_route_without_offers_is_an_empty_list(simulator: str, control: SimulatorControl) -> None:
    control.pin_price(JFK_LAX, {"offers": 0})

    assert search(fare_source(simulator)) == []


def test_one_server_error_is_absorbed_by_a_retry(simulator: str, control: SimulatorControl) -> None:
    control.fault("http500", 1)

    assert search(fare_source(simulator))
    assert control.stats()["search_requests"] == 2


def test_persistent_server_errors_end_in_502(simulator: str, control: SimulatorControl) -> None:
    control.fault("http500", 10)

    with pytest.raises(UpstreamError) as raised:
        search(fare_source(simulator))

    assert (type(raised.value), raised.value.status, raised.value.code) == (
        UpstreamError,
        502,
        "upstream_error",
    )
    assert control.stats()["search_requests"] == MAX_ATTEMPTS


def test_one_rate_limit_is_absorbed_by_a_retry(simulator: str, control: SimulatorControl) -> None:
    control.fault("http429", 1)

    assert search(fare_source(simulator))
    assert control.stats()["search_requests"] == 2


def test_persistent_rate_limiting_ends_in_503(simulator: str, control: SimulatorControl) -> None:
    control.fault("http429", 10)

    with pytest.raises(UpstreamUnavailable) as raised:
        search(fare_source(simulator))

    assert (raised.value.status, raised.value.code) == (503, "upstream_rate_limited")
    assert control.stats()["search_requests"] == MAX_ATTEMPTS


def test_one_hung_search_is_absorbed_by_a_retry(simulator: str, control: SimulatorControl) -> None:
    control.fault("timeout", 1)

    assert search(fare_source(simulator))
    assert control.stats()["search_requests"] == 2


def test_a_hung_upstream_ends_in_504_by_the_deadline(simulator: str, control: SimulatorControl) -> None:
    control.fault("timeout", 10)
    budget = 2.5  # less than MAX_ATTEMPTS x READ_TIMEOUT (4.5 s): the deadline, not the attempts, ends it
    started = time.monotonic()

    with pytest.raises(UpstreamTimeout) as raised:
        search(fare_source(simulator), budget=budget)

    assert (raised.value.status, raised.value.code) == (504, "upstream_timeout")
    assert time.monotonic() - started < budget + 0.75


def test_a_malformed_answer_is_502_and_not_retried(simulator: str, control: SimulatorControl) -> None:
    control.fault("malformed", 1)

    with pytest.raises(UpstreamError) as raised:
        search(fare_source(simulator))

    assert (raised.value.status, raised.value.code) == (502, "upstream_bad_response")
    assert control.stats()["search_requests"] == 1


def test_an_expired_token_costs_exactly_one_extra_token_request(
    simulator: str, control: SimulatorControl
) -> None:
    source = fare_source(simulator)
    search(source)
    control.fault("expired_token", 1)

    assert search(source)
    assert control.stats() == {"token_requests": 2, "search_requests": 3, "rate_limited": 0}


def test_searches_succeed_again_once_the_fault_is_lifted(simulator: str, control: SimulatorControl) -> None:
    control.fault("http500")
    with pytest.raises(UpstreamError):
        search(fare_source(simulator))
    control.fault("none")

    assert search(fare_source(simulator))


def test_the_issuer_gets_a_token_that_expires_as_announced(simulator: str) -> None:
    before = time.time()

    token = token_issuer(simulator)()

    assert token.value
    assert before + 1799 <= token.expires_at <= time.time() + 1799


def test_the_issuer_reports_wrong_credentials_without_the_secret(simulator: str) -> None:
    wrong_secret = "not-the-secret-42"

    with pytest.raises(UpstreamError) as raised:
        token_issuer(simulator, wrong_secret)()

    assert (raised.value.status, raised.value.code) == (502, "upstream_auth_failed")
    assert wrong_secret not in str(raised.value)


def test_an_unreachable_upstream_is_503() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    source = fare_source(f"http://127.0.0.1:{closed_port}")

    with pytest.raises(UpstreamUnavailable) as raised:
        search(source)

    assert (raised.value.status, raised.value.code) == (503, "upstream_unreachable")
