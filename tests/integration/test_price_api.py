"""The price function end to end in-process: API Gateway event → handler → fare cache on moto →
Amadeus simulator over loopback HTTP."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from amadeus_sim.app import Simulator
from amadeus_sim.server import start
from tests.support.events import FakeLambdaContext, api_event


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    server = start(Simulator(rate_limit_tps=0), port=0)
    yield server
    server.stop()


@pytest.fixture
def handler(aws, simulator, monkeypatch):
    monkeypatch.setenv("AMADEUS_BASE_URL", simulator.url)
    monkeypatch.setenv("AMADEUS_CLIENT_ID", "farewatch-local")
    monkeypatch.setenv("AMADEUS_CLIENT_SECRET", "farewatch-local-secret")
    monkeypatch.setenv("UPSTREAM_BACKOFF_BASE_SECONDS", "0")
    monkeypatch.setenv("FORCE_REFRESH_MIN_SECONDS", "0")  # every nocache reaches upstream here
    from farewatch import composition, settings

    settings.get_settings.cache_clear()
    composition.fare_service.cache_clear()
    requests.post(f"{simulator.url}/__sim/reset", timeout=5)
    module = importlib.import_module("price_api.handler")
    yield module
    composition.fare_service.cache_clear()
    settings.get_settings.cache_clear()


def call(handler, path: str, **params: str) -> tuple[int, dict[str, Any]]:
    response = handler.lambda_handler(api_event("GET", path, params or None), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def future(days: int = 30) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def sim_stats(simulator) -> dict[str, int]:
    return requests.get(f"{simulator.url}/__sim/stats", timeout=5).json()


def test_price_answers_the_cheapest_offer_in_the_public_contract(handler, simulator):
    date = future()

    status, body = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date)
    _, search = call(handler, "/flights/search", origin="JFK", destination="LAX", date=date, limit="50")

    assert status == 200, body
    assert body["data"]["departure_date"] == date
    cheapest = min(float(offer["price"]) for offer in search["data"])
    assert body["data"]["price"] == f"{cheapest:.2f} USD"
    assert sim_stats(simulator)["search_requests"] == 1


def test_a_pinned_upstream_price_is_what_the_user_sees_after_nocache(handler, simulator):
    date = future(31)
    call(handler, "/flights/price", origin="JFK", destination="LAX", date=date)
    requests.put(
        f"{simulator.url}/__sim/prices/JFK/LAX/{date}", json={"amount": 123.45, "currency": "USD"}, timeout=5
    )

    _, cached = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date)
    _, fresh = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date, nocache="true")

    assert cached["data"]["price"] != "123.45 USD"
    assert fresh["data"]["price"] == "123.45 USD" and fresh["meta"]["cached"] is False


def test_a_route_without_offers_answers_404_no_offers(handler, simulator):
    date = future(32)
    requests.put(f"{simulator.url}/__sim/prices/JFK/LAX/{date}", json={"offers": 0}, timeout=5)

    status, body = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date)

    assert status == 404 and body["error"]["code"] == "no_offers"


def test_search_filters_nonstop_and_sorts_by_duration(handler):
    route = {"origin": "JFK", "destination": "LAX", "date": future(33)}
    every = call(handler, "/flights/search", **route, limit="50")[1]["data"]

    status, body = call(handler, "/flights/search", **route, nonstop="yes", sort="duration", limit="50")

    nonstops = sorted(
        (offer for offer in every if offer["stops"] == 0),
        key=lambda offer: (offer["duration_minutes"], float(offer["price"]), offer["id"]),
    )
    assert status == 200, body
    assert nonstops and len(nonstops) < len(every)  # the simulator sells both kinds on this route
    assert [offer["id"] for offer in body["data"]] == [offer["id"] for offer in nonstops]
    assert (body["meta"]["sort"], body["meta"]["count"]) == ("duration", len(nonstops))


@pytest.mark.parametrize(
    ("params", "code"), [({"sort": "cheapest"}, "invalid_parameter"), ({"limit": "0"}, "invalid_parameter")]
)
def test_search_rejects_bad_options(handler, params, code):
    status, body = call(handler, "/flights/search", origin="JFK", destination="LAX", date=future(), **params)

    assert status == 400 and body["error"]["code"] == code


def test_history_lists_every_fetched_price_with_min_max_latest(handler, simulator):
    date = future(34)
    prices = ["300.00", "250.00", "275.00"]
    for amount in prices:
        requests.put(
            f"{simulator.url}/__sim/prices/JFK/LAX/{date}", json={"amount": float(amount)}, timeout=5
        )
        call(handler, "/flights/price", origin="JFK", destination="LAX", date=date, nocache="1")

    status, body = call(handler, "/flights/history", origin="JFK", destination="LAX", date=date)

    assert status == 200, body
    history = body["data"]
    assert [row["price"] for row in history["observations"]] == [f"{p} USD" for p in prices]
    assert (history["min"], history["max"], history["latest"]) == ("250.00 USD", "300.00 USD", "275.00 USD")


def test_history_of_a_departed_date_is_still_readable(handler):
    status, body = call(handler, "/flights/history", origin="JFK", destination="LAX", date="2024-01-01")

    assert status == 200 and body["data"]["observations"] == []


def test_airports_suggests_by_city_name(handler):
    status, body = call(handler, "/airports", q="new york", limit="3")

    assert status == 200
    assert body["data"][0]["code"] == "NYC"


def test_upstream_outage_on_a_cold_key_is_a_5xx_envelope_without_traceback(handler, simulator):
    requests.post(f"{simulator.url}/__sim/faults", json={"mode": "http500"}, timeout=5)
    try:
        response = handler.lambda_handler(
            api_event("GET", "/flights/price", {"origin": "JFK", "destination": "BOS", "date": future(35)}),
            FakeLambdaContext(),
        )
    finally:
        requests.post(f"{simulator.url}/__sim/faults", json={"mode": "none"}, timeout=5)

    assert response["statusCode"] in (502, 503, 504)
    assert json.loads(response["body"])["error"]["code"].startswith("upstream")
    assert "Traceback" not in response["body"]


def test_unknown_route_is_a_404_envelope(handler):
    status, body = call(handler, "/flights/nowhere")

    assert status == 404 and body["error"]["code"] == "not_found"


def test_openapi_document_lists_every_public_route(handler):
    status, body = call(handler, "/openapi.json")

    assert status == 200
    assert {"/flights/ping", "/flights/price", "/flights/search", "/airports", "/flights/history"} <= set(
        body["paths"]
    )
    assert "ErrorEnvelope" in body["components"]["schemas"]
