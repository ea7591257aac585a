"""Who may call what: every route of template.yaml, for every kind of caller → the status they observe.

The routes come from the template (the one description of the system), so a new route fails
`test_every_template_route_has_an_access_expectation` until someone writes down who may call it.
Each case runs in-process (API Gateway REST event → the route's handler → moto, fares from the
simulator on loopback) with valid inputs, so the status reflects access, not validation. Every case
gets fresh accounts and, where the route needs one, a fresh tracker or alert owned by "user".

Rules (SPEC §2, §5; README "Accounts"): public routes answer everyone alike, a token or not; signed-in
routes are 401 without a token; admin routes are 403 for a non-admin; another user's tracker or
alert is a 404 (for an admin too: trackers and alerts are their owner's alone). An `ANY` route (the
other methods of a path) is a 405 for everyone, before any authentication: it is tried here with a
method the path does not otherwise route.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from moto import mock_aws

from amadeus_sim.app import Simulator
from fare_sim.server import start
from farewatch_local.aws import provision
from farewatch_local.template import load_template
from tests.support.events import FakeLambdaContext, api_event

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
PASSWORD = "correct horse battery"
ANONYMOUS, USER, OTHER, ADMIN = "anonymous", "user", "other user", "admin"
CALLERS = (ANONYMOUS, USER, OTHER, ADMIN)

Route = tuple[str, str]  # (METHOD, path as the template writes it)


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def signed_in(status: int) -> dict[str, int]:
    return {ANONYMOUS: 401, USER: status, OTHER: status, ADMIN: status}


def admin_only(status: int) -> dict[str, int]:
    return {ANONYMOUS: 401, USER: 403, OTHER: 403, ADMIN: status}


def owner_only(status: int) -> dict[str, int]:
    return {ANONYMOUS: 401, USER: status, OTHER: 404, ADMIN: 404}


EXPECTED: dict[Route, dict[str, int]] = {
    ("GET", "/flights/ping"): everyone(200),
    ("GET", "/flights/price"): everyone(200),
    ("GET", "/flights/search"): everyone(200),
    ("GET", "/flights/history"): everyone(200),
    ("GET", "/flights/calendar"): everyone(200),
    ("GET", "/airports"): everyone(200),
    # Public; this suite's source (Amadeus) has no booking links, so everyone hears the same 404.
    ("GET", "/flights/booking-links"): everyone(404),
    ("GET", "/openapi.json"): everyone(200),
    ("GET", "/docs"): everyone(200),
    ("POST", "/auth/register"): everyone(202),
    ("POST", "/auth/login"): everyone(200),
    ("POST", "/auth/refresh"): everyone(200),
    ("POST", "/auth/logout"): everyone(204),
    ("GET", "/users/me"): signed_in(200),
    ("DELETE", "/users/me"): signed_in(204),
    ("GET", "/users"): admin_only(200),
    ("DELETE", "/users/{id}"): admin_only(204),
    ("POST", "/tracked-flights"): signed_in(201),
    ("GET", "/tracked-flights"): signed_in(200),
    ("GET", "/tracked-flights/{id}"): owner_only(200),
    ("PATCH", "/tracked-flights/{id}"): owner_only(200),
    ("DELETE", "/tracked-flights/{id}"): owner_only(204),
    ("GET", "/alerts"): signed_in(200),
    ("POST", "/alerts/{id}/ack"): owner_only(200),
    ("GET", "/stats/routes"): admin_only(200),
    # Issue 14: mailed tokens are their own proof; the unsubscribe token names its user (no session).
    ("POST", "/auth/verify-email"): everyone(200),
    ("POST", "/auth/verify-email/resend"): signed_in(202),
    ("POST", "/auth/password-reset"): everyone(202),
    ("POST", "/auth/password-reset/confirm"): everyone(204),
    ("PATCH", "/users/me"): signed_in(200),
    ("GET", "/unsubscribe"): everyone(200),
    ("POST", "/unsubscribe"): everyone(200),
    ("POST", "/webhooks"): signed_in(201),
    ("GET", "/webhooks"): signed_in(200),
    ("DELETE", "/webhooks/{id}"): owner_only(204),
    ("POST", "/webhooks/{id}/test"): owner_only(200),
    ("GET", "/webhooks/{id}/deliveries"): owner_only(200),
    ("GET", "/stats/poller"): admin_only(200),
    # The web app: the same page and files for everyone (what is yours the page asks the API for).
    ("GET", "/"): everyone(200),
    ("GET", "/sign-in"): everyone(200),
    ("GET", "/sign-up"): everyone(200),
    ("GET", "/trackers"): everyone(200),
    ("GET", "/trackers/{tracker_id}"): everyone(200),
    ("GET", "/inbox"): everyone(200),
    ("GET", "/verify-email"): everyone(200),
    ("GET", "/reset-password"): everyone(200),
    ("GET", "/settings"): everyone(200),
    ("GET", "/assets/{name}"): everyone(200),
}
# Every other method on a routed path reaches its function, which answers 405 with Allow.
EXPECTED.update(
    {
        ("ANY", path): everyone(405)
        for path in (
            "/flights/ping",
            "/flights/price",
            "/flights/search",
            "/flights/history",
            "/flights/calendar",
            "/airports",
            "/flights/booking-links",
            "/openapi.json",
            "/docs",
            "/auth/register",
            "/auth/login",
            "/auth/refresh",
            "/auth/logout",
            "/users/me",
            "/users",
            "/users/{id}",
            "/tracked-flights",
            "/tracked-flights/{id}",
            "/alerts",
            "/alerts/{id}/ack",
            "/stats/routes",
            "/auth/verify-email",
            "/auth/verify-email/resend",
            "/auth/password-reset",
            "/auth/password-reset/confirm",
            "/unsubscribe",
            "/webhooks",
            "/webhooks/{id}",
            "/webhooks/{id}/test",
            "/webhooks/{id}/deliveries",
            "/stats/poller",
            "/",
            "/sign-in",
            "/sign-up",
            "/trackers",
            "/trackers/{tracker_id}",
            "/inbox",
            "/verify-email",
            "/reset-password",
            "/settings",
            "/assets/{name}",
        )
    }
)


def _template_routes() -> dict[Route, str]:
    """(method, path) → the handler module that serves it, as template.yaml routes it."""
    template = load_template(TEMPLATE)
    return {(event.method, event.path): function.handler_module for function, event in template.routes}


HANDLERS = _template_routes()
TEMPLATE_ROUTES = sorted(HANDLERS)


# -- the world each case starts from ----------------------------------------------------------


@dataclass
class Account:
    email: str
    user_id: str = ""
    access_token: str = ""
    refresh_token: str = ""


@dataclass
class World:
    accounts: dict[str, Account] = field(default_factory=dict)
    tracker_id: str = ""
    tracker_version: int = 0
    alert_id: str = ""
    webhook_id: str = ""

    def token_of(self, caller: str) -> str | None:
        return None if caller == ANONYMOUS else self.accounts[caller].access_token


@dataclass
class Request:
    path: str
    params: dict[str, str] | None = None
    body: Any = None
    path_parameters: dict[str, str] | None = None


_emails = itertools.count()


def departure(days: int = 30) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def concrete_method(route: Route) -> str:
    """The method a case sends: the route's own, or for ANY one that the path does not route otherwise."""
    method, path = route
    if method != "ANY":
        return method
    routed = {other for other, other_path in HANDLERS if other_path == path}
    return next(
        candidate for candidate in ("PUT", "PATCH", "POST", "DELETE", "GET") if candidate not in routed
    )


