"""The Duffel fare source without sockets: scripted Duffel answers where the exact sequence matters
(retries, waits, pages), and the Duffel simulator in-process for its test-mode routes."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import pytest
import requests
from pydantic import SecretStr
from requests.adapters import BaseAdapter

from duffel_sim.app import NO_OFFERS_ROUTE, SLOW_ROUTE, Simulator
from farewatch.errors import InvalidRequest, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from farewatch.fare_query import FareQuery
from farewatch.fares.duffel import (
    DuffelCredentials,
    DuffelFareSource,
    normalise_offers,
    offer_request_body,
    upstream_wait,
)
from farewatch.offers import cheapest
from tests.support.wsgi_adapter import WSGIAdapter
from tests.unit.test_amadeus_source import RecordingClock, ScriptedUpstream, Step, everything_logged

BASE_URL = "http://duffel.test"
TOKEN = "duffel_test_a8f3e9c1d2-secret"  # a made-up token: what must never be logged
JFK_LAX = FareQuery(
    origin="JFK", destination="LAX", departure_date=dt.date(2027, 1, 15), adults=2, currency="USD"
)


# -- collaborators and payloads ---------------------------------------------------------------------


def session_with(adapter: BaseAdapter) -> requests.Session:
    session = requests.Session()
    session.mount(BASE_URL, adapter)
    return session


def duffel_source(clock: RecordingClock, upstream: BaseAdapter, **options: Any) -> DuffelFareSource:
    return DuffelFareSource(
        base_url=BASE_URL,
        credentials=lambda: DuffelCredentials(SecretStr(TOKEN)),
        clock=clock,
        session=session_with(upstream),
        jitter=lambda: 0.0,
        **options,
    )


def segment(origin: str, departs: str, destination: str, arrives: str, carrier: str, number: str) -> dict:
    return {
        "id": f"seg_{carrier}{number}",
        "origin": {"iata_code": origin, "time_zone": "America/New_York"},
        "destination": {"iata_code": destination, "time_zone": "America/Los_Angeles"},
        "departing_at": departs,
        "arriving_at": arrives,
        "marketing_carrier": {"iata_code": carrier, "name": "Some Airline"},
        "marketing_carrier_flight_number": number,
        "operating_carrier": {"iata_code": carrier},
        "stops": [],
        "someFutureField": True,
    }


def duffel_offer(
    offer_id: str,
    amount: str,
    segments: list[dict],
    duration: str | None,
    *,
    owner: str | None = None,
    currency: str = "USD",
) -> dict:
    return {
        "id": offer_id,
        "live_mode": False,
        "total_amount": amount,
        "total_currency": currency,
        "owner": {"iata_code": owner or segments[0]["marketing_carrier"]["iata_code"], "name": "Owner"},
        "slices": [
            {
                "origin": {"iata_code": segments[0]["origin"]["iata_code"]},
                "destination": {"iata_code": segments[-1]["destination"]["iata_code"]},
                "duration": duration,
                "segments": segments,
            }
        ],
        "expires_at": "2027-01-01T10:00:00.000Z",
    }


NONSTOP = duffel_offer(
    "off_nonstop",
    "412.30",
    [segment("JFK", "2027-01-15T08:00:00", "LAX", "2027-01-15T11:25:00", "AA", "1")],
    "PT06H25M",
)
CONNECTION = duffel_offer(
    "off_connection",
    "198.07",
    [
        segment("JFK", "2027-01-15T21:50:00", "ORD", "2027-01-15T23:40:00", "UA", "1432"),
        segment("ORD", "2027-01-16T20:05:00", "LAX", "2027-01-16T23:15:00", "UA", "88"),
    ],
    "P1DT4H25M",
    owner="DL",
)


def created(offer_request_id: str = "orq_0001") -> Step:
    return Step(201, {"data": {"id": offer_request_id, "live_mode": False, "slices": []}}, content_type=JSON)


def page(*offers: dict, after: str | None = None) -> Step:
    body = {"data": list(offers), "meta": {"limit": 50, "after": after, "before": None}}
    return Step(200, body, content_type=JSON)


def duffel_error(status: int, kind: str, code: str, title: str, message: str = "") -> dict:
    return {
        "errors": [
            {"type": kind, "code": code, "title": title, "message": message, "documentation_url": "x"}
        ],
        "meta": {"status": status, "request_id": "req_123"},
    }


JSON = "application/json; charset=utf-8"
SERVER_ERROR = Step(
    500, duffel_error(500, "api_error", "internal_server_error", "Internal"), content_type=JSON
)
BAD_GATEWAY = Step(502, duffel_error(502, "api_error", "bad_gateway", "Bad gateway"), content_type=JSON)
UNAVAILABLE = Step(503, duffel_error(503, "api_error", "unavailable", "Unavailable"), content_type=JSON)
GATEWAY_TIMEOUT = Step(504, duffel_error(504, "api_error", "timeout", "Timeout"), content_type=JSON)
BAD_TOKEN = Step(
    401,
    duffel_error(
        401, "authentication_error", "access_token_not_found", "Not found", f"token {TOKEN} unknown"
    ),
    content_type=JSON,
)


def rate_limited(reset_at: float) -> Step:
    reset = format_datetime(dt.datetime.fromtimestamp(reset_at, tz=dt.UTC), usegmt=True)
    return Step(
        429,
        duffel_error(429, "rate_limit_error", "rate_limit_exceeded", "Rate limit exceeded"),
        content_type=JSON,
        headers={"ratelimit-limit": "60", "ratelimit-remaining": "0", "ratelimit-reset": reset},
    )


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


@pytest.fixture(autouse=True)
def _capture_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield


# -- the request ------------------------------------------------------------------------------------


def test_a_search_is_an_offer_request_then_its_cheapest_offers(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [created("orq_42"), page(CONNECTION, NONSTOP)])

    offers = duffel_source(clock, upstream, max_offers=30).search(JFK_LAX, deadline=clock.now() + 20)

    create, listing = upstream.sent
    assert (create["method"], create["path"], create["params"]) == (
        "POST",
        "/air/offer_requests",
        {"return_offers": "false"},
    )
    assert json.loads(create["body"]) == {
        "data": {
            "slices": [{"origin": "JFK", "destination": "LAX", "departure_date": "2027-01-15"}],
            "passengers": [{"type": "adult"}, {"type": "adult"}],
            "cabin_class": "economy",  # economy is asked for, not "any cabin"
        }
    }
    assert (listing["method"], listing["path"]) == ("GET", "/air/offers")
    assert listing["params"] == {"offer_request_id": "orq_42", "sort": "total_amount", "limit": "30"}
    assert [offer.id for offer in offers] == ["off_connection", "off_nonstop"]


def test_every_call_sends_duffels_headers_and_the_bearer_token(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [created(), page()])

    duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    for sent in upstream.sent:
        headers = sent["headers"]
        assert headers["Authorization"] == f"Bearer {TOKEN}"
        assert headers["Duffel-Version"] == "v2"
        assert headers["Accept"] == "application/json"
        assert headers["Accept-Encoding"] == "gzip"
        assert headers["Content-Type"] == "application/json"


def test_the_read_timeout_suits_slow_searches_and_is_cut_to_the_deadline(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [created(), page(), created(), page()])
    source = duffel_source(clock, upstream)

    source.search(JFK_LAX, deadline=clock.now() + 25)
    source.search(JFK_LAX, deadline=clock.now() + 1.5)

    assert upstream.sent[0]["timeout"] == (3.05, 20.0)
    assert upstream.sent[2]["timeout"] == (1.5, 1.5)


def test_the_trip_shape_is_sent_as_slices_cabin_class_and_max_connections() -> None:
    trip = JFK_LAX.model_copy(
        update={
            "return_date": JFK_LAX.departure_date + dt.timedelta(days=7),
            "cabin": "business",
            "max_stops": 1,
        }
    )

    body = offer_request_body(trip)

    assert [(s["origin"], s["destination"]) for s in body["slices"]] == [("JFK", "LAX"), ("LAX", "JFK")]
    assert body["slices"][1]["departure_date"] == trip.return_date.isoformat()  # type: ignore[union-attr]
    assert (body["max_connections"], body["cabin_class"]) == (1, "business")
    one_way = offer_request_body(JFK_LAX)
    assert (len(one_way["slices"]), one_way["cabin_class"]) == (1, "economy")
    assert "max_connections" not in one_way


# -- pages ------------------------------------------------------------------------------------------


def test_offers_are_read_across_pages_until_there_is_no_next_page(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [created(), page(CONNECTION, after="g2wAAAAB"), page(NONSTOP)])

    offers = duffel_source(clock, upstream, page_size=1).search(JFK_LAX, deadline=clock.now() + 20)

    assert [offer.id for offer in offers] == ["off_connection", "off_nonstop"]
    assert upstream.sent[2]["params"]["after"] == "g2wAAAAB"
    assert "after" not in upstream.sent[1]["params"]


def test_paging_stops_at_the_maximum_number_of_offers(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [created(), page(CONNECTION, NONSTOP, after="more")])

    offers = duffel_source(clock, upstream, max_offers=2, page_size=2).search(
        JFK_LAX, deadline=clock.now() + 20
    )

    assert len(offers) == 2 and len(upstream.sent) == 2


# -- normalisation ----------------------------------------------------------------------------------


def test_normalise_reads_every_field_of_a_connecting_offer() -> None:
    (offer,) = normalise_offers([CONNECTION], JFK_LAX)

    assert offer.model_dump() == {
        "id": "off_connection",
        "price": Decimal("198.07"),
        "currency": "USD",
        "carrier": "DL",
        "flight_numbers": ["UA1432", "UA88"],
        "stops": 1,
        "departure_at": "2027-01-15T21:50:00",
        "arrival_at": "2027-01-16T23:15:00",
        "origin": "JFK",
        "destination": "LAX",
        "duration_minutes": 28 * 60 + 25,
    }


def test_technical_stops_count_as_stops() -> None:
    with_stop = json.loads(json.dumps(NONSTOP))
    with_stop["slices"][0]["segments"][0]["stops"] = [{"airport": {"iata_code": "DEN"}}]

    (offer,) = normalise_offers([with_stop], JFK_LAX)

    assert offer.stops == 1


def test_a_slice_without_duration_is_timed_across_the_airports_time_zones() -> None:
    no_duration = duffel_offer(
        "off_x",
        "100.00",
        [segment("JFK", "2027-01-15T08:00:00", "LAX", "2027-01-15T11:25:00", "AA", "1")],
        None,
    )

    (offer,) = normalise_offers([no_duration], JFK_LAX)

    assert offer.duration_minutes == 6 * 60 + 25


def test_an_unreadable_offer_is_skipped_but_a_reply_of_only_unreadable_ones_is_a_502() -> None:
    broken = {**NONSTOP, "total_amount": "free"}

    assert [offer.id for offer in normalise_offers([broken, CONNECTION], JFK_LAX)] == ["off_connection"]
    with pytest.raises(UpstreamError) as raised:
        normalise_offers([broken], JFK_LAX)
    assert raised.value.code == "upstream_bad_response"


def test_an_offer_whose_times_carry_an_offset_is_skipped() -> None:
    with_offset = json.loads(json.dumps(NONSTOP))
    with_offset["id"] = "off_offset"
    with_offset["slices"][0]["segments"][0]["departing_at"] = "2027-01-15T08:00:00-05:00"

    offers = normalise_offers([with_offset, CONNECTION], JFK_LAX)

    assert [offer.id for offer in offers] == ["off_connection"]


def test_places_missing_on_the_segments_are_read_from_the_slice() -> None:
    bare = json.loads(json.dumps(NONSTOP))
    del bare["slices"][0]["segments"][0]["origin"]
    bare["slices"][0]["segments"][0]["destination"] = {"iata_code": None}

    (offer,) = normalise_offers([bare], JFK_LAX)

    assert (offer.origin, offer.destination, offer.duration_minutes) == ("JFK", "LAX", 6 * 60 + 25)


def test_an_offer_without_duration_or_known_time_zones_is_skipped() -> None:
    unknown_zone = duffel_offer(
        "off_zone",
        "100.00",
        [segment("JFK", "2027-01-15T08:00:00", "LAX", "2027-01-15T11:25:00", "AA", "1")],
        None,
    )
    unknown_zone["slices"][0]["segments"][0]["origin"]["time_zone"] = "Mars/Olympus_Mons"

    assert [offer.id for offer in normalise_offers([unknown_zone, CONNECTION], JFK_LAX)] == ["off_connection"]


def test_the_owner_sells_the_offer_and_the_first_marketing_carrier_stands_in_without_one() -> None:
    without_owner = json.loads(json.dumps(CONNECTION))
    without_owner["owner"] = None

    assert [offer.carrier for offer in normalise_offers([CONNECTION, without_owner], JFK_LAX)] == ["DL", "UA"]


def test_the_credentials_never_show_the_token() -> None:
    credentials = DuffelCredentials(SecretStr(TOKEN))

    assert TOKEN not in repr(credentials) and TOKEN not in str(credentials)
    assert credentials.access_token.get_secret_value() == TOKEN


def test_offers_in_another_currency_are_dropped() -> None:
    in_euros = duffel_offer("off_eur", "90.00", NONSTOP["slices"][0]["segments"], "PT6H25M", currency="EUR")

    assert [offer.id for offer in normalise_offers([in_euros, NONSTOP], JFK_LAX)] == ["off_nonstop"]


def test_offers_only_in_another_currency_are_a_502_not_no_offers() -> None:
    in_euros = duffel_offer("off_eur", "90.00", NONSTOP["slices"][0]["segments"], "PT6H25M", currency="EUR")

    with pytest.raises(UpstreamError) as raised:
        normalise_offers([in_euros], JFK_LAX)

    assert (raised.value.status, raised.value.code) == (502, "upstream_currency_unavailable")


def test_no_offers_is_an_empty_list(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [created(), page()])

    assert duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20) == []


# -- errors, retries and waits ----------------------------------------------------------------------


def test_a_429_waits_until_its_reset_time_then_succeeds(clock: RecordingClock) -> None:
    reset_at = clock.now() + 7
    upstream = ScriptedUpstream(clock, [rate_limited(reset_at), created(), page(NONSTOP)])

    offers = duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert [offer.id for offer in offers] == ["off_nonstop"]
    assert clock.sleeps == [7.0]
    assert upstream.sent[1]["at"] == reset_at


def test_a_429_whose_reset_is_past_the_deadline_gives_up_at_once(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [rate_limited(clock.now() + 45), created(), page()])

    with pytest.raises(UpstreamUnavailable) as raised:
        duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert (raised.value.status, raised.value.code) == (503, "upstream_rate_limited")
    assert len(upstream.sent) == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    ("failure", "status"), [(UNAVAILABLE, 503), (GATEWAY_TIMEOUT, 504)], ids=["503", "504"]
)
def test_503_and_504_are_retried(clock: RecordingClock, failure: Step, status: int) -> None:
    upstream = ScriptedUpstream(clock, [failure, created(), failure, page(NONSTOP)])

    offers = duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert len(offers) == 1 and len(upstream.sent) == 4


@pytest.mark.parametrize(
    ("failure", "status"), [(UNAVAILABLE, 503), (GATEWAY_TIMEOUT, 504)], ids=["503", "504"]
)
def test_persistent_503_or_504_ends_in_that_status(clock: RecordingClock, failure: Step, status: int) -> None:
    upstream = ScriptedUpstream(clock, [failure] * 10)

    with pytest.raises(UpstreamError) as raised:
        duffel_source(clock, upstream, max_attempts=3).search(JFK_LAX, deadline=clock.now() + 20)

    assert raised.value.status == status and len(upstream.sent) == 3


@pytest.mark.parametrize("failure", [SERVER_ERROR, BAD_GATEWAY], ids=["500", "502"])
def test_500_and_502_are_not_retried(clock: RecordingClock, failure: Step) -> None:
    upstream = ScriptedUpstream(clock, [failure, created(), page()])

    with pytest.raises(UpstreamError) as raised:
        duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert (raised.value.status, raised.value.code) == (502, "upstream_error")
    assert len(upstream.sent) == 1


def test_a_refused_token_is_a_503_not_configured_without_the_token_anywhere(
    clock: RecordingClock, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = ScriptedUpstream(clock, [BAD_TOKEN, created(), page()])

    with pytest.raises(UpstreamUnavailable) as raised:
        duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert (raised.value.status, raised.value.code) == (503, "upstream_not_configured")
    assert len(upstream.sent) == 1
    logged = everything_logged(caplog, capsys)
    assert "req_123" in logged and "[redacted]" in logged
    assert all(TOKEN not in text for text in (str(raised.value), repr(raised.value.details), logged))


def test_a_missing_token_is_a_503_and_nothing_is_sent(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [])

    def not_configured() -> DuffelCredentials:
        raise UpstreamUnavailable("The fare source is not configured.", code="upstream_not_configured")

    source = DuffelFareSource(
        base_url=BASE_URL, credentials=not_configured, clock=clock, session=session_with(upstream)
    )

    with pytest.raises(UpstreamUnavailable):
        source.search(JFK_LAX, deadline=clock.now() + 20)
    source.warm_up()  # logs, never raises
    assert upstream.sent == []


def test_a_validation_error_about_the_query_is_a_400(clock: RecordingClock) -> None:
    invalid = Step(
        422,
        duffel_error(422, "validation_error", "invalid_data", "Origin not found"),
        content_type=JSON,
    )
    upstream = ScriptedUpstream(clock, [invalid])

    with pytest.raises(InvalidRequest) as raised:
        duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert raised.value.code == "rejected_by_fare_source"
    assert raised.value.details == [{"issue": "Origin not found"}]


def test_an_offer_request_answer_without_an_id_is_a_bad_response(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [Step(201, {"data": {}}, content_type=JSON)])

    with pytest.raises(UpstreamError) as raised:
        duffel_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert raised.value.code == "upstream_bad_response" and len(upstream.sent) == 1


def test_upstream_wait_reads_an_http_date_and_falls_back_to_retry_after() -> None:
    now = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC).timestamp()

    assert upstream_wait({"ratelimit-reset": "Mon, 23 Nov 2026 12:00:09 GMT"}, now) == 9.0
    assert upstream_wait({"ratelimit-reset": "Mon, 23 Nov 2026 11:59:00 GMT"}, now) == 0.0
    assert upstream_wait({"ratelimit-reset": "soon", "Retry-After": "3"}, now) == 3.0
    assert upstream_wait({}, now) is None


# -- the simulator, in-process ----------------------------------------------------------------------


class InProcessDuffel:
    """The Duffel simulator behind a WSGI transport on the test clock: no socket, no real waiting."""

    def __init__(self, clock: RecordingClock) -> None:
        self.clock = clock
        self.app = Simulator(
            access_token=TOKEN,
            clock=clock.now,
            sleep=lambda seconds: self.transport.stall(seconds),
            slow_route_seconds=30,
        )
        self.transport = WSGIAdapter(self.app, advance=clock.advance)
        self.departure = dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC).date() + dt.timedelta(days=30)

    def source(self, **options: Any) -> DuffelFareSource:
        return duffel_source(self.clock, self.transport, **options)

    def query(self, route: tuple[str, str] = ("JFK", "LAX")) -> FareQuery:
        return FareQuery(origin=route[0], destination=route[1], departure_date=self.departure)


@pytest.fixture
def simulator(clock: RecordingClock) -> InProcessDuffel:
    return InProcessDuffel(clock)


def test_the_simulators_cheapest_is_the_pinned_fare_across_pages(simulator: InProcessDuffel) -> None:
    query = simulator.query()
    simulator.app.pin_price(query.origin, query.destination, query.departure_date, "187.40")

    offers = simulator.source(page_size=2).search(query, deadline=simulator.clock.now() + 20)

    best = cheapest(offers)
    assert best is not None and best.display_price == "187.40 USD"
    assert len(offers) > 2
    assert simulator.app.stats()["search_requests"] == 1
    assert simulator.app.stats()["offer_list_requests"] == (len(offers) + 1) // 2


def test_the_simulators_no_offers_route_is_an_empty_list(simulator: InProcessDuffel) -> None:
    offers = simulator.source().search(simulator.query(NO_OFFERS_ROUTE), deadline=simulator.clock.now() + 20)

    assert offers == []


def test_the_simulators_slow_route_ends_in_504_at_the_deadline(simulator: InProcessDuffel) -> None:
    deadline = simulator.clock.now() + 20

    with pytest.raises(UpstreamTimeout):
        simulator.source().search(simulator.query(SLOW_ROUTE), deadline=deadline)

    assert simulator.clock.now() <= deadline
    assert simulator.app.stats()["search_requests"] == 1  # 20 s read timeout: the whole budget


def test_the_simulators_rate_limit_is_waited_out(simulator: InProcessDuffel) -> None:
    simulator.app.set_fault("http429", 1)

    offers = simulator.source().search(simulator.query(), deadline=simulator.clock.now() + 20)

    assert offers and 0 < simulator.clock.sleeps[0] <= 2.0
