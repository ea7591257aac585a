"""Tracking through the users function: API Gateway events → handler → TrackingService → moto.

Fares come from a fake FareService whose price the test moves; time is a ManualClock.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import threading
from decimal import Decimal
from typing import Any

import pytest

from farewatch.clock import ManualClock
from farewatch.errors import UpstreamUnavailable
from farewatch.fare_query import FareQuery
from farewatch.pricing import FareResult
from tests.support.events import FakeLambdaContext, api_event
from tests.support.offers import offer

PASSWORD = "correct horse battery"
DAY = "2027-02-01"  # the ManualClock starts on 2027-01-15
ROUTE = f"JFK#LAX#{DAY}#1#USD"


class FakeFares:
    """FareService.fares() with a settable price per fare query; counts upstream fetches."""

    def __init__(self, clock: ManualClock, price: str = "300.00") -> None:
        self.clock = clock
        self.prices: dict[str, str] = {}
        self.default = price
        self.fresh_until: dict[str, float] = {}
        self.fetched_at: dict[str, float] = {}
        self.upstream_calls = 0
        self.failure: Exception | None = None
        self._lock = threading.Lock()

    def set_price(self, price: str, key: str = ROUTE) -> None:
        self.prices[key] = price
        self.fresh_until[key] = 0.0  # the next call fetches

    def fares(
        self, query: FareQuery, *, force_refresh: bool = False, count_search: bool = True
    ) -> FareResult:
        from farewatch.store.history import PriceHistoryStore

        if self.failure is not None:
            raise self.failure
        key, now = query.cache_key, self.clock.now()
        with self._lock:
            cached = not force_refresh and self.fresh_until.get(key, 0.0) > now
            if not cached:
                self.upstream_calls += 1
                self.fetched_at[key] = now
                self.fresh_until[key] = now + 600
                price = self.prices.get(key, self.default)
                PriceHistoryStore().append(
                    key, amount=Decimal(price), currency=query.currency, source="fake", observed_at=now
                )
        price = self.prices.get(key, self.default)
        return FareResult(
            query=query,
            offers=[offer(price, currency=query.currency)],
            source="fake",
            fetched_at=self.fetched_at[key],
            fresh_until=self.fresh_until[key],
            cached=cached,
        )


class RecordingEvents:
    """EventBridge's PutEvents as the worker calls it, recording each entry (or failing, when told)."""

    def __init__(self, publish: Any = None) -> None:
        self.entries: list[dict[str, Any]] = []
        self._publish = publish if publish is not None else self.entries.extend

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self._publish(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(index)} for index in range(len(Entries))]}


def poll_cycle(clock: ManualClock, fares: Any, publish: Any) -> Any:
    """The real poll cycle on moto, with the test's fares and clock; `publish` sees every PutEvents."""
    from farewatch.messaging import EventBus
    from farewatch.store.tracking import AlertStore, TrackingStore
    from farewatch.tracking.poll_cycle import PollCycle

    return PollCycle(
        trackers=TrackingStore(),
        alerts=AlertStore(),
        fares=fares,
        events=EventBus(RecordingEvents(publish)),
        clock=clock,
        poll_interval_seconds=1800,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fares(clock) -> FakeFares:
    return FakeFares(clock)


@pytest.fixture
def limit() -> int:
    return 50


@pytest.fixture
def tracking(aws, clock, fares, limit, monkeypatch):
    from farewatch import composition, settings
    from farewatch.store.history import PriceHistoryStore
    from farewatch.store.tracking import AlertStore, TrackingStore
    from farewatch.tracking.service import TrackingService

    settings.get_settings.cache_clear()
    composition.account_service.cache_clear()
    service = TrackingService(
        fares=fares,
        store=TrackingStore(),
        alerts=AlertStore(),
        history=PriceHistoryStore(),
        clock=clock,
        max_active_trackers=limit,
        poll_interval_seconds=1800,
    )
    monkeypatch.setattr(composition, "tracking_service", lambda: service)
    monkeypatch.setattr(composition, "poll_cycle", lambda: poll_cycle(clock, fares, lambda entries: None))
    yield service
    composition.account_service.cache_clear()


@pytest.fixture
def users(tracking):
    return importlib.import_module("users_api.handler")


def call(handler, method: str, path: str, body: Any = None, token: str | None = None, **params: str):
    event = api_event(method, path, params or None, body)
    event["headers"]["Content-Type"] = "application/json"
    if token:
        event["headers"]["Authorization"] = f"Bearer {token}"
    response = handler.lambda_handler(event, FakeLambdaContext(function_name="UsersFunction"))
    if not response["body"]:
        return response["statusCode"], None
    if content_type(response).startswith("application/json"):
        return response["statusCode"], json.loads(response["body"])
    return response["statusCode"], response["body"]


def content_type(response: dict[str, Any]) -> str:
    headers = {**(response.get("headers") or {})}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, values[0])
    return str(headers.get("Content-Type", ""))


