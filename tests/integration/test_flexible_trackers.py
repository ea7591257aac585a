"""Flexible dates on trackers (issue 15): a window of departure dates, shared watched routes, one
alert per fall naming the date that won. Through the users function and the real poll cycle on moto;
fares from the fake FareService of test_tracking_api, time a ManualClock (it starts on 2027-01-15).
"""

# ruff: noqa: F811  (the fixtures of test_tracking_api, imported by name, are parameters here)
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.test_tracking_api import (  # noqa: F401  (fixtures)
    DAY,
    alice,
    bob,
    call,
    clock,
    fares,
    limit,
    poll,
    track,
    tracking,
    users,
    watched_count,
)

WINDOW = ["2027-01-30", "2027-01-31", "2027-02-01", "2027-02-02", "2027-02-03"]  # DAY ± 2


def key(day: str, extra: str = "") -> str:
    return f"JFK#LAX#{day}#1#USD{extra}"


def counts(days: list[str], extra: str = "") -> list[int]:
    return [watched_count(key(day, extra)) for day in days]


def due_routes(clock: Any) -> set[str]:
    from farewatch import composition

    return set(composition.poll_cycle().due_routes(ahead=3600))


def alerts_of(users: Any, token: str) -> list[dict[str, Any]]:
    return call(users, "GET", "/alerts", token=token)[1]["data"]


def poll_all(clock: Any, days: list[str]) -> list[Any]:
    """Poll every date's route, each twice (the second finds a fresh cache: nothing new)."""
    return [alert for day in days for _ in range(2) for alert in poll(clock, key(day)).alerts]


# -- the window and its shared watched routes -----------------------------------------------------


def test_a_flexible_tracker_watches_every_date_of_its_window_and_names_the_cheapest(users, alice, fares):
    fares.set_price("260.00", key("2027-02-02"))

    status, body = track(users, alice, notify_on_any_drop=True, flex_days=2)

    tracker = body["data"]
    assert status == 201 and tracker["flex_days"] == 2
    assert counts(WINDOW) == [1, 1, 1, 1, 1]
    assert counts(["2027-01-29", "2027-02-04"]) == [0, 0]
    assert (tracker["best_date"], tracker["best_price"], tracker["current_price"]) == (
        "2027-02-02",
        "260.00",
        "260.00",
    )
    assert [(day["departure_date"], day["price"]) for day in tracker["window"]] == [
        (day, "260.00" if day == "2027-02-02" else "300.00") for day in WINDOW
    ]


def test_overlapping_windows_share_the_dates_they_have_in_common_and_delete_releases_them(
    users, alice, bob, clock
):
    first = track(users, alice, notify_on_any_drop=True, flex_days=2)[1]["data"]  # Jan 30 - Feb 3
    second = track(users, bob, notify_on_any_drop=True, departure_date="2027-02-03", flex_days=1)[1]["data"]
    days = [*WINDOW, "2027-02-04"]

    assert counts(days) == [1, 1, 1, 2, 2, 1]
    assert due_routes(clock) == {key(day) for day in days}

    assert call(users, "DELETE", f"/tracked-flights/{first['id']}", token=alice)[0] == 204
    assert counts(days) == [0, 0, 0, 1, 1, 1]
    assert due_routes(clock) == {key(day) for day in days[3:]}

    assert call(users, "DELETE", f"/tracked-flights/{second['id']}", token=bob)[0] == 204
    assert counts(days) == [0] * 6
    assert due_routes(clock) == set()


def test_a_round_trip_window_keeps_the_stay_on_every_date(users, alice):
    status, body = track(users, alice, target_price=500, return_date="2027-02-08", flex_days=1)

    assert status == 201
    assert [
        watched_count(key(out, f"#return={back}"))
        for out, back in [
            ("2027-01-31", "2027-02-07"),
            ("2027-02-01", "2027-02-08"),
            ("2027-02-02", "2027-02-09"),
        ]
    ] == [1, 1, 1]
    assert [(day["departure_date"], day["return_date"]) for day in body["data"]["window"]] == [
        ("2027-01-31", "2027-02-07"),
        ("2027-02-01", "2027-02-08"),
        ("2027-02-02", "2027-02-09"),
    ]


