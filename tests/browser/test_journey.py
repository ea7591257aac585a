"""A traveller's whole journey in the browser, on the `make dev` stack: sign up, confirm the address
from the mail in /__local/mail, sign in, search with autosuggest (the cheapest fare with its insight,
the fare calendar strip), track, see the tracker with its chart (the typical range shaded), a lower
price in the simulator and a poll cycle, the alert and the chart's new point, acknowledge, sign out,
sign back in, and a reload that keeps the session. Screenshots of the search page, a tracker page
with its chart and the alerts inbox are taken at desktop and phone widths."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, WatchedPage
from tests.browser.pages import (
    accessibility_violations,
    cheapest_price,
    departure,
    expect_signed_in,
    go_to,
    mailed_link,
    pin_price,
    poll,
    search,
    sign_in,
    sign_out,
    sign_up,
)

pytestmark = pytest.mark.e2e

# "$280 to $340": the insight's typical range, in whole dollars, joined by an en dash.
RANGE = r"\$[\d,]+\u2013\$[\d,]+"


def test_a_traveller_tracks_a_fare_and_sees_its_drop_on_the_chart(tab: WatchedPage) -> None:
    page, stack = tab.page, tab.stack
    email = f"journey-{uuid.uuid4().hex[:8]}@example.com"
    date = departure(40)

    # Sign up: registration answers 202 and mails a link, so the page says to check the inbox; the
    # link in the mail (the local stack's outbox) confirms the address; sign in, out and in again.
    tab.open("/sign-up")
    expect(page.get_by_role("heading", level=1, name="Create an account")).to_be_visible()
    sign_up(page, email)
    expect(page.get_by_role("heading", level=1, name="Check your inbox")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=email)).to_be_visible()
    page.goto(mailed_link(stack, email, "/verify-email"))
    expect(page.get_by_role("status").filter(has_text=f"{email} is confirmed")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    sign_in(page, email)
    expect_signed_in(page, email)
    sign_out(page)
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    sign_in(page, email)
    expect_signed_in(page, email)

    # Search with autosuggest: a city by mouse, an airport by keyboard.
    go_to(page, "Search")
    search(page, ("new york", "NYC"), ("los angeles", "LAX"), date)
    cheapest = page.get_by_role("region", name="Cheapest fare")
    expect(cheapest.get_by_text("NYC → LAX")).to_be_visible()
    expect(cheapest.get_by_text(re.compile(r"^Price checked"))).to_be_visible()
    offers = page.get_by_role("region", name=re.compile(r"offers?$")).get_by_role("listitem")
    expect(offers.first).to_be_visible()
    expect(offers.first).to_contain_text(re.compile(r"\d{2}:\d{2} [A-Z]{3}"))
    expect(offers.first).to_contain_text(re.compile(r"(Nonstop|\d stops?)"))
    expect(offers.first).to_contain_text(re.compile(r"\d+ h"))
    assert page.url.endswith(f"/?from=NYC&to=LAX&date={date}&adults=1")
    # The fare calendar strip: 14 departure days around the one searched, which is marked, the lowest
    # flagged; its fetches are the route's comparable prices, so a search again judges the price.
    calendar = page.get_by_role("list", name="Fare calendar").get_by_role("listitem")
    expect(calendar).to_have_count(14)
    expect(page.get_by_role("list", name="Fare calendar").locator("[aria-current=date]")).to_have_count(1)
    expect(calendar.filter(has_text="Lowest")).to_have_count(1)
    expect(calendar.filter(has_text="Not checked yet")).to_have_count(0)
    page.reload()  # the same search, now with history to judge it by
    insight = re.compile(
        rf"^(Low for this route: typical|Typical for this route:|High for this route: typical) {RANGE}\.$"
    )
    expect(cheapest.get_by_text(insight)).to_be_visible()
    # Green is for good news only: a high price is in the warning colours, a typical one neutral.
    note = cheapest.locator("p.insight")
    headline = note.locator("strong").inner_text()
    background = note.evaluate("element => getComputedStyle(element).backgroundColor")
    expected = {"Low": "rgb(232, 245, 233)", "Typical": "rgb(230, 240, 249)", "High": "rgb(255, 244, 220)"}
    assert background == expected[headline.split()[0]], (headline, background)
    assert accessibility_violations(page) == []
    tab.screenshot("search-desktop", DESKTOP)
    tab.screenshot("search-phone", PHONE)
    page.set_viewport_size(DESKTOP)

    # Track it in one click, with a target under today's price.
    price = cheapest_price(page)
    target = round(price - 20, 2)
    page.get_by_label("Target price (optional)").fill(f"{target:.2f}")
    expect(page.get_by_label(re.compile("^Any drop"))).to_be_checked()
    page.get_by_role("button", name="Track this flight").click()
    expect(page.get_by_role("status").filter(has_text="You're tracking this flight.")).to_be_visible()
    page.get_by_role("link", name="See its price history").click()

    # The tracker's page: facts, a chart with one price and the target, one row of observations.
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^NYC → LAX"))).to_be_visible()
    chart = page.get_by_role("img", name=re.compile("^Price history chart"))
    expect(chart).to_have_accessible_name(
        re.compile(rf"1 price recorded.*target \$[\d,.]+.*typical range {RANGE} shaded.*0 alerts")
    )
    expect(chart.locator("canvas")).to_be_visible()
    observations = page.get_by_role("table").get_by_role("row")
    expect(observations).to_have_count(2)  # the header and the first price
    tracker_url = page.url

    # A lower fare appears upstream, and the poller sees it.
    lower = round(target - 15, 2)
    pin_price(stack, ("NYC", "LAX"), date, lower)
    assert poll(stack)["alerts_created"] >= 1

    # The alert in the inbox (the navigation counts it), then the chart's new point.
    go_to(page, "Alerts")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts (1 unread)")
    ).to_be_visible()
    unread = page.get_by_role("list", name="Unread alerts").get_by_role("listitem")
    expect(unread).to_have_count(1)
    expect(unread.first).to_contain_text(f"Down to ${lower:,.2f}: at or below your target of ${target:,.2f}.")
    assert accessibility_violations(page) == []
    tab.screenshot("inbox-desktop", DESKTOP)
    tab.screenshot("inbox-phone", PHONE)
    page.set_viewport_size(DESKTOP)

    unread.first.get_by_role("link", name="See the price history").click()
    assert page.url == tracker_url
    expect(chart).to_have_accessible_name(
        re.compile(r"2 prices recorded, lowest \$[\d,.]+, now \$[\d,.]+.*1 alert\b")
    )
    expect(observations).to_have_count(3)
    expect(observations.nth(1)).to_contain_text(f"${lower:,.2f}")
    expect(observations.nth(1)).to_contain_text("down $")
    expect(page.get_by_role("region", name="Alerts for this flight")).to_contain_text("Unread")
    assert accessibility_violations(page) == []
    tab.screenshot("tracker-desktop", DESKTOP)
    tab.screenshot("tracker-phone", PHONE)
    page.set_viewport_size(DESKTOP)

    # Acknowledge: the alert moves to "Earlier" and the count goes.
    go_to(page, "Alerts")
    page.get_by_role("list", name="Unread alerts").get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("heading", name="Unread (0)")).to_be_visible()
    expect(page.get_by_role("list", name="Earlier alerts").get_by_role("listitem")).to_have_count(1)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts", exact=True)
    ).to_be_visible()

    # Sign out: your pages ask you to sign in again, and show themselves once you have.
    sign_out(page)
    go_to(page, "Tracked flights")
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    sign_in(page, email)
    expect_signed_in(page, email)
    trackers = page.get_by_role("list", name="Your tracked flights").get_by_role("listitem")
    expect(trackers).to_have_count(1)
    expect(trackers.first).to_contain_text(f"${lower:,.2f}")
    expect(trackers.first).to_contain_text(f"${target:,.2f} or less, and any drop")
    expect(trackers.first).to_contain_text("Watching")

    # A reload keeps you signed in (the HttpOnly refresh cookie), on the same page.
    page.reload()
    expect_signed_in(page, email)
    expect(trackers).to_have_count(1)