def send(route: Route, request: Request, token: str | None) -> tuple[int, Any]:
    method, resource = concrete_method(route), route[1]
    handler = importlib.import_module(HANDLERS[route])
    event = api_event(method, request.path, request.params, request.body, resource=resource)
    event["pathParameters"] = request.path_parameters
    if request.body is not None:
        event["headers"]["Content-Type"] = "application/json"
    if token:
        event["headers"]["Authorization"] = f"Bearer {token}"
    response = handler.lambda_handler(event, FakeLambdaContext())
    body = response.get("body") or None
    if body and str(body).lstrip().startswith("{"):
        body = json.loads(body)
    return int(response["statusCode"]), body


def register(role: str) -> Account:
    account = Account(email=f"access-{next(_emails)}@example.com")
    credentials = {"email": account.email, "password": PASSWORD}
    status, body = send(("POST", "/auth/register"), Request("/auth/register", body=credentials), None)
    assert status == 202, body
    from farewatch.store.users import UserStore

    found = UserStore().find_by_email(account.email)
    assert found is not None
    account.user_id = found.user.id
    if role == ADMIN:
        UserStore().set_role(account.user_id, "admin", now=time.time())
    status, body = send(("POST", "/auth/login"), Request("/auth/login", body=credentials), None)
    assert status == 200, body
    account.access_token = body["data"]["access_token"]
    account.refresh_token = body["data"]["refresh_token"]
    return account


_targets = itertools.count(100)


