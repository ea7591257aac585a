"""The Duffel simulator in-process (werkzeug's test client, a hand-moved clock): Duffel's shapes,
headers, errors, pages and rate limit, its test-mode routes, and the shared control routes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from duffel_sim.app import DEFAULT_ACCESS_TOKEN, NO_OFFERS_ROUTE, SLOW_ROUTE, Simulator
from tests.support.simulators import ManualClock, RecordingSleep

HEADERS = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}", "Duffel-Version": "v2"}
RATE_LIMIT = 30
LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


class DuffelClient:
    def __init__(self, simulator: Simulator, clock: ManualClock) -> None:
        self.simulator = simulator
        self.clock = clock
        self.http = Client(simulator)

    def offer_request(
        self,
        origin: str = "JFK",
        destination: str = "LAX",
        days: int = 30,
        *,
        adults: int = 1,
        headers: dict[str, str] | None = None,
        return_offers: bool = False,
        **extra: Any,
    ) -> TestResponse:
        data = {
            "slices": [
                {"origin": origin, "destination": destination, "departure_date": self.clock.days_ahead(days)}
            ],
            "passengers": [{"type": "adult"}] * adults,
            **extra,
        }
        query = "" if return_offers else "?return_offers=false"
        return self.http.post(
            f"/air/offer_requests{query}",
            json={"data": data},
            headers=HEADERS if headers is None else headers,
        )

    def offers(self, offer_request_id: str, **params: str) -> TestResponse:
        return self.http.get(
            "/air/offers", query_string={"offer_request_id": offer_request_id, **params}, headers=HEADERS
        )

    def all_offers(self, offer_request_id: str, limit: int = 3) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params = {"sort": "total_amount", "limit": str(limit)}
        while True:
            page = self.offers(offer_request_id, **params).get_json()
            found.extend(page["data"])
            if page["meta"]["after"] is None:
                return found
            params["after"] = page["meta"]["after"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def duffel(clock: ManualClock, sleep: RecordingSleep) -> DuffelClient:
    simulator = Simulator(clock=clock, sleep=sleep, rate_limit=RATE_LIMIT, rate_limit_window_seconds=60)
    return DuffelClient(simulator, clock)


def error_of(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    assert body["meta"]["status"] == response.status_code
    assert body["meta"]["request_id"].startswith("req_")
    (error,) = body["errors"]
    assert set(error) >= {"type", "code", "title", "message", "documentation_url"}
    return dict(error)


# -- offer requests and offers ----------------------------------------------------------------------


def test_an_offer_request_is_created_without_its_offers_when_asked(duffel: DuffelClient) -> None:
    response = duffel.offer_request(adults=2)

    assert response.status_code == 201
    assert response.content_type == "application/json; charset=utf-8"
    data = response.get_json()["data"]
    assert data["id"].startswith("orq_") and data["live_mode"] is False
    assert "offers" not in data
    assert [p["type"] for p in data["passengers"]] == ["adult", "adult"]
    assert data["slices"][0]["departure_date"] == duffel.clock.days_ahead(30)


def test_an_offer_request_returns_its_offers_by_default(duffel: DuffelClient) -> None:
    data = duffel.offer_request(return_offers=True).get_json()["data"]

    assert data["offers"] and all(offer["id"].startswith("off_") for offer in data["offers"])


def test_offers_have_duffels_shape(duffel: DuffelClient) -> None:
    orq = duffel.offer_request().get_json()["data"]["id"]

    offer = duffel.offers(orq, limit="1").get_json()["data"][0]

    assert re.fullmatch(r"\d+\.\d{2}", offer["total_amount"]) and offer["total_currency"] == "USD"
    assert set(offer["owner"]) >= {"iata_code", "name"}
    assert offer["expires_at"].endswith("Z")
    (journey,) = offer["slices"]
    assert journey["origin"]["iata_code"] == "JFK" and journey["destination"]["iata_code"] == "LAX"
    assert journey["duration"].startswith("PT")
    for segment in journey["segments"]:
        assert LOCAL_TIME.fullmatch(segment["departing_at"]) and LOCAL_TIME.fullmatch(segment["arriving_at"])
        assert segment["marketing_carrier"]["iata_code"] and segment["marketing_carrier_flight_number"]
        assert segment["operating_carrier"]["iata_code"]


def test_pages_cover_every_offer_once_cheapest_first(duffel: DuffelClient) -> None:
    orq = duffel.offer_request().get_json()["data"]["id"]
    everything = duffel.offers(orq, limit="200").get_json()["data"]

    paged = duffel.all_offers(orq, limit=2)

    assert sorted(o["id"] for o in paged) == sorted(o["id"] for o in everything)
    amounts = [Decimal(o["total_amount"]) for o in paged]
    assert amounts == sorted(amounts)


def test_the_last_page_has_no_after_and_later_pages_have_a_before(duffel: DuffelClient) -> None:
    orq = duffel.offer_request().get_json()["data"]["id"]

    first = duffel.offers(orq, limit="2").get_json()["meta"]
    second = duffel.offers(orq, limit="2", after=first["after"]).get_json()["meta"]
    last = duffel.offers(orq, limit="200").get_json()["meta"]

    assert first["before"] is None and first["after"] and second["before"]
    assert (last["after"], last["limit"]) == (None, 200)


def test_a_pinned_fare_is_the_cheapest_for_each_adult(duffel: DuffelClient) -> None:
    duffel.simulator.pin_price("JFK", "LAX", duffel.clock.days_ahead(30), "150.25")
    orq = duffel.offer_request(adults=2).get_json()["data"]["id"]

    cheapest = duffel.offers(orq, sort="total_amount", limit="1").get_json()["data"][0]

    assert (cheapest["total_amount"], cheapest["total_currency"]) == ("300.50", "USD")


def test_prices_hold_within_half_an_hour_and_drift_after(duffel: DuffelClient) -> None:
    def cheapest() -> str:
        orq = duffel.offer_request().get_json()["data"]["id"]
        return str(duffel.offers(orq, sort="total_amount", limit="1").get_json()["data"][0]["total_amount"])

    first = cheapest()
    duffel.clock.advance(60)
    again = cheapest()
    duffel.clock.advance(3 * 3600)

    assert first == again
    assert cheapest() != first


def test_nonstop_requests_return_only_nonstops(duffel: DuffelClient) -> None:
    every = duffel.offer_request(return_offers=True).get_json()["data"]["offers"]
    data = duffel.offer_request(return_offers=True, max_connections=0).get_json()["data"]

    nonstops = [offer for offer in every if len(offer["slices"][0]["segments"]) == 1]
    assert nonstops and len(nonstops) < len(every)
    assert all(len(offer["slices"][0]["segments"]) == 1 for offer in data["offers"])
    assert len(data["offers"]) == len(nonstops)


# -- test-mode routes ------------------------------------------------------------------------------


def test_the_no_offers_route_has_no_offers(duffel: DuffelClient) -> None:
    orq = duffel.offer_request(*NO_OFFERS_ROUTE).get_json()["data"]["id"]

    page = duffel.offers(orq).get_json()

    assert page["data"] == [] and page["meta"]["after"] is None


def test_the_slow_route_takes_longer_than_a_client_waits(duffel: DuffelClient, sleep: RecordingSleep) -> None:
    response = duffel.offer_request(*SLOW_ROUTE)

    assert response.status_code == 201
    assert sleep.calls == [30.0]


# -- errors ----------------------------------------------------------------------------------------


def test_a_request_without_a_token_is_a_401(duffel: DuffelClient) -> None:
    response = duffel.offer_request(headers={"Duffel-Version": "v2"})

    assert response.status_code == 401
    assert error_of(response)["type"] == "authentication_error"


def test_a_wrong_token_is_a_401_access_token_not_found(duffel: DuffelClient) -> None:
    response = duffel.offer_request(
        headers={"Authorization": "Bearer duffel_test_nope", "Duffel-Version": "v2"}
    )

    assert response.status_code == 401
    assert error_of(response)["code"] == "access_token_not_found"


@pytest.mark.parametrize("version", [None, "v1", "beta"])
def test_the_duffel_version_header_is_required(duffel: DuffelClient, version: str | None) -> None:
    headers = {"Authorization": HEADERS["Authorization"]}
    if version is not None:
        headers["Duffel-Version"] = version

    response = duffel.offer_request(headers=headers)

    assert response.status_code == 400
    assert error_of(response)["code"] == "unsupported_version"


def test_validation_reports_every_problem_at_once(duffel: DuffelClient) -> None:
    response = duffel.http.post(
        "/air/offer_requests",
        json={"data": {"slices": [{"origin": "jfk", "departure_date": "2020-01-01"}], "passengers": []}},
        headers=HEADERS,
    )

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    pointers = {error["source"]["pointer"] for error in errors}
    assert pointers == {
        "/data/slices/0/origin",
        "/data/slices/0/destination",
        "/data/slices/0/departure_date",
        "/data/passengers",
    }
    assert {error["type"] for error in errors} == {"validation_error"}


def test_an_unknown_offer_request_is_a_404(duffel: DuffelClient) -> None:
    response = duffel.offers("orq_unknown")

    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
def test_a_page_size_out_of_range_is_a_400(duffel: DuffelClient, limit: str) -> None:
    orq = duffel.offer_request().get_json()["data"]["id"]

    assert duffel.offers(orq, limit=limit).status_code == 400


# -- rate limit ------------------------------------------------------------------------------------


def test_every_answer_carries_the_rate_limit_headers(duffel: DuffelClient) -> None:
    ok = duffel.offer_request()
    refused = duffel.offer_request(headers={"Duffel-Version": "v2"})

    for response in (ok, refused):
        assert response.headers["ratelimit-limit"] == str(RATE_LIMIT)
        parsedate_to_datetime(response.headers["ratelimit-reset"])
    assert int(ok.headers["ratelimit-remaining"]) == RATE_LIMIT - 1


def test_over_the_limit_is_a_429_until_the_window_resets(duffel: DuffelClient) -> None:
    for _ in range(RATE_LIMIT):
        assert duffel.offer_request().status_code == 201

    refused = duffel.offer_request()
    wait = parsedate_to_datetime(refused.headers["ratelimit-reset"]).timestamp() - duffel.clock.now
    duffel.clock.advance(wait)

    assert refused.status_code == 429 and error_of(refused)["code"] == "rate_limit_exceeded"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 0 < wait <= 60
    assert duffel.offer_request().status_code == 201


# -- faults, pins, stats and reset (the shared control routes) -------------------------------------


def test_a_500_fault_answers_duffels_internal_error_then_recovers(duffel: DuffelClient) -> None:
    duffel.http.post("/__sim/faults", json={"mode": "http500", "count": 1})

    failed = duffel.offer_request()

    assert failed.status_code == 500 and error_of(failed)["code"] == "internal_server_error"
    assert duffel.offer_request().status_code == 201


def test_a_429_fault_says_to_come_back_within_two_seconds(duffel: DuffelClient) -> None:
    duffel.simulator.set_fault("http429", 1)

    refused = duffel.offer_request()

    reset_at = parsedate_to_datetime(refused.headers["ratelimit-reset"]).timestamp()
    assert refused.status_code == 429 and 0 < reset_at - duffel.clock.now <= 2


def test_a_timeout_fault_sleeps_before_answering(duffel: DuffelClient, sleep: RecordingSleep) -> None:
    duffel.simulator.set_fault("timeout", 1)

    assert duffel.offer_request().status_code == 201
    assert sleep.calls == [35.0]


def test_a_malformed_fault_cuts_the_body_short(duffel: DuffelClient) -> None:
    duffel.simulator.set_fault("malformed", 1)

    response = duffel.offer_request()

    with pytest.raises(ValueError):
        response.get_json(force=True)


def test_an_expired_token_fault_refuses_the_token_once(duffel: DuffelClient) -> None:
    duffel.simulator.set_fault("expired_token", 1)

    assert duffel.offer_request().status_code == 401
    assert duffel.offer_request().status_code == 201


def test_control_routes_pin_unpin_count_and_reset(duffel: DuffelClient) -> None:
    date = duffel.clock.days_ahead(30)
    pinned = duffel.http.put(f"/__sim/prices/JFK/LAX/{date}", json={"amount": 99.5, "currency": "USD"})
    orq = duffel.offer_request().get_json()["data"]["id"]
    duffel.offers(orq)
    stats = duffel.http.get("/__sim/stats").get_json()
    unpinned = duffel.http.delete(f"/__sim/prices/JFK/LAX/{date}")
    reset = duffel.http.post("/__sim/reset")

    assert pinned.status_code == 200 and pinned.get_json()["pinned"] is True
    assert stats == {"token_requests": 0, "search_requests": 1, "offer_list_requests": 1}
    assert unpinned.get_json()["was_pinned"] is True
    assert reset.get_json() == {
        "reset": True,
        "token_requests": 0,
        "search_requests": 0,
        "offer_list_requests": 0,
    }
    assert duffel.offers(orq).status_code == 404  # offer requests are forgotten too


@pytest.mark.parametrize(
    ("path", "body"),
    [("/__sim/faults", {"mode": "explode"}), ("/__sim/prices/JFK/LAX/2027-01-01", {"amount": -1})],
)
def test_bad_control_input_is_a_400(duffel: DuffelClient, path: str, body: dict[str, Any]) -> None:
    response = duffel.http.put(path, json=body) if "prices" in path else duffel.http.post(path, json=body)

    assert response.status_code == 400 and "error" in response.get_json()


def test_the_sim_clock_sets_offer_timestamps(duffel: DuffelClient) -> None:
    data = duffel.offer_request(return_offers=True).get_json()["data"]

    created = dt.datetime.fromisoformat(data["created_at"].replace("Z", "+00:00")).timestamp()
    assert abs(created - duffel.clock.now) < 1