def test_changing_the_window_releases_the_dates_it_leaves_and_counts_those_it_joins(users, alice, bob, clock):
    mine = track(users, alice, notify_on_any_drop=True, flex_days=2)[1]["data"]
    track(users, bob, notify_on_any_drop=True)  # Feb 1 alone
    path = f"/tracked-flights/{mine['id']}"

    status, narrowed = call(users, "PATCH", path, {"version": 1, "flex_days": 0}, token=alice)
    assert status == 200 and narrowed["data"]["flex_days"] == 0 and narrowed["data"]["window"] == []
    assert counts(WINDOW) == [0, 0, 2, 0, 0]
    assert due_routes(clock) == {key(DAY)}

    status, widened = call(users, "PATCH", path, {"version": 2, "flex_days": 3}, token=alice)
    assert status == 200 and widened["data"]["version"] == 3
    assert counts(["2027-01-29", *WINDOW, "2027-02-04"]) == [1, 1, 1, 2, 1, 1, 1]
    assert len(widened["data"]["window"]) == 7

    assert call(users, "DELETE", path, token=alice)[0] == 204
    assert counts(["2027-01-29", *WINDOW, "2027-02-04"]) == [0, 0, 0, 1, 0, 0, 0]


def test_a_stale_version_changes_no_window(users, alice):
    mine = track(users, alice, notify_on_any_drop=True, flex_days=1)[1]["data"]
    path = f"/tracked-flights/{mine['id']}"
    assert call(users, "PATCH", path, {"version": 1, "flex_days": 2}, token=alice)[0] == 200

    status, body = call(users, "PATCH", path, {"version": 1, "flex_days": 0}, token=alice)

    assert status == 409 and body["error"]["code"] == "version_conflict"
    assert counts(WINDOW) == [1, 1, 1, 1, 1]
    assert call(users, "GET", path, token=alice)[1]["data"]["flex_days"] == 2


@pytest.mark.parametrize("limit", [2])
def test_a_flexible_tracker_counts_once_toward_the_limit_and_a_refused_one_watches_nothing(
    users, alice, limit
):
    assert track(users, alice, target_price=200, flex_days=3)[0] == 201
    assert track(users, alice, target_price=210, flex_days=3)[0] == 201

    status, body = track(users, alice, target_price=220, departure_date="2027-02-10", flex_days=3)

    assert status == 409 and body["error"]["code"] == "tracker_limit_reached"
    assert counts(["2027-02-07", "2027-02-10", "2027-02-13"]) == [0, 0, 0]
    assert counts(["2027-01-29", DAY, "2027-02-04"]) == [2, 2, 2]


def test_the_same_window_twice_is_the_same_tracker_and_another_window_is_another(users, alice):
    first = track(users, alice, target_price=250, flex_days=2)
    again = track(users, alice, target_price=250, flex_days=2)
    other = track(users, alice, target_price=250, flex_days=1)

    assert (first[0], again[0], other[0]) == (201, 200, 201)
    assert again[1]["data"]["id"] == first[1]["data"]["id"] != other[1]["data"]["id"]
    assert counts(WINDOW) == [1, 2, 2, 2, 1]


@pytest.mark.parametrize("flex_days", [4, -1, "2", 1.5, True, None])
def test_flex_days_outside_0_to_3_or_not_a_whole_number_is_a_400(users, alice, flex_days):
    status, body = track(users, alice, target_price=250, flex_days=flex_days)

    assert status == 400 and body["error"]["code"] == "invalid_body"
    assert [detail["field"] for detail in body["error"]["details"]] == ["flex_days"]
    assert counts(WINDOW) == [0] * 5


def test_a_patch_to_flex_days_past_3_is_a_400_and_changes_nothing(users, alice):
    mine = track(users, alice, target_price=250, flex_days=1)[1]["data"]

    status, body = call(
        users, "PATCH", f"/tracked-flights/{mine['id']}", {"version": 1, "flex_days": 7}, token=alice
    )

    assert status == 400 and body["error"]["details"][0]["field"] == "flex_days"
    assert counts(WINDOW) == [0, 1, 1, 1, 0]


