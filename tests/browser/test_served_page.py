"""The page as the stack serves it (the real `make web` build, through the local gateway), and using it
by keyboard alone."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WatchedPage
from tests.browser.pages import departure

pytestmark = pytest.mark.e2e
HIGHLIGHTED_OPTION = (
    "document.getElementById(document.activeElement.getAttribute('aria-activedescendant'))?.textContent || ''"
)


class _PageParts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.inline_styles = 0
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and not found.get("src"):
            self.inline_scripts += 1
        if tag == "style" or "style" in found or any(name.startswith("on") for name in found):
            self.inline_styles += 1
        for name in ("src", "href"):
            if (found.get(name) or "").startswith("/assets/"):
                self.assets.append(str(found[name]))


def test_the_page_has_no_inline_code_and_names_only_immutable_assets(web_stack) -> None:
    page = requests.get(web_stack.api + "/", timeout=30)
    parts = _PageParts()
    parts.feed(page.text)

    assert page.headers["Cache-Control"] == "no-store"
    assert parts.inline_scripts == 0 and parts.inline_styles == 0
    assert parts.assets, page.text
    for asset in parts.assets:
        assert re.fullmatch(r"/assets/[\w-]+-[A-Za-z0-9]{8,}\.(js|css|svg)", asset), asset
        answer = requests.get(web_stack.api + asset, timeout=30)
        assert answer.status_code == 200, asset
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_every_page_path_loads_the_app_directly(tab: WatchedPage) -> None:
    for path, heading in [
        ("/", "Find the cheapest fare"),
        ("/sign-in", "Sign in"),
        ("/sign-up", "Create an account"),
        ("/trackers", "Tracked flights"),
        ("/trackers/trk_0000", "Tracked flight"),
        ("/inbox", "Alerts"),
    ]:
        tab.open(path)
        expect(tab.page.get_by_role("heading", level=1, name=heading)).to_be_visible()


def test_an_unknown_page_is_said_in_the_page(tab: WatchedPage) -> None:
    tab.open("/")
    tab.page.evaluate(
        "history.pushState(null, '', '/no-such-page'); dispatchEvent(new PopStateEvent('popstate'))"
    )

    expect(tab.page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()


def test_a_search_can_be_made_with_the_keyboard_alone(tab: WatchedPage) -> None:
    page = tab.page
    tab.open("/")
    # The page is drawn (and its session restored) before the first key, as a person sees it first.
    expect(page.get_by_role("heading", level=1, name="Find the cheapest fare")).to_be_visible()
    expect(page.get_by_role("combobox", name="From", exact=True)).to_be_enabled()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")

    for _ in range(20):  # from the top of the content to the first field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "from":
            break
    origin = page.get_by_role("combobox", name="From", exact=True)
    expect(origin).to_be_focused()
    page.keyboard.type("bos")
    expect(page.get_by_role("listbox", name="From").get_by_role("option").first).to_contain_text("BOS")
    expect(page.get_by_text(re.compile(r"\d+ suggestions?; use the up and down arrow keys"))).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(origin).to_have_value(re.compile("^BOS"))
    page.keyboard.press("Tab")
    page.keyboard.type("miami")
    expect(
        page.get_by_role("listbox", name="To").get_by_role("option", name=re.compile("MIA"))
    ).to_be_visible()
    for _ in range(8):
        page.keyboard.press("ArrowDown")
        if "MIA" in page.evaluate(HIGHLIGHTED_OPTION):
            break
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    date = departure(70)
    year, month, day = date.split("-")
    page.keyboard.type(f"{month}{day}{year}")  # the date field's own segments (en-US: mm/dd/yyyy)
    page.keyboard.press("Enter")

    expect(page.get_by_role("region", name="Cheapest fare").get_by_text("BOS → MIA")).to_be_visible()
    assert page.url.endswith(f"from=BOS&to=MIA&date={date}&adults=1")


def test_at_phone_width_nothing_is_wider_than_the_screen(tab: WatchedPage) -> None:
    page = tab.page
    page.set_viewport_size(PHONE)
    tab.open(f"/?from=NYC&to=LON&date={departure(30)}")
    expect(page.get_by_role("region", name="Cheapest fare")).to_be_visible()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
