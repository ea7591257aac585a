"""Flexible dates in the browser: a tracker made from a search with "2 days either side" shows its
window (every date's latest price, the cheapest named with its price); a lower fare on another date
of the window raises one alert that names that date, and the tracker's cheapest date moves to it. A
date of the window the fare source could not price yet says so."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, WatchedPage
from tests.browser.pages import (
    PASSWORD,
    accessibility_violations,
    account_signed_in,
    departure,
    fare_source_fails,
    go_to,
    pin_price,
    poll,
    search,
)

pytestmark = pytest.mark.e2e


def day(page: Page, iso: str) -> str:
    """A window's day as the page writes it: "Sat 16 Jan". The month's abbreviation is the browser's
    own en-GB one (September is "Sept" there, "Sep" in Python's %b)."""
    when = dt.date.fromisoformat(iso)
    month = page.evaluate(
        "m => new Intl.DateTimeFormat('en-GB', {month: 'short', timeZone: 'UTC'})"
        ".format(new Date(Date.UTC(2000, m - 1, 1)))",
        when.month,
    )
    return f"{when:%a} {when.day} {month}"


def money(amount: str | float | Decimal) -> str:
    return f"${Decimal(str(amount)):,.2f}"


def token_of(tab: WatchedPage, email: str) -> str:
    """The same account through the API, as curl would: to read what the page should be showing."""
    login = tab.stack.call("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["data"]["access_token"])


def the_tracker(tab: WatchedPage, token: str) -> dict:
    listed = tab.stack.call("GET", "/tracked-flights", token=token)
    assert listed.status_code == 200, listed.text
    [tracker] = listed.json()["data"]
    return dict(tracker)


def test_a_flexible_tracker_shows_its_window_and_follows_a_cheaper_date(tab: WatchedPage) -> None:
    page, stack = tab.page, tab.stack
    email = account_signed_in(tab, "flex")
    date = departure(75)

    # Search, then track with two days either side.
    go_to(page, "Search")
    search(page, ("boston", "BOS"), ("chicago", r"^ORD\b"), date)
    expect(page.get_by_role("region", name="Cheapest fare").get_by_text("BOS → ORD")).to_be_visible()
    page.get_by_label("Flexible dates").select_option(label="2 days either side")
    page.get_by_role("button", name="Track this flight").click()
    expect(page.get_by_role("status").filter(has_text="You're tracking this flight.")).to_be_visible()
    page.get_by_role("link", name="See its price history").click()

    # The tracker page: five dates, each priced (creating the tracker priced its whole window), the
    # cheapest named with its price and flagged in the table.
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^BOS → ORD"))).to_be_visible()
    tracker = the_tracker(tab, token_of(tab, email))
    assert tracker["flex_days"] == 2
    window = [one["departure_date"] for one in tracker["window"]]
    first = dt.date.fromisoformat(date)
    assert window == [(first + dt.timedelta(days=offset)).isoformat() for offset in range(-2, 3)]
    assert all(one["price"] is not None for one in tracker["window"])
    expect(page.get_by_text("Cheapest in your window:")).to_have_text(
        f"Cheapest in your window: {day(page, tracker['best_date'])}, {money(tracker['best_price'])}"
    )
    table = page.get_by_role("region", name="Your flexible dates").get_by_role("table")
    rows = table.get_by_role("row")
    expect(rows).to_have_count(6)  # the header and five dates
    for one in tracker["window"]:
        row = table.get_by_role("row", name=re.compile(f"^{day(page, one['departure_date'])}"))
        expect(row).to_contain_text(money(one["price"]))
    expect(table.get_by_role("row", name=re.compile(f"^{day(page, date)} \\(your date\\)"))).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="Cheapest")).to_have_count(1)
    cheapest = table.get_by_role("row").filter(has_text="Cheapest")
    expect(cheapest).to_contain_text(day(page, tracker["best_date"]))
    tracker_url = page.url

    # A lower fare on another day of the window than the one searched, and a poll cycle.
    other = next(one for one in window if one not in (date, tracker["best_date"]))
    lower = round(float(min(Decimal(one["price"]) for one in tracker["window"])) - 25, 2)
    pin_price(stack, ("BOS", "ORD"), other, lower)
    assert poll(stack)["alerts_created"] >= 1

    # One alert, naming the day that won.
    go_to(page, "Alerts")
    unread = page.get_by_role("list", name="Unread alerts").get_by_role("listitem")
    expect(unread).to_have_count(1)
    expect(unread.first).to_contain_text(f"Down to {money(lower)}")
    expect(unread.first).to_contain_text(f"The cheapest day of your flexible dates: {day(page, other)}.")
    assert accessibility_violations(page) == []

    # The tracker page follows the new cheapest date.
    unread.first.get_by_role("link", name="See the price history").click()
    assert page.url == tracker_url
    expect(page.get_by_text("Cheapest in your window:")).to_have_text(
        f"Cheapest in your window: {day(page, other)}, {money(lower)}"
    )
    cheapest_row = table.get_by_role("row").filter(has_text="Cheapest")
    expect(cheapest_row).to_have_count(1)
    expect(cheapest_row).to_contain_text(day(page, other))
    expect(cheapest_row).to_contain_text(money(lower))
    expect(page.get_by_role("region", name="Alerts for this flight")).to_contain_text(day(page, other))
    assert accessibility_violations(page) == []
    tab.screenshot("tracker-flexible-desktop", DESKTOP)

    # The list of trackers says the same.
    go_to(page, "Tracked")
    item = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=re.compile("^BOS → ORD")))
    expect(item).to_contain_text(f"Cheapest in your window: {day(page, other)}, {money(lower)}")
    expect(item).to_contain_text("±2 days")


def test_a_date_of_the_window_not_priced_yet_says_so(tab: WatchedPage) -> None:
    stack = tab.stack
    date = departure(100)  # far from the other test's fare calendar (days 72 to 85), so uncached
    # The searched date is in the cache; then the fare source fails while the tracker is made, so
    # the other days of its window have no price until the poller gets one.
    assert stack.get("/flights/price", origin="BOS", destination="ORD", date=date).status_code == 200
    email = account_signed_in(tab, "flex-unpriced")
    token = token_of(tab, email)
    fare_source_fails(stack, True)
    try:
        created = stack.call(
            "POST",
            "/tracked-flights",
            token=token,
            json={
                "origin": "BOS",
                "destination": "ORD",
                "departure_date": date,
                "flex_days": 1,
                "notify_on_any_drop": True,
            },
        )
    finally:
        fare_source_fails(stack, False)
    assert created.status_code == 201, created.text
    tracker = created.json()["data"]
    unpriced = [one["departure_date"] for one in tracker["window"] if one["price"] is None]
    assert unpriced, tracker["window"]

    tab.open(f"/trackers/{tracker['id']}")
    table = tab.page.get_by_role("region", name="Your flexible dates").get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(4)  # the header and three dates
    for one in unpriced:
        row = table.get_by_role("row", name=re.compile(f"^{day(tab.page, one)}"))
        expect(row).to_contain_text("Not priced yet")
    expect(table.get_by_role("row", name=re.compile(f"^{day(tab.page, date)}"))).to_contain_text(
        money(tracker["best_price"])
    )