# -- polling and alerts -----------------------------------------------------------------------------


def test_a_drop_on_any_date_of_the_window_alerts_once_naming_that_date(users, alice, clock, fares):
    track(users, alice, notify_on_any_drop=True, flex_days=2)
    clock.advance(1800)
    fares.set_price("240.00", key("2027-02-02"))
    for day in WINDOW:
        if day != "2027-02-02":
            fares.set_price("300.00", key(day))  # fetched again, unchanged

    made = poll_all(clock, WINDOW)

    assert len(made) == 1
    alert = alerts_of(users, alice)
    assert [(a["best_date"], a["departure_date"], a["price"], a["previous_price"]) for a in alert] == [
        ("2027-02-02", "2027-02-02", "240.00", "300.00")
    ]
    listed = call(users, "GET", "/tracked-flights", token=alice)[1]["data"][0]
    alone = call(users, "GET", f"/tracked-flights/{listed['id']}", token=alice)[1]["data"]
    assert listed == alone
    assert (alone["best_date"], alone["best_price"], alone["current_price"]) == (
        "2027-02-02",
        "240.00",
        "240.00",
    )


def test_trackers_sharing_a_date_are_each_alerted_by_its_one_poll(users, alice, bob, clock, fares):
    track(users, alice, notify_on_any_drop=True, flex_days=2)
    track(users, bob, notify_on_any_drop=True, departure_date="2027-02-03")
    clock.advance(1800)
    fares.set_price("250.00", key("2027-02-03"))

    refresh = poll(clock, key("2027-02-03"))

    assert refresh.upstream_call and len(refresh.alerts) == 2
    assert [a["best_date"] for a in alerts_of(users, alice)] == ["2027-02-03"]
    assert [(a["best_date"], a["departure_date"]) for a in alerts_of(users, bob)] == [(None, "2027-02-03")]


def test_two_dates_falling_at_the_same_instant_are_two_alerts_and_a_rise_elsewhere_none(
    users, alice, clock, fares
):
    track(users, alice, notify_on_any_drop=True, flex_days=2)
    clock.advance(1800)
    fares.set_price("280.00", key("2027-01-31"))
    fares.set_price("260.00", key("2027-02-03"))
    fares.set_price("350.00", key(DAY))

    made = poll_all(clock, WINDOW)

    assert [(alert.best_date, str(alert.price)) for alert in made] == [
        ("2027-01-31", "280.00"),
        ("2027-02-03", "260.00"),
    ]
    assert len({alert.id for alert in made}) == 2


def test_a_target_alert_names_the_date_under_the_target_and_only_once(users, alice, clock, fares):
    track(users, alice, target_price=250, flex_days=1)
    for _ in range(2):
        clock.advance(1800)
        fares.set_price("245.00", key("2027-01-31"))
        poll_all(clock, ["2027-01-31", DAY, "2027-02-02"])

    assert [(a["kind"], a["best_date"], a["price"]) for a in alerts_of(users, alice)] == [
        ("target_reached", "2027-01-31", "245.00")
    ]


def test_a_date_that_passes_drops_out_of_the_window(users, alice, clock, fares):
    # The clock's today is 2027-01-15 in New York: Jan 14 is never watched.
    fares.set_price("150.00", key("2027-01-15"))
    body = track(users, alice, notify_on_any_drop=True, departure_date="2027-01-16", flex_days=2)[1]["data"]
    assert [day["departure_date"] for day in body["window"]] == [
        "2027-01-15",
        "2027-01-16",
        "2027-01-17",
        "2027-01-18",
    ]
    assert body["best_date"] == "2027-01-15" and watched_count(key("2027-01-14")) == 0

    clock.advance(2 * 86400)  # Jan 17: the 15th and 16th have departed
    fares.set_price("320.00", key("2027-01-17"))
    made = poll(clock, key("2027-01-17")).alerts

    tracker = call(users, "GET", f"/tracked-flights/{body['id']}", token=alice)[1]["data"]
    assert made == []  # the cheapest date left is dearer: a rise, not a drop
    assert [day["departure_date"] for day in tracker["window"]] == ["2027-01-17", "2027-01-18"]
    assert tracker["status"] == "active" and tracker["best_date"] == "2027-01-18"
    assert not {key("2027-01-15"), key("2027-01-16")} & due_routes(clock)


