"""The Amadeus simulator's gateway behaviour: tokens, authorization, rate limit, faults, control routes.

Search validation and the offers themselves are in test_amadeus_sim_search.py; serving over real
HTTP is in test_amadeus_sim_server.py. Time is a ManualClock and the timeout fault's sleep is
recorded, so nothing here waits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from amadeus_sim.app import FLIGHT_OFFERS_PATH, TOKEN_PATH, Simulator
from tests.support.simulators import ManualClock, RecordingSleep, SimulatorClient

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "amadeus"
AMADEUS_JSON = "application/vnd.amadeus+json"


def published_schema(spec_file: str, pointer: str) -> Draft4Validator:
    """A validator for one schema inside Amadeus's own OpenAPI file, its $refs resolved in that file."""
    if not REFERENCE.is_dir():
        pytest.skip(f"Amadeus reference files not found at {REFERENCE}")
    document = json.loads((REFERENCE / spec_file).read_text(encoding="utf-8"))
    uri = f"urn:amadeus:{spec_file}"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(document, default_specification=DRAFT4)
    )
    return Draft4Validator({"$ref": f"{uri}#{pointer}"}, registry=registry)


AUTHORIZATION_SPEC = "Authorizaton_v1_swagger_specification.json"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def simulator(clock: ManualClock, sleep: RecordingSleep) -> Simulator:
    return Simulator(clock=clock, sleep=sleep)


@pytest.fixture
def client(simulator: Simulator) -> SimulatorClient:
    return SimulatorClient(simulator)


@pytest.fixture
def route(clock: ManualClock) -> dict[str, Any]:
    return {
        "originLocationCode": "JFK",
        "destinationLocationCode": "LAX",
        "departureDate": clock.days_ahead(30),
        "adults": 1,
    }


def first_issue(answer: Any) -> dict[str, Any]:
    return answer.get_json()["errors"][0]


def set_fault(client: SimulatorClient, mode: str, count: int | None = None) -> Any:
    body: dict[str, Any] = {"mode": mode}
    if count is not None:
        body["count"] = count
    return client.http.post("/__sim/faults", json=body)


# --- Tokens --------------------------------------------------------------------------------------


def test_token_is_issued_for_the_configured_client_credentials(client: SimulatorClient):
    answer = client.request_token()

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    token = answer.get_json()
    assert token["type"] == "amadeusOAuth2Token"
    assert token["client_id"] == "farewatch-local"
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 1799
    assert token["state"] == "approved"
    assert token["scope"] == ""
    assert token["username"] and token["application_name"]
    assert token["access_token"].isalnum() and len(token["access_token"]) >= 20


def test_token_answer_matches_the_published_token_schema(client: SimulatorClient):
    schema = published_schema(AUTHORIZATION_SPEC, "/components/schemas/AmadeusOAuth2Token")

    schema.validate(client.request_token().get_json())


def test_every_token_request_gets_a_new_opaque_token(client: SimulatorClient):
    assert client.token() != client.token()


def test_token_lifetime_can_be_configured(clock: ManualClock):
    client = SimulatorClient(Simulator(clock=clock, token_ttl_seconds=60))

    assert client.request_token().get_json()["expires_in"] == 60


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": None}, 400, "invalid_request"),
        ({"client_secret": None}, 400, "invalid_request"),
        ({"client_id": None}, 400, "invalid_request"),
    ],
)
def test_token_request_errors_use_the_published_error_body(
    client: SimulatorClient, form: dict[str, Any], status: int, error: str
):
    schema = published_schema(AUTHORIZATION_SPEC, "/components/schemas/ErrorResponse")

    answer = client.request_token(**form)

    assert answer.status_code == status
    assert answer.get_json()["error"] == error
    schema.validate(answer.get_json())


def test_bad_credentials_answer_exactly_like_amadeus(client: SimulatorClient):
    answer = client.request_token(client_secret="wrong")

    assert answer.status_code == 401
    assert answer.get_json() == {
        "error": "invalid_client",
        "error_description": "Client credentials are invalid",
        "code": 38187,
        "title": "Invalid parameters",
    }


def test_credentials_come_from_the_constructor(clock: ManualClock):
    simulator = Simulator(client_id="bench-client", client_secret="bench-secret", clock=clock)

    answer = SimulatorClient(simulator).request_token()

    assert answer.status_code == 200
    assert answer.get_json()["client_id"] == "bench-client"


