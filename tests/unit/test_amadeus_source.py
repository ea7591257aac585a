"""The Amadeus fare source without sockets: scripted upstream answers where the exact sequence
matters, and the Amadeus simulator served in-process through a WSGI transport adapter."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ReadTimeoutError

from amadeus_sim.app import Simulator
from farewatch.clock import ManualClock
from farewatch.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from farewatch.fare_query import FareQuery
from farewatch.fares.amadeus import (
    AmadeusCredentials,
    AmadeusFareSource,
    AmadeusTokenIssuer,
    flight_offers_params,
    normalise_offers,
)
from farewatch.fares.answers import duration_minutes
from farewatch.fares.http import RetryPolicy, TransientUpstreamFailure, send
from farewatch.fares.tokens_api import IssuedToken
from farewatch.offers import cheapest
from tests.support.wsgi_adapter import WSGIAdapter

BASE_URL = "http://amadeus.test"
CLIENT_ID = "farewatch-local"
CLIENT_SECRET = "farewatch-local-secret"  # the simulator's local default, not a real secret
JFK_LAX = FareQuery(
    origin="JFK", destination="LAX", departure_date=dt.date(2027, 1, 15), adults=2, currency="USD"
)


# -- collaborators ----------------------------------------------------------------------------------


class RecordingClock(ManualClock):
    """A ManualClock that remembers every sleep, so tests can see the backoff."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


class NumberedTokens:
    """A TokenProvider handing out `token-1`, `token-2`, … and recording invalidations."""

    def __init__(self) -> None:
        self.issued = 0
        self.current: str | None = None
        self.invalidated: list[str] = []

    def get(self) -> str:
        if self.current is None:
            self.issued += 1
            self.current = f"tok-{self.issued}-a8f3e9c1d2"
        return self.current

    def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        if token == self.current:
            self.current = None


