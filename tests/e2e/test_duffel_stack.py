"""`FAREWATCH_FARE_SOURCE=duffel make dev`: the same product on the Duffel simulator — prices name
their source, repeats come from the cache, and a pinned drop becomes an alert after a poll."""

from __future__ import annotations

import random

import pytest

from tests.support.dates import future

pytestmark = pytest.mark.e2e


def test_a_price_comes_from_duffel_and_a_repeat_from_the_cache(duffel_dev_stack):
    date = future(30)
    duffel_dev_stack.pin("MAD", "JFK", date, 412.3)
    before = duffel_dev_stack.sim_stats()["search_requests"]

    first = duffel_dev_stack.get("/flights/price", origin="MAD", destination="JFK", date=date, adults="1")
    second = duffel_dev_stack.get("/flights/price", origin="MAD", destination="JFK", date=date, adults="1")

    assert first.status_code == 200, first.text
    assert first.json()["data"]["price"] == "412.30 USD"
    assert (first.json()["meta"]["source"], first.json()["meta"]["cached"]) == ("duffel", False)
    assert (second.json()["meta"]["source"], second.json()["meta"]["cached"]) == ("duffel", True)
    assert second.json()["data"] == first.json()["data"]
    assert duffel_dev_stack.sim_stats()["search_requests"] == before + 1


def test_a_pinned_drop_raises_an_alert_after_a_poll(duffel_dev_stack):
    token = duffel_dev_stack.new_account("duffel")
    date = future(random.randint(60, 300))
    duffel_dev_stack.pin("BOS", "SEA", date, 300)
    tracker = duffel_dev_stack.call(
        "POST",
        "/tracked-flights",
        token=token,
        json={"origin": "BOS", "destination": "SEA", "departure_date": date, "target_price": "250.00"},
    )
    assert tracker.status_code == 201, tracker.text

    duffel_dev_stack.pin("BOS", "SEA", date, 240)
    refreshed = duffel_dev_stack.get(
        "/flights/price", origin="BOS", destination="SEA", date=date, nocache="1"
    )
    polled = duffel_dev_stack.call("POST", "/__local/poll")
    alerts = duffel_dev_stack.call("GET", "/alerts", token=token)

    assert refreshed.status_code == 200 and refreshed.json()["meta"]["source"] == "duffel"
    assert polled.status_code == 200, polled.text
    # This stack watches no other route: the one fresh from the nocache call, polled without a search.
    assert polled.json()["data"] == {"routes_polled": 1, "upstream_calls": 0, "alerts_created": 1}
    assert alerts.status_code == 200, alerts.text
    (alert,) = alerts.json()["data"]
    assert alert["route"].startswith("BOS#SEA#") and alert["price"] == "240.00"
