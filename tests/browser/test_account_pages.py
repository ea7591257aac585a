"""The account pages the mails link to, in the browser: confirming the address from the verification
mail, a forgotten password from the sign-in page to the reset mail's link and a sign-in with the new
one, and the notification settings (price emails off and on, a webhook with a test delivery in its log).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, WatchedPage
from tests.browser.pages import (
    PASSWORD,
    accessibility_violations,
    account_signed_in,
    expect_signed_in,
    mailed_link,
    sign_in,
    sign_up,
)

pytestmark = pytest.mark.e2e


def test_the_verification_mails_link_confirms_the_address_on_its_page(tab: WatchedPage) -> None:
    page, stack = tab.page, tab.stack
    email = f"verify-{uuid.uuid4().hex[:8]}@example.com"
    tab.open("/sign-up")
    sign_up(page, email)
    expect(page.get_by_role("heading", level=1, name="Check your inbox")).to_be_visible()

    link = mailed_link(stack, email, "/verify-email")
    assert link.startswith(f"{stack.api}/verify-email?token=")  # the notifier builds links to this page
    page.goto(link)

    expect(page.get_by_role("status").filter(has_text=f"{email} is confirmed")).to_be_visible()
    assert "token" not in page.url  # a used token is kept out of the history
    assert accessibility_violations(page) == []
    page.goto(link)  # once only
    tab.expect_error_responses(400)
    expect(page.get_by_role("alert")).to_contain_text(re.compile("link|token", re.IGNORECASE))


def test_a_forgotten_password_is_reset_from_the_mails_link(tab: WatchedPage) -> None:
    page, stack = tab.page, tab.stack
    email = f"reset-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        stack.call("POST", "/auth/register", json={"email": email, "password": PASSWORD}).status_code == 202
    )
    new_password = "a brand new passphrase"

    tab.open("/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1, name="Reset your password")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status").filter(has_text=email)).to_be_visible()

    page.goto(mailed_link(stack, email, "/reset-password"))
    expect(page.get_by_role("heading", level=1, name="Choose a new password")).to_be_visible()
    assert accessibility_violations(page) == []
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_text("Choose a password of at least 8 characters.")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("status").filter(has_text="Your password is changed")).to_be_visible()

    page.get_by_role("link", name="Sign in with your new password").click()
    sign_in(page, email, new_password)
    expect_signed_in(page, email)


class _Receiver(BaseHTTPRequestHandler):
    received: list[str] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        _Receiver.received.append(self.rfile.read(length).decode("utf-8", "replace"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    """A webhook receiver on a free loopback port (make dev allows plain-http loopback receivers)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/farewatch"
    finally:
        server.shutdown()
        server.server_close()


def test_notification_settings_turn_mail_off_and_keep_a_webhooks_delivery_log(
    tab: WatchedPage, receiver: str
) -> None:
    page = tab.page
    account_signed_in(tab, "settings")
    page.get_by_role("banner").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1, name="Notification settings")).to_be_visible()

    mail = page.get_by_label("Email me when a price I track drops")
    expect(mail).to_be_checked()
    # Alerts made before the address is confirmed are not mailed later: the page must not promise it.
    expect(page.get_by_text("not confirmed yet: Farewatch sends no price emails until it is")).to_be_visible()
    mail.uncheck()
    expect(page.get_by_role("status").filter(has_text="Price emails are off.")).to_be_visible()
    page.reload()  # the session survives, and so does the choice
    expect(page.get_by_label("Email me when a price I track drops")).not_to_be_checked()

    form = page.get_by_role("form", name="Add a webhook")
    form.get_by_label("Receiver URL").fill("ftp://example.com/x")
    form.get_by_role("button", name="Add webhook").click()
    tab.expect_error_responses(400)
    expect(form.get_by_label("Receiver URL")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Receiver URL").fill(receiver)
    form.get_by_label("Description (optional)").fill("my laptop")
    form.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_role("status").filter(has_text="signing secret")).to_contain_text("whsec_")

    hooks = page.get_by_role("list", name="Your webhooks").get_by_role("listitem")
    expect(hooks).to_have_count(1)
    hooks.first.get_by_role("button", name="Send a test to my laptop").click()
    expect(hooks.first.get_by_role("status")).to_have_text("Test delivered: your receiver answered 204.")
    log = hooks.first.get_by_role("table", name=re.compile("^Deliveries to my laptop"))
    expect(log.get_by_role("row")).to_have_count(2)
    expect(log.get_by_role("row").nth(1)).to_contain_text("delivered (204)")
    assert any("webhook.test" in body or "type" in body for body in _Receiver.received)
    assert accessibility_violations(page) == []
    tab.screenshot("settings-desktop", DESKTOP)
    tab.screenshot("settings-phone", PHONE)
    page.set_viewport_size(DESKTOP)

    hooks.first.get_by_role("button", name="Remove my laptop").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
