"""The browser's session: the refresh token is a cookie no script can read, a reload keeps you signed
in, and signing out ends the sign-in on the server (the old cookie no longer works) and in the browser.

Chromium counts http://127.0.0.1 as a secure context, so it stores and sends `Secure` cookies there
(as it does on https): the reload below really goes through the cookie, which the test reads back
from the browser's own jar to check its attributes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WatchedPage
from tests.browser.pages import account_signed_in, expect_signed_in, sign_out

pytestmark = pytest.mark.e2e


def session_cookies(tab: WatchedPage) -> list[dict]:
    return [cookie for cookie in tab.page.context.cookies() if cookie["name"] == "farewatch_refresh"]


def test_a_reload_keeps_you_signed_in_through_an_httponly_cookie_and_sign_out_ends_it(
    tab: WatchedPage,
) -> None:
    page, stack = tab.page, tab.stack
    email = account_signed_in(tab, "session")

    (cookie,) = session_cookies(tab)
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (
        True,
        True,
        "Strict",
        "/auth",
    )
    # No script sees a token: not the cookie, not storage.
    assert "farewatch_refresh" not in page.evaluate("document.cookie")
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0

    page.reload()
    expect_signed_in(page, email)
    rotated = session_cookies(tab)[0]["value"]
    assert rotated != cookie["value"]  # the reload's refresh rotated it

    with page.expect_response(lambda answer: answer.url.endswith("/auth/logout")) as logout:
        sign_out(page)
    assert logout.value.status == 204
    assert session_cookies(tab) == []
    # The sign-in is over on the server too: the cookie it had is refused.
    reused = stack.call(
        "POST",
        "/auth/refresh",
        json={"refresh_token": rotated},
    )
    assert reused.status_code == 401
    page.reload()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def test_two_tabs_loading_at_once_both_stay_signed_in(tab: WatchedPage) -> None:
    """Each tab's load refreshes with the one cookie; presenting it twice would end the sign-in, so the
    tabs take turns (Web Locks) and each gets its own rotation."""
    page = tab.page
    email = account_signed_in(tab, "tabs")
    other = page.context.new_page()
    errors: list[str] = []
    other.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    other.goto(tab.url("/trackers"))
    expect_signed_in(other, email)

    page.evaluate("location.reload()")  # both at once: neither waits for the other's load
    other.evaluate("location.reload()")

    expect_signed_in(page, email)
    expect_signed_in(other, email)
    page.reload()  # and the sign-in is still alive afterwards
    expect_signed_in(page, email)
    assert errors == []