def test_the_alert_mail_and_webhook_name_the_winning_date(users, alice, clock, fares):
    from farewatch.notify.mail import price_drop_mail
    from farewatch.store.tracking import AlertStore
    from farewatch.tracking.events import PriceDropDetected, webhook_body

    track(users, alice, notify_on_any_drop=True, flex_days=2)
    clock.advance(1800)
    fares.set_price("199.00", key("2027-01-30"))
    made = poll(clock, key("2027-01-30")).alerts
    assert len(made) == 1
    stored = AlertStore().unpublished_of_route(key("2027-01-30"))[0]
    event = PriceDropDetected.of(stored)

    mail = price_drop_mail(
        event, to="alice@example.com", tracker_url="https://x/t", unsubscribe_url="https://x/u"
    )
    payload = json.loads(json.dumps(webhook_body(event, timestamp="2027-01-15T08:30:00Z")))

    assert "30 Jan 2027" in mail.subject or "30 Jan" in mail.subject
    assert "The cheapest day of your flexible dates: 30 Jan 2027." in mail.text
    assert payload["data"]["best_date"] == "2027-01-30" and payload["data"]["departure_date"] == "2027-01-30"


def test_deleting_an_account_removes_a_flexible_trackers_watches_and_counts(users, alice, bob):
    from farewatch.store.tracking import TrackerRecord

    track(users, alice, notify_on_any_drop=True, flex_days=2)
    track(users, bob, notify_on_any_drop=True, flex_days=1)

    assert call(users, "DELETE", "/users/me", token=alice)[0] == 204

    assert counts(WINDOW) == [0, 1, 1, 1, 0]
    bob_id = call(users, "GET", "/users/me", token=bob)[1]["data"]["id"]
    assert {record.user_id for record in TrackerRecord.scan()} == {bob_id}


def test_two_dates_polled_at_once_never_lose_each_others_price(users, alice, clock, fares):
    from decimal import Decimal

    from farewatch.store.tracking import TrackingStore
    from farewatch.tracking.values import DatePrice, PricePoint

    mine = track(users, alice, notify_on_any_drop=True, flex_days=2)[1]["data"]
    user_id = call(users, "GET", "/users/me", token=alice)[1]["data"]["id"]
    stale = TrackingStore().get(user_id, mine["id"])
    assert stale is not None
    clock.advance(1800)
    fares.set_price("280.00", key("2027-01-31"))
    assert len(poll(clock, key("2027-01-31")).alerts) == 1  # another worker's date, written first

    late = DatePrice(dt_date("2027-02-03"), Decimal("290.00"), clock.now())
    applied = TrackingStore().record_check(
        stale,
        seen=PricePoint(Decimal("290.00"), "USD", clock.now()),
        last_alerted_price=None,
        alert=None,
        window_prices=(late,),
    )

    assert applied is False  # its window was read before the other date's price: decide again
    window = call(users, "GET", f"/tracked-flights/{mine['id']}", token=alice)[1]["data"]["window"]
    assert [day["price"] for day in window] == ["300.00", "280.00", "300.00", "300.00", "300.00"]


def dt_date(text: str) -> Any:
    import datetime

    return datetime.date.fromisoformat(text)


@pytest.mark.parametrize("limit", [3])
def test_concurrent_flexible_creations_never_pass_the_limit_nor_miscount_a_date(
    users, tracking, limit, atomic_dynamodb
):
    import threading
    from decimal import Decimal

    from farewatch.errors import Conflict
    from farewatch.fare_query import parse_fare_query

    query = parse_fare_query({"origin": "JFK", "destination": "LAX", "date": DAY}, clock=tracking.clock)
    outcomes: list[str] = []

    def create(target: int) -> None:
        try:
            tracking.create(
                "user1", query, target_price=Decimal(target), notify_on_any_drop=True, flex_days=2
            )
            outcomes.append("created")
        except Conflict as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=create, args=(200 + n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created"] * 3 + ["tracker_limit_reached"] * 5
    assert counts(WINDOW) == [3] * 5
