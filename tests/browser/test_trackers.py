"""Tracked flights in the browser: the list with its prices and status, changing a tracker's alerts
(also while the poller moves its version on, and after someone else changed them), and stopping it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, WatchedPage
from tests.browser.pages import PASSWORD, departure, go_to, pin_price, poll, sign_in

pytestmark = pytest.mark.e2e


def account_with_tracker(
    stack: Any, origin: str, destination: str, date: str, **settings: Any
) -> tuple[str, str, dict]:
    """An account and one tracker, made with the API as curl would; the browser then signs in to it."""
    email = f"trackers-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        stack.call("POST", "/auth/register", json={"email": email, "password": PASSWORD}).status_code == 202
    )
    login = stack.call("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    token = login.json()["data"]["access_token"]
    body = {"origin": origin, "destination": destination, "departure_date": date, **settings}
    created = stack.call("POST", "/tracked-flights", token=token, json=body)
    assert created.status_code == 201, created.text
    return email, token, created.json()["data"]


def open_trackers(tab: WatchedPage, email: str) -> None:
    tab.open("/trackers")
    sign_in(tab.page, email)
    expect(tab.page.get_by_role("heading", level=1, name="Tracked flights")).to_be_visible()


def test_the_list_shows_each_trackers_prices_target_and_status(tab: WatchedPage) -> None:
    email, _, tracker = account_with_tracker(tab.stack, "ORD", "MIA", departure(33), target_price="150.00")

    open_trackers(tab, email)

    item = tab.page.get_by_role("listitem").filter(
        has=tab.page.get_by_role("heading", name=re.compile("^ORD → MIA"))
    )
    current = f"${float(tracker['current_price']):,.2f}"
    expect(item.get_by_role("definition").nth(0)).to_have_text(current)
    expect(item.get_by_role("definition").nth(1)).to_have_text(current)
    expect(item.get_by_role("definition").nth(2)).to_have_text("$150.00 or less")
    expect(item.get_by_role("definition").nth(3)).to_contain_text("Watching")
    tab.screenshot("trackers-desktop", DESKTOP)


def test_changing_alerts_survives_the_poller_moving_the_version_on(tab: WatchedPage) -> None:
    date = departure(34)
    email, _, tracker = account_with_tracker(tab.stack, "DEN", "PHX", date, notify_on_any_drop=True)
    open_trackers(tab, email)
    page = tab.page
    page.get_by_role("button", name=re.compile("^Change alerts for DEN → PHX")).click()

    # Meanwhile the poller records a new price: the tracker's version moves on (the save meets a 409).
    tab.expect_error_responses(409)
    pin_price(tab.stack, ("DEN", "PHX"), date, float(tracker["current_price"]) - 10)
    poll(tab.stack)
    page.get_by_label("Target price").fill("99")
    page.get_by_role("button", name="Save changes").click()

    item = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=re.compile("^DEN → PHX")))
    expect(item.get_by_role("definition").nth(2)).to_have_text("$99.00 or less, and any drop")


def test_alerts_changed_elsewhere_meanwhile_are_not_overwritten(tab: WatchedPage) -> None:
    email, token, tracker = account_with_tracker(
        tab.stack, "SFO", "SEA", departure(35), notify_on_any_drop=True
    )
    open_trackers(tab, email)
    page = tab.page
    tab.expect_error_responses(409)
    page.get_by_role("button", name=re.compile("^Change alerts for SFO → SEA")).click()

    changed = tab.stack.call(
        "PATCH",
        f"/tracked-flights/{tracker['id']}",
        token=token,
        json={"version": tracker["version"], "target_price": "120.00", "notify_on_any_drop": True},
    )
    assert changed.status_code == 200, changed.text
    page.get_by_label("Target price").fill("99")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert")).to_contain_text("These alerts were changed somewhere else meanwhile.")
    now = tab.stack.call("GET", f"/tracked-flights/{tracker['id']}", token=token).json()["data"]
    assert now["target_price"] == "120.00"


def test_stopping_a_tracker_asks_once_more_then_removes_it(tab: WatchedPage) -> None:
    email, token, _ = account_with_tracker(tab.stack, "ATL", "BOS", departure(36), notify_on_any_drop=True)
    open_trackers(tab, email)
    page = tab.page

    page.get_by_role("button", name=re.compile("^Stop tracking ATL → BOS")).click()
    expect(page.get_by_role("button", name="Keep it")).to_be_focused()
    page.get_by_role("button", name="Yes, stop tracking").click()

    expect(page.get_by_text("You aren't tracking any flights yet.")).to_be_visible()
    assert tab.stack.call("GET", "/tracked-flights", token=token).json()["data"] == []
    go_to(page, "Search")
    expect(page.get_by_role("heading", level=1, name="Find the cheapest fare")).to_be_visible()
