"""The Ignav simulator in-process (werkzeug's test client, a hand-moved clock): Ignav's documented request
validation, answers that validate against the schemas of Ignav's documented fields, its error envelope,
ignav_ids that resolve to booking links and pages, the per-traveller switch, and the shared controls."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from werkzeug.test import Client, TestResponse

from ignav_sim.app import DEFAULT_API_KEY, Simulator
from tests.support import ignav_schema
from tests.support.simulators import ManualClock, RecordingSleep

KEY = {"X-Api-Key": DEFAULT_API_KEY}


class IgnavClient:
    def __init__(self, simulator: Simulator, clock: ManualClock) -> None:
        self.simulator = simulator
        self.clock = clock
        self.http = Client(simulator)

    def search(
        self,
        origin: str = "JFK",
        destination: str = "LAX",
        days: int = 30,
        *,
        headers: Any = None,
        **fields: Any,
    ) -> TestResponse:
        body = {"origin": origin, "destination": destination, "departure_date": self.clock.days_ahead(days)}
        body.update(fields)
        path = "/api/fares/round-trip" if "return_date" in body else "/api/fares/one-way"
        return self.http.post(path, json=body, headers=KEY if headers is None else headers)

    def round_trip(self, days: int = 30, stay: int = 7, **fields: Any) -> TestResponse:
        return self.search(days=days, return_date=self.clock.days_ahead(days + stay), **fields)

    def booking_links(self, body: Any) -> TestResponse:
        return self.http.post("/api/fares/booking-links", json=body, headers=KEY)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ignav(clock: ManualClock) -> IgnavClient:
    return IgnavClient(Simulator(clock=clock, sleep=RecordingSleep()), clock)


def validate(body: Any, schema: dict[str, Any]) -> None:
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())


def error_of(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    validate(body, ignav_schema.ERROR_RESPONSE)
    return dict(body["error"])


# -- answers that fit the documented schemas ----------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "destination", "fields"),
    [
        ("JFK", "LAX", {}),
        ("LHR", "JFK", {"adults": 2, "cabin_class": "business", "market": "GB"}),
        ("SFO", "NRT", {"max_stops": 0, "market": "JP"}),
        ("CDG", "DXB", {"children": 1, "infants_on_lap": 1, "market": "FR"}),
        ("MAD", "GRU", {"airlines_include": ["IB"], "allow_self_transfer": False}),
    ],
)
def test_every_one_way_answer_validates_against_the_documented_schema(ignav, origin, destination, fields):
    answer = ignav.search(origin, destination, **fields)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    validate(answer.get_json(), ignav_schema.FARE_SEARCH_RESPONSE)


def test_a_round_trip_answer_validates_and_has_an_inbound_leg_home(ignav):
    answer = ignav.round_trip(stay=5)

    assert answer.status_code == 200
    body = answer.get_json()
    validate(body, ignav_schema.FARE_SEARCH_RESPONSE)
    assert body["return_date"] == ignav.clock.days_ahead(35) and body["itineraries"]
    for itinerary in body["itineraries"]:
        assert itinerary["inbound"]["segments"][0]["departure_airport"] == "LAX"
        assert itinerary["inbound"]["segments"][-1]["arrival_airport"] == "JFK"


def test_legs_add_up_durations_stops_and_utc_times_as_documented(ignav):
    body = ignav.search("BOS", "SYD").get_json()

    assert body["itineraries"]
    for itinerary in body["itineraries"]:
        leg = itinerary["outbound"]
        first, last = leg["segments"][0], leg["segments"][-1]
        departed = dt.datetime.fromisoformat(first["departure_time_utc"].replace("Z", "+00:00"))
        arrived = dt.datetime.fromisoformat(last["arrival_time_utc"].replace("Z", "+00:00"))
        assert leg["duration_minutes"] == int((arrived - departed).total_seconds() // 60)
        assert len(leg["segments"]) <= 2


def test_the_currency_follows_the_market(ignav):
    for market, currency in (("US", "USD"), ("GB", "GBP"), ("DE", "EUR"), ("IN", "INR")):
        body = ignav.search(market=market).get_json()
        assert {itinerary["price"]["currency"] for itinerary in body["itineraries"]} == {currency}


def test_max_stops_zero_keeps_nonstops_only(ignav):
    body = ignav.search(max_stops=0).get_json()

    assert body["itineraries"]
    assert all(len(itinerary["outbound"]["segments"]) == 1 for itinerary in body["itineraries"])


# -- request validation: 400 with the field named ------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"currency": "USD"}, "currency", "extra_field"),
        ({"allow_separate_tickets": True}, "allow_separate_tickets", "extra_field"),
        ({"origin": "NYC"}, "origin", "invalid_airport_code"),
        ({"destination": "LON"}, "destination", "invalid_airport_code"),
        ({"origin": "jfk"}, "origin", "invalid_airport_code"),
        ({"departure_date": "2020-01-01"}, "departure_date", "invalid_date"),
        ({"departure_date": "01/02/2027"}, "departure_date", "invalid_date"),
        ({"adults": 0}, "adults", "invalid_request"),
        ({"adults": 5, "children": 5}, "adults", "invalid_request"),
        ({"adults": 1, "infants_on_lap": 2}, "infants_on_lap", "invalid_request"),
        ({"adults": True}, "adults", "invalid_request"),
        ({"cabin_class": "coach"}, "cabin_class", "invalid_request"),
        ({"max_stops": 3}, "max_stops", "invalid_request"),
        ({"departure_time_range": {"earliest_hour": 24}}, "earliest_hour", "invalid_request"),
        ({"airlines_include": ["AA"], "airlines_exclude": ["DL"]}, "airlines_exclude", "invalid_request"),
        ({"market": "XX"}, "market", "invalid_market"),
        ({"return_date": "2020-01-01"}, "return_date", "extra_field"),  # one-way takes no return date
    ],
)
def test_a_bad_search_is_a_400_naming_the_field(ignav, fields, field, code):
    path = "/api/fares/one-way"
    body = {"origin": "JFK", "destination": "LAX", "departure_date": ignav.clock.days_ahead(30), **fields}
    answer = ignav.http.post(path, json=body, headers=KEY)

    assert answer.status_code == 400
    error = error_of(answer)
    assert (error["type"], error["code"], error["field"]) == ("invalid_request", code, field)
    assert ignav.simulator.stats()["billable_requests"] == 0


def test_a_return_before_the_departure_is_a_400(ignav):
    answer = ignav.search(days=30, return_date=ignav.clock.days_ahead(29))

    assert answer.status_code == 400 and error_of(answer)["field"] == "return_date"


def test_a_missing_or_wrong_key_is_a_401_in_the_envelope(ignav):
    missing = ignav.search(headers={})
    wrong = ignav.search(headers={"X-Api-Key": "not-the-key"})
    bearer = ignav.search(headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})

    assert [r.status_code for r in (missing, wrong, bearer)] == [401, 401, 401]
    assert error_of(missing)["code"] == "invalid_api_key"


# -- booking links -------------------------------------------------------------------------------


def test_every_ignav_id_resolves_to_booking_links_and_a_page(ignav):
    itineraries = ignav.search().get_json()["itineraries"]

    for itinerary in itineraries:
        answer = ignav.booking_links({"ignav_id": itinerary["ignav_id"]})
        assert answer.status_code == 200
        body = answer.get_json()
        validate(body, ignav_schema.BOOKING_OPTIONS_RESPONSE)
        assert body["itinerary"]["price"] == itinerary["price"]
        links = [link for option in body["booking_options"] for link in option["links"]]
        assert links and all(link["url"].startswith("http://localhost/book/") for link in links)
        page = ignav.http.get(links[0]["url"].removeprefix("http://localhost"))
        assert page.status_code == 200 and itinerary["outbound"]["segments"][0][
            "flight_number"
        ] in page.get_data(as_text=True)


def test_an_unknown_ignav_id_is_a_404(ignav):
    answer = ignav.booking_links({"ignav_id": "0" * 32})

    assert answer.status_code == 404 and error_of(answer)["code"] == "itinerary_not_found"


def test_an_ignav_id_with_other_fields_is_a_conflicting_lookup(ignav):
    ignav_id = ignav.search().get_json()["itineraries"][0]["ignav_id"]

    answer = ignav.booking_links({"ignav_id": ignav_id, "adults": 1})

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "conflicting_booking_lookup_mode"


def test_the_manual_lookup_finds_a_searched_flight_and_requires_its_fields(ignav):
    itinerary = ignav.search().get_json()["itineraries"][0]
    first = itinerary["outbound"]["segments"][0]
    manual = {
        "origin": "JFK",
        "destination": "LAX",
        "departure_date": ignav.clock.days_ahead(30),
        "outbound_carrier_code": first["marketing_carrier_code"],
        "outbound_flight_number": first["flight_number"],
    }

    found = ignav.booking_links(manual)
    incomplete = ignav.booking_links(
        {key: value for key, value in manual.items() if key != "outbound_flight_number"}
    )

    assert found.status_code == 200
    assert incomplete.status_code == 400 and error_of(incomplete)["field"] == "outbound_flight_number"


# -- the price switch, pins, faults, injected errors, metering ------------------------------------


def test_prices_are_for_all_travellers_or_per_traveller_by_one_switch(clock):
    totals = IgnavClient(Simulator(clock=clock), clock)
    each = IgnavClient(Simulator(clock=clock, price_per_traveller=True), clock)
    for client in (totals, each):
        client.simulator.pin_price("JFK", "LAX", clock.days_ahead(30), "200.00")

    def cheapest(client: IgnavClient) -> Decimal:
        body = client.search(adults=3).get_json()
        return min(Decimal(str(itinerary["price"]["amount"])) for itinerary in body["itineraries"])

    assert (cheapest(totals), cheapest(each)) == (Decimal("600"), Decimal("200"))


def test_a_pin_converts_into_the_market_currency(ignav):
    ignav.simulator.pin_price("JFK", "LAX", ignav.clock.days_ahead(30), "100.00")

    body = ignav.search(market="GB").get_json()

    assert min(Decimal(str(i["price"]["amount"])) for i in body["itineraries"]) == Decimal("79")


def test_no_offers_is_an_empty_itinerary_list(ignav):
    ignav.simulator.pin_no_offers("JFK", "LAX", ignav.clock.days_ahead(30))

    answer = ignav.search()

    assert answer.status_code == 200 and answer.get_json()["itineraries"] == []


INJECTED = [
    (400, "invalid_request"),
    (401, "invalid_api_key"),
    (402, "billing_required"),
    (403, "email_not_verified"),
    (424, "unable_to_complete_request"),
    (424, "unsupported_search"),
    (429, "monthly_spend_limit_reached"),
]


@pytest.mark.parametrize(("status", "code"), INJECTED)
def test_an_injected_ignav_error_answers_its_envelope_for_its_count(ignav, status, code):
    controlled = ignav.http.post("/__sim/errors", json={"status": status, "code": code, "count": 1})

    first, second = ignav.search(), ignav.search()

    assert controlled.status_code == 200
    assert first.status_code == status and error_of(first)["code"] == code
    assert second.status_code == 200


def test_shared_faults_answer_in_ignavs_shapes(ignav):
    ignav.simulator.set_fault("http500", 1)
    failed = ignav.search()
    ignav.simulator.set_fault("malformed", 1)
    cut = ignav.search()
    ignav.simulator.set_fault("expired_token", 1)
    revoked = ignav.search()

    assert failed.status_code == 500 and error_of(failed)["code"] == "internal_error"
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.get_json(force=True, silent=False)
    assert revoked.status_code == 401


def test_only_successful_answers_are_billable(ignav):
    ignav.search()
    ignav.search(origin="NYC")
    ignav.booking_links({"ignav_id": "f" * 32})

    stats = ignav.http.get("/__sim/stats").get_json()

    assert stats["search_requests"] == 2 and stats["booking_link_requests"] == 1
    assert stats["billable_requests"] == 1


def test_airports_answer_a_bare_array_of_the_documented_shape(ignav):
    answer = ignav.http.get("/api/airports", query_string={"q": "LON"}, headers=KEY)

    assert answer.status_code == 200
    validate(answer.get_json(), ignav_schema.AIRPORTS_RESPONSE)
    assert {airport["code"] for airport in answer.get_json()} == {"LHR", "LGW"}
