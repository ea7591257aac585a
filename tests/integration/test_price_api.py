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
from fare_sim.server import start
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


# -- trips, the fare calendar and price insight (issue 15) -----------------------------------------


def test_the_price_answer_keeps_the_seed_contract_unless_a_trip_shape_is_asked_for(handler):
    date = future(40)

    _, one_way = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date)
    _, round_trip = call(
        handler,
        "/flights/price",
        origin="JFK",
        destination="LAX",
        date=date,
        return_date=future(47),
        cabin="business",
    )

    assert set(one_way["data"]) == {"origin", "destination", "departure_date", "price"}
    assert round_trip["data"]["return_date"] == future(47) and round_trip["data"]["cabin"] == "business"


def test_the_cheapest_round_trip_in_business_with_at_most_one_stop(handler, simulator):
    route = {"origin": "JFK", "destination": "LAX", "date": future(41)}
    trip = {**route, "return_date": future(48), "cabin": "business"}

    _, economy_one_way = call(handler, "/flights/price", **route)
    _, back = call(handler, "/flights/price", origin="LAX", destination="JFK", date=future(48))
    status, business = call(handler, "/flights/price", **trip, max_stops="1")
    _, offers = call(handler, "/flights/search", **trip, max_stops="1", limit="50")

    def amount(answer: dict[str, Any]) -> float:
        return float(answer["data"]["price"].split()[0])

    assert status == 200, business
    assert amount(business) > 3 * (amount(economy_one_way) + amount(back)) * 0.8  # business is several times
    assert all(o["stops"] <= 1 and o["inbound"]["stops"] <= 1 for o in offers["data"])
    assert {(o["inbound"]["origin"][:1], o["inbound"]["destination"]) for o in offers["data"]}
    assert business["data"]["price"] == f"{min(float(o['price']) for o in offers['data']):.2f} USD"


def test_a_stop_limit_amadeus_cannot_search_shares_the_any_stops_search(handler, simulator):
    route = {"origin": "JFK", "destination": "SFO", "date": future(42)}
    call(handler, "/flights/price", **route)
    searched = sim_stats(simulator)["search_requests"]

    call(handler, "/flights/price", **route, max_stops="1")
    call(handler, "/flights/price", **route, max_stops="2")
    shared = sim_stats(simulator)["search_requests"]
    call(handler, "/flights/price", **route, max_stops="0")  # nonStop=true: its own search

    assert shared == searched
    assert sim_stats(simulator)["search_requests"] == searched + 1


def test_a_return_before_the_departure_is_a_400_naming_return_date(handler):
    status, body = call(
        handler, "/flights/price", origin="JFK", destination="LAX", date=future(40), return_date=future(39)
    )

    assert status == 400 and body["error"]["code"] == "invalid_return_date"
    assert body["error"]["details"][0]["field"] == "return_date"


def test_a_calendar_prices_every_date_from_the_shared_cache_once_warm(handler, simulator, monkeypatch):
    days = {"origin": "JFK", "destination": "LAX", "from": future(50), "to": future(63)}
    call(handler, "/flights/price", origin="JFK", destination="LAX", date=future(50))  # one date warm
    before = sim_stats(simulator)["search_requests"]

    status, cold = call(handler, "/flights/calendar", **days)
    cold_searches = sim_stats(simulator)["search_requests"] - before
    _, warm = call(handler, "/flights/calendar", **days)

    assert status == 200, cold
    assert [day["departure_date"] for day in cold["data"]["days"]] == [future(n) for n in range(50, 64)]
    assert (
        cold["meta"]["from_cache"] == 1 and cold["meta"]["fetched"] == 10 and cold["meta"]["not_fetched"] == 3
    )
    assert cold_searches == 10  # at most CALENDAR_MAX_FETCHES (10) per request, the warm date free
    assert {day["status"] for day in cold["data"]["days"][-3:]} == {"not_fetched"}
    assert all(day["price"] is None for day in cold["data"]["days"][-3:])
    assert warm["meta"]["from_cache"] == 11 and warm["meta"]["fetched"] == 3
    prices = [day for day in warm["data"]["days"] if day["price"]]
    assert warm["data"]["cheapest"]["price"] == min(
        (day["price"] for day in prices), key=lambda text: float(text.split()[0])
    )


def test_a_round_trip_calendar_keeps_the_stay_length(handler):
    status, body = call(
        handler,
        "/flights/calendar",
        origin="JFK",
        destination="LAX",
        **{"from": future(70), "to": future(71)},
        stay_days="7",
    )

    assert status == 200, body
    assert [(d["departure_date"], d["return_date"]) for d in body["data"]["days"]] == [
        (future(70), future(77)),
        (future(71), future(78)),
    ]