class Step:
    """One scripted upstream answer: a response, or a transport failure after some time passes."""

    def __init__(
        self,
        status: int = 200,
        body: Any = None,
        *,
        content_type: str = "application/vnd.amadeus+json",
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        raises: type[requests.RequestException] | None = None,
        takes: float = 0.0,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.raw = raw
        self.raises = raises
        self.takes = takes


class ScriptedUpstream(BaseAdapter):
    """Answers request n with script[n]; records what was sent. A step that `raises` a timeout
    consumes the request's read timeout on the clock, as a real hung upstream would."""

    def __init__(self, clock: ManualClock, script: list[Step]) -> None:
        super().__init__()
        self.clock = clock
        self.script = list(script)
        self.sent: list[dict[str, Any]] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # type: ignore[override]
        parts = urlsplit(request.url)
        self.sent.append(
            {
                "method": request.method,
                "path": parts.path,
                "params": {key: values[0] for key, values in parse_qs(parts.query).items()},
                "headers": dict(request.headers),
                "body": request.body,
                "timeout": timeout,
                "at": self.clock.now(),
            }
        )
        step = self.script.pop(0)
        if step.raises is not None:
            waited = timeout[1] if step.raises is requests.ReadTimeout else step.takes
            self.clock.advance(waited)
            raise step.raises("scripted transport failure", request=request)
        self.clock.advance(step.takes)
        response = requests.Response()
        response.status_code = step.status
        content = step.raw if step.raw is not None else json.dumps(step.body).encode()
        response._content = content
        response.headers = CaseInsensitiveDict({"Content-Type": step.content_type, **step.headers})
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        return None


def session_with(adapter: BaseAdapter) -> requests.Session:
    session = requests.Session()
    session.mount(BASE_URL, adapter)
    return session


def fixed_jitter(*values: float) -> Callable[[], float]:
    sequence = iter(values)
    return lambda: next(sequence)


def amadeus_source(
    clock: ManualClock,
    upstream: BaseAdapter,
    tokens: NumberedTokens | None = None,
    **options: Any,
) -> AmadeusFareSource:
    return AmadeusFareSource(
        base_url=BASE_URL,
        tokens=tokens or NumberedTokens(),
        clock=clock,
        session=session_with(upstream),
        **options,
    )


# -- payloads ---------------------------------------------------------------------------------------


def segment(
    origin: str,
    departs: str,
    destination: str,
    arrives: str,
    carrier: str,
    number: str,
    *,
    stops: int = 0,
) -> dict[str, Any]:
    return {
        "departure": {"iataCode": origin, "terminal": "4", "at": departs},
        "arrival": {"iataCode": destination, "at": arrives},
        "carrierCode": carrier,
        "number": number,
        "aircraft": {"code": "32N"},
        "operating": {"carrierCode": carrier},
        "duration": "PT2H",
        "id": f"{carrier}{number}",
        "numberOfStops": stops,
        "blacklistedInEU": False,
        "co2Emissions": [{"weight": 120, "weightUnit": "KG", "cabin": "ECONOMY"}],
    }


def flight_offer(
    offer_id: str,
    grand_total: str,
    segments: list[dict[str, Any]],
    duration: str,
    *,
    validating: list[str] | None = None,
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "type": "flight-offer",
        "id": offer_id,
        "source": "GDS",
        "instantTicketingRequired": False,
        "nonHomogeneous": False,
        "oneWay": False,
        "lastTicketingDate": "2027-01-10",
        "numberOfBookableSeats": 7,
        "itineraries": [{"duration": duration, "segments": segments}],
        "price": {
            "currency": currency,
            "total": grand_total,
            "base": "100.00",
            "fees": [{"amount": "0.00", "type": "SUPPLIER"}],
            "grandTotal": grand_total,
        },
        "pricingOptions": {"fareType": ["PUBLISHED"], "includedCheckedBagsOnly": True},
        "validatingAirlineCodes": validating if validating is not None else [segments[0]["carrierCode"]],
        "travelerPricings": [{"travelerId": "1", "fareOption": "STANDARD", "travelerType": "ADULT"}],
        "someFutureField": {"nested": [1, 2, 3]},
    }


def search_reply(*offers: dict[str, Any]) -> dict[str, Any]:
    return {
        "meta": {"count": len(offers), "links": {"self": f"{BASE_URL}/v2/shopping/flight-offers?..."}},
        "data": list(offers),
        "dictionaries": {"carriers": {"AA": "AMERICAN AIRLINES", "UA": "UNITED AIRLINES"}},
        "warnings": [{"status": 200, "code": 12345, "title": "SOMETHING NEW"}],
    }


NONSTOP = flight_offer(
    "1",
    "412.30",
    [segment("JFK", "2027-01-15T08:00:00", "LAX", "2027-01-15T11:25:00", "AA", "1")],
    "PT6H25M",
)
ONE_STOP_WITH_TECHNICAL_STOP = flight_offer(
    "2",
    "198.07",
    [
        segment("JFK", "2027-01-15T21:50:00", "ORD", "2027-01-15T23:40:00", "UA", "1432"),
        segment("ORD", "2027-01-16T20:05:00", "LAX", "2027-01-16T23:15:00", "UA", "88", stops=1),
    ],
    "P1DT4H25M",
    validating=["DL"],
)
REALISTIC_REPLY = search_reply(NONSTOP, ONE_STOP_WITH_TECHNICAL_STOP)


def amadeus_errors(status: int, code: int, title: str, detail: str = "") -> dict[str, Any]:
    return {"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}


EXPIRED_TOKEN = Step(401, amadeus_errors(401, 38192, "Access token expired"))
INVALID_TOKEN = Step(401, amadeus_errors(401, 38190, "Invalid access token"))
SERVER_ERROR = Step(500, amadeus_errors(500, 141, "SYSTEM ERROR HAS OCCURRED"))
RATE_LIMITED = Step(429, amadeus_errors(429, 38194, "Too many requests"))


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


@pytest.fixture(autouse=True)
def _capture_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield


def everything_logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    """Every log record with all its extra fields, plus anything printed."""
    captured = capsys.readouterr()
    records = [repr(record.__dict__) + record.getMessage() for record in caplog.records]
    return "\n".join([*records, captured.out, captured.err])


# -- normalisation ----------------------------------------------------------------------------------


def test_normalise_reads_every_field_of_a_nonstop_offer() -> None:
    offers = normalise_offers(search_reply(NONSTOP), JFK_LAX)

    assert [offer.model_dump() for offer in offers] == [
        {
            "id": "1",
            "price": Decimal("412.30"),
            "currency": "USD",
            "carrier": "AA",
            "flight_numbers": ["AA1"],
            "stops": 0,
            "departure_at": "2027-01-15T08:00:00",
            "arrival_at": "2027-01-15T11:25:00",
            "origin": "JFK",
            "destination": "LAX",
            "duration_minutes": 385,
        }
    ]


def test_normalise_counts_connections_and_technical_stops_over_a_multi_day_trip() -> None:
    (offer,) = normalise_offers(search_reply(ONE_STOP_WITH_TECHNICAL_STOP), JFK_LAX)

    assert offer.flight_numbers == ["UA1432", "UA88"]
    assert offer.stops == 2  # one connection at ORD + one technical stop on UA88
    assert (offer.origin, offer.destination) == ("JFK", "LAX")
    assert (offer.departure_at, offer.arrival_at) == ("2027-01-15T21:50:00", "2027-01-16T23:15:00")
    assert offer.duration_minutes == 28 * 60 + 25
    assert offer.carrier == "DL"  # the validating airline, not the operating one


def test_normalise_uses_first_segment_carrier_when_no_validating_airline() -> None:
    no_validating = copy.deepcopy(NONSTOP)
    no_validating["validatingAirlineCodes"] = []

    (offer,) = normalise_offers(search_reply(no_validating), JFK_LAX)

    assert offer.carrier == "AA"


def test_normalise_falls_back_to_total_when_grand_total_is_absent() -> None:
    total_only = copy.deepcopy(NONSTOP)
    del total_only["price"]["grandTotal"]
    total_only["price"]["total"] = "399.99"

    (offer,) = normalise_offers(search_reply(total_only), JFK_LAX)

    assert offer.price == Decimal("399.99")


def test_normalise_prefers_grand_total_over_total() -> None:
    with_fees = copy.deepcopy(NONSTOP)
    with_fees["price"].update(total="400.00", grandTotal="425.50")

    (offer,) = normalise_offers(search_reply(with_fees), JFK_LAX)

    assert offer.price == Decimal("425.50")


def test_normalise_reads_a_price_written_as_a_json_number() -> None:
    numeric = copy.deepcopy(NONSTOP)
    numeric["price"].update(total=412.3, grandTotal=412.3)

    (offer,) = normalise_offers(search_reply(numeric), JFK_LAX)

    assert offer.price == Decimal("412.3")


def test_normalise_keeps_amadeus_local_times_as_written() -> None:
    to_the_minute = copy.deepcopy(NONSTOP)
    to_the_minute["itineraries"][0]["segments"][0]["departure"]["at"] = "2027-01-15T08:00"

    (offer,) = normalise_offers(search_reply(to_the_minute), JFK_LAX)

    assert (offer.departure_at, offer.arrival_at) == ("2027-01-15T08:00", "2027-01-15T11:25:00")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("itineraries", 0, "duration"), "P1M"),
        (("itineraries", 0, "segments", 0, "departure", "at"), "soon"),
        (("itineraries", 0, "segments", 0, "carrierCode"), ""),
        (("price", "currency"), None),
        (("id",), 7),
    ],
    ids=["duration", "departure-time", "carrier", "currency", "id"],
)
def test_normalise_skips_an_offer_with_one_unreadable_field(path: tuple[Any, ...], value: Any) -> None:
    broken = copy.deepcopy(NONSTOP)
    container: Any = broken
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = value

    offers = normalise_offers(search_reply(broken, ONE_STOP_WITH_TECHNICAL_STOP), JFK_LAX)

    assert [offer.id for offer in offers] == ["2"]


