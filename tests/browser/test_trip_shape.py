"""The trip's shape in the browser: a round trip in business with at most one stop is searched as such
(the URL says it, the cheapest fare and the calendar strip price it), and the tracker made from it
keeps the shape. The flexible-dates choice is there and starts at "Only this date" (flex_days 0)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WatchedPage
from tests.browser.pages import account_signed_in, choose_airport, departure

pytestmark = pytest.mark.e2e


def test_a_round_trip_in_business_is_searched_calendared_and_tracked_with_its_shape(tab: WatchedPage) -> None:
    page = tab.page
    account_signed_in(tab, "shape")
    expect(page.get_by_role("heading", level=1, name="Tracked flights")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    out, back = departure(50), departure(57)

    page.get_by_role("radio", name="Round trip").check()
    choose_airport(page, "From", "boston", "^BOS ")
    choose_airport(page, "To", "ORD", "^ORD ")
    page.get_by_label("Date").fill(out)
    page.get_by_label("Return").fill(back)
    page.get_by_label("Cabin").select_option(label="Business")
    page.get_by_label("Stops").select_option(label="1 stop at most")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(
        re.compile(rf"/\?from=BOS&to=ORD&date={out}&adults=1&return={back}&cabin=business&stops=1$")
    )
    cheapest = page.get_by_role("region", name="Cheapest fare")
    expect(cheapest).to_contain_text("round trip · 1 traveller · Business · 1 stop at most")
    expect(cheapest.get_by_text(re.compile(r"^\$[\d,]+\.\d\d$"))).to_be_visible()
    days = page.get_by_role("list", name="Fare calendar").get_by_role("link")
    expect(days).to_have_count(14)
    # Each day of the strip is the same trip on another day: a week's stay, business, one stop.
    href = days.nth(5).get_attribute("href") or ""
    assert "cabin=business" in href and "stops=1" in href and "return=" in href

    flexible = page.get_by_label("Flexible dates")
    expect(flexible).to_have_value("0")
    expect(flexible.locator("option")).to_have_text(
        ["Only this date", "1 day either side", "2 days either side", "3 days either side"]
    )
    page.get_by_role("button", name="Track this flight").click()
    page.get_by_role("link", name="See its price history").click()

    expect(page.get_by_role("heading", level=1, name=re.compile(r"^BOS → ORD"))).to_be_visible()
    trip = page.get_by_role("definition").filter(has_text="Round trip")
    expect(trip).to_have_text(re.compile(r"^Round trip, back .+ · Business · 1 stop at most$"))