def test_token_works_until_its_lifetime_ends(
    client: SimulatorClient, clock: ManualClock, route: dict[str, Any]
):
    token = client.token()

    clock.advance(1798)
    still_valid = client.search(token=token, **route)
    clock.advance(1)
    expired = client.search(token=token, **route)

    assert still_valid.status_code == 200
    assert expired.status_code == 401
    assert first_issue(expired) == {
        "status": 401,
        "code": 38192,
        "title": "Access token expired",
        "detail": "The access token is expired",
    }


def test_a_new_token_works_after_the_old_one_expired(
    client: SimulatorClient, clock: ManualClock, route: dict[str, Any]
):
    client.token()
    clock.advance(3600)

    assert client.search(**route).status_code == 200


def test_token_info_reports_the_remaining_lifetime(client: SimulatorClient, clock: ManualClock):
    token = client.token()
    clock.advance(799)

    info = client.http.get(f"{TOKEN_PATH}/{token}")

    assert info.status_code == 200
    assert info.get_json()["expires_in"] == 1000
    assert info.get_json()["state"] == "approved"


def test_token_info_shows_an_expired_token_as_expired(client: SimulatorClient, clock: ManualClock):
    token = client.token()
    clock.advance(1800)

    info = client.http.get(f"{TOKEN_PATH}/{token}").get_json()

    assert (info["state"], info["expires_in"]) == ("expired", 0)


def test_token_info_for_an_unknown_token_is_404(client: SimulatorClient):
    schema = published_schema(AUTHORIZATION_SPEC, "/components/schemas/ErrorResponse")

    info = client.http.get(f"{TOKEN_PATH}/not-a-token")

    assert info.status_code == 404
    schema.validate(info.get_json())


# --- Authorization on flight-offers -------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic abc123", "Bearer", "Bearer ", "Bearer two words", "abc123"],
    ids=["missing", "empty", "basic", "no-token", "blank-token", "spaces", "no-scheme"],
)
def test_missing_or_malformed_authorization_is_38191(
    client: SimulatorClient, route: dict[str, Any], authorization: str | None
):
    answer = client.search(headers={"Authorization": authorization}, **route)

    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == AMADEUS_JSON
    assert first_issue(answer) == {
        "status": 401,
        "code": 38191,
        "title": "Invalid HTTP header",
        "detail": "Missing or invalid format for mandatory Authorization header",
    }


def test_unknown_token_is_38190(client: SimulatorClient, route: dict[str, Any]):
    answer = client.search(token="madeUpToken123", **route)

    assert answer.status_code == 401
    assert first_issue(answer)["code"] == 38190
    assert first_issue(answer)["title"] == "Invalid access token"


def test_authorization_is_checked_before_the_query(client: SimulatorClient):
    answer = client.search(token="madeUpToken123", adults="lots")

    assert first_issue(answer)["code"] == 38190


# --- Rate limit ------------------------------------------------------------------------------


def test_more_than_ten_requests_in_a_second_are_refused_with_429(
    client: SimulatorClient, route: dict[str, Any]
):
    token = client.token()

    answers = [client.search(token=token, **route) for _ in range(11)]

    assert [answer.status_code for answer in answers] == [200] * 10 + [429]
    assert answers[-1].headers["Content-Type"] == AMADEUS_JSON
    assert first_issue(answers[-1]) == {
        "status": 429,
        "code": 38194,
        "title": "Too many requests",
        "detail": "The network rate limit is exceeded, please try again later",
    }
    assert client.simulator.stats() == {"token_requests": 1, "search_requests": 11, "rate_limited": 1}


def test_the_rate_limit_window_slides_with_the_clock(
    client: SimulatorClient, clock: ManualClock, route: dict[str, Any]
):
    token = client.token()
    for _ in range(5):
        client.search(token=token, **route)
    clock.advance(0.5)
    for _ in range(5):
        client.search(token=token, **route)

    refused_at_half_second = client.search(token=token, **route)
    clock.advance(0.5)  # the first five are now more than a second old
    admitted_at_one_second = client.search(token=token, **route)

    assert refused_at_half_second.status_code == 429
    assert admitted_at_one_second.status_code == 200


def test_rate_limit_zero_disables_it(clock: ManualClock, route: dict[str, Any]):
    client = SimulatorClient(Simulator(clock=clock, rate_limit_tps=0))
    token = client.token()

    statuses = {client.search(token=token, **route).status_code for _ in range(30)}

    assert statuses == {200}