def sign_in(users, email: str = "alice@example.com") -> str:
    assert call(users, "POST", "/auth/register", {"email": email, "password": PASSWORD})[0] == 202
    status, body = call(users, "POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200
    return body["data"]["access_token"]


@pytest.fixture
def alice(users) -> str:
    return sign_in(users)


@pytest.fixture
def bob(users) -> str:
    return sign_in(users, "bob@example.com")


def track(users, token: str, **fields: Any) -> tuple[int, Any]:
    body = {"origin": "JFK", "destination": "LAX", "departure_date": DAY, **fields}
    return call(users, "POST", "/tracked-flights", body, token=token)


def watched_count(route_key: str = ROUTE) -> int:
    from farewatch.store.tracking import TrackingStore

    return TrackingStore().watched_count(route_key)


def poll(clock: ManualClock, route_key: str = ROUTE):
    from farewatch import composition

    return composition.poll_cycle().refresh(route_key)


# -- tracked flights ---------------------------------------------------------------------------


def test_tracking_a_flight_fills_in_the_current_price_and_counts_the_route(users, alice, fares):
    status, body = track(users, alice, target_price=250)

    tracker = body["data"]
    assert status == 201
    assert tracker["current_price"] == "300.00" and tracker["lowest_price"] == "300.00"
    assert tracker["target_price"] == "250.00" and tracker["status"] == "active"
    assert tracker["version"] == 1 and tracker["last_checked_at"] == "2027-01-15T08:00:00Z"
    assert [point["price"] for point in tracker["history"]] == ["300.00"]
    assert watched_count() == 1 and fares.upstream_calls == 1


def test_a_tracker_needs_a_target_or_the_any_drop_flag(users, alice):
    status, body = track(users, alice)

    assert status == 400 and body["error"]["code"] == "invalid_body"
    assert watched_count() == 0


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"origin": "XXX"}, "unknown_location"),
        ({"departure_date": "2027-01-14"}, "date_in_past"),
        ({"currency": "ZZZ"}, "invalid_currency"),
        ({"target_price": "12.345"}, "invalid_body"),
        ({"target_price": -5}, "invalid_body"),
        ({"role": "admin"}, "invalid_body"),
    ],
)
def test_a_tracker_is_validated_like_a_price_request(users, alice, fields, code):
    status, body = track(users, alice, notify_on_any_drop=True, **fields)

    assert status == 400 and body["error"]["code"] == code


def test_an_upstream_failure_writes_no_tracker(users, alice, fares):
    fares.failure = UpstreamUnavailable("down")

    status, body = track(users, alice, notify_on_any_drop=True)

    assert status == 503 and body["error"]["code"] == "upstream_unavailable"
    assert call(users, "GET", "/tracked-flights", token=alice)[1]["data"] == []
    assert watched_count() == 0


def test_list_get_patch_and_delete_a_tracker(users, alice):
    created = track(users, alice, target_price=250)[1]["data"]

    listed = call(users, "GET", "/tracked-flights", token=alice)[1]["data"]
    status, patched = call(
        users,
        "PATCH",
        f"/tracked-flights/{created['id']}",
        {"version": 1, "target_price": 240, "notify_on_any_drop": True},
        token=alice,
    )
    fetched = call(users, "GET", f"/tracked-flights/{created['id']}", token=alice)[1]["data"]
    deleted = call(users, "DELETE", f"/tracked-flights/{created['id']}", token=alice)[0]

    assert [tracker["id"] for tracker in listed] == [created["id"]]
    assert status == 200 and patched["data"]["version"] == 2
    assert fetched["target_price"] == "240.00" and fetched["notify_on_any_drop"] is True
    assert deleted == 204
    assert call(users, "GET", f"/tracked-flights/{created['id']}", token=alice)[0] == 404
    assert watched_count() == 0


def test_a_stale_version_is_a_conflict_never_a_lost_update(users, alice):
    tracker = track(users, alice, target_price=250)[1]["data"]
    path = f"/tracked-flights/{tracker['id']}"
    assert call(users, "PATCH", path, {"version": 1, "target_price": 240}, token=alice)[0] == 200

    status, body = call(users, "PATCH", path, {"version": 1, "target_price": 230}, token=alice)

    assert status == 409 and body["error"]["code"] == "version_conflict"
    assert call(users, "GET", path, token=alice)[1]["data"]["target_price"] == "240.00"


def test_patch_may_change_only_the_alert_settings(users, alice):
    tracker = track(users, alice, target_price=250)[1]["data"]

    status, body = call(
        users, "PATCH", f"/tracked-flights/{tracker['id']}", {"version": 1, "origin": "BOS"}, token=alice
    )

    assert status == 400 and body["error"]["code"] == "invalid_body"