def test_normalise_treats_an_empty_data_list_as_no_offers() -> None:
    assert normalise_offers({"meta": {"count": 0}, "data": []}, JFK_LAX) == []


def test_normalise_skips_an_unreadable_offer_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    broken = copy.deepcopy(NONSTOP)
    broken["id"] = "broken"
    del broken["itineraries"][0]["segments"][0]["arrival"]
    round_trip = copy.deepcopy(NONSTOP)
    round_trip["id"] = "round-trip"
    round_trip["itineraries"].append(copy.deepcopy(round_trip["itineraries"][0]))

    offers = normalise_offers(search_reply(broken, ONE_STOP_WITH_TECHNICAL_STOP, round_trip, "junk"), JFK_LAX)

    assert [offer.id for offer in offers] == ["2"]
    skipped = [record for record in caplog.records if record.getMessage().startswith("Skipping")]
    assert [getattr(record, "offer_id", None) for record in skipped] == ["broken", "round-trip", None]
    assert all(record.levelno == logging.WARNING for record in skipped)


@pytest.mark.parametrize(
    "price",
    [{"currency": "USD"}, {"currency": "USD", "grandTotal": "NaN"}, {"currency": "USD", "grandTotal": "-1"}],
)
def test_normalise_skips_an_offer_without_a_usable_price(price: dict[str, str]) -> None:
    unpriced = copy.deepcopy(NONSTOP)
    unpriced["price"] = price

    assert normalise_offers(search_reply(unpriced, ONE_STOP_WITH_TECHNICAL_STOP), JFK_LAX)[0].id == "2"


def test_normalise_refuses_a_reply_where_no_offer_can_be_read() -> None:
    broken = copy.deepcopy(NONSTOP)
    broken["itineraries"] = []

    with pytest.raises(UpstreamError) as raised:
        normalise_offers(search_reply(broken), JFK_LAX)

    assert (raised.value.status, raised.value.code) == (502, "upstream_bad_response")