def tracker_body() -> dict[str, Any]:
    # A new target each time: the same tracker twice answers 200 with the existing one (issue 15).
    return {
        "origin": "JFK",
        "destination": "LAX",
        "departure_date": departure(),
        "target_price": f"{next(_targets)}.00",
    }


def give_user_a_tracker(world: World) -> None:
    status, body = send(
        ("POST", "/tracked-flights"),
        Request("/tracked-flights", body=tracker_body()),
        world.accounts[USER].access_token,
    )
    assert status == 201, body
    world.tracker_id, world.tracker_version = body["data"]["id"], body["data"]["version"]


def give_user_an_alert(world: World) -> None:
    """The poller's step for the tracker's route, at a lower price than the tracker has seen."""
    from farewatch import composition
    from farewatch.fare_query import FareQuery
    from farewatch.tracking.values import PricePoint

    give_user_a_tracker(world)
    route_key = FareQuery(origin="JFK", destination="LAX", departure_date=dt.date.fromisoformat(departure()))
    observation = PricePoint(Decimal("1.00"), "USD", time.time())
    alerts = composition.poll_cycle().evaluate_route(route_key.cache_key, observation)
    (alert,) = [alert for alert in alerts if alert.tracker_id == world.tracker_id]
    world.alert_id = alert.id
    # Evaluating the tracker moved its version on: read it again, as a client would before a PATCH.
    status, body = send(
        ("GET", "/tracked-flights/{id}"), _users_tracker(world, USER), world.accounts[USER].access_token
    )
    assert status == 200, body
    world.tracker_version = body["data"]["version"]


