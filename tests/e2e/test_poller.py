"""The poller as a new user meets it on `make dev`: track two routes, move the simulator's price
step by step, run `POST /__local/poll`, and see each drop flagged exactly once in /alerts."""

from __future__ import annotations

import random
from typing import Any

import pytest
import requests

from tests.support.dates import future

pytestmark = pytest.mark.e2e

TARGET_ROUTE = ("BOS", "SEA")
ANY_DROP_ROUTE = ("ORD", "MIA")


def pin_price(dev_stack: Any, route: tuple[str, str], date: str, amount: float) -> None:
    """The simulator's cheapest fare for the route, then a nocache price call, as SPEC §6 describes."""
    origin, destination = route
    pinned = requests.put(
        f"{dev_stack.sim}/__sim/prices/{origin}/{destination}/{date}",
        json={"amount": amount, "currency": "USD"},
        timeout=5,
    )
    assert pinned.status_code in (200, 204), pinned.text
    price = dev_stack.get("/flights/price", origin=origin, destination=destination, date=date, nocache="1")
    assert price.status_code == 200, price.text


def poll(dev_stack: Any) -> dict[str, int]:
    answer = dev_stack.call("POST", "/__local/poll")
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["data"])


def track(dev_stack: Any, token: str, route: tuple[str, str], date: str, **alerting: Any) -> dict[str, Any]:
    origin, destination = route
    body = {"origin": origin, "destination": destination, "departure_date": date, **alerting}
    created = dev_stack.call("POST", "/tracked-flights", token=token, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json()["data"])


def alerts(dev_stack: Any, token: str) -> list[dict[str, Any]]:
    answer = dev_stack.call("GET", "/alerts", token=token, params={"limit": "100"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def test_local_poll_answers_the_cycle_totals(dev_stack):
    # Other tests of the session watch routes too, so the totals are checked against what this test
    # adds and against the simulator's own count, not against fixed numbers.
    token = dev_stack.new_account("poller")
    date = future(random.randint(60, 300))
    pin_price(dev_stack, ("DEN", "PHX"), date, 300)
    track(dev_stack, token, ("DEN", "PHX"), date, notify_on_any_drop=True)
    first = poll(dev_stack)
    pin_price(dev_stack, ("DEN", "PHX"), date, 260)  # cached afresh: the poll finds the drop there
    served = dev_stack.searches_served()

    totals = poll(dev_stack)

    assert set(totals) == {"routes_polled", "upstream_calls", "alerts_created"}
    assert first["routes_polled"] >= 1 and totals["routes_polled"] == first["routes_polled"]
    assert totals["alerts_created"] >= 1
    assert totals["upstream_calls"] == dev_stack.searches_served() - served
    assert [(alert["route"], alert["price"]) for alert in alerts(dev_stack, token)] == [
        (f"DEN#PHX#{date}#1#USD", "260.00")
    ]


def test_each_drop_is_flagged_exactly_once_and_polling_twice_adds_nothing(dev_stack):
    token = dev_stack.new_account("poller")
    date = future(random.randint(60, 300))
    for route in (TARGET_ROUTE, ANY_DROP_ROUTE):
        pin_price(dev_stack, route, date, 300)
    target = track(dev_stack, token, TARGET_ROUTE, date, target_price="250.00")
    track(dev_stack, token, ANY_DROP_ROUTE, date, notify_on_any_drop=True)

    # (price, alerts expected on the target route, on the any-drop route) after each step
    steps = [
        (280, 0, 1),  # above the target; a drop
        (240, 1, 1),  # reaches the target; a drop
        (240, 0, 0),  # unchanged: nothing
        (260, 0, 0),  # a rise: nothing
        (230, 1, 1),  # falls further below the target; a drop from the last seen 260
    ]
    seen: list[dict[str, Any]] = []
    for price, target_alerts, drop_alerts in steps:
        for route in (TARGET_ROUTE, ANY_DROP_ROUTE):
            pin_price(dev_stack, route, date, price)

        poll(dev_stack)
        now = alerts(dev_stack, token)
        poll(dev_stack)
        again = alerts(dev_stack, token)

        new = [alert for alert in now if alert["id"] not in {old["id"] for old in seen}]
        on_target = [alert for alert in new if alert["route"].startswith("BOS#SEA#")]
        on_drop = [alert for alert in new if alert["route"].startswith("ORD#MIA#")]
        assert (len(on_target), len(on_drop)) == (target_alerts, drop_alerts), (price, new)
        assert all(alert["price"] == f"{price}.00" for alert in new)
        assert [alert["id"] for alert in again] == [alert["id"] for alert in now]  # twice adds nothing
        seen = now

    kinds = sorted(alert["kind"] for alert in seen if alert["route"].startswith("BOS#SEA#"))
    assert kinds == ["target_reached", "target_reached"]
    tracker = dev_stack.call("GET", f"/tracked-flights/{target['id']}", token=token).json()
    assert (tracker["data"]["current_price"], tracker["data"]["lowest_price"]) == ("230.00", "230.00")