def test_normalise_refuses_a_reply_without_data() -> None:
    with pytest.raises(UpstreamError) as raised:
        normalise_offers({"meta": {"count": 0}}, JFK_LAX)

    assert raised.value.code == "upstream_bad_response"


@pytest.mark.parametrize(
    ("iso", "minutes"),
    [("PT5H30M", 330), ("P1DT2H", 26 * 60), ("PT45M", 45), ("PT2H", 120), ("P1D", 1440), ("PT1H0M59S", 60)],
)
def test_duration_minutes_reads_amadeus_durations(iso: str, minutes: int) -> None:
    assert duration_minutes(iso) == minutes


@pytest.mark.parametrize("iso", ["", "P", "PT", "5H30M", "P1M", "P1W", "PT5H30", "P1DT"])
def test_duration_minutes_refuses_what_is_not_a_flight_duration(iso: str) -> None:
    with pytest.raises(ValueError):
        duration_minutes(iso)


@given(days=st.integers(0, 3), hours=st.integers(0, 23), minutes=st.integers(0, 59))
def test_duration_minutes_adds_up_days_hours_and_minutes(days: int, hours: int, minutes: int) -> None:
    iso = "P" + (f"{days}D" if days else "") + f"T{hours}H{minutes}M"

    assert duration_minutes(iso) == days * 1440 + hours * 60 + minutes


def test_search_returns_offers_in_upstream_order_and_cheapest_is_computed(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [Step(200, REALISTIC_REPLY)])

    offers = amadeus_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert [offer.id for offer in offers] == ["1", "2"]
    best = cheapest(offers)
    assert best is not None and (best.id, best.display_price) == ("2", "198.07 USD")


# -- the request ------------------------------------------------------------------------------------


def test_search_sends_the_documented_query_and_headers(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [Step(200, search_reply())])

    amadeus_source(clock, upstream, max_offers=25).search(JFK_LAX, deadline=clock.now() + 20)

    (sent,) = upstream.sent
    assert (sent["method"], sent["path"]) == ("GET", "/v2/shopping/flight-offers")
    assert sent["params"] == {
        "originLocationCode": "JFK",
        "destinationLocationCode": "LAX",
        "departureDate": "2027-01-15",
        "adults": "2",
        "currencyCode": "USD",
        "max": "25",
    }
    assert sent["headers"]["Authorization"] == "Bearer tok-1-a8f3e9c1d2"
    assert sent["headers"]["Accept"] == "application/vnd.amadeus+json"
    assert sent["timeout"] == (3.05, 10.0)


def test_query_booleans_are_sent_lowercase() -> None:
    from farewatch.fares.amadeus import _query_value

    assert (_query_value(True), _query_value(False), _query_value(3)) == ("true", "false", "3")
    assert all(value == value.strip() for value in flight_offers_params(JFK_LAX, max_offers=5).values())


def test_read_timeout_is_capped_by_the_time_left(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [Step(200, search_reply())])

    amadeus_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 1.5)

    assert upstream.sent[0]["timeout"] == (1.5, 1.5)


def test_plain_json_answers_are_accepted(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [Step(200, REALISTIC_REPLY, content_type="application/json")])

    assert len(amadeus_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)) == 2


# -- retries and the time budget --------------------------------------------------------------------


def test_server_errors_and_rate_limits_are_retried_until_success(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [SERVER_ERROR, RATE_LIMITED, Step(200, REALISTIC_REPLY)])
    source = amadeus_source(clock, upstream, jitter=fixed_jitter(0.0, 1.0))

    offers = source.search(JFK_LAX, deadline=clock.now() + 20)

    assert len(offers) == 2
    assert len(upstream.sent) == 3
    assert clock.sleeps == [0.125, 0.5]  # equal jitter: [c/2, c] with c = 0.25, then 0.5


def test_backoff_is_jittered_exponential_and_capped() -> None:
    policy = RetryPolicy(
        max_attempts=6, backoff_base=0.5, backoff_cap=2.0, jitter=fixed_jitter(1, 1, 1, 1, 0.5)
    )

    waits = [policy.backoff(retry) for retry in range(1, 6)]

    assert waits == [0.5, 1.0, 2.0, 2.0, 1.5]


