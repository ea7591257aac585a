"""`FAREWATCH_FARE_SOURCE=ignav make dev`, used as a new user would: a price and a search from Ignav, a
city code searched airport by airport, booking links the simulator serves, and a pinned drop that
becomes an alert with a booking link after a poll."""

from __future__ import annotations

import random

import pytest
import requests

from tests.support.dates import future

pytestmark = pytest.mark.e2e


def test_a_price_comes_from_ignav_and_a_repeat_from_the_cache(ignav_dev_stack):
    date = future(31)
    ignav_dev_stack.pin("MAD", "JFK", date, 412.3)
    before = ignav_dev_stack.sim_stats()["search_requests"]

    first = ignav_dev_stack.get("/flights/price", origin="MAD", destination="JFK", date=date)
    second = ignav_dev_stack.get("/flights/price", origin="MAD", destination="JFK", date=date)

    assert first.status_code == 200, first.text
    assert first.json()["data"]["price"] == "412.30 USD"
    assert (first.json()["meta"]["source"], first.json()["meta"]["cached"]) == ("ignav", False)
    assert (second.json()["meta"]["source"], second.json()["meta"]["cached"]) == ("ignav", True)
    assert ignav_dev_stack.sim_stats()["search_requests"] == before + 1


def test_a_city_search_asks_each_airport_and_a_too_wide_one_says_what_to_choose(ignav_dev_stack):
    date = future(32)
    before = ignav_dev_stack.sim_stats()["search_requests"]

    found = ignav_dev_stack.get("/flights/search", origin="NYC", destination="LAX", date=date, limit="50")
    too_wide = ignav_dev_stack.get("/flights/price", origin="NYC", destination="LON", date=date)

    assert found.status_code == 200, found.text
    assert {offer["origin"] for offer in found.json()["data"]} == {"JFK", "LGA", "EWR"}
    assert ignav_dev_stack.sim_stats()["search_requests"] == before + 3
    assert too_wide.status_code == 400 and too_wide.json()["error"]["code"] == "too_many_airports"


def test_an_offer_books_through_a_link_the_simulator_serves(ignav_dev_stack):
    date = future(33)
    offer = ignav_dev_stack.get("/flights/search", origin="BOS", destination="SFO", date=date, limit="1")
    assert offer.status_code == 200, offer.text
    offer_id = offer.json()["data"][0]["id"]

    links = ignav_dev_stack.get("/flights/booking-links", offer=offer_id)
    page = requests.get(links.json()["data"]["url"], timeout=5)

    assert links.status_code == 200, links.text
    assert links.json()["data"]["price"].startswith("from ") and links.json()["data"]["book"].startswith(
        "Book from "
    )
    assert page.status_code == 200 and "Simulated booking page" in page.text


def test_a_pinned_drop_raises_an_alert_with_a_booking_link_after_a_poll(ignav_dev_stack):
    token = ignav_dev_stack.new_account("ignav")
    date = future(random.randint(60, 300))
    ignav_dev_stack.pin("BOS", "SEA", date, 300)
    tracker = ignav_dev_stack.call(
        "POST",
        "/tracked-flights",
        token=token,
        json={"origin": "BOS", "destination": "SEA", "departure_date": date, "target_price": "250.00"},
    )
    assert tracker.status_code == 201, tracker.text

    ignav_dev_stack.pin("BOS", "SEA", date, 240)
    refreshed = ignav_dev_stack.get("/flights/price", origin="BOS", destination="SEA", date=date, nocache="1")
    polled = ignav_dev_stack.call("POST", "/__local/poll")
    alerts = ignav_dev_stack.call("GET", "/alerts", token=token)

    assert refreshed.status_code == 200 and refreshed.json()["meta"]["source"] == "ignav"
    assert polled.status_code == 200, polled.text
    assert polled.json()["data"]["alerts_created"] == 1
    (alert,) = [alert for alert in alerts.json()["data"] if alert["route"].startswith("BOS#SEA#")]
    assert alert["price"] == "240.00" and alert["booking_url"]
    page = requests.get(alert["booking_url"], timeout=5)
    assert page.status_code == 200 and "240" in page.text
