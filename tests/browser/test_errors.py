"""What the page says when something is wrong: the API's error envelope as a sentence next to the field it
concerns, a stale price with its age when the fare source is down, and a retry button when there is
nothing to show."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, WatchedPage
from tests.browser.pages import (
    PASSWORD,
    age_cached_fares,
    choose_airport,
    departure,
    fare_source_fails,
    sign_in,
    sign_up,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def failing_fare_source(tab: WatchedPage) -> Iterator[None]:
    yield
    fare_source_fails(tab.stack, False)


def test_an_api_error_is_a_sentence_under_the_field_it_names(tab: WatchedPage) -> None:
    page = tab.page
    tab.expect_error_responses(400)
    tab.open(f"/?from=JFK&to=JFK&date={departure()}")

    destination = page.get_by_role("combobox", name="To", exact=True)
    expect(destination).to_have_attribute("aria-invalid", "true")
    expect(destination).to_have_accessible_description("To must differ from origin.")
    expect(page.get_by_role("alert")).to_have_count(0)  # nothing left over for the banner


def test_a_typed_place_that_is_no_airport_is_named_under_its_field(tab: WatchedPage) -> None:
    page = tab.page
    tab.expect_error_responses(400)
    tab.open("/")
    choose_airport(page, "From", "madrid", "MAD")
    page.get_by_role("combobox", name="To", exact=True).fill("QQQ")
    page.get_by_role("button", name="Search").click()

    expect(page.get_by_role("combobox", name="To", exact=True)).to_have_accessible_description(
        "QQQ is not a known airport or city code."
    )


def test_a_search_the_form_cannot_send_says_what_is_missing_and_where(tab: WatchedPage) -> None:
    page = tab.page
    tab.open("/")

    page.get_by_role("button", name="Search").click()

    origin = page.get_by_role("combobox", name="From", exact=True)
    expect(origin).to_be_focused()
    expect(origin).to_have_accessible_description(re.compile("^Choose a city or airport"))


def test_a_taken_email_signs_up_exactly_like_a_new_one(tab: WatchedPage) -> None:
    # Registration does not say whether an address has an account: its owner gets a mail instead.
    page = tab.page
    email = f"taken-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        tab.stack.call("POST", "/auth/register", json={"email": email, "password": PASSWORD}).status_code
        == 202
    )
    tab.open("/sign-up")

    sign_up(page, email)

    expect(page.get_by_role("heading", level=1, name="Check your inbox")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=email)).to_be_visible()


def test_a_wrong_password_is_said_above_the_button_without_naming_a_field(tab: WatchedPage) -> None:
    page = tab.page
    tab.expect_error_responses(401)
    tab.open("/sign-in")

    sign_in(page, f"nobody-{uuid.uuid4().hex[:8]}@example.com", "not the password")

    expect(page.get_by_role("alert")).to_have_text("The email or password is wrong.")
    expect(page.get_by_label("Password", exact=True)).not_to_have_attribute("aria-invalid", "true")


def test_when_the_fare_source_is_down_the_last_price_is_shown_with_its_age(
    tab: WatchedPage, failing_fare_source: None
) -> None:
    page, stack = tab.page, tab.stack
    date = departure(50)
    assert stack.get("/flights/price", origin="BOS", destination="SFO", date=date).status_code == 200
    age_cached_fares(stack, "BOS", "SFO", date, hours=3)
    fare_source_fails(stack, True)

    tab.open(f"/?from=BOS&to=SFO&date={date}")

    stale = page.get_by_role("status").filter(has_text="This price may be out of date.")
    expect(stale).to_contain_text("the last price Farewatch saw, 3 hours ago")
    expect(
        page.get_by_role("region", name="Cheapest fare").get_by_text(re.compile(r"^\$[\d,]+\.\d\d$"))
    ).to_be_visible()
    tab.screenshot("search-stale-phone", PHONE)


def test_when_the_fare_source_is_down_and_nothing_is_known_a_retry_brings_the_fares(
    tab: WatchedPage, failing_fare_source: None
) -> None:
    page, stack = tab.page, tab.stack
    tab.expect_error_responses(502, 503, 504)
    fare_source_fails(stack, True)
    tab.open(f"/?from=SEA&to=DEN&date={departure(60)}")

    problem = page.get_by_role("alert")
    expect(problem).to_be_visible(timeout=60_000)  # the API retries the fare source for up to 20 s first
    retry = problem.get_by_role("button", name="Try again")
    tab.screenshot("search-outage-desktop", DESKTOP)
    fare_source_fails(stack, False)
    retry.click()

    expect(page.get_by_role("region", name="Cheapest fare").get_by_text("SEA → DEN")).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_role("alert")).to_have_count(0)