def test_another_users_tracker_is_not_found(users, alice, bob):
    tracker = track(users, alice, target_price=250)[1]["data"]
    path = f"/tracked-flights/{tracker['id']}"

    assert call(users, "GET", path, token=bob)[0] == 404
    assert call(users, "PATCH", path, {"version": 1, "target_price": 1}, token=bob)[0] == 404
    assert call(users, "DELETE", path, token=bob)[0] == 404
    assert call(users, "GET", "/tracked-flights", token=bob)[1]["data"] == []
    assert call(users, "GET", path, token=alice)[0] == 200


def test_tracking_needs_a_signed_in_caller(users):
    assert track(users, "not-a-token", target_price=250)[0] == 401


@pytest.mark.parametrize("limit", [2])
def test_past_the_tracker_limit_is_a_conflict(users, alice, limit):
    assert track(users, alice, target_price=250)[0] == 201
    assert track(users, alice, target_price=240, departure_date="2027-02-02")[0] == 201

    status, body = track(users, alice, target_price=230, departure_date="2027-02-03")

    assert status == 409 and body["error"]["code"] == "tracker_limit_reached"
    assert watched_count("JFK#LAX#2027-02-03#1#USD") == 0
    first = call(users, "GET", "/tracked-flights", token=alice)[1]["data"][0]
    assert call(users, "DELETE", f"/tracked-flights/{first['id']}", token=alice)[0] == 204
    assert track(users, alice, target_price=230, departure_date="2027-02-03")[0] == 201


@pytest.mark.parametrize("limit", [2])
def test_departed_trackers_stop_counting_toward_the_limit(users, alice, clock, limit):
    departed = track(users, alice, target_price=250, departure_date="2027-01-20")[1]["data"]
    assert track(users, alice, target_price=240, departure_date="2027-03-01")[0] == 201
    clock.advance(6 * 86400)  # 2027-01-21: the first flight has left

    status, body = track(users, alice, target_price=230, departure_date="2027-03-02")
    assert status == 201, body
    # The expired tracker is still listed, and deleting it later does not free a second slot.
    listed = {
        tracker["id"]: tracker["status"]
        for tracker in call(users, "GET", "/tracked-flights", token=alice)[1]["data"]
    }
    assert listed[departed["id"]] == "expired" and len(listed) == 3
    assert call(users, "DELETE", f"/tracked-flights/{departed['id']}", token=alice)[0] == 204
    status, body = track(users, alice, target_price=220, departure_date="2027-03-03")
    assert status == 409 and body["error"]["code"] == "tracker_limit_reached"


def test_concurrent_trackers_on_one_route_are_all_counted(users, tracking, atomic_dynamodb):
    from farewatch.fare_query import parse_fare_query

    query = parse_fare_query({"origin": "JFK", "destination": "LAX", "date": DAY}, clock=tracking.clock)
    errors: list[Exception] = []

    def create(user: int) -> None:
        try:
            tracking.create(f"user{user}", query, target_price=Decimal("200"), notify_on_any_drop=False)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(user,)) for user in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert watched_count() == 8


def test_a_departed_flight_expires_its_tracker_and_stops_polling(users, alice, clock):
    from farewatch import composition

    tracker = track(users, alice, target_price=250)[1]["data"]
    clock.advance(18 * 86400)  # 2027-02-02

    shown = call(users, "GET", f"/tracked-flights/{tracker['id']}", token=alice)[1]["data"]

    assert shown["status"] == "expired"
    assert list(composition.poll_cycle().due_routes()) == []
    assert poll(clock).upstream_call is False


# -- polling and alerts ------------------------------------------------------------------------


def test_due_routes_lists_tracked_routes_when_their_poll_is_due(users, alice, clock):
    from farewatch import composition

    track(users, alice, target_price=250)

    assert list(composition.poll_cycle().due_routes()) == []
    clock.advance(1800)
    assert list(composition.poll_cycle().due_routes()) == [ROUTE]
    poll(clock)
    assert list(composition.poll_cycle().due_routes()) == []


def test_deleting_the_last_tracker_stops_the_routes_polling(users, alice, clock):
    from farewatch import composition

    tracker = track(users, alice, target_price=250)[1]["data"]
    call(users, "DELETE", f"/tracked-flights/{tracker['id']}", token=alice)
    clock.advance(3600)

    assert list(composition.poll_cycle().due_routes()) == []