@pytest.mark.parametrize(
    ("window", "code", "field"),
    [
        ({"from": future(60), "to": future(59)}, "invalid_date_range", "to"),
        ({"from": future(30), "to": future(61)}, "date_range_too_long", "to"),
        ({"from": future(-2), "to": future(1)}, "date_in_past", "from"),
    ],
)
def test_a_calendar_window_that_cannot_be_is_a_400(handler, window, code, field):
    status, body = call(handler, "/flights/calendar", origin="JFK", destination="LAX", **window)

    assert status == 400
    assert body["error"]["code"] == code and body["error"]["details"][0]["field"] == field


def test_insight_is_unknown_until_enough_comparable_prices_then_a_pinned_low_price_is_low(handler, simulator):
    date = future(45)
    first = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date)[1]
    for _ in range(8):  # the simulator's drift gives a spread of ordinary prices
        call(handler, "/flights/price", origin="JFK", destination="LAX", date=date, nocache="1")
    ordinary = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date)[1]
    requests.put(f"{simulator.url}/__sim/prices/JFK/LAX/{date}", json={"amount": 99}, timeout=5)

    low = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date, nocache="1")[1]

    assert first["meta"]["insight"]["level"] == "unknown" and first["meta"]["insight"]["observations"] == 1
    assert first["meta"]["insight"]["typical_low"] is None
    assert ordinary["meta"]["insight"]["level"] in ("typical", "low", "high")
    assert ordinary["meta"]["insight"]["observations"] == 9
    assert low["meta"]["insight"]["level"] == "low"
    assert float(low["meta"]["insight"]["typical_low"]) > 99
    assert "below the typical" in low["meta"]["insight"]["explanation"]


def test_insight_compares_like_with_like(handler):
    date = future(45)
    for _ in range(8):
        call(handler, "/flights/price", origin="JFK", destination="LAX", date=date, nocache="1")

    business = call(handler, "/flights/price", origin="JFK", destination="LAX", date=date, cabin="business")[
        1
    ]
    round_trip = call(
        handler, "/flights/price", origin="JFK", destination="LAX", date=date, return_date=future(52)
    )[1]
    months_later = call(handler, "/flights/price", origin="JFK", destination="LAX", date=future(200))[1]

    assert business["meta"]["insight"]["observations"] == 1
    assert round_trip["meta"]["insight"]["observations"] == 1
    assert months_later["meta"]["insight"]["observations"] == 1


def test_twenty_forced_refreshes_of_one_key_within_a_minute_cost_one_upstream_search(
    handler, simulator, monkeypatch
):
    from farewatch import composition, settings

    monkeypatch.setenv("FORCE_REFRESH_MIN_SECONDS", "60")  # the deployed default
    monkeypatch.setenv("ANONYMOUS_REFRESHES_PER_IP_PER_MINUTE", "100")
    settings.get_settings.cache_clear()
    composition.fare_service.cache_clear()
    date = future(80)
    before = sim_stats(simulator)["search_requests"]

    answers = [
        call(handler, "/flights/price", origin="JFK", destination="LAX", date=date, nocache="1")
        for _ in range(20)
    ]

    assert sim_stats(simulator)["search_requests"] - before == 1
    assert [answer["meta"]["refreshed"] for _, answer in answers] == [True] + [False] * 19
    assert {answer["meta"]["fetched_at"] for _, answer in answers} == {answers[0][1]["meta"]["fetched_at"]}


def test_anonymous_forced_refreshes_are_limited_per_source_ip(handler, monkeypatch):
    from farewatch import settings

    monkeypatch.setenv("ANONYMOUS_REFRESHES_PER_IP_PER_MINUTE", "3")
    settings.get_settings.cache_clear()
    route = {"origin": "JFK", "destination": "LAX", "date": future(81), "nocache": "1"}

    statuses = [call(handler, "/flights/price", **route)[0] for _ in range(3)]
    response = handler.lambda_handler(api_event("GET", "/flights/price", route), FakeLambdaContext())
    plain = call(handler, "/flights/price", **{k: v for k, v in route.items() if k != "nocache"})

    assert statuses == [200, 200, 200]
    assert response["statusCode"] == 429
    assert json.loads(response["body"])["error"]["code"] == "too_many_refreshes"
    headers = {
        **(response.get("headers") or {}),
        **{k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert plain[0] == 200  # only forced refreshes are limited
