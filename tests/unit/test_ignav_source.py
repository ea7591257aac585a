"""The Ignav fare source against the Ignav simulator in-process (no sockets, a test clock): what it sends
for each trip, how a city code becomes airport pairs, the market/currency rule, the per-traveller
switch, every Ignav error as the user and the operator see it, and booking links."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import requests
from pydantic import SecretStr
from werkzeug.test import Client

from farewatch.clock import ManualClock
from farewatch.errors import InvalidRequest, NotFound, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from farewatch.fare_query import FareQuery
from farewatch.fares.ignav import IgnavCredentials, IgnavFareSource, IgnavTrip, trips_for
from farewatch.fares.pacing import UpstreamPacer
from farewatch.offers import cheapest
from ignav_sim.app import DEFAULT_API_KEY, Simulator
from tests.support.wsgi_adapter import WSGIAdapter

BASE_URL = "http://ignav.test"


class Ignav:
    """The source, its simulator and the transport between them, on one test clock."""

    def __init__(
        self,
        *,
        per_traveller: bool = False,
        sim_per_traveller: bool | None = None,
        per_second: float | None = None,
    ) -> None:
        self.clock = ManualClock()
        self.schedule = FleetSchedule()
        self.sent_at: list[float] = []
        self.simulator = Simulator(
            clock=self.clock.now,
            sleep=lambda seconds: self.transport.stall(seconds),
            price_per_traveller=per_traveller if sim_per_traveller is None else sim_per_traveller,
            timeout_fault_seconds=30,
        )
        self.transport = WSGIAdapter(self.simulator, advance=self.clock.advance)
        session = requests.Session()
        session.mount(BASE_URL, self.transport)
        self.source = IgnavFareSource(
            base_url=BASE_URL,
            credentials=lambda: IgnavCredentials(SecretStr(DEFAULT_API_KEY)),
            clock=self.clock,
            session=session,
            read_timeout=10,
            max_attempts=3,
            backoff_base=0.1,
            backoff_cap=0.5,
            jitter=lambda: 0.0,
            price_per_traveller=per_traveller,
            pacer=None
            if per_second is None
            else UpstreamPacer(self.schedule, self.clock, per_second=per_second),
        )
        self.control = Client(self.simulator)

    def query(
        self, origin: str = "JFK", destination: str = "LAX", days: int = 30, **fields: Any
    ) -> FareQuery:
        departure = dt.datetime.fromtimestamp(self.clock.now(), tz=dt.UTC).date() + dt.timedelta(days=days)
        return FareQuery(origin=origin, destination=destination, departure_date=departure, **fields)

    def search(self, query: FareQuery | None = None) -> list[Any]:
        return self.source.search(query or self.query(), deadline=self.clock.now() + 20)

    def inject(self, status: int, code: str | None = None, count: int | None = None) -> None:
        answer = self.control.post("/__sim/errors", json={"status": status, "code": code, "count": count})
        assert answer.status_code == 200

    def sent_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(sent.body) for sent in self.transport.sent]


class FleetSchedule:
    """The fleet-wide schedule's contract (`store.pacing`) in memory: slots `interval` apart."""

    def __init__(self) -> None:
        self.next_at = 0.0
        self.slots: list[float] = []

    def claim(self, *, now: float, interval: float, latest: float) -> float | None:
        slot = max(now, self.next_at)
        if slot > latest:
            return None
        self.next_at = slot + interval
        self.slots.append(slot)
        return slot


@pytest.fixture
def ignav() -> Ignav:
    return Ignav()


# -- what is sent ---------------------------------------------------------------------------------


def test_a_one_way_search_sends_only_documented_fields_with_the_key_header(ignav):
    offers = ignav.search()

    (sent,) = ignav.transport.sent
    assert offers and sent.url == f"{BASE_URL}/api/fares/one-way"
    assert sent.headers["X-Api-Key"] == DEFAULT_API_KEY and "Authorization" not in sent.headers
    assert json.loads(sent.body) == {
        "origin": "JFK",
        "destination": "LAX",
        "departure_date": ignav.query().departure_date.isoformat(),
        "adults": 1,
        "cabin_class": "economy",
        "market": "US",
    }