def test_the_rate_limit_is_configurable(clock: ManualClock, route: dict[str, Any]):
    client = SimulatorClient(Simulator(clock=clock, rate_limit_tps=2))
    token = client.token()

    statuses = [client.search(token=token, **route).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


# --- Faults ------------------------------------------------------------------------------------


def test_http500_fault_fails_the_next_n_searches_then_recovers(
    client: SimulatorClient, route: dict[str, Any]
):
    token = client.token()
    set_fault(client, "http500", count=2)

    statuses = [client.search(token=token, **route) for _ in range(3)]

    assert [answer.status_code for answer in statuses] == [500, 500, 200]
    assert first_issue(statuses[0])["code"] == 141
    assert first_issue(statuses[0])["title"] == "SYSTEM ERROR HAS OCCURRED"
    assert statuses[0].headers["Content-Type"] == AMADEUS_JSON


def test_http500_fault_body_matches_the_published_error_schema(
    client: SimulatorClient, route: dict[str, Any]
):
    schema = published_schema("FlightOffersSearch_v2_swagger_specification.json", "/definitions/Error_500")
    set_fault(client, "http500", count=1)

    schema.validate(client.search(**route).get_json())


def test_http429_fault_answers_too_many_requests(client: SimulatorClient, route: dict[str, Any]):
    set_fault(client, "http429", count=1)

    answer = client.search(**route)

    assert answer.status_code == 429
    assert first_issue(answer)["code"] == 38194


def test_timeout_fault_waits_then_answers_normally(
    client: SimulatorClient, sleep: RecordingSleep, route: dict[str, Any]
):
    set_fault(client, "timeout", count=1)

    slow = client.search(**route)
    fast = client.search(**route)

    assert sleep.calls == [35.0]
    assert slow.status_code == 200 and slow.get_json() == fast.get_json()


def test_timeout_fault_duration_is_configurable(clock: ManualClock, route: dict[str, Any]):
    sleep = RecordingSleep()
    client = SimulatorClient(Simulator(clock=clock, sleep=sleep, timeout_fault_seconds=2.5))
    client.simulator.set_fault("timeout", count=1)

    client.search(**route)

    assert sleep.calls == [2.5]


def test_expired_token_fault_really_expires_the_presented_token(
    client: SimulatorClient, route: dict[str, Any]
):
    token = client.token()
    set_fault(client, "expired_token", count=1)

    faulted = client.search(token=token, **route)
    same_token_again = client.search(token=token, **route)
    fresh_token = client.search(**route)

    assert faulted.status_code == 401 and first_issue(faulted)["code"] == 38192
    assert same_token_again.status_code == 401 and first_issue(same_token_again)["code"] == 38192
    assert fresh_token.status_code == 200


def test_malformed_fault_answers_200_with_a_body_that_is_not_json(
    client: SimulatorClient, route: dict[str, Any]
):
    set_fault(client, "malformed", count=1)

    answer = client.search(**route)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == AMADEUS_JSON
    assert answer.get_data()
    with pytest.raises(ValueError):
        json.loads(answer.get_data())
    assert client.search(**route).get_json()["data"]


def test_a_fault_without_count_lasts_until_mode_none(client: SimulatorClient, route: dict[str, Any]):
    token = client.token()
    set_fault(client, "http500")

    faulted = [client.search(token=token, **route).status_code for _ in range(4)]
    set_fault(client, "none")

    assert faulted == [500] * 4
    assert client.search(token=token, **route).status_code == 200


def test_the_current_fault_can_be_read_back(client: SimulatorClient, route: dict[str, Any]):
    set_fault(client, "http429", count=3)
    client.search(**route)

    shown = client.http.get("/__sim/faults")

    assert shown.status_code == 200
    assert shown.get_json() == {"mode": "http429", "count": 2}


def test_no_fault_is_shown_as_mode_none(client: SimulatorClient):
    assert client.http.get("/__sim/faults").get_json() == {"mode": "none", "count": None}


def test_unauthenticated_requests_do_not_use_up_a_fault(client: SimulatorClient, route: dict[str, Any]):
    set_fault(client, "http500", count=1)

    rejected = client.search(headers={"Authorization": None}, **route)

    assert rejected.status_code == 401
    assert client.search(**route).status_code == 500


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "explode"},
        {"mode": "http500", "count": 0},
        {"mode": "http500", "count": "2"},
        {"mode": "http500", "count": True},
        {"count": 1},
        {"mode": "http500", "extra": 1},
        ["http500"],
    ],
)
def test_bad_fault_input_is_400(client: SimulatorClient, body: Any):
    answer = client.http.post("/__sim/faults", json=body)

    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.get_json()["error"]