def test_each_drop_is_flagged_once_and_polling_twice_adds_nothing(users, alice, clock, fares):
    track(users, alice, target_price=250)
    track(users, alice, notify_on_any_drop=True)
    steps = [("260", 1), ("240", 2), ("240", 0), ("245", 0), ("230", 2)]
    for price, expected in steps:
        clock.advance(1800)
        fares.set_price(price)
        refresh = poll(clock)
        again = poll(clock)  # fresh cache: no upstream call, nothing new
        assert (len(refresh.alerts), refresh.upstream_call) == (expected, True)
        assert (again.alerts, again.upstream_call) == ([], False)

    alerts = call(users, "GET", "/alerts", token=alice)[1]["data"]
    assert [alert["price"] for alert in alerts] == ["230.00", "230.00", "240.00", "240.00", "260.00"]
    assert sorted((alert["kind"], alert["price"]) for alert in alerts) == [
        ("price_drop", "230.00"),
        ("price_drop", "240.00"),
        ("price_drop", "260.00"),
        ("target_reached", "230.00"),
        ("target_reached", "240.00"),
    ]
    trackers = call(users, "GET", "/tracked-flights", token=alice)[1]["data"]
    assert {(tracker["current_price"], tracker["lowest_price"]) for tracker in trackers} == {
        ("230.00", "230.00")
    }


def test_evaluating_one_observation_twice_writes_no_duplicate(users, alice, tracking, clock):
    from farewatch import composition
    from farewatch.tracking.values import PricePoint

    track(users, alice, notify_on_any_drop=True)
    observation = PricePoint(Decimal("200"), "USD", clock.now() + 60)

    first = composition.poll_cycle().evaluate_route(ROUTE, observation)
    second = composition.poll_cycle().evaluate_route(ROUTE, observation)

    assert len(first) == 1 and second == []
    assert len(call(users, "GET", "/alerts", token=alice)[1]["data"]) == 1


def work_route(clock: ManualClock, fares: Any, publish: Any):
    return poll_cycle(clock, fares, publish).poll_route(ROUTE)


def test_an_alert_whose_event_failed_is_announced_when_the_message_is_retried(users, alice, clock, fares):
    track(users, alice, target_price=250)
    fares.set_price("240")
    clock.advance(1800)
    published: list[dict[str, Any]] = []

    def bus_down(entries: Any) -> None:
        raise RuntimeError("EventBridge is down")

    with pytest.raises(RuntimeError):
        work_route(clock, fares, bus_down)  # the alert is written, its event is not sent
    retried = work_route(clock, fares, published.extend)
    again = work_route(clock, fares, published.extend)

    assert (retried.alerts_created, again.alerts_created) == (0, 0)
    assert [json.loads(entry["Detail"])["kind"] for entry in published] == ["target_reached"]
    assert len(call(users, "GET", "/alerts", token=alice)[1]["data"]) == 1


def test_alerts_are_paginated_newest_first_and_filtered(users, alice, bob, clock, fares):
    track(users, alice, notify_on_any_drop=True)
    for price in ("290", "280", "270"):
        clock.advance(1800)
        fares.set_price(price)
        poll(clock)

    status, first = call(users, "GET", "/alerts", token=alice, limit="2")
    second = call(users, "GET", "/alerts", token=alice, limit="2", cursor=first["next_cursor"])[1]
    newest = first["data"][0]["id"]
    acked = call(users, "POST", f"/alerts/{newest}/ack", token=alice)
    acked_again = call(users, "POST", f"/alerts/{newest}/ack", token=alice)
    unacked = call(users, "GET", "/alerts", token=alice, unacked_only="true")[1]["data"]

    assert status == 200
    assert [alert["price"] for alert in first["data"] + second["data"]] == ["270.00", "280.00", "290.00"]
    assert second["next_cursor"] is None
    assert acked[0] == 200 and acked[1]["data"]["acked"] is True
    assert acked_again[1]["data"]["acked_at"] == acked[1]["data"]["acked_at"]
    assert [alert["price"] for alert in unacked] == ["280.00", "290.00"]
    assert call(users, "POST", f"/alerts/{newest}/ack", token=bob)[0] == 404
    assert call(users, "GET", "/alerts", token=bob)[1]["data"] == []
    assert call(users, "GET", "/alerts", token=alice, cursor="bogus")[1]["error"]["code"] == "invalid_cursor"


def test_deleting_an_account_removes_trackers_counts_and_alerts(users, alice, bob, clock, fares):
    from farewatch.store.tracking import PriceDropAlert, TrackerRecord

    track(users, alice, notify_on_any_drop=True)
    track(users, bob, notify_on_any_drop=True)
    clock.advance(1800)
    fares.set_price("100")
    assert len(poll(clock).alerts) == 2

    assert call(users, "DELETE", "/users/me", token=alice)[0] == 204

    assert watched_count() == 1
    assert {record.user_id for record in TrackerRecord.scan()} == {bob_id(users, bob)}
    assert {alert.user_id for alert in PriceDropAlert.scan()} == {bob_id(users, bob)}


