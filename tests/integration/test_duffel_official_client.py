"""Duffel's official Python client (`duffel-api`, pinned in requirements-dev.txt) against the Duffel
simulator on a loopback port: every answer it gets must parse into its models.

The client reads Duffel's fields without defaults, and it swallows a KeyError raised while it reads a
nested list (its `get_and_transform`), so an offer missing one field turns into "no offers" rather
than an error. Each test therefore compares what the client parsed with the raw answer's count.
It is told `api_version="v2"`: its own default, v1, is one Duffel no longer serves (nor does the
simulator, which answers `unsupported_version` as Duffel does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from duffel_api import Duffel
from duffel_api.http_client import ApiError

from duffel_sim.app import DEFAULT_ACCESS_TOKEN, NO_OFFERS_ROUTE, Simulator
from fare_sim.server import start


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    server = start(Simulator(rate_limit=0), port=0)
    yield server
    server.stop()


@pytest.fixture
def duffel(served: Any) -> Duffel:
    requests.post(f"{served.url}/__sim/reset", timeout=5).raise_for_status()
    return Duffel(access_token=DEFAULT_ACCESS_TOKEN, api_url=served.url, api_version="v2", timeout=10)


def day(days: int = 30) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def raw_offers(served: Any, offer_request_id: str) -> list[dict[str, Any]]:
    """Every offer of the request as JSON, read with plain requests (all pages)."""
    headers = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}", "Duffel-Version": "v2"}
    found: list[dict[str, Any]] = []
    params: dict[str, str] = {"offer_request_id": offer_request_id, "limit": "200"}
    while True:
        page = requests.get(f"{served.url}/air/offers", params=params, headers=headers, timeout=5).json()
        found.extend(page["data"])
        if page["meta"]["after"] is None:
            return found
        params["after"] = page["meta"]["after"]


def create(duffel: Duffel, origin: str = "JFK", destination: str = "LAX", *, adults: int = 1, **options: Any):
    request = (
        duffel.offer_requests.create()
        .passengers([{"type": "adult"}] * adults)
        .slices([{"origin": origin, "destination": destination, "departure_date": day()}])
    )
    if options.get("return_offers"):
        request = request.return_offers()
    if "cabin_class" in options:
        request = request.cabin_class(options["cabin_class"])
    if "max_connections" in options:
        request = request.max_connections(options["max_connections"])
    return request.execute()


def test_an_offer_request_with_return_offers_parses_every_offer(duffel, served):
    created = create(duffel, return_offers=True, adults=2)

    raw = raw_offers(served, created.id)
    assert raw and len(created.offers) == len(raw)
    assert {offer.id for offer in created.offers} == {offer["id"] for offer in raw}
    for offer in created.offers:
        assert offer.total_currency == "USD" and Decimal(offer.total_amount) > 0
        assert {passenger.id for passenger in offer.passengers} == {p.id for p in created.passengers}
        (journey,) = offer.slices
        # The client's Place keeps no iata_code; its segments' Airports do.
        assert journey.origin.type == "airport" and journey.destination.iata_country_code == "US"
        assert (
            journey.segments[0].origin.iata_code == "JFK"
            and journey.segments[-1].destination.iata_code == "LAX"
        )
        assert journey.segments and journey.segments[0].marketing_carrier.iata_code
        for segment in journey.segments:
            assert len(segment.passengers) == 2 and segment.passengers[0].cabin_class == "economy"
            assert segment.origin.time_zone and segment.aircraft is not None
        assert offer.expires_at > offer.created_at
        assert offer.conditions.change_before_departure is not None


def test_an_offer_request_without_offers_and_its_paged_list_parse(duffel, served):
    created = create(duffel)

    listed = list(duffel.offers.list(created.id, limit=3))

    assert created.offers == [] and created.slices[0].origin.iata_code == "JFK"
    assert len(listed) == len(raw_offers(served, created.id)) > 3  # more than one page
    assert len({offer.id for offer in listed}) == len(listed)


def test_an_offer_and_an_offer_request_are_read_again_by_id(duffel):
    created = create(duffel, return_offers=True)
    first = created.offers[0]

    offer = duffel.offers.get(first.id)
    again = duffel.offer_requests.get(created.id)

    assert (offer.id, offer.total_amount) == (first.id, first.total_amount)
    assert again.id == created.id and len(again.offers) == len(created.offers)


def test_a_city_code_search_parses_with_the_city_as_the_requested_place(duffel, served):
    created = create(duffel, "NYC", "LAX", return_offers=True)

    (journey,) = created.slices
    assert journey.origin_type == "city" and journey.origin.iata_code == "NYC"
    assert len(created.offers) == len(raw_offers(served, created.id)) > 0
    assert {offer.slices[0].segments[0].origin.iata_code for offer in created.offers} <= {"JFK", "EWR", "LGA"}


def test_a_cabin_and_nonstop_search_parse(duffel):
    created = create(duffel, return_offers=True, cabin_class="business", max_connections=0)

    assert created.cabin_class == "business" and created.offers
    for offer in created.offers:
        assert len(offer.slices[0].segments) == 1
        assert offer.slices[0].segments[0].passengers[0].cabin_class == "business"


def test_no_offers_parses_as_an_empty_list(duffel):
    created = create(duffel, *NO_OFFERS_ROUTE, return_offers=True)

    assert created.offers == []


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda d: d.offer_requests.get("orq_0000000000000000000000"), 404, "not_found"),
        (lambda d: create(d, "JFK", "JFK"), 422, "invalid_data"),
        (lambda d: d.offers.get("off_unknown"), 404, "not_found"),
    ],
)
def test_error_bodies_parse_into_the_clients_api_error(duffel, make, status, code):
    with pytest.raises(ApiError) as raised:
        make(duffel)

    assert raised.value.meta["status"] == status and raised.value.meta["request_id"].startswith("req_")
    assert raised.value.errors[0]["code"] == code and raised.value.message


def test_a_wrong_token_and_the_rate_limit_parse_into_api_errors(served):
    wrong = Duffel(access_token="duffel_test_wrong", api_url=served.url, api_version="v2")
    requests.post(f"{served.url}/__sim/faults", json={"mode": "http429", "count": 1}, timeout=5)
    limited = Duffel(access_token=DEFAULT_ACCESS_TOKEN, api_url=served.url, api_version="v2")

    with pytest.raises(ApiError) as refused:
        wrong.offer_requests.get("orq_x")
    with pytest.raises(ApiError) as throttled:
        limited.offer_requests.get("orq_x")

    assert refused.value.errors[0]["type"] == "authentication_error"
    assert throttled.value.meta["status"] == 429 and "ratelimit-reset" in throttled.value.headers