def test_retry_after_is_honoured_up_to_the_cap(clock: RecordingClock) -> None:
    slow_down = Step(429, amadeus_errors(429, 38194, "Too many requests"), headers={"Retry-After": "1"})
    too_long = Step(429, amadeus_errors(429, 38194, "Too many requests"), headers={"Retry-After": "60"})
    upstream = ScriptedUpstream(clock, [slow_down, too_long, Step(200, search_reply())])

    amadeus_source(clock, upstream, jitter=lambda: 0.0).search(JFK_LAX, deadline=clock.now() + 20)

    assert clock.sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("failure", "error_type", "status", "code"),
    [
        (SERVER_ERROR, UpstreamError, 502, "upstream_error"),
        (
            Step(503, raw=b"<html>Service Unavailable</html>", content_type="text/html"),
            UpstreamError,
            502,
            "upstream_error",
        ),
        (RATE_LIMITED, UpstreamUnavailable, 503, "upstream_rate_limited"),
        (Step(raises=requests.ReadTimeout), UpstreamTimeout, 504, "upstream_timeout"),
        (Step(raises=requests.ConnectTimeout, takes=3.05), UpstreamTimeout, 504, "upstream_timeout"),
        (Step(raises=requests.ConnectionError, takes=0.01), UpstreamUnavailable, 503, "upstream_unreachable"),
    ],
    ids=["500", "503-html", "429", "read-timeout", "connect-timeout", "connection-refused"],
)
def test_persistent_failure_gives_up_with_the_mapped_error_inside_the_budget(
    clock: RecordingClock, failure: Step, error_type: type[UpstreamError], status: int, code: str
) -> None:
    upstream = ScriptedUpstream(clock, [failure] * 10)
    source = amadeus_source(clock, upstream, max_attempts=4, backoff_base=0.25, backoff_cap=2.0)
    deadline = clock.now() + 20

    with pytest.raises(error_type) as raised:
        source.search(JFK_LAX, deadline=deadline)

    assert (type(raised.value), raised.value.status, raised.value.code) == (error_type, status, code)
    assert clock.now() <= deadline
    assert 1 <= len(upstream.sent) <= 4
    assert len(clock.sleeps) == len(upstream.sent) - 1
    assert all(0 < wait <= 2.0 for wait in clock.sleeps)


def test_all_attempts_are_used_when_the_budget_allows(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [SERVER_ERROR] * 10)

    with pytest.raises(UpstreamError):
        amadeus_source(clock, upstream, max_attempts=4).search(JFK_LAX, deadline=clock.now() + 20)

    assert len(upstream.sent) == 4
    ceilings = [0.25, 0.5, 1.0]
    assert all(ceiling / 2 <= wait <= ceiling for wait, ceiling in zip(clock.sleeps, ceilings, strict=True))


def test_sleeps_are_jittered(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [SERVER_ERROR] * 4)
    source = amadeus_source(clock, upstream, jitter=fixed_jitter(0.1, 0.9, 0.4, 0.0))

    with pytest.raises(UpstreamError):
        source.search(JFK_LAX, deadline=clock.now() + 20)

    assert clock.sleeps == pytest.approx([0.1375, 0.475, 0.7])


def test_timeouts_eat_the_budget_and_the_last_attempt_is_cut_to_the_deadline(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [Step(raises=requests.ReadTimeout)] * 10)
    deadline = clock.now() + 12

    with pytest.raises(UpstreamTimeout):
        amadeus_source(clock, upstream, jitter=lambda: 0.0).search(JFK_LAX, deadline=deadline)

    read_timeouts = [sent["timeout"][1] for sent in upstream.sent]
    assert read_timeouts == pytest.approx([10.0, 12 - 10 - 0.125])
    assert clock.now() == pytest.approx(deadline)


def test_a_read_timeout_while_reading_the_body_is_a_timeout() -> None:
    class StallsInBody(BaseAdapter):
        def send(self, request, **kwargs):  # type: ignore[override]
            # requests reports a body read that times out as a ConnectionError wrapping urllib3's error
            raise requests.ConnectionError(ReadTimeoutError(None, "/", "Read timed out."))

    with pytest.raises(TransientUpstreamFailure) as raised:
        send(session_with(StallsInBody()), "GET", f"{BASE_URL}/v2/x", timeout=(1.0, 1.0), what="Upstream")

    assert (raised.value.error.status, raised.value.error.code) == (504, "upstream_timeout")