def bob_id(users, token: str) -> str:
    return call(users, "GET", "/users/me", token=token)[1]["data"]["id"]


# -- statistics --------------------------------------------------------------------------------


def make_admin(users, token: str) -> None:
    from farewatch.store.users import UserStore

    UserStore().set_role(bob_id(users, token), "admin", now=0)


def test_route_statistics_for_admins_as_json_and_csv(users, alice, bob, clock, fares):
    from farewatch.store.search_stats import SearchStatsStore

    make_admin(users, bob)
    track(users, alice, target_price=250)
    track(users, bob, notify_on_any_drop=True)
    clock.advance(1800)
    fares.set_price("280")
    poll(clock)
    for _ in range(3):
        SearchStatsStore().count_search("BOS-MIA", at=clock.now())
    SearchStatsStore().count_search("JFK-LAX", at=clock.now())

    status, body = call(users, "GET", "/stats/routes", token=bob, days="7")
    csv_status, csv_body = call(users, "GET", "/stats/routes", token=bob, format="csv")

    report = body["data"]
    assert status == 200 and report["days"] == 7
    assert [(row["route"], row["searches"]) for row in report["most_searched"]] == [
        ("BOS-MIA", 3),
        ("JFK-LAX", 1),
    ]
    assert report["most_tracked"] == [
        {
            "route": "JFK-LAX",
            "searches": 1,
            "trackers": 2,
            "currency": "USD",
            "latest_price": "280.00",
            "min_price": "280.00",
            "max_price": "300.00",
        }
    ]
    lines = csv_body.splitlines()
    assert csv_status == 200
    assert lines[0] == "list,rank,route,searches,trackers,currency,latest_price,min_price,max_price"
    assert lines[1:] == [
        "most_searched,1,BOS-MIA,3,0,,,,",
        "most_searched,2,JFK-LAX,1,2,USD,280.00,280.00,300.00",
        "most_tracked,1,JFK-LAX,1,2,USD,280.00,280.00,300.00",
    ]


def test_route_statistics_are_for_admins_only(users, alice):
    status, body = call(users, "GET", "/stats/routes", token=alice)

    assert status == 403 and body["error"]["code"] == "forbidden"


def test_csv_statistics_are_served_as_text_csv(users, bob, clock):
    from farewatch.store.search_stats import SearchStatsStore

    make_admin(users, bob)
    SearchStatsStore().count_search("BOS-MIA", at=clock.now())
    event = api_event("GET", "/stats/routes", {"format": "csv"})
    event["headers"]["Authorization"] = f"Bearer {bob}"

    response = users.lambda_handler(event, FakeLambdaContext(function_name="UsersFunction"))

    assert response["statusCode"] == 200
    assert content_type(response).startswith("text/csv")
    assert response["body"].splitlines() == [
        "list,rank,route,searches,trackers,currency,latest_price,min_price,max_price",
        "most_searched,1,BOS-MIA,1,0,,,,",
    ]


def test_refreshing_a_route_nobody_watches_does_nothing(users, clock, fares):
    refresh = poll(clock, "BOS#MIA#2027-02-01#1#USD")

    assert (refresh.upstream_call, refresh.alerts) == (False, [])
    assert fares.upstream_calls == 0


def test_the_merged_openapi_document_describes_the_tracking_routes(users, monkeypatch):
    monkeypatch.setenv("TOKEN_PREFETCH", "false")
    price = importlib.import_module("price_api.handler")

    document = json.loads(
        price.lambda_handler(api_event("GET", "/openapi.json"), FakeLambdaContext())["body"]
    )

    assert {
        "/tracked-flights",
        "/tracked-flights/{id}",
        "/alerts",
        "/alerts/{id}/ack",
        "/stats/routes",
    } <= set(document["paths"])


