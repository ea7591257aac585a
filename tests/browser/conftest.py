"""The web app in a real browser: Debian's Chromium, headless, driven by Playwright, against the
`make dev` stack started as a subprocess on free ports (tests/e2e/conftest.py's run_dev_stack).

Every page a test opens is watched: a console error, an uncaught exception, a request the
Content-Security-Policy blocked or a failed request fails the test (tests that provoke an error
response say which ones they expect). Screenshots go to tests/browser/out/ (FAREWATCH_SCREENSHOTS
to change it); the run prints where.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, DevStack, run_dev_stack

pytest.importorskip("playwright", reason="Playwright is installed by `make test` (requirements-dev.txt)")

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

CHROMIUM = Path(os.environ.get("FAREWATCH_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("FAREWATCH_SCREENSHOTS", ROOT / "tests" / "browser" / "out"))
BUILT_PAGE = ROOT / "functions" / "web" / "web_site" / "public" / "index.html"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# As the machine notes advise: without these, Chromium keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]

# Playwright's own waits (5 s) are short for two shared cores running the stack and the browser.
expect.set_options(timeout=20_000)

_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


_CHARTS_FIT = """() => [...document.querySelectorAll(".uplot .u-wrap")].every(
  (wrap) => parseFloat(wrap.style.width) === wrap.closest(".uplot").parentElement.clientWidth
)"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # One stack and one browser for all of them: xdist keeps the group on one worker (--dist loadgroup).
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    shots = sorted(SCREENSHOTS.glob("*.png")) if SCREENSHOTS.is_dir() else []
    if shots:
        terminalreporter.write_line(f"browser screenshots ({len(shots)}): {SCREENSHOTS}")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make test` installs Debian's chromium when it runs as root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if not BUILT_PAGE.exists():
        pytest.fail(f"{BUILT_PAGE} is missing: run `make web` (make test does) before the browser tests")
    return CHROMIUM


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[DevStack]:
    # The pages move a fare's age by rewriting its cache item (`pages.age_cached_fares`), not the clock;
    # a warm function's memory tier would answer the item it read before for FARE_MEMORY_SECONDS, so
    # this stack runs without it (its bounds are tested in tests/integration/test_fleet_across_processes).
    yield from run_dev_stack(tmp_path_factory, "web", {"FARE_MEMORY_SECONDS": "0"})


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: Path) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    if SCREENSHOTS.is_dir():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@dataclass
class WatchedPage:
    """A tab of its own (fresh context: no cookies, no memory), and everything that went wrong in it."""

    page: Page
    stack: DevStack
    shots: Path
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    expected_errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.stack.api}{path}"

    def open(self, path: str) -> None:
        self.page.goto(self.url(path))

    def expect_error_responses(self, *statuses: int) -> None:
        """This test provokes these statuses: Chromium logs each as a console error, which is then fine."""
        self.expected_errors.extend(f"status of {status}" for status in statuses)

    def csp_violations(self) -> list[str]:
        return list(self.page.evaluate("window.__cspViolations || []"))

    def screenshot(self, name: str, viewport: dict[str, int]) -> Path:
        self.page.set_viewport_size(viewport)
        # A chart redraws itself to its new width (ResizeObserver, then uPlot's setSize): wait until
        # every chart's drawing is as wide as its box, not for a fixed time.
        self.page.wait_for_function(_CHARTS_FIT)
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_nothing_went_wrong(self) -> None:
        unexpected = [
            message
            for message in self.console_errors
            if not any(expected in message for expected in self.expected_errors)
        ]
        assert unexpected == [], unexpected
        assert self.failed_requests == []
        assert self.csp_violations() == []


@pytest.fixture
def tab(
    request: pytest.FixtureRequest, browser: Browser, web_stack: DevStack, screenshots: Path
) -> Iterator[WatchedPage]:
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="Europe/London")
    context.add_init_script(_WATCH_CSP)
    page = context.new_page()
    watched = WatchedPage(page=page, stack=web_stack, shots=screenshots)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.console_errors.append(f"uncaught: {error}"))

    def on_request_failed(request: Any) -> None:
        # The airport field cancels the suggestions of what was typed before: that is no failure.
        if request.failure != "net::ERR_ABORTED":
            watched.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    page.on("requestfailed", on_request_failed)
    try:
        yield watched
        if request.node.stash.get(_FAILED, False):
            # What the page looked like when the test gave up, and what it said: for the CI log.
            name = request.node.name.replace("/", "_")
            page.screenshot(path=str(screenshots / f"failed-{name}.png"), full_page=True)
            (screenshots / f"failed-{name}.html").write_text(page.content(), encoding="utf-8")
            print(f"console errors: {watched.console_errors}; failed requests: {watched.failed_requests}")
        else:
            watched.assert_nothing_went_wrong()
    finally:
        context.close()