def test_a_retry_whose_backoff_would_end_past_the_deadline_is_not_attempted(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(
        clock, [Step(500, amadeus_errors(500, 141, "ERR"), takes=0.9), Step(200, search_reply())]
    )

    with pytest.raises(UpstreamError) as raised:
        amadeus_source(clock, upstream, jitter=lambda: 0.0).search(JFK_LAX, deadline=clock.now() + 1.0)

    assert raised.value.code == "upstream_error"
    assert len(upstream.sent) == 1
    assert clock.sleeps == []


def test_no_request_is_sent_when_the_deadline_has_passed(clock: RecordingClock) -> None:
    upstream = ScriptedUpstream(clock, [Step(200, search_reply())])

    with pytest.raises(UpstreamTimeout):
        amadeus_source(clock, upstream).search(JFK_LAX, deadline=clock.now() - 1)

    assert upstream.sent == []


# -- answers that are not retried -------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Step(200, raw=b'{"data": [{"id": "1", "price": '),
        Step(200, raw=b"<html>upstream gateway</html>", content_type="text/html"),
        Step(200, ["not", "an", "object"]),
        Step(200, {"meta": {"count": 1}}),
    ],
    ids=["truncated-json", "html", "json-array", "no-data"],
)
def test_an_unreadable_success_is_a_bad_response_and_not_retried(clock: RecordingClock, reply: Step) -> None:
    upstream = ScriptedUpstream(clock, [reply, Step(200, REALISTIC_REPLY)])

    with pytest.raises(UpstreamError) as raised:
        amadeus_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert (raised.value.status, raised.value.code) == (502, "upstream_bad_response")
    assert len(upstream.sent) == 1


def test_a_rejected_search_is_502_with_amadeus_detail_logged(
    clock: RecordingClock, caplog: pytest.LogCaptureFixture
) -> None:
    rejected = Step(400, amadeus_errors(400, 425, "INVALID DATE", "Date/Time is in the past"))
    upstream = ScriptedUpstream(clock, [rejected])

    with pytest.raises(UpstreamError) as raised:
        amadeus_source(clock, upstream).search(JFK_LAX, deadline=clock.now() + 20)

    assert (raised.value.status, raised.value.code) == (502, "upstream_rejected")
    assert len(upstream.sent) == 1
    logged = [record for record in caplog.records if record.getMessage() == "Amadeus rejected the search"]
    assert logged[0].issues[0]["detail"] == "Date/Time is in the past"
    assert logged[0].issues[0]["code"] == 425


# -- expired and invalid tokens ---------------------------------------------------------------------


@pytest.mark.parametrize("refused", [EXPIRED_TOKEN, INVALID_TOKEN], ids=["38192", "38190"])
def test_a_refused_token_is_invalidated_and_the_search_retried_once(
    clock: RecordingClock, refused: Step
) -> None:
    tokens = NumberedTokens()
    upstream = ScriptedUpstream(clock, [refused, Step(200, REALISTIC_REPLY)])

    offers = amadeus_source(clock, upstream, tokens).search(JFK_LAX, deadline=clock.now() + 20)

    assert len(offers) == 2
    assert tokens.invalidated == ["tok-1-a8f3e9c1d2"]
    assert [sent["headers"]["Authorization"] for sent in upstream.sent] == [
        "Bearer tok-1-a8f3e9c1d2",
        "Bearer tok-2-a8f3e9c1d2",
    ]
    assert clock.sleeps == []  # a token refresh is not a backoff


def test_a_second_refused_token_is_an_auth_failure(clock: RecordingClock) -> None:
    tokens = NumberedTokens()
    upstream = ScriptedUpstream(clock, [EXPIRED_TOKEN, EXPIRED_TOKEN, Step(200, REALISTIC_REPLY)])

    with pytest.raises(UpstreamError) as raised:
        amadeus_source(clock, upstream, tokens).search(JFK_LAX, deadline=clock.now() + 20)

    assert (type(raised.value), raised.value.status, raised.value.code) == (
        UpstreamError,
        502,
        "upstream_auth_failed",
    )
    assert tokens.invalidated == ["tok-1-a8f3e9c1d2"]
    assert len(upstream.sent) == 2


def test_the_single_refresh_is_spent_across_retries(clock: RecordingClock) -> None:
    tokens = NumberedTokens()
    upstream = ScriptedUpstream(
        clock, [EXPIRED_TOKEN, SERVER_ERROR, EXPIRED_TOKEN, Step(200, REALISTIC_REPLY)]
    )

    with pytest.raises(UpstreamError) as raised:
        amadeus_source(clock, upstream, tokens).search(JFK_LAX, deadline=clock.now() + 20)

    assert raised.value.code == "upstream_auth_failed"
    assert len(tokens.invalidated) == 1
    assert len(upstream.sent) == 3


def test_a_401_for_another_reason_is_not_refreshed(clock: RecordingClock) -> None:
    tokens = NumberedTokens()
    upstream = ScriptedUpstream(clock, [Step(401, amadeus_errors(401, 38191, "Invalid HTTP header"))])

    with pytest.raises(UpstreamError) as raised:
        amadeus_source(clock, upstream, tokens).search(JFK_LAX, deadline=clock.now() + 20)

    assert raised.value.code == "upstream_auth_failed"
    assert tokens.invalidated == []


# -- warm-up ----------------------------------------------------------------------------------------


