"""The reference curl commands and the issue's acceptance checks, against the running local stack."""

from __future__ import annotations

import pytest
import requests

from tests.support.dates import future

pytestmark = pytest.mark.e2e


def test_ping_answers_pong(dev_stack):
    response = dev_stack.get("/flights/ping")

    assert response.status_code == 200
    assert response.json() == {"data": "pong"}


def test_price_answers_the_public_contract_then_serves_repeats_from_the_cache(dev_stack):
    date = future(40)
    pinned = requests.put(f"{dev_stack.sim}/__sim/prices/JFK/LAX/{date}", json={"amount": 287.4}, timeout=5)
    assert pinned.status_code == 200, pinned.text
    before = dev_stack.searches_served()

    first = dev_stack.get("/flights/price", origin="JFK", destination="LAX", date=date)
    second = dev_stack.get("/flights/price", origin="jfk", destination="lax", date=date)

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["data"]["origin"] == "JFK" and body["data"]["destination"] == "LAX"
    assert body["data"]["departure_date"] == date
    assert body["data"]["price"] == "287.40 USD"
    assert body["meta"]["cached"] is False and body["meta"]["source"] == "amadeus"
    assert second.status_code == 200
    assert second.json()["data"] == body["data"]
    assert second.json()["meta"]["cached"] is True
    assert dev_stack.searches_served() == before + 1


def test_nocache_makes_exactly_one_upstream_call_and_refreshes_the_cache(dev_stack):
    date = future(41)
    dev_stack.get("/flights/price", origin="JFK", destination="LAX", date=date)
    before = dev_stack.searches_served()

    forced = dev_stack.get("/flights/price", origin="JFK", destination="LAX", date=date, nocache="1")
    after = dev_stack.get("/flights/price", origin="JFK", destination="LAX", date=date)

    assert forced.status_code == 200 and forced.json()["meta"]["cached"] is False
    assert dev_stack.searches_served() == before + 1
    assert after.json()["meta"]["cached"] is True
    assert after.json()["meta"]["fetched_at"] == forced.json()["meta"]["fetched_at"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"origin": "ZZZ", "destination": "LAX"}, "unknown_location"),
        ({"origin": "JFK", "destination": "jfk"}, "same_origin_destination"),
        ({"origin": "JFK", "destination": "LAX", "date": "2027-13-01"}, "invalid_date"),
        ({"origin": "JFK", "destination": "LAX", "date": "2020-01-01"}, "date_in_past"),
        ({"origin": "JFK", "destination": "LAX", "date": "2099-01-01"}, "date_too_far"),
        ({"origin": "JFK", "destination": "LAX", "adults": "0"}, "invalid_parameter"),
        ({"origin": "JFK", "destination": "LAX", "adults": "10"}, "invalid_parameter"),
        ({"origin": "JFK", "destination": "LAX", "currency": "XYZ"}, "invalid_currency"),
        ({"origin": "JFK", "destination": "LAX", "nocache": "maybe"}, "invalid_parameter"),
        ({"destination": "LAX"}, "missing_parameter"),
    ],
)
def test_bad_input_answers_a_400_envelope(dev_stack, params, code):
    query = {"date": future(30), **params}

    response = dev_stack.get("/flights/price", **query)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


def test_upstream_failure_answers_an_error_for_a_cold_key_and_stale_for_a_known_one(dev_stack):
    known = future(42)
    fresh = dev_stack.get("/flights/price", origin="JFK", destination="SFO", date=known)
    assert fresh.status_code == 200, fresh.text
    dev_stack.sim_fault("http500")
    try:
        cold = dev_stack.get("/flights/price", origin="JFK", destination="SEA", date=future(43))
        stale = dev_stack.get("/flights/price", origin="JFK", destination="SFO", date=known, nocache="1")
    finally:
        dev_stack.sim_fault("none")

    assert cold.status_code == 502, cold.text
    assert cold.json()["error"]["code"] == "upstream_error"
    assert "Traceback" not in cold.text
    assert stale.status_code == 200, stale.text
    assert stale.json()["meta"]["stale"] is True
    assert stale.json()["data"] == fresh.json()["data"]


def test_an_expired_token_is_absorbed_with_exactly_one_token_refresh(dev_stack):
    before = dev_stack.sim_stats()
    searches_before = dev_stack.searches_served()
    dev_stack.sim_fault("expired_token", count=1)

    response = dev_stack.get("/flights/price", origin="LAX", destination="JFK", date=future(44))

    after = dev_stack.sim_stats()
    assert response.status_code == 200, response.text
    assert after["token_requests"] == before["token_requests"] + 1
    assert dev_stack.searches_served() == searches_before + 2


def test_search_lists_normalised_offers_from_the_same_cache_entry(dev_stack):
    date = future(45)
    price = dev_stack.get("/flights/price", origin="JFK", destination="LAX", date=date).json()
    before = dev_stack.searches_served()

    response = dev_stack.get(
        "/flights/search", origin="JFK", destination="LAX", date=date, sort="price", limit="3"
    )

    assert response.status_code == 200, response.text
    offers = response.json()["data"]
    assert len(offers) == 3 and response.json()["meta"]["count"] == 3
    assert [float(o["price"]) for o in offers] == sorted(float(o["price"]) for o in offers)
    assert f"{offers[0]['price']} {offers[0]['currency']}" == price["data"]["price"]  # the same cheapest
    assert dev_stack.searches_served() == before


def test_openapi_document_and_docs_are_served(dev_stack):
    spec = dev_stack.get("/openapi.json")
    docs = dev_stack.get("/docs")

    assert spec.status_code == 200 and "/flights/price" in spec.json()["paths"]
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