def test_the_whole_trip_shape_maps_onto_ignavs_request_and_the_simulator_accepts_it(ignav):
    day = ignav.query().departure_date
    trip = IgnavTrip(
        origin="LHR",
        destination="JFK",
        departure_date=day,
        return_date=day + dt.timedelta(days=7),
        market="GB",
        adults=2,
        cabin="business",
        max_stops=1,
    )

    answer = Client(ignav.simulator).post(trip.path, json=trip.body(), headers={"X-Api-Key": DEFAULT_API_KEY})

    assert trip.path == "/api/fares/round-trip"
    assert trip.body() == {
        "origin": "LHR",
        "destination": "JFK",
        "departure_date": day.isoformat(),
        "return_date": (day + dt.timedelta(days=7)).isoformat(),
        "adults": 2,
        "cabin_class": "business",
        "max_stops": 1,
        "market": "GB",
    }
    assert answer.status_code == 200 and answer.get_json()["itineraries"][0]["inbound"] is not None


def test_offers_are_normalised_with_the_ignav_id_as_their_id(ignav):
    ignav.simulator.pin_price("JFK", "LAX", ignav.query().departure_date, "187.40")

    offers = ignav.search()

    best = cheapest(offers)
    assert best is not None and best.display_price == "187.40 USD"
    for offer in offers:
        assert len(offer.id) == 32 and int(offer.id, 16) >= 0
        assert offer.flight_numbers[0].startswith(offer.carrier)
        assert len(offer.flight_numbers) == offer.stops + 1
        assert (offer.origin, offer.destination) == ("JFK", "LAX") and offer.duration_minutes > 0


# -- city codes -----------------------------------------------------------------------------------


def test_a_city_code_is_searched_airport_by_airport(ignav):
    offers = ignav.search(ignav.query("NYC", "LAX"))

    assert sorted(body["origin"] for body in ignav.sent_bodies()) == ["EWR", "JFK", "LGA"]
    assert {offer.origin for offer in offers} == {"EWR", "JFK", "LGA"}
    assert ignav.simulator.stats()["search_requests"] == 3


def test_more_airport_pairs_than_allowed_is_a_400_before_anything_is_sent(ignav):
    with pytest.raises(InvalidRequest) as raised:
        ignav.search(ignav.query("NYC", "LON"))

    assert raised.value.code == "too_many_airports"
    assert {detail["field"] for detail in raised.value.details} == {"origin", "destination"}
    assert ignav.transport.sent == []


def test_the_pair_limit_counts_pairs(ignav):
    query = ignav.query("NYC", "PAR")

    assert len(trips_for(query, max_airport_pairs=9)) == 9
    with pytest.raises(InvalidRequest):
        trips_for(query, max_airport_pairs=8)


def test_one_failing_airport_pair_fails_the_search(ignav):
    ignav.simulator.set_fault("http500")

    with pytest.raises(UpstreamError):
        ignav.search(ignav.query("NYC", "LAX"))


# -- market and currency --------------------------------------------------------------------------


def test_the_market_follows_the_asked_currency(ignav):
    offers = ignav.search(ignav.query(currency="GBP"))

    assert ignav.sent_bodies()[0]["market"] == "GB"
    assert offers and {offer.currency for offer in offers} == {"GBP"}


def test_a_currency_no_market_prices_in_is_a_400_before_anything_is_sent(ignav):
    with pytest.raises(InvalidRequest) as raised:
        ignav.search(ignav.query(currency="ARS"))

    assert raised.value.code == "currency_not_offered" and raised.value.details[0]["field"] == "currency"
    assert ignav.transport.sent == []


# -- the per-traveller switch ---------------------------------------------------------------------


@pytest.mark.parametrize("per_traveller", [False, True])
def test_the_price_is_the_total_for_all_travellers_whichever_way_ignav_quotes_it(per_traveller):
    ignav = Ignav(per_traveller=per_traveller)
    ignav.simulator.pin_price("JFK", "LAX", ignav.query().departure_date, "200.00")

    best = cheapest(ignav.search(ignav.query(adults=3)))

    assert best is not None and best.price == Decimal("600")


def test_a_switch_that_disagrees_with_ignav_gets_the_total_wrong():
    ignav = Ignav(per_traveller=True, sim_per_traveller=False)  # Ignav quotes totals, we multiply
    ignav.simulator.pin_price("JFK", "LAX", ignav.query().departure_date, "200.00")

    best = cheapest(ignav.search(ignav.query(adults=3)))

    assert best is not None and best.price == Decimal("1800")  # why the setting must match Ignav


# -- errors ---------------------------------------------------------------------------------------


def test_a_400_on_our_query_is_a_400_rejected_by_fare_source(ignav):
    ignav.inject(400, "invalid_airport_code")

    with pytest.raises(InvalidRequest) as raised:
        ignav.search()

    assert raised.value.code == "rejected_by_fare_source"
    assert raised.value.details[0]["code"] == "invalid_airport_code"
    assert len(ignav.transport.sent) == 1


