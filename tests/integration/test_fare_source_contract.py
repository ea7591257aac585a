"""The fare-source contract, run against every source: Amadeus, Duffel and Ignav behind their simulators.

Two levels: the source itself (in-process simulators on a test clock, no sockets, no waiting), and
the price function end to end (handler → fare cache on moto → simulator over loopback HTTP), where a
user sees the same answers and the same error envelopes whichever source is configured.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from pydantic import SecretStr

import amadeus_sim.app
import duffel_sim.app
import ignav_sim.app
from fare_sim.server import start
from farewatch.clock import ManualClock
from farewatch.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from farewatch.fare_query import FareQuery
from farewatch.fares.amadeus import AmadeusCredentials, AmadeusFareSource, AmadeusTokenIssuer
from farewatch.fares.duffel import DuffelCredentials, DuffelFareSource
from farewatch.fares.ignav import IgnavCredentials, IgnavFareSource
from farewatch.fares.source import FareSource
from farewatch.offers import Offer, cheapest
from tests.support.events import FakeLambdaContext, api_event
from tests.support.wsgi_adapter import WSGIAdapter

SOURCES = ("amadeus", "duffel", "ignav")
BASE_URL = "http://fares.test"
DUFFEL_TOKEN = "duffel_test_farewatch-local"  # the simulator's local default, not a real token
IGNAV_KEY = ignav_sim.app.DEFAULT_API_KEY  # the Ignav simulator's local default, not a real key


@dataclass
class InProcessSource:
    """One source and its simulator on a shared test clock; `fault`, `pin_*` and `stats` reach the sim."""

    name: str
    source: FareSource
    simulator: Any
    clock: ManualClock

    def search(self, query: FareQuery, budget: float = 20) -> list[Offer]:
        return self.source.search(query, deadline=self.clock.now() + budget)


class RememberedToken:
    def __init__(self, issue: AmadeusTokenIssuer) -> None:
        self._issue = issue
        self._value: str | None = None

    def get(self) -> str:
        if self._value is None:
            self._value = self._issue().value
        return self._value

    def invalidate(self, token: str) -> None:
        self._value = None


def in_process(name: str, clock: ManualClock) -> InProcessSource:
    transport: WSGIAdapter
    simulator: Any
    options = {"max_attempts": 3, "backoff_base": 0.1, "backoff_cap": 0.5, "jitter": lambda: 0.0}
    if name == "amadeus":
        simulator = amadeus_sim.app.Simulator(
            clock=clock.now, sleep=lambda seconds: transport.stall(seconds), rate_limit_tps=0
        )
        transport = WSGIAdapter(simulator, advance=clock.advance)
        session = requests.Session()
        session.mount(BASE_URL, transport)
        issuer = AmadeusTokenIssuer(
            BASE_URL,
            lambda: AmadeusCredentials(simulator.client_id, SecretStr(simulator.client_secret)),
            session=session,
            clock=clock,
        )
        source: FareSource = AmadeusFareSource(
            base_url=BASE_URL, tokens=RememberedToken(issuer), clock=clock, session=session, **options
        )
    elif name == "ignav":
        simulator = ignav_sim.app.Simulator(clock=clock.now, sleep=lambda seconds: transport.stall(seconds))
        transport = WSGIAdapter(simulator, advance=clock.advance)
        session = requests.Session()
        session.mount(BASE_URL, transport)
        source = IgnavFareSource(
            base_url=BASE_URL,
            credentials=lambda: IgnavCredentials(SecretStr(IGNAV_KEY)),
            clock=clock,
            session=session,
            **options,
        )
    else:
        simulator = duffel_sim.app.Simulator(
            clock=clock.now, sleep=lambda seconds: transport.stall(seconds), rate_limit=0
        )
        transport = WSGIAdapter(simulator, advance=clock.advance)
        session = requests.Session()
        session.mount(BASE_URL, transport)
        source = DuffelFareSource(
            base_url=BASE_URL,
            credentials=lambda: DuffelCredentials(SecretStr(DUFFEL_TOKEN)),
            clock=clock,
            session=session,
            **options,
        )
    return InProcessSource(name, source, simulator, clock)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=SOURCES)
def fares(request: pytest.FixtureRequest, clock: ManualClock) -> InProcessSource:
    return in_process(request.param, clock)


def query_for(clock: ManualClock, days: int = 30, route: tuple[str, str] = ("JFK", "LAX")) -> FareQuery:
    departure = dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC).date() + dt.timedelta(days=days)
    return FareQuery(origin=route[0], destination=route[1], departure_date=departure)


# -- the source contract ----------------------------------------------------------------------------


def test_every_source_normalises_the_same_flights_to_the_same_offers(clock: ManualClock) -> None:
    query = query_for(clock)

    found = {name: in_process(name, clock).search(query) for name in SOURCES}

    def without_ids(offers: list[Offer]) -> list[dict[str, Any]]:
        return sorted(
            (
                offer.model_dump(exclude={"id"}) for offer in offers
            ),  # amounts compare as numbers (489 == 489.00)
            key=lambda offer: (offer["price"], offer["departure_at"]),
        )

    assert found["amadeus"] and without_ids(found["amadeus"]) == without_ids(found["duffel"])
    assert without_ids(found["ignav"]) == without_ids(found["amadeus"])
    assert len({found[name][0].id for name in SOURCES}) == 3  # each keeps its own offer ids


def test_the_cheapest_offer_is_the_pinned_fare(fares: InProcessSource) -> None:
    query = query_for(fares.clock)
    fares.simulator.pin_price(query.origin, query.destination, query.departure_date, "187.40")

    best = cheapest(fares.search(query))

    assert best is not None and best.display_price == "187.40 USD"


def test_every_offer_is_normalised_completely(fares: InProcessSource) -> None:
    # Two city codes: 6 airport pairs, within what Ignav searches pair by pair (NYC-LON would be 18).
    offers = fares.search(query_for(fares.clock, route=("NYC", "TYO")))

    assert offers
    for offer in offers:
        assert offer.currency == "USD" and offer.price > 0
        assert offer.flight_numbers and len(offer.flight_numbers) == offer.stops + 1
        assert offer.origin in {"JFK", "EWR", "LGA"} and offer.destination in {"HND", "NRT"}
        assert offer.duration_minutes > 0
        assert dt.datetime.fromisoformat(offer.arrival_at) > dt.datetime.fromisoformat(offer.departure_at)


def test_no_offers_is_an_empty_list(fares: InProcessSource) -> None:
    query = query_for(fares.clock)
    fares.simulator.pin_no_offers(query.origin, query.destination, query.departure_date)

    assert fares.search(query) == []


def test_a_persistent_upstream_500_is_a_502(fares: InProcessSource) -> None:
    fares.simulator.set_fault("http500")

    with pytest.raises(UpstreamError) as raised:
        fares.search(query_for(fares.clock))

    assert (raised.value.status, raised.value.code) == (502, "upstream_error")


def test_a_persistent_rate_limit_is_a_503(fares: InProcessSource) -> None:
    fares.simulator.set_fault("http429")

    with pytest.raises(UpstreamUnavailable) as raised:
        fares.search(query_for(fares.clock))

    assert (raised.value.status, raised.value.code) == (503, "upstream_rate_limited")


def test_a_hung_upstream_is_a_504_within_the_deadline(fares: InProcessSource) -> None:
    fares.simulator.set_fault("timeout")
    deadline = fares.clock.now() + 20

    with pytest.raises(UpstreamTimeout):
        fares.source.search(query_for(fares.clock), deadline=deadline)

    assert fares.clock.now() <= deadline


def test_a_cut_short_answer_is_a_bad_response_and_not_cached_as_no_offers(fares: InProcessSource) -> None:
    fares.simulator.set_fault("malformed")

    with pytest.raises(UpstreamError) as raised:
        fares.search(query_for(fares.clock))

    assert raised.value.code == "upstream_bad_response"


def test_a_transient_failure_is_retried_to_success(fares: InProcessSource) -> None:
    fares.simulator.set_fault("http429", 1)

    assert fares.search(query_for(fares.clock))


# -- the price function, whichever source is configured ---------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    """Both simulators on loopback ports, for the module; each test resets them."""
    servers = {
        "amadeus": start(amadeus_sim.app.Simulator(rate_limit_tps=0), port=0),
        "duffel": start(duffel_sim.app.Simulator(rate_limit=0), port=0),
        "ignav": start(ignav_sim.app.Simulator(), port=0),
    }
    yield servers
    for server in servers.values():
        server.stop()


@dataclass
class PriceApi:
    source: str
    sim_url: str
    module: Any

    def get(self, path: str, **params: str) -> tuple[int, dict[str, Any]]:
        response = self.module.lambda_handler(api_event("GET", path, params or None), FakeLambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def sim(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.sim_url}{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def searches(self) -> int:
        return int(self.sim("GET", "/__sim/stats")["search_requests"])


def price_api_with(
    monkeypatch: pytest.MonkeyPatch, served: dict[str, Any], source: str, **extra_env: str
) -> PriceApi:
    environment = {
        "FAREWATCH_FARE_SOURCE": source,
        "AMADEUS_BASE_URL": served["amadeus"].url,
        "AMADEUS_CLIENT_ID": "farewatch-local",
        "AMADEUS_CLIENT_SECRET": "farewatch-local-secret",
        "DUFFEL_BASE_URL": served["duffel"].url,
        "DUFFEL_ACCESS_TOKEN": DUFFEL_TOKEN,
        "IGNAV_BASE_URL": served["ignav"].url,
        "IGNAV_API_KEY": IGNAV_KEY,
        "UPSTREAM_BACKOFF_BASE_SECONDS": "0",
        "UPSTREAM_BACKOFF_CAP_SECONDS": "0",
        "FORCE_REFRESH_MIN_SECONDS": "0",  # every nocache reaches upstream here
        **extra_env,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    from farewatch import composition, settings

    settings.get_settings.cache_clear()
    composition.fare_service.cache_clear()
    composition._secrets.cache_clear()  # the secrets provider caches values for minutes
    for server in served.values():
        requests.post(f"{server.url}/__sim/reset", timeout=5).raise_for_status()
    return PriceApi(source, served[source].url, importlib.import_module("price_api.handler"))


@pytest.fixture
def clear_wiring() -> Iterator[Callable[[], None]]:
    from farewatch import composition, settings

    def clear() -> None:
        settings.get_settings.cache_clear()
        composition.fare_service.cache_clear()
        composition._secrets.cache_clear()

    yield clear
    clear()


@pytest.fixture(params=SOURCES)
def price_api(
    request: pytest.FixtureRequest,
    aws: None,
    served: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    clear_wiring,
) -> PriceApi:
    return price_api_with(monkeypatch, served, request.param)


def future(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def test_the_price_names_its_source_and_a_repeat_is_a_cache_hit(price_api: PriceApi) -> None:
    date = future(45)

    first_status, first = price_api.get("/flights/price", origin="JFK", destination="LAX", date=date)
    _, second = price_api.get("/flights/price", origin="JFK", destination="LAX", date=date)

    assert first_status == 200, first
    assert (first["meta"]["source"], first["meta"]["cached"]) == (price_api.source, False)
    assert (second["meta"]["source"], second["meta"]["cached"]) == (price_api.source, True)
    assert second["data"] == first["data"]
    assert price_api.searches() == 1


def test_a_pinned_price_is_what_the_user_sees(price_api: PriceApi) -> None:
    date = future(46)
    price_api.sim("PUT", f"/__sim/prices/JFK/LAX/{date}", {"amount": 123.45, "currency": "USD"})

    status, body = price_api.get("/flights/price", origin="JFK", destination="LAX", date=date)

    assert status == 200 and body["data"]["price"] == "123.45 USD"


def test_no_offers_is_a_404_no_offers(price_api: PriceApi) -> None:
    date = future(47)
    price_api.sim("PUT", f"/__sim/prices/JFK/LAX/{date}", {"offers": 0})

    status, body = price_api.get("/flights/price", origin="JFK", destination="LAX", date=date)

    assert status == 404 and body["error"]["code"] == "no_offers"


def test_an_upstream_500_is_a_502_envelope(price_api: PriceApi) -> None:
    price_api.sim("POST", "/__sim/faults", {"mode": "http500"})

    status, body = price_api.get("/flights/price", origin="JFK", destination="BOS", date=future(48))

    assert status == 502
    assert body["error"]["code"] == "upstream_error" and body["error"]["message"]


def test_an_upstream_failure_serves_the_last_known_price_as_stale(price_api: PriceApi) -> None:
    date = future(49)
    _, fresh = price_api.get("/flights/price", origin="JFK", destination="LAX", date=date)
    price_api.sim("POST", "/__sim/faults", {"mode": "http500"})

    status, stale = price_api.get("/flights/price", origin="JFK", destination="LAX", date=date, nocache="1")

    assert status == 200
    assert stale["data"] == fresh["data"]
    assert (stale["meta"]["stale"], stale["meta"]["source"]) == (True, price_api.source)


def test_a_cached_answer_of_one_source_is_never_reported_as_another(
    aws: None, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clear_wiring
) -> None:
    date = future(50)
    amadeus = price_api_with(monkeypatch, served, "amadeus")
    _, before = amadeus.get("/flights/price", origin="JFK", destination="LAX", date=date)

    duffel = price_api_with(monkeypatch, served, "duffel")
    _, after = duffel.get("/flights/price", origin="JFK", destination="LAX", date=date)
    duffel_searches = duffel.searches()
    _, back = price_api_with(monkeypatch, served, "amadeus").get(
        "/flights/price", origin="JFK", destination="LAX", date=date
    )

    assert before["meta"]["source"] == "amadeus"
    assert (after["meta"]["source"], after["meta"]["cached"], duffel_searches) == ("duffel", False, 1)
    assert (back["meta"]["source"], back["meta"]["cached"]) == ("amadeus", True)


def test_duffel_without_a_token_is_a_503_not_configured(
    aws: None, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clear_wiring
) -> None:
    # AWS's way: no token in the environment, the template's DuffelCredentials secret left empty.
    monkeypatch.delenv("DUFFEL_ACCESS_TOKEN", raising=False)
    api = price_api_with(monkeypatch, served, "duffel", DUFFEL_SECRET_ID="DuffelCredentials")
    monkeypatch.delenv("DUFFEL_ACCESS_TOKEN")
    clear_wiring()

    status, body = api.get("/flights/price", origin="JFK", destination="LAX", date=future(51))

    assert status == 503 and body["error"]["code"] == "upstream_not_configured"
    assert api.searches() == 0


def test_duffel_reads_its_token_from_the_secret(
    aws: None, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clear_wiring
) -> None:
    import boto3

    boto3.client("secretsmanager").put_secret_value(
        SecretId="DuffelCredentials", SecretString=json.dumps({"access_token": DUFFEL_TOKEN})
    )
    api = price_api_with(monkeypatch, served, "duffel", DUFFEL_SECRET_ID="DuffelCredentials")
    monkeypatch.delenv("DUFFEL_ACCESS_TOKEN")
    clear_wiring()

    status, body = api.get("/flights/price", origin="JFK", destination="LAX", date=future(52))

    assert status == 200 and body["meta"]["source"] == "duffel"


def test_ignav_without_a_key_is_a_503_not_configured_and_says_how_to_set_it(
    aws: None, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clear_wiring, caplog
) -> None:
    # AWS's way: no key in the environment, the template's IgnavCredentials secret left empty.
    api = price_api_with(monkeypatch, served, "ignav", IGNAV_SECRET_ID="IgnavCredentials")
    monkeypatch.delenv("IGNAV_API_KEY")
    clear_wiring()

    status, body = api.get("/flights/price", origin="JFK", destination="LAX", date=future(53))

    assert status == 503 and body["error"]["code"] == "upstream_not_configured"
    assert api.searches() == 0
    assert "put-secret-value" in caplog.text


def test_ignav_reads_its_key_from_the_secret_and_never_logs_it(
    aws: None, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clear_wiring, caplog, capsys
) -> None:
    import boto3

    boto3.client("secretsmanager").put_secret_value(
        SecretId="IgnavCredentials", SecretString=json.dumps({"api_key": IGNAV_KEY})
    )
    api = price_api_with(monkeypatch, served, "ignav", IGNAV_SECRET_ID="IgnavCredentials")
    monkeypatch.delenv("IGNAV_API_KEY")
    clear_wiring()

    status, body = api.get("/flights/price", origin="JFK", destination="LAX", date=future(54))
    requests.post(f"{api.sim_url}/__sim/errors", json={"status": 401}, timeout=5).raise_for_status()
    refused, _ = api.get("/flights/price", origin="JFK", destination="BOS", date=future(54))

    assert status == 200 and body["meta"]["source"] == "ignav"
    assert refused == 503
    assert IGNAV_KEY not in caplog.text + capsys.readouterr().out


def test_an_ignav_offer_resolves_to_a_booking_link_the_simulator_serves_and_is_cached(
    aws: None, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clear_wiring
) -> None:
    api = price_api_with(monkeypatch, served, "ignav")
    _, found = api.get("/flights/search", origin="JFK", destination="LAX", date=future(55), limit="1")
    offer = found["data"][0]

    status, first = api.get("/flights/booking-links", offer=offer["id"])
    _, second = api.get("/flights/booking-links", offer=offer["id"])
    page = requests.get(first["data"]["url"], timeout=5)

    assert status == 200, first
    assert first["data"]["price"] == f"from {offer['price']} USD"
    assert first["data"]["book"] == f"Book from {offer['price']} USD: {first['data']['url']}"
    assert (first["meta"]["cached"], second["meta"]["cached"]) == (False, True)
    assert api.sim("GET", "/__sim/stats")["booking_link_requests"] == 1
    assert page.status_code == 200 and offer["flight_numbers"][0][2:] in page.text


@pytest.mark.parametrize("source", ["amadeus", "duffel"])
def test_sources_without_booking_links_say_so(
    aws: None, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clear_wiring, source: str
) -> None:
    api = price_api_with(monkeypatch, served, source)

    status, body = api.get("/flights/booking-links", offer="1")

    assert status == 404 and body["error"]["code"] == "booking_links_unavailable", body


def test_an_unknown_ignav_offer_is_a_404(
    aws: None, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, clear_wiring
) -> None:
    api = price_api_with(monkeypatch, served, "ignav")

    status, body = api.get("/flights/booking-links", offer="0" * 32)
    bad, refused = api.get("/flights/booking-links", offer="off_123")

    assert status == 404 and body["error"]["code"] == "offer_not_found"
    assert bad == 400 and refused["error"]["code"] == "invalid_offer"