# Requests that, when allowed, change the world they are judged in (delete an account or a tracker,
# bump a tracker's version, rotate a refresh token) each get a world of their own; refused requests
# and the other routes share one (a refusal must change nothing: see the last test).
CHANGES_THE_WORLD: frozenset[Route] = frozenset(
    {
        ("DELETE", "/users/me"),
        ("DELETE", "/users/{id}"),
        ("DELETE", "/tracked-flights/{id}"),
        ("PATCH", "/tracked-flights/{id}"),
        ("POST", "/auth/refresh"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/verify-email/resend"),
        ("DELETE", "/webhooks/{id}"),
    }
)


def build_world(*, tracker: bool = True, alert: bool = True) -> World:
    """Three accounts ("user", "other user", "admin"); "user" has a tracker, with an alert on it."""
    world = World(accounts={caller: register(caller) for caller in (USER, OTHER, ADMIN)})
    status, body = send(
        ("POST", "/webhooks"),
        Request("/webhooks", body={"url": PUBLIC_RECEIVER}),
        world.accounts[USER].access_token,
    )
    assert status == 201, body
    world.webhook_id = body["data"]["id"]
    if alert:
        give_user_an_alert(world)
    elif tracker:
        give_user_a_tracker(world)
    return world


# -- a valid request for each route -------------------------------------------------------------


def _price(world: World, caller: str) -> Request:
    return Request("/flights/price", {"origin": "JFK", "destination": "LAX", "date": departure()})


def _search(world: World, caller: str) -> Request:
    return Request("/flights/search", {"origin": "JFK", "destination": "LAX", "date": departure()})


def _history(world: World, caller: str) -> Request:
    return Request("/flights/history", {"origin": "JFK", "destination": "LAX", "date": departure()})


def _calendar(world: World, caller: str) -> Request:
    return Request(
        "/flights/calendar", {"origin": "JFK", "destination": "LAX", "from": departure(), "to": departure()}
    )


def _login(world: World, caller: str) -> Request:
    # Anyone who knows the password may log in, a token in hand or not: here, as "user".
    email = world.accounts[USER if caller == ANONYMOUS else caller].email
    return Request("/auth/login", body={"email": email, "password": PASSWORD})


def _refresh(world: World, caller: str) -> Request:
    token = world.accounts[USER if caller == ANONYMOUS else caller].refresh_token
    return Request("/auth/refresh", body={"refresh_token": token})


def _refresh_path(path: str) -> Callable[[World, str], Request]:
    """The refresh token in the body, sent to `path` (signing out takes it as refreshing does)."""

    def request(world: World, caller: str) -> Request:
        token = world.accounts[USER if caller == ANONYMOUS else caller].refresh_token
        return Request(path, body={"refresh_token": token})

    return request


def _users_tracker(world: World, caller: str) -> Request:
    return Request(f"/tracked-flights/{world.tracker_id}", path_parameters={"id": world.tracker_id})


def _patch_users_tracker(world: World, caller: str) -> Request:
    request = _users_tracker(world, caller)
    request.body = {"version": world.tracker_version, "target_price": "199.00"}
    return request


def _ack_users_alert(world: World, caller: str) -> Request:
    return Request(f"/alerts/{world.alert_id}/ack", path_parameters={"id": world.alert_id})


def _tracker_page(world: World, caller: str) -> Request:
    return Request(f"/trackers/{world.tracker_id}", path_parameters={"tracker_id": world.tracker_id})


def _built_asset(world: World, caller: str) -> Request:
    """One file of the web app's build (`make web`, which `make test` runs first)."""
    from web_site.site import PUBLIC_DIR

    name = sorted(path.name for path in (PUBLIC_DIR / "assets").glob("main-*.js"))[0]
    return Request(f"/assets/{name}", path_parameters={"name": name})


PUBLIC_RECEIVER = "https://93.184.216.34/farewatch"  # a public address; nothing here connects out


def mailed_token(kind: str) -> str:
    """The token of the last mail of this kind the users function handed to the notifier."""
    import boto3

    from farewatch.settings import get_settings

    sqs, url, token = boto3.client("sqs"), get_settings().notify_queue_url, ""
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            mail = json.loads(message["Body"])["account_mail"]
            token = mail["token"] if mail["kind"] == kind else token
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert token, f"no {kind} mail was queued"
    return token


def _verify_email(world: World, caller: str) -> Request:
    register(USER)
    return Request("/auth/verify-email", body={"token": mailed_token("verify_email")})


def _reset_confirm(world: World, caller: str) -> Request:
    account = register(USER)
    send(
        ("POST", "/auth/password-reset"), Request("/auth/password-reset", body={"email": account.email}), None
    )
    body = {"token": mailed_token("password_reset"), "new_password": "a brand new passphrase"}
    return Request("/auth/password-reset/confirm", body=body)


def _unsubscribe(world: World, caller: str) -> Request:
    from farewatch import composition

    token = composition.unsubscribe_tokens().make(world.accounts[USER].user_id)
    return Request("/unsubscribe", {"token": token})


def _users_webhook(world: World, caller: str, suffix: str = "") -> Request:
    return Request(f"/webhooks/{world.webhook_id}{suffix}", path_parameters={"id": world.webhook_id})


def _delete_user(world: World, caller: str) -> Request:
    user_id = world.accounts[USER].user_id
    return Request(f"/users/{user_id}", path_parameters={"id": user_id})


REQUESTS: dict[Route, Callable[[World, str], Request]] = {
    ("GET", "/flights/price"): _price,
    ("GET", "/flights/search"): _search,
    ("GET", "/flights/history"): _history,
    ("GET", "/flights/calendar"): _calendar,
    ("GET", "/airports"): lambda world, caller: Request("/airports", {"q": "par"}),
    ("GET", "/flights/booking-links"): lambda world, caller: Request(
        "/flights/booking-links", {"offer": "1"}
    ),
    ("POST", "/auth/register"): lambda world, caller: Request(
        "/auth/register", body={"email": f"new-{next(_emails)}@example.com", "password": PASSWORD}
    ),
    ("POST", "/auth/login"): _login,
    ("POST", "/auth/refresh"): _refresh,
    ("POST", "/auth/logout"): _refresh_path("/auth/logout"),
    ("POST", "/tracked-flights"): lambda world, caller: Request("/tracked-flights", body=tracker_body()),
    ("GET", "/tracked-flights/{id}"): _users_tracker,
    ("PATCH", "/tracked-flights/{id}"): _patch_users_tracker,
    ("DELETE", "/tracked-flights/{id}"): _users_tracker,
    ("POST", "/alerts/{id}/ack"): _ack_users_alert,
    ("DELETE", "/users/{id}"): _delete_user,
    ("POST", "/auth/verify-email"): _verify_email,
    ("POST", "/auth/password-reset"): lambda world, caller: Request(
        "/auth/password-reset", body={"email": world.accounts[USER].email}
    ),
    ("POST", "/auth/password-reset/confirm"): _reset_confirm,
    ("PATCH", "/users/me"): lambda world, caller: Request("/users/me", body={"email_alerts": True}),
    ("GET", "/unsubscribe"): _unsubscribe,
    ("POST", "/unsubscribe"): _unsubscribe,
    ("POST", "/webhooks"): lambda world, caller: Request("/webhooks", body={"url": PUBLIC_RECEIVER}),
    ("DELETE", "/webhooks/{id}"): _users_webhook,
    ("POST", "/webhooks/{id}/test"): lambda world, caller: _users_webhook(world, caller, "/test"),
    ("GET", "/webhooks/{id}/deliveries"): lambda world, caller: _users_webhook(world, caller, "/deliveries"),
    ("GET", "/trackers/{tracker_id}"): _tracker_page,
    ("GET", "/assets/{name}"): _built_asset,
}


def request_for(route: Route, world: World, caller: str) -> Request:
    build = REQUESTS.get(route)
    if build is not None:
        return build(world, caller)
    # An ANY route: the path of a real resource of "user"'s.
    by_path = {
        "/users/{id}": _delete_user,
        "/tracked-flights/{id}": _users_tracker,
        "/alerts/{id}/ack": _ack_users_alert,
        "/webhooks/{id}": _users_webhook,
        "/webhooks/{id}/test": lambda world, caller: _users_webhook(world, caller, "/test"),
        "/webhooks/{id}/deliveries": lambda world, caller: _users_webhook(world, caller, "/deliveries"),
    }
    return by_path[route[1]](world, caller) if route[1] in by_path else Request(route[1])


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def handlers() -> Iterator[None]:
    """One moto with the template's resources and one simulator for the module; the handlers'
    cached services are rebuilt against them and dropped afterwards."""
    from farewatch import composition, settings

    caches = (
        settings.get_settings,
        composition.fare_service,
        composition.account_service,
        composition.tracking_service,
        composition.poll_cycle,
    )
    server = start(Simulator(rate_limit_tps=0), port=0)
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("AMADEUS_BASE_URL", server.url)
        patch.setenv("AMADEUS_CLIENT_ID", "farewatch-local")
        patch.setenv("AMADEUS_CLIENT_SECRET", "farewatch-local-secret")
        # A test delivery to the (public, unreachable) receiver gives up at once.
        patch.setenv("WEBHOOK_CONNECT_TIMEOUT_SECONDS", "0.2")
        for cache in caches:
            cache.cache_clear()
        provision(load_template(TEMPLATE), endpoint_url=None)
        requests.post(f"{server.url}/__sim/reset", timeout=5)
        try:
            yield
        finally:
            for cache in caches:
                cache.cache_clear()
            server.stop()


@pytest.fixture(scope="module")
def shared_world(handlers) -> World:
    return build_world()


@pytest.fixture
def world_for(shared_world) -> Callable[[Route, str], World]:
    def world(route: Route, caller: str) -> World:
        if route in CHANGES_THE_WORLD and EXPECTED[route][caller] < 300:
            return build_world(tracker="tracked-flights" in route[1], alert=False)
        return shared_world

    return world


# -- the tests ---------------------------------------------------------------------------------


def test_every_template_route_has_an_access_expectation():
    template_routes, expected_routes = set(TEMPLATE_ROUTES), set(EXPECTED)

    assert sorted(template_routes - expected_routes) == [], "template routes without an access expectation"
    assert sorted(expected_routes - template_routes) == [], (
        "access expectations for routes not in the template"
    )
    assert all(set(by_caller) == set(CALLERS) for by_caller in EXPECTED.values())


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", TEMPLATE_ROUTES, ids=lambda route: f"{route[0]} {route[1]}")
def test_each_caller_gets_the_status_the_access_rules_say(world_for, route, caller):
    assert route in EXPECTED, f"{route[0]} {route[1]} has no access expectation"
    world = world_for(route, caller)
    request = request_for(route, world, caller)

    status, body = send(route, request, world.token_of(caller))

    assert status == EXPECTED[route][caller], body


@pytest.mark.parametrize(
    "route", [route for route in TEMPLATE_ROUTES if route[0] != "ANY" and route[1].endswith(("{id}", "/ack"))]
)
def test_another_users_refused_request_leaves_the_resource_as_it_was(handlers, route):
    world = build_world(tracker="tracked-flights" in route[1], alert="alerts" in route[1])
    if route == ("DELETE", "/users/{id}"):
        refused, _ = send(route, request_for(route, world, OTHER), world.token_of(OTHER))
        status, body = send(("GET", "/users/me"), Request("/users/me"), world.token_of(USER))
        assert (refused, status, body["data"]["email"]) == (403, 200, world.accounts[USER].email)
        return
    owner_view = ("GET", "/alerts") if "alerts" in route[1] else ("GET", "/tracked-flights/{id}")
    before = send(owner_view, request_for(owner_view, world, USER), world.token_of(USER))

    refused, _ = send(route, request_for(route, world, OTHER), world.token_of(OTHER))
    after = send(owner_view, request_for(owner_view, world, USER), world.token_of(USER))

    assert refused == 404
    assert after == before and after[0] == 200