def test_fault_input_that_is_not_json_is_400(client: SimulatorClient):
    assert client.http.post("/__sim/faults", data="mode=http500").status_code == 400


def test_faults_can_be_set_in_process(client: SimulatorClient, route: dict[str, Any]):
    client.simulator.set_fault("http500", count=1)

    assert client.simulator.fault() == {"mode": "http500", "count": 1}
    assert client.search(**route).status_code == 500


# --- Content type, unknown paths -----------------------------------------------------------------


def test_every_flight_offers_answer_is_exactly_vnd_amadeus_json(
    client: SimulatorClient, route: dict[str, Any]
):
    token = client.token()
    answers = [
        client.search(token=token, **route),
        client.search(token=token, **{**route, "adults": "x"}),
        client.search(token="unknown", **route),
        client.search(headers={"Authorization": None}, **route),
        client.http.delete(FLIGHT_OFFERS_PATH, headers={"Authorization": f"Bearer {token}"}),
    ]
    client.simulator.set_fault("http500", count=1)
    answers.append(client.search(token=token, **route))

    assert [answer.headers["Content-Type"] for answer in answers] == [AMADEUS_JSON] * len(answers)


def test_unknown_paths_answer_an_amadeus_404(client: SimulatorClient):
    answer = client.http.get("/v2/shopping/hotel-offers")

    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == AMADEUS_JSON
    assert first_issue(answer) == {
        "status": 404,
        "code": 38196,
        "title": "Resource not found",
        "detail": "The targeted resource doesn't exist",
    }


def test_unsupported_methods_on_flight_offers_are_404(client: SimulatorClient):
    answer = client.http.put(FLIGHT_OFFERS_PATH, headers={"Authorization": f"Bearer {client.token()}"})

    assert answer.status_code == 404
    assert first_issue(answer)["code"] == 38196


def test_unknown_control_routes_answer_json_404(client: SimulatorClient):
    answer = client.http.get("/__sim/nothing-here")

    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"


def test_wrong_method_on_a_control_route_is_405(client: SimulatorClient):
    assert client.http.delete("/__sim/stats").status_code == 405


# --- Stats and reset -----------------------------------------------------------------------------


def test_stats_count_every_token_and_search_request_whatever_the_outcome(
    client: SimulatorClient, route: dict[str, Any]
):
    token = client.token()
    client.request_token(client_secret="wrong")
    client.search(token=token, **route)
    client.search(token=token, adults="x")
    client.search(headers={"Authorization": None}, **route)
    client.search_by_post(token=token, **route)

    stats = client.http.get("/__sim/stats")

    assert stats.status_code == 200
    assert stats.get_json() == {"token_requests": 2, "search_requests": 4, "rate_limited": 0}
    assert client.simulator.stats() == {"token_requests": 2, "search_requests": 4, "rate_limited": 0}


def test_control_routes_and_unknown_paths_are_not_counted(client: SimulatorClient):
    client.http.get("/__sim/faults")
    client.http.get("/v2/shopping/flight-offers/extra")

    assert client.simulator.stats() == {"token_requests": 0, "search_requests": 0, "rate_limited": 0}


def test_reset_zeroes_stats_and_clears_pins_faults_and_tokens(
    client: SimulatorClient, clock: ManualClock, route: dict[str, Any]
):
    token = client.token()
    client.http.put(f"/__sim/prices/JFK/LAX/{route['departureDate']}", json={"offers": 0})
    set_fault(client, "http500")

    answer = client.http.post("/__sim/reset")

    assert answer.status_code == 200
    assert answer.get_json()["reset"] is True
    assert client.simulator.stats() == {"token_requests": 0, "search_requests": 0, "rate_limited": 0}
    assert client.simulator.fault() == {"mode": "none", "count": None}
    assert first_issue(client.search(token=token, **route))["code"] == 38190  # tokens forgotten
    assert client.search(**route).get_json()["data"]  # pin and fault gone


def test_reset_clears_the_rate_limit_history(client: SimulatorClient, route: dict[str, Any]):
    for _ in range(10):
        client.search(**route)

    client.simulator.reset()

    assert client.search(**route).status_code == 200