@pytest.mark.parametrize(
    ("status", "code", "advice"),
    [
        (401, "invalid_api_key", "put a valid key into the IgnavCredentials secret"),
        (402, "billing_required", "add a payment method"),
        (403, "email_not_verified", "verify its email address"),
        (429, "monthly_spend_limit_reached", "raise it"),
    ],
)
def test_an_account_problem_is_a_503_not_configured_with_a_log_line_that_says_what_to_do(
    ignav, caplog, status, code, advice
):
    ignav.inject(status, code)

    with pytest.raises(UpstreamUnavailable) as raised:
        ignav.search()

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert (raised.value.status, raised.value.code) == (503, "upstream_not_configured")
    assert advice in logged and DEFAULT_API_KEY not in logged
    assert len(ignav.transport.sent) == 1  # not retried


def test_a_424_is_retried_to_success(ignav):
    ignav.inject(424, "unable_to_complete_request", count=1)

    assert ignav.search()
    assert len(ignav.transport.sent) == 2


def test_every_request_to_ignav_retries_included_waits_for_its_fleet_wide_slot():
    ignav = Ignav(per_second=8)
    ignav.schedule.next_at = ignav.clock.now() + 1.0  # other containers hold the next second's slots
    ignav.inject(424, "unable_to_complete_request", count=1)
    started = ignav.clock.now()

    offers = ignav.search()

    assert offers and len(ignav.transport.sent) == 2
    assert len(ignav.schedule.slots) == 2  # the first try and its retry each claimed a slot
    assert ignav.schedule.slots[0] == started + 1.0  # sent no earlier than the fleet's schedule allows
    assert ignav.schedule.slots[1] - ignav.schedule.slots[0] >= 1 / 8


def test_a_lasting_424_is_a_502_after_the_retries(ignav):
    ignav.inject(424, "unable_to_complete_request")

    with pytest.raises(UpstreamError) as raised:
        ignav.search()

    assert (raised.value.status, raised.value.code) == (502, "upstream_error")
    assert len(ignav.transport.sent) == 3


def test_an_unsupported_search_424_is_not_retried(ignav):
    ignav.inject(424, "unsupported_search")

    with pytest.raises(InvalidRequest) as raised:
        ignav.search()

    assert raised.value.code == "rejected_by_fare_source" and len(ignav.transport.sent) == 1


def test_a_hung_ignav_is_a_504_within_the_deadline(ignav):
    ignav.simulator.set_fault("timeout")
    deadline = ignav.clock.now() + 20

    with pytest.raises(UpstreamTimeout):
        ignav.source.search(ignav.query(), deadline=deadline)

    assert ignav.clock.now() <= deadline


def test_a_cut_short_answer_is_a_bad_response(ignav):
    ignav.simulator.set_fault("malformed")

    with pytest.raises(UpstreamError) as raised:
        ignav.search()

    assert raised.value.code == "upstream_bad_response"


def test_an_unreadable_itinerary_is_skipped_and_the_rest_are_read(ignav, monkeypatch):
    original = ignav.simulator.search_body
    answered: list[int] = []

    def one_broken(search: Any) -> dict[str, Any]:
        body = original(search)
        body["itineraries"][0]["price"] = {"amount": "lots", "currency": "USD", "status": "verified"}
        answered.append(len(body["itineraries"]))
        return body

    monkeypatch.setattr(ignav.simulator, "search_body", one_broken)

    offers = ignav.search()

    assert answered and len(offers) == answered[0] - 1


# -- booking links --------------------------------------------------------------------------------


def test_an_offer_resolves_to_its_booking_links_airline_first(ignav):
    offer = ignav.search()[0]

    links = ignav.source.booking_links(offer.id, deadline=ignav.clock.now() + 20)

    assert links.offer_id == offer.id and links.price == offer.price and links.currency == "USD"
    assert links.best is not None and links.best.provider_type == "airline"
    assert links.best.url == f"{BASE_URL}/book/{offer.id}?provider={offer.carrier.lower()}"
    assert json.loads(ignav.transport.sent[-1].body) == {"ignav_id": offer.id}


def test_an_unknown_offer_is_a_404_and_a_foreign_id_a_400_unsent(ignav):
    with pytest.raises(NotFound) as unknown:
        ignav.source.booking_links("0" * 32, deadline=ignav.clock.now() + 20)
    sent = len(ignav.transport.sent)
    with pytest.raises(InvalidRequest) as foreign:
        ignav.source.booking_links("off_0000AbCd", deadline=ignav.clock.now() + 20)

    assert unknown.value.code == "offer_not_found" and foreign.value.code == "invalid_offer"
    assert len(ignav.transport.sent) == sent