@pytest.mark.parametrize("limit", [3])
def test_concurrent_creations_by_one_user_never_pass_the_limit(users, tracking, limit, atomic_dynamodb):
    from farewatch.errors import Conflict
    from farewatch.fare_query import parse_fare_query
    from farewatch.store.tracking import TrackingStore

    query = parse_fare_query({"origin": "JFK", "destination": "LAX", "date": DAY}, clock=tracking.clock)
    outcomes: list[str] = []

    def create(target: int) -> None:  # eight different trackers (the same one twice is not a copy)
        try:
            tracking.create("user1", query, target_price=Decimal(target), notify_on_any_drop=True)
            outcomes.append("created")
        except Conflict as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=create, args=(200 + n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created"] * 3 + ["tracker_limit_reached"] * 5
    assert len(TrackingStore().of_user("user1")) == 3 and watched_count() == 3


def test_patch_cannot_leave_a_tracker_with_nothing_to_alert_on(users, alice):
    tracker = track(users, alice, target_price=250)[1]["data"]

    status, body = call(
        users, "PATCH", f"/tracked-flights/{tracker['id']}", {"version": 1, "target_price": None}, token=alice
    )

    assert status == 400 and body["error"]["code"] == "invalid_body"


# -- trackers that behave (issue 15) ---------------------------------------------------------------


def test_creating_a_tracker_you_already_have_answers_the_existing_one(users, alice, fares):
    status, first = track(users, alice, target_price=250, cabin="business")
    fares.set_price("280.00", f"JFK#LAX#{DAY}#1#USD#cabin=business")  # a create would fetch again

    again_status, again = track(users, alice, target_price=250, cabin="business")
    calls_after_duplicate = fares.upstream_calls
    other_rules = track(users, alice, target_price=240, cabin="business")
    other_trip = track(users, alice, target_price=250)

    assert (status, again_status) == (201, 200)
    assert again["data"]["id"] == first["data"]["id"]
    assert other_rules[0] == 201 and other_trip[0] == 201
    listed = call(users, "GET", "/tracked-flights", token=alice)[1]["data"]
    assert len(listed) == 3
    assert calls_after_duplicate == 1  # the duplicate asked for no fare


def test_the_pollers_bookkeeping_does_not_move_the_version_a_patch_sends(users, alice, clock, fares):
    tracker = track(users, alice, notify_on_any_drop=True)[1]["data"]
    path = f"/tracked-flights/{tracker['id']}"
    clock.advance(1800)
    fares.set_price("240.00")
    assert len(poll(clock).alerts) == 1

    read_status, read = call(users, "GET", path, token=alice)
    status, patched = call(users, "PATCH", path, {"version": 1, "target_price": 200}, token=alice)

    assert read_status == 200, read
    polled = read["data"]
    assert polled["version"] == 1 and polled["current_price"] == "240.00"
    assert status == 200 and patched["data"]["version"] == 2


def test_a_patch_between_read_and_write_makes_the_poller_decide_again(users, alice, tracking, clock, fares):
    from farewatch.store.tracking import TrackingStore
    from farewatch.tracking.values import PricePoint

    tracker = track(users, alice, target_price=250)[1]["data"]
    stale = TrackingStore().get(tracking_user(alice, users), tracker["id"])
    call(
        users, "PATCH", f"/tracked-flights/{tracker['id']}", {"version": 1, "target_price": 200}, token=alice
    )

    applied = TrackingStore().record_check(
        stale, seen=PricePoint(Decimal("240"), "USD", clock.now() + 1), last_alerted_price=None, alert=None
    )

    assert applied is False


def tracking_user(token: str, users: Any) -> str:
    return call(users, "GET", "/users/me", token=token)[1]["data"]["id"]


def test_a_tracker_reads_the_same_in_a_list_as_alone(users, alice):
    tracker = track(users, alice, target_price=250)[1]["data"]

    listed = call(users, "GET", "/tracked-flights", token=alice)[1]["data"][0]
    alone = call(users, "GET", f"/tracked-flights/{tracker['id']}", token=alice)[1]["data"]

    assert listed == alone
    assert isinstance(listed["history"], list) and listed["history"]


def test_a_tracker_watches_the_whole_trip_and_says_so(users, alice, fares):
    status, body = track(
        users, alice, target_price=900, return_date="2027-02-08", cabin="business", max_stops=1
    )

    tracker = body["data"]
    assert status == 201
    assert (tracker["return_date"], tracker["cabin"], tracker["max_stops"]) == ("2027-02-08", "business", 1)
    assert watched_count(f"JFK#LAX#{DAY}#1#USD#return=2027-02-08#cabin=business#stops=1") == 1
    assert watched_count() == 0  # not the one-way economy route


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"return_date": "2027-01-31"}, "invalid_return_date"),
        ({"return_date": "2027-13-01"}, "invalid_date"),
        ({"departure_date": "2027-13-01"}, "invalid_date"),  # named as sent, not as /flights/price's `date`
        ({"departure_date": "2026-01-10"}, "date_in_past"),
        ({"cabin": "steerage"}, None),
        ({"max_stops": 3}, None),
    ],
)
def test_a_trip_shape_that_cannot_be_is_a_400(users, alice, fields, code):
    status, body = track(users, alice, target_price=250, **fields)

    assert status == 400
    if code is not None:
        assert body["error"]["code"] == code
    assert {detail["field"] for detail in body["error"]["details"]} == set(fields)
    if "departure_date" in fields:
        assert body["error"]["message"].startswith("departure_date: ")