def test_warm_up_gets_a_token() -> None:
    tokens = NumberedTokens()
    source = AmadeusFareSource(base_url=BASE_URL, tokens=tokens, clock=ManualClock())

    source.warm_up()

    assert tokens.issued == 1


def test_warm_up_logs_and_swallows_a_token_failure(caplog: pytest.LogCaptureFixture) -> None:
    class DownTokens(NumberedTokens):
        def get(self) -> str:
            raise UpstreamUnavailable("token endpoint down", code="upstream_unreachable")

    AmadeusFareSource(base_url=BASE_URL, tokens=DownTokens(), clock=ManualClock()).warm_up()

    (record,) = [record for record in caplog.records if "start-up" in record.getMessage()]
    assert (record.levelno, record.code) == (logging.WARNING, "upstream_unreachable")


# -- the token issuer -------------------------------------------------------------------------------


def token_issuer(
    clock: ManualClock, upstream: BaseAdapter, secret: str = CLIENT_SECRET
) -> AmadeusTokenIssuer:
    return AmadeusTokenIssuer(
        BASE_URL,
        lambda: AmadeusCredentials(CLIENT_ID, SecretStr(secret)),
        session=session_with(upstream),
        clock=clock,
        connect_timeout=1.0,
        read_timeout=2.0,
    )


def test_the_issuer_posts_client_credentials_and_dates_the_token(clock: RecordingClock) -> None:
    granted = {
        "type": "amadeusOAuth2Token",
        "access_token": "A1b2C3",
        "expires_in": 1799,
        "state": "approved",
    }
    upstream = ScriptedUpstream(clock, [Step(200, granted, content_type="application/json")])

    token = token_issuer(clock, upstream)()

    assert token == IssuedToken(value="A1b2C3", expires_at=clock.now() + 1799)
    (sent,) = upstream.sent
    assert (sent["method"], sent["path"], sent["timeout"]) == (
        "POST",
        "/v1/security/oauth2/token",
        (1.0, 2.0),
    )
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent["body"]) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }


def test_the_issuer_reports_refused_credentials_without_the_secret(
    clock: RecordingClock, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = {
        "error": "invalid_client",
        "error_description": f"Client credentials are invalid ({CLIENT_SECRET})",
        "code": 38187,
        "title": "Invalid parameters",
    }
    upstream = ScriptedUpstream(clock, [Step(401, refused, content_type="application/json")])

    with pytest.raises(UpstreamError) as raised:
        token_issuer(clock, upstream)()

    assert (type(raised.value), raised.value.status, raised.value.code) == (
        UpstreamError,
        502,
        "upstream_auth_failed",
    )
    assert CLIENT_SECRET not in str(raised.value) and CLIENT_SECRET not in repr(raised.value.__dict__)
    logged = everything_logged(caplog, capsys)
    assert "invalid_client" in logged
    assert CLIENT_SECRET not in logged


@pytest.mark.parametrize(
    ("failure", "error_type", "code"),
    [
        (Step(raises=requests.ReadTimeout), UpstreamTimeout, "upstream_timeout"),
        (Step(raises=requests.ConnectionError), UpstreamUnavailable, "upstream_unreachable"),
        (SERVER_ERROR, UpstreamError, "upstream_error"),
        (RATE_LIMITED, UpstreamUnavailable, "upstream_rate_limited"),
        (
            Step(200, {"token_type": "Bearer"}, content_type="application/json"),
            UpstreamError,
            "upstream_bad_response",
        ),
        (Step(200, raw=b"not json", content_type="application/json"), UpstreamError, "upstream_bad_response"),
    ],
    ids=["timeout", "refused", "500", "429", "no-token", "not-json"],
)
def test_the_issuer_maps_upstream_failures(
    clock: RecordingClock, failure: Step, error_type: type[UpstreamError], code: str
) -> None:
    upstream = ScriptedUpstream(clock, [failure])

    with pytest.raises(error_type) as raised:
        token_issuer(clock, upstream)()

    assert (type(raised.value), raised.value.code) == (error_type, code)


def test_credentials_never_show_the_secret() -> None:
    credentials = AmadeusCredentials(CLIENT_ID, SecretStr(CLIENT_SECRET))

    assert CLIENT_SECRET not in repr(credentials) and CLIENT_SECRET not in str(credentials)
    assert credentials.client_secret.get_secret_value() == CLIENT_SECRET


# -- secrets stay out of logs and errors ------------------------------------------------------------


def test_no_log_line_or_error_carries_the_token(
    clock: RecordingClock, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = NumberedTokens()
    echoing = Step(400, amadeus_errors(400, 477, "INVALID FORMAT", "bad header Bearer tok-2-a8f3e9c1d2"))
    script = [EXPIRED_TOKEN, SERVER_ERROR, Step(raises=requests.ReadTimeout), RATE_LIMITED, echoing]
    upstream = ScriptedUpstream(clock, script)

    with pytest.raises(UpstreamError) as raised:
        amadeus_source(clock, upstream, tokens).search(JFK_LAX, deadline=clock.now() + 60)

    assert raised.value.code == "upstream_rejected"
    leaked = [str(raised.value), repr(raised.value.details), everything_logged(caplog, capsys)]
    assert "[redacted]" in leaked[2]
    for token in ("tok-1-a8f3e9c1d2", "tok-2-a8f3e9c1d2"):
        assert all(token not in text for text in leaked)


# -- the simulator, in-process ----------------------------------------------------------------------


class InProcessSimulator:
    """The Amadeus simulator behind a WSGI transport on a ManualClock: no socket, no real waiting."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.app = Simulator(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            clock=clock.now,
            rate_limit_tps=10,
            sleep=lambda seconds: self.transport.stall(seconds),
            timeout_fault_seconds=35,
        )
        self.transport = WSGIAdapter(self.app, advance=clock.advance)
        self.session = session_with(self.transport)
        self.departure = dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC).date() + dt.timedelta(days=30)
        self.query = FareQuery(origin="JFK", destination="LAX", departure_date=self.departure)

    def issuer(self, secret: str = CLIENT_SECRET) -> AmadeusTokenIssuer:
        return AmadeusTokenIssuer(
            BASE_URL,
            lambda: AmadeusCredentials(CLIENT_ID, SecretStr(secret)),
            session=self.session,
            clock=self.clock,
        )

    def fare_source(self, tokens: Any = None) -> AmadeusFareSource:
        return AmadeusFareSource(
            base_url=BASE_URL,
            tokens=tokens or IssuedTokens(self.issuer()),
            clock=self.clock,
            session=self.session,
        )


class IssuedTokens:
    """A TokenProvider over a real issuer: keeps one token until it is invalidated."""

    def __init__(self, issue: AmadeusTokenIssuer) -> None:
        self._issue = issue
        self._token: IssuedToken | None = None

    def get(self) -> str:
        if self._token is None:
            self._token = self._issue()
        return self._token.value

    def invalidate(self, token: str) -> None:
        if self._token is not None and self._token.value == token:
            self._token = None


@pytest.fixture
def simulator(clock: RecordingClock) -> InProcessSimulator:
    return InProcessSimulator(clock)


def test_the_simulator_answers_a_search_whose_cheapest_is_the_pinned_fare(
    simulator: InProcessSimulator,
) -> None:
    query = simulator.query
    simulator.app.pin_price(query.origin, query.destination, query.departure_date, "187.40")

    offers = simulator.fare_source().search(query, deadline=simulator.clock.now() + 20)

    best = cheapest(offers)
    assert best is not None and best.display_price == "187.40 USD"
    assert simulator.app.stats() == {"token_requests": 1, "search_requests": 1, "rate_limited": 0}
    sent = simulator.transport.sent[-1]
    assert sent.headers["Accept"] == "application/vnd.amadeus+json"


def test_the_simulators_expired_token_costs_one_extra_token_request(simulator: InProcessSimulator) -> None:
    source = simulator.fare_source()
    source.search(simulator.query, deadline=simulator.clock.now() + 20)
    simulator.app.set_fault("expired_token", 1)

    assert source.search(simulator.query, deadline=simulator.clock.now() + 20)
    assert simulator.app.stats() == {"token_requests": 2, "search_requests": 3, "rate_limited": 0}


def test_a_hung_simulator_ends_in_504_at_the_deadline(simulator: InProcessSimulator) -> None:
    source = simulator.fare_source()
    simulator.app.set_fault("timeout", 10)
    deadline = simulator.clock.now() + 20

    with pytest.raises(UpstreamTimeout):
        source.search(simulator.query, deadline=deadline)

    assert simulator.clock.now() <= deadline
    assert simulator.app.stats()["search_requests"] == 2  # 10 s, backoff, then the rest of the budget


def test_the_issuer_gets_a_simulator_token_dated_from_the_clock(simulator: InProcessSimulator) -> None:
    token = simulator.issuer()()

    assert token.value and token.expires_at == simulator.clock.now() + 1799


def test_the_simulator_refuses_a_wrong_secret_as_an_auth_failure(
    simulator: InProcessSimulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UpstreamError) as raised:
        simulator.issuer("wrong-secret-value")()

    assert raised.value.code == "upstream_auth_failed"
    assert "wrong-secret-value" not in str(raised.value) + everything_logged(caplog, capsys)
