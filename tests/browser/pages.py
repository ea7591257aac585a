"""What the browser tests do on the page, the way a person (or a screen reader) finds things: by role,
accessible name and label, never by CSS class. Plus the stack-side steps a developer does with curl."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from typing import Any

import boto3
import requests
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT
from tests.e2e.test_poller import pin_price, poll

__all__ = ["pin_price", "poll"]  # README "Tracking prices", as the e2e poller tests do it with curl

PASSWORD = "correct horse battery"
AXE_SOURCE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def departure(days: int = 45) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


# -- the page ------------------------------------------------------------------------------------


def sign_up(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def expect_signed_in(page: Page, email: str) -> None:
    banner = page.get_by_role("banner")
    expect(banner.get_by_text(email)).to_be_visible()
    expect(banner.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def go_to(page: Page, link: str) -> None:
    """Follow a link of the main navigation (the app's own routing: the session survives)."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(f"^{link}")).click()


def choose_airport(page: Page, field: str, typed: str, option: str, *, keyboard: bool = False) -> None:
    """Type into an airport combobox, wait for its listbox, pick the option by mouse or keyboard."""
    combobox = page.get_by_role("combobox", name=field, exact=True)
    combobox.fill(typed)
    listbox = page.get_by_role("listbox", name=field, exact=True)
    choice = listbox.get_by_role("option", name=re.compile(option))
    expect(choice).to_be_visible()
    expect(combobox).to_have_attribute("aria-expanded", "true")
    if keyboard:
        count = listbox.get_by_role("option").count()
        names = [listbox.get_by_role("option").nth(index).inner_text() for index in range(count)]
        position = next(index for index, name in enumerate(names) if re.search(option, name))
        for _ in range(position + 1):
            combobox.press("ArrowDown")
        expect(combobox).to_have_attribute("aria-activedescendant", re.compile(".+"))
        combobox.press("Enter")
    else:
        choice.click()
    expect(combobox).to_have_value(re.compile(option.split(" ")[0]))
    expect(combobox).to_have_attribute("aria-expanded", "false")


def search(page: Page, origin: tuple[str, str], destination: tuple[str, str], date: str) -> None:
    choose_airport(page, "From", *origin)
    choose_airport(page, "To", *destination, keyboard=True)
    page.get_by_label("Date").fill(date)
    page.get_by_role("button", name="Search").click()


def cheapest_price(page: Page) -> float:
    section = page.get_by_role("region", name="Cheapest fare")
    text = section.get_by_text(re.compile(r"^\$[\d,]+\.\d\d$")).inner_text()
    return float(text.replace("$", "").replace(",", ""))


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.x A/AA findings on the page as it is now (contrast included)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    return list(
        page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
                const where = (v) => v.nodes.map((n) => n.target.join(" ")).join("; ");
                return result.violations.map((v) => `${v.id}: ${v.help} at ${where(v)}`);
            }""",
            WCAG_AA,
        )
    )


# -- the stack, as a developer drives it with curl ------------------------------------------------


def age_cached_fares(stack: Any, origin: str, destination: str, date: str, hours: float) -> None:
    """The cache entry was fetched `hours` ago (and so is past its 10 fresh minutes): the clock moves,
    not the test, by rewriting the entry's times in the stack's embedded DynamoDB."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws,
        region_name="us-east-1",
        aws_access_key_id="farewatch-local",
        aws_secret_access_key="farewatch-local",
    )
    fetched_at = time.time() - hours * 3600
    dynamodb.update_item(
        TableName="CacheTable",
        Key={"pk": {"S": f"fares#{origin}#{destination}#{date}#1#USD"}},
        UpdateExpression="SET fetched_at = :fetched, fresh_until = :fresh",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={
            ":fetched": {"N": str(fetched_at)},
            ":fresh": {"N": str(fetched_at + 600)},
        },
    )


def fare_source_fails(stack: Any, failing: bool) -> None:
    body = {"mode": "http500", "count": 1000} if failing else {"mode": "none"}
    answer = requests.post(f"{stack.sim}/__sim/faults", data=json.dumps(body), timeout=10)
    assert answer.status_code in (200, 204), answer.text


def account_signed_in(tab: Any, prefix: str) -> str:
    """A new account made with the API (as curl would), then signed in to on the sign-in page; its email."""
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    registered = tab.stack.call("POST", "/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 202, registered.text
    tab.open("/sign-in")
    sign_in(tab.page, email)
    expect_signed_in(tab.page, email)
    return email


def mailed_link(stack: Any, to: str, path: str) -> str:
    """The link to `path` in the newest mail to `to`, as the local stack's outbox (`GET /__local/mail`)
    has it: the URL the notifier built, which the browser then opens as a person clicks it."""
    pattern = re.compile(rf"https?://[^\s\"'<>]+{re.escape(path)}\?token=[A-Za-z0-9._~%-]+")
    answer = requests.get(f"{stack.api}/__local/mail", timeout=30)
    assert answer.status_code == 200, answer.text
    for mail in answer.json()["data"]:  # newest first
        if mail["to"] == to and (found := pattern.search(mail["text"])):
            return found.group(0)
    raise AssertionError(f"no mail to {to} links to {path}")