def test_a_tracker_chooses_its_alert_channels(users, alice):
    default = track(users, alice, notify_on_any_drop=True)
    # Other rules than `default` (a target), or the create would answer `default` (a duplicate).
    webhook_only = track(users, alice, notify_on_any_drop=True, target_price=200, notify=["webhook"])
    tracker_id, version = webhook_only[1]["data"]["id"], webhook_only[1]["data"]["version"]
    none = call(
        users, "PATCH", f"/tracked-flights/{tracker_id}", {"version": version, "notify": []}, token=alice
    )
    wrong = track(users, alice, notify_on_any_drop=True, notify=["sms"])

    assert default[1]["data"]["notify"] == ["email", "webhook"]
    assert webhook_only[1]["data"]["notify"] == ["webhook"]
    assert none[0] == 200 and none[1]["data"]["notify"] == []
    assert wrong[0] == 400


def test_the_daily_search_budget_is_never_exceeded_and_a_route_past_it_waits(users, alice, clock, fares):
    from farewatch.messaging import EventBus
    from farewatch.store.poll_budget import PollBudgetStore
    from farewatch.store.tracking import AlertStore, TrackingStore
    from farewatch.tracking.poll_cycle import PollCycle

    track(users, alice, notify_on_any_drop=True)
    track(users, alice, notify_on_any_drop=True, departure_date="2027-01-20")
    cycle = PollCycle(
        trackers=TrackingStore(),
        alerts=AlertStore(),
        fares=fares,
        events=EventBus(RecordingEvents()),
        clock=clock,
        poll_interval_seconds=1800,
        daily_search_budget=1,
        budget=PollBudgetStore(),
    )
    clock.advance(1800)
    queue = RecordingQueue()

    report = cycle.dispatch(queue)
    first = cycle.refresh(ROUTE)
    second = cycle.refresh("JFK#LAX#2027-01-20#1#USD")

    assert report.routes_enqueued == 1  # the budget binds: the more valuable (nearer) route only
    assert queue.routes == ["JFK#LAX#2027-01-20#1#USD"]
    assert first.upstream_call is True and second.upstream_call is False
    assert PollBudgetStore().used(dt.date(2027, 1, 15)) == 1
    waiting = {route.route_key: route for route in TrackingStore().scheduled_routes()}
    assert waiting["JFK#LAX#2027-01-20#1#USD"].next_poll_at == clock.now() + 3600


class RecordingQueue:
    def __init__(self) -> None:
        self.routes: list[str] = []

    def send_batch(self, entries) -> list[str]:
        self.routes.extend(entry.route_key for entry in entries)
        return []


def test_the_poller_statistics_show_searches_against_the_budget_routes_due_and_the_oldest_poll(
    users, alice, tracking, clock, fares, monkeypatch
):
    from farewatch.store.poll_budget import PollBudgetStore

    monkeypatch.setattr(tracking, "_poll_budget", PollBudgetStore())
    monkeypatch.setattr(tracking, "_daily_search_budget", 100)
    track(users, alice, notify_on_any_drop=True)
    track(users, alice, notify_on_any_drop=True, departure_date="2027-01-20")
    PollBudgetStore().take(dt.date(2027, 1, 15), limit=100)
    clock.advance(1800)
    poll(clock)
    clock.advance(600)
    make_admin(users, alice)

    status, body = call(users, "GET", "/stats/poller", token=alice)

    stats = body["data"]
    assert status == 200, body
    assert (stats["searches_today"], stats["daily_budget"], stats["budget_left"]) == (1, 100, 99)
    assert (stats["routes_watched"], stats["routes_due"], stats["never_polled"]) == (2, 1, 1)
    assert stats["oldest_poll_age_seconds"] == 600 and stats["oldest_poll_at"] == "2027-01-15T08:30:00Z"
    assert stats["max_poll_age_seconds"] == 172800 and stats["budget_needed_for_max_age"] == 1


# -- the poll's DynamoDB access pattern (issue 18) ---------------------------------------------


def test_a_poll_writes_every_changed_tracker_of_a_route_in_one_transaction(users, alice, bob, clock, fares):
    from bench.dynamo_calls import DynamoCallCounter

    for token in (alice, bob):
        for target in (240, 250, 260):
            track(users, token, target_price=target)
    clock.advance(1800)
    fares.set_price("245")

    with DynamoCallCounter().installed() as counter:
        refresh = poll(clock)

    assert (
        sorted(alert.target_price for alert in refresh.alerts)
        == [Decimal(250), Decimal(250)] + [Decimal(260)] * 2
    )
    # One write for six trackers, their four alerts and the route's schedule and outbox.
    assert counter.calls["TransactWriteItems"] == 1 and counter.calls["UpdateItem"] == 0
    trackers = [
        t for token in (alice, bob) for t in call(users, "GET", "/tracked-flights", token=token)[1]["data"]
    ]
    assert {tracker["current_price"] for tracker in trackers} == {"245.00"}
    assert len({tracker["last_checked_at"] for tracker in trackers}) == 1
    assert poll(clock).alerts == []  # the same observation again: nothing new, nothing written twice


def test_a_poll_whose_trackers_moved_meanwhile_decides_each_again_and_alerts_as_one_by_one(
    users, alice, tracking, clock, fares, monkeypatch
):
    from farewatch.store.tracking import TrackingStore

    first = track(users, alice, target_price=250)[1]["data"]
    track(users, alice, target_price=230)
    clock.advance(1800)
    fares.set_price("240")
    read = TrackingStore.of_route

    def patched_while_polling(store: TrackingStore, route_key: str) -> Any:
        trackers = read(store, route_key)
        # Alice lowers the first tracker's target after the poll read it: 240 is no longer reached.
        path = f"/tracked-flights/{first['id']}"
        assert call(users, "PATCH", path, {"version": 1, "target_price": 200}, token=alice)[0] == 200
        return trackers

    monkeypatch.setattr(TrackingStore, "of_route", patched_while_polling)
    refresh = poll(clock)

    assert refresh.alerts == []  # 240 is above both targets once the first moved to 200
    trackers = call(users, "GET", "/tracked-flights", token=alice)[1]["data"]
    assert {tracker["current_price"] for tracker in trackers} == {"240.00"}
    assert call(users, "GET", "/alerts", token=alice)[1]["data"] == []


def test_a_poll_reads_no_outbox_index_when_the_routes_outbox_is_empty(users, alice, clock, fares):
    from bench.dynamo_calls import DynamoCallCounter

    track(users, alice, target_price=250)
    clock.advance(1800)

    with DynamoCallCounter().installed() as counter:
        poll(clock)

    # The route read once, its trackers' query (no outbox index query), the check and the schedule in
    # one write; the PutItem is the fake fare source's history of its fetch.
    assert counter.calls == {"GetItem": 1, "Query": 1, "TransactWriteItems": 1, "PutItem": 1}


def test_an_alert_left_in_the_index_by_a_route_from_before_is_announced_and_the_route_keeps_its_outbox(
    users, alice, clock, fares
):
    from farewatch.store.tracking import WatchedRoute

    track(users, alice, target_price=250)
    fares.set_price("240")
    clock.advance(1800)

    def bus_down(entries: Any) -> None:
        raise RuntimeError("EventBridge is down")

    with pytest.raises(RuntimeError):
        work_route(clock, fares, bus_down)
    # A route written before the outbox moved onto it: no set, no mark; the alert only in the index.
    WatchedRoute(ROUTE).update(actions=[WatchedRoute.outbox.remove(), WatchedRoute.outbox_kept.remove()])
    published: list[dict[str, Any]] = []

    work_route(clock, fares, published.extend)
    work_route(clock, fares, published.extend)

    assert [json.loads(entry["Detail"])["kind"] for entry in published] == ["target_reached"]
    route = WatchedRoute.get(ROUTE, consistent_read=True)
    assert route.outbox_kept is True and not route.outbox


def test_an_announced_alert_leaves_the_routes_outbox_and_a_deleted_one_is_dropped_from_it(
    users, alice, clock, fares
):
    from farewatch.store.tracking import WatchedRoute

    track(users, alice, target_price=250)
    fares.set_price("240")
    clock.advance(1800)

    def bus_down(entries: Any) -> None:
        raise RuntimeError("EventBridge is down")

    with pytest.raises(RuntimeError):
        work_route(clock, fares, bus_down)
    assert len(WatchedRoute.get(ROUTE, consistent_read=True).outbox or ()) == 1
    published: list[dict[str, Any]] = []
    work_route(clock, fares, published.extend)

    assert len(published) == 1
    assert not WatchedRoute.get(ROUTE, consistent_read=True).outbox


def test_without_a_budget_the_polls_searches_are_counted_once_per_batch_and_exactly(
    users, alice, clock, fares
):
    from farewatch.messaging import EventBus
    from farewatch.store.poll_budget import PollBudgetStore
    from farewatch.store.tracking import AlertStore, TrackingStore
    from farewatch.tracking.poll_cycle import PollCycle

    track(users, alice, notify_on_any_drop=True)
    track(users, alice, notify_on_any_drop=True, departure_date="2027-01-20")
    cycle = PollCycle(
        trackers=TrackingStore(),
        alerts=AlertStore(),
        fares=fares,
        events=EventBus(RecordingEvents()),
        clock=clock,
        poll_interval_seconds=1800,
        budget=PollBudgetStore(),
    )
    clock.advance(1800)

    cycle.poll_route(ROUTE)
    cycle.poll_route("JFK#LAX#2027-01-20#1#USD")
    before_flush = PollBudgetStore().used(dt.date(2027, 1, 15))
    cycle.flush_counts()
    cycle.flush_counts()  # nothing left: nothing counted twice

    assert (before_flush, PollBudgetStore().used(dt.date(2027, 1, 15))) == (0, 2)
