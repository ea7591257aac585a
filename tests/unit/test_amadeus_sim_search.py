"""The Amadeus simulator's flight-offers search: validation, the offers' shape and prices, pins.

Success and error bodies are validated against Amadeus's own published OpenAPI file.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from amadeus_sim.app import Simulator
from fare_sim.pricing import RouteDay, base_fare_usd
from tests.support.simulators import ManualClock, SimulatorClient
from tests.unit.test_amadeus_sim import published_schema

SEARCH_SPEC = "FlightOffersSearch_v2_swagger_specification.json"
# The spec's fareBasis pattern "[[A-Z0-9]{1,18}" makes Python's re warn; the pattern still works.
pytestmark = pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def client(clock: ManualClock) -> SimulatorClient:
    return SimulatorClient(Simulator(clock=clock, rate_limit_tps=0))


def one_way(
    clock: ManualClock, origin: str = "JFK", destination: str = "LAX", **extra: Any
) -> dict[str, Any]:
    return {
        "originLocationCode": origin,
        "destinationLocationCode": destination,
        "departureDate": clock.days_ahead(30),
        "adults": 1,
        **extra,
    }


def offers_of(answer: Any) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return list(answer.get_json()["data"])


def some_offers_of(answer: Any) -> list[dict[str, Any]]:
    """The offers of an answer that must have some: a check over each of them cannot pass on none."""
    offers = offers_of(answer)
    assert offers, "expected offers"
    return offers


def totals(offers: list[dict[str, Any]]) -> list[Decimal]:
    return [Decimal(offer["price"]["grandTotal"]) for offer in offers]


def cheapest(answer: Any) -> Decimal:
    return min(totals(offers_of(answer)))


def issues_of(answer: Any) -> list[tuple[int, str | None]]:
    assert answer.status_code == 400, answer.get_data(as_text=True)
    return [
        (issue["code"], issue.get("source", {}).get("parameter")) for issue in answer.get_json()["errors"]
    ]


def stops(offer: dict[str, Any]) -> int:
    return max(len(itinerary["segments"]) - 1 for itinerary in offer["itineraries"])


# --- Validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameter", ["originLocationCode", "destinationLocationCode", "departureDate", "adults"]
)
def test_a_missing_mandatory_parameter_is_32171(client: SimulatorClient, clock: ManualClock, parameter: str):
    query = one_way(clock)
    del query[parameter]

    answer = client.search(**query)

    assert issues_of(answer) == [(32171, parameter)]
    assert answer.get_json()["errors"][0]["title"] == "MANDATORY DATA MISSING"


@pytest.mark.parametrize("parameter", ["originLocationCode", "departureDate", "adults"])
def test_an_empty_mandatory_parameter_counts_as_missing(
    client: SimulatorClient, clock: ManualClock, parameter: str
):
    assert issues_of(client.search(**one_way(clock, **{parameter: ""}))) == [(32171, parameter)]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("originLocationCode", "jfk"),
        ("originLocationCode", "JFKX"),
        ("destinationLocationCode", "L4X"),
        ("adults", "one"),
        ("adults", "1.5"),
        ("children", "-"),
        ("infants", "1e1"),
        ("travelClass", "COACH"),
        ("travelClass", "economy"),
        ("includedAirlineCodes", "AAL"),
        ("excludedAirlineCodes", "AA,,DL"),
        ("nonStop", "True"),
        ("nonStop", "1"),
        ("nonStop", "yes"),
        ("currencyCode", "usd"),
        ("currencyCode", "XYZ"),
        ("maxPrice", "99.50"),
        ("max", "ten"),
    ],
)
def test_a_badly_formatted_parameter_is_477(
    client: SimulatorClient, clock: ManualClock, parameter: str, value: str
):
    answer = client.search(**one_way(clock, **{parameter: value}))

    assert issues_of(answer) == [(477, parameter)]
    assert answer.get_json()["errors"][0]["title"] == "INVALID FORMAT"
    assert answer.headers["Content-Type"] == "application/vnd.amadeus+json"


@pytest.mark.parametrize("value", ["2026-02-30", "02-04-2026", "2026/04/02", "tomorrow", "20260402"])
def test_a_malformed_date_is_425(client: SimulatorClient, clock: ManualClock, value: str):
    answer = client.search(**one_way(clock, departureDate=value))

    assert issues_of(answer) == [(425, "departureDate")]
    assert answer.get_json()["errors"][0]["title"] == "INVALID DATE"


def test_a_past_date_is_425(client: SimulatorClient, clock: ManualClock):
    answer = client.search(**one_way(clock, departureDate=clock.days_ahead(-1)))

    assert issues_of(answer) == [(425, "departureDate")]
    assert answer.get_json()["errors"][0]["detail"] == "Date/Time is in the past"


def test_today_is_not_in_the_past(client: SimulatorClient, clock: ManualClock):
    offers = some_offers_of(client.search(**one_way(clock, departureDate=clock.days_ahead(0))))

    departures = {offer["itineraries"][0]["segments"][0]["departure"]["at"][:10] for offer in offers}
    assert departures == {clock.days_ahead(0)}


def test_a_date_more_than_a_year_ahead_is_425(client: SimulatorClient, clock: ManualClock):
    answer = client.search(**one_way(clock, departureDate=clock.days_ahead(366)))

    assert issues_of(answer) == [(425, "departureDate")]


def test_a_return_before_the_departure_is_425(client: SimulatorClient, clock: ManualClock):
    answer = client.search(**one_way(clock, returnDate=clock.days_ahead(29)))

    assert issues_of(answer) == [(425, "returnDate")]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"adults": 0}, (4926, "adults")),
        ({"adults": 10}, (4926, "adults")),
        ({"children": 10}, (4926, "children")),
        ({"max": 0}, (4926, "max")),
        ({"max": 251}, (4926, "max")),
        ({"maxPrice": 0}, (4926, "maxPrice")),
        ({"adults": 5, "children": 5}, (10661, "children")),
        ({"adults": 1, "infants": 2}, (4926, "infants")),
        ({"includedAirlineCodes": "AA", "excludedAirlineCodes": "DL"}, (2668, "excludedAirlineCodes")),
        ({"destinationLocationCode": "JFK"}, (4926, "destinationLocationCode")),
    ],
)
def test_documented_rules_are_enforced_with_amadeus_codes(
    client: SimulatorClient, clock: ManualClock, extra: dict[str, Any], expected: tuple[int, str]
):
    assert issues_of(client.search(**one_way(clock, **extra))) == [expected]


def test_every_problem_is_reported_at_once(client: SimulatorClient, clock: ManualClock):
    answer = client.search(
        originLocationCode="jfk", destinationLocationCode="LAX", departureDate="2020-01-01", nonStop="1"
    )

    assert issues_of(answer) == [
        (477, "originLocationCode"),
        (425, "departureDate"),
        (32171, "adults"),
        (477, "nonStop"),
    ]


def test_error_bodies_match_the_published_error_schema(client: SimulatorClient, clock: ManualClock):
    schema = published_schema(SEARCH_SPEC, "/responses/400_Search/schema")

    schema.validate(client.search(**one_way(clock, adults="x", currencyCode="usd")).get_json())


def test_lowercase_booleans_are_accepted(client: SimulatorClient, clock: ManualClock):
    assert client.search(**one_way(clock, nonStop="false")).status_code == 200
    assert client.search(**one_way(clock, nonStop="true")).status_code == 200


# --- The offers: shape -----------------------------------------------------------------------------


def test_a_one_way_answer_matches_the_published_success_schema(client: SimulatorClient, clock: ManualClock):
    schema = published_schema(SEARCH_SPEC, "/responses/GETAirOffersReply/schema")

    body = client.search(**one_way(clock, "NYC", "LON")).get_json()

    schema.validate(body)
    assert body["meta"]["count"] == len(body["data"]) > 0
    assert body["meta"]["links"]["self"].endswith("departureDate=" + clock.days_ahead(30) + "&adults=1")


def test_a_round_trip_family_answer_matches_the_published_success_schema(
    client: SimulatorClient, clock: ManualClock
):
    schema = published_schema(SEARCH_SPEC, "/responses/GETAirOffersReply/schema")
    query = one_way(clock, "SYD", "BKK", returnDate=clock.days_ahead(40), adults=2, children=1, infants=1)

    body = client.search(**query, travelClass="BUSINESS", currencyCode="EUR").get_json()

    schema.validate(body)
    assert body["meta"]["count"] == len(body["data"]) > 0
    assert all(len(offer["itineraries"]) == 2 for offer in body["data"])


def test_every_offer_carries_the_fields_clients_rely_on(client: SimulatorClient, clock: ManualClock):
    for offer in some_offers_of(client.search(**one_way(clock))):
        assert offer["type"] == "flight-offer"
        assert offer["source"] == "GDS"
        assert offer["instantTicketingRequired"] is False
        assert offer["nonHomogeneous"] is False
        assert offer["oneWay"] is False
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", offer["lastTicketingDate"])
        assert 1 <= offer["numberOfBookableSeats"] <= 9
        assert offer["pricingOptions"]["fareType"] == ["PUBLISHED"]
        assert offer["validatingAirlineCodes"] == [offer["itineraries"][0]["segments"][0]["carrierCode"]]
        for itinerary in offer["itineraries"]:
            assert re.fullmatch(r"PT(\d+H)?(\d+M)?", itinerary["duration"])
            for segment in itinerary["segments"]:
                for end in ("departure", "arrival"):
                    assert re.fullmatch(r"[A-Z]{3}", segment[end]["iataCode"])
                    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", segment[end]["at"])
                assert re.fullmatch(r"[A-Z0-9]{2}", segment["carrierCode"])
                assert re.fullmatch(r"\d{1,4}", segment["number"])
                assert segment["aircraft"]["code"]
                assert segment["operating"]["carrierCode"]
                assert re.fullmatch(r"PT(\d+H)?(\d+M)?", segment["duration"])
                assert segment["numberOfStops"] == 0
                assert segment["blacklistedInEU"] is False


def test_prices_are_two_decimal_strings_that_add_up(client: SimulatorClient, clock: ManualClock):
    query = one_way(clock, adults=2, children=1, infants=1)

    for offer in some_offers_of(client.search(**query)):
        price = offer["price"]
        for amount in (price["total"], price["base"], price["grandTotal"]):
            assert re.fullmatch(r"\d+\.\d{2}", amount)
        assert price["currency"] == "USD"
        assert price["grandTotal"] == price["total"]
        assert Decimal(price["base"]) < Decimal(price["total"])
        assert {fee["type"] for fee in price["fees"]} == {"SUPPLIER", "TICKETING"}
        assert sum(Decimal(p["price"]["total"]) for p in offer["travelerPricings"]) == Decimal(price["total"])
        assert sum(Decimal(p["price"]["base"]) for p in offer["travelerPricings"]) == Decimal(price["base"])


def test_there_is_one_traveler_pricing_per_traveler(client: SimulatorClient, clock: ManualClock):
    offer = offers_of(client.search(**one_way(clock, adults=2, children=1, infants=2)))[0]

    pricings = offer["travelerPricings"]

    assert [p["travelerType"] for p in pricings] == ["ADULT", "ADULT", "CHILD", "HELD_INFANT", "HELD_INFANT"]
    assert [p["travelerId"] for p in pricings] == ["1", "2", "3", "4", "5"]
    assert [p.get("associatedAdultId") for p in pricings[3:]] == ["1", "2"]
    adult, child, infant = (Decimal(pricings[i]["price"]["total"]) for i in (0, 2, 3))
    assert adult > child > infant > 0


def test_fare_details_cover_every_segment_once_per_traveler(client: SimulatorClient, clock: ManualClock):
    body = client.search(**one_way(clock, returnDate=clock.days_ahead(35), adults=2)).get_json()

    all_segment_ids = [
        segment["id"]
        for offer in body["data"]
        for itinerary in offer["itineraries"]
        for segment in itinerary["segments"]
    ]
    assert len(all_segment_ids) == len(set(all_segment_ids))  # unique across the whole answer
    for offer in body["data"]:
        own_ids = [s["id"] for itinerary in offer["itineraries"] for s in itinerary["segments"]]
        for pricing in offer["travelerPricings"]:
            assert [detail["segmentId"] for detail in pricing["fareDetailsBySegment"]] == own_ids


def test_dictionaries_describe_every_code_used(client: SimulatorClient, clock: ManualClock):
    body = client.search(**one_way(clock, "NYC", "PAR", currencyCode="GBP")).get_json()

    segments = [
        s for offer in body["data"] for itinerary in offer["itineraries"] for s in itinerary["segments"]
    ]
    dictionaries = body["dictionaries"]
    airports = {s[end]["iataCode"] for s in segments for end in ("departure", "arrival")}
    assert set(dictionaries["locations"]) == airports
    assert dictionaries["locations"]["CDG"] == {"cityCode": "PAR", "countryCode": "FR"}
    assert set(dictionaries["carriers"]) == {s["carrierCode"] for s in segments}
    assert set(dictionaries["aircraft"]) == {s["aircraft"]["code"] for s in segments}
    assert dictionaries["currencies"] == {"GBP": "POUND STERLING"}


def test_a_city_code_is_flown_from_its_airports(client: SimulatorClient, clock: ManualClock):
    offers = offers_of(client.search(**one_way(clock, "NYC", "LAX")))

    departures = {offer["itineraries"][0]["segments"][0]["departure"]["iataCode"] for offer in offers}

    assert departures <= {"JFK", "EWR", "LGA"}


def test_any_well_formed_code_gets_offers(client: SimulatorClient, clock: ManualClock):
    schema = published_schema(SEARCH_SPEC, "/responses/GETAirOffersReply/schema")

    body = client.search(**one_way(clock, "QQX", "ZZQ")).get_json()

    assert body["data"]
    schema.validate(body)


# --- The offers: prices and selection -----------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "destination"),
    [("JFK", "LAX"), ("NYC", "LON"), ("LHR", "CDG"), ("SFO", "NRT"), ("ORD", "MIA")],
)
def test_the_cheapest_offer_is_never_listed_first(
    client: SimulatorClient, clock: ManualClock, origin: str, destination: str
):
    prices = totals(offers_of(client.search(**one_way(clock, origin, destination))))

    assert prices[0] > min(prices)
    assert prices != sorted(prices)


def test_offers_mix_nonstop_and_one_stop_itineraries(client: SimulatorClient, clock: ManualClock):
    offers = offers_of(client.search(**one_way(clock)))

    assert {stops(offer) for offer in offers} == {0, 1}


def test_non_stop_true_keeps_only_nonstop_offers(client: SimulatorClient, clock: ManualClock):
    every_offer = offers_of(client.search(**one_way(clock)))
    nonstop = offers_of(client.search(**one_way(clock, nonStop="true")))

    assert nonstop and all(stops(offer) == 0 for offer in nonstop)
    assert len(nonstop) == sum(1 for offer in every_offer if stops(offer) == 0)


def test_max_caps_the_count_and_keeps_the_cheapest(client: SimulatorClient, clock: ManualClock):
    overall_cheapest = cheapest(client.search(**one_way(clock)))

    capped = offers_of(client.search(**one_way(clock, max=3)))
    single = offers_of(client.search(**one_way(clock, max=1)))

    assert len(capped) == 3 and min(totals(capped)) == overall_cheapest
    assert totals(single) == [overall_cheapest]


def test_max_price_drops_offers_above_it_per_traveler(client: SimulatorClient, clock: ManualClock):
    prices = sorted(totals(offers_of(client.search(**one_way(clock)))))
    limit = int(prices[len(prices) // 2])

    within = offers_of(client.search(**one_way(clock, maxPrice=limit)))
    for two_adults in offers_of(client.search(**one_way(clock, maxPrice=limit, adults=2))):
        assert Decimal(two_adults["travelerPricings"][0]["price"]["total"]) <= limit

    assert within and all(total <= limit for total in totals(within))
    assert len(within) == sum(1 for price in prices if price <= limit)


def test_adults_scale_the_price(client: SimulatorClient, clock: ManualClock):
    one_adult = cheapest(client.search(**one_way(clock)))

    three_adults = cheapest(client.search(**one_way(clock, adults=3)))

    assert three_adults == 3 * one_adult


def test_currency_code_converts_every_amount(client: SimulatorClient, clock: ManualClock):
    in_dollars = cheapest(client.search(**one_way(clock)))

    answer = client.search(**one_way(clock, currencyCode="EUR"))

    in_euros = cheapest(answer)
    assert abs(in_euros - in_dollars * Decimal("0.92")) <= Decimal("0.02")
    for offer in some_offers_of(answer):
        assert offer["price"]["currency"] == "EUR"
        assert {p["price"]["currency"] for p in offer["travelerPricings"]} == {"EUR"}


@pytest.mark.parametrize("currency", ["USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF"])
def test_common_currencies_are_supported(client: SimulatorClient, clock: ManualClock, currency: str):
    offers = some_offers_of(client.search(**one_way(clock, currencyCode=currency)))

    assert {offer["price"]["currency"] for offer in offers} == {currency}


def test_a_better_cabin_costs_more(client: SimulatorClient, clock: ManualClock):
    economy = cheapest(client.search(**one_way(clock)))

    answer = client.search(**one_way(clock, travelClass="BUSINESS"))

    assert cheapest(answer) > 2 * economy
    cabins = {
        detail["cabin"]
        for offer in offers_of(answer)
        for pricing in offer["travelerPricings"]
        for detail in pricing["fareDetailsBySegment"]
    }
    assert cabins == {"BUSINESS"}


def test_included_airlines_keep_only_their_flights(client: SimulatorClient, clock: ManualClock):
    offers = offers_of(client.search(**one_way(clock, includedAirlineCodes="AA,UA")))

    carriers = {s["carrierCode"] for offer in offers for i in offer["itineraries"] for s in i["segments"]}

    assert carriers and carriers <= {"AA", "UA"}


def test_excluded_airlines_are_left_out(client: SimulatorClient, clock: ManualClock):
    offers = offers_of(client.search(**one_way(clock, excludedAirlineCodes="AA,UA")))

    carriers = {s["carrierCode"] for offer in offers for i in offer["itineraries"] for s in i["segments"]}

    assert carriers and not carriers & {"AA", "UA"}


def test_an_airline_that_does_not_fly_the_route_means_no_offers(client: SimulatorClient, clock: ManualClock):
    answer = client.search(**one_way(clock, includedAirlineCodes="6X"))

    assert answer.get_json() == {
        "meta": {"count": 0, "links": answer.get_json()["meta"]["links"]},
        "data": [],
    }


# --- Determinism and drift ---------------------------------------------------------------------


def test_repeated_searches_within_half_an_hour_give_identical_answers(
    client: SimulatorClient, clock: ManualClock
):
    first = client.search(**one_way(clock)).get_json()
    clock.advance(29 * 60)

    assert client.search(**one_way(clock)).get_json() == first


def test_a_separate_simulator_gives_the_same_answer(client: SimulatorClient, clock: ManualClock):
    other = SimulatorClient(Simulator(clock=clock))

    assert other.search(**one_way(clock)).get_json() == client.search(**one_way(clock)).get_json()


def test_prices_drift_a_few_percent_from_one_half_hour_to_the_next(
    client: SimulatorClient, clock: ManualClock
):
    query = one_way(clock)
    before = cheapest(client.search(**query))
    moved = []
    for _ in range(4):
        clock.advance(30 * 60)
        moved.append(cheapest(client.search(**query)))

    assert any(price != before for price in moved)
    assert all(abs(price - before) / before < Decimal("0.09") for price in moved)


def test_the_flights_stay_the_same_while_prices_drift(client: SimulatorClient, clock: ManualClock):
    def flights(answer: Any) -> set[str]:
        return {
            s["carrierCode"] + s["number"]
            for o in offers_of(answer)
            for i in o["itineraries"]
            for s in i["segments"]
        }

    before = flights(client.search(**one_way(clock)))
    clock.advance(30 * 60)

    assert flights(client.search(**one_way(clock))) == before


def test_the_base_fare_depends_on_route_and_date_only(clock: ManualClock):
    route = RouteDay("JFK", "LAX", clock.today)

    assert base_fare_usd(route) == base_fare_usd(RouteDay("JFK", "LAX", clock.today))
    assert base_fare_usd(route) != base_fare_usd(RouteDay("JFK", "LAX", clock.today.replace(day=3)))
    assert base_fare_usd(route) != base_fare_usd(RouteDay("JFK", "SFO", clock.today))


# --- Pins ----------------------------------------------------------------------------------------


def pin_path(clock: ManualClock, origin: str = "JFK", destination: str = "LAX") -> str:
    return f"/__sim/prices/{origin}/{destination}/{clock.days_ahead(30)}"


def test_a_pinned_price_is_exactly_the_cheapest_offer(client: SimulatorClient, clock: ManualClock):
    pinned = client.http.put(pin_path(clock), json={"amount": 123.45, "currency": "USD"})

    prices = totals(offers_of(client.search(**one_way(clock))))

    assert pinned.status_code == 200
    assert pinned.get_json()["pinned"] is True
    assert min(prices) == Decimal("123.45")
    assert sorted(prices)[1] > Decimal("123.45")
    assert prices[0] != Decimal("123.45")  # still not listed first


def test_a_pinned_price_does_not_drift(client: SimulatorClient, clock: ManualClock):
    client.http.put(pin_path(clock), json={"amount": 250, "currency": "USD"})
    clock.advance(6 * 3600)

    assert cheapest(client.search(**one_way(clock))) == Decimal("250.00")


def test_a_pinned_price_converts_to_another_requested_currency(client: SimulatorClient, clock: ManualClock):
    client.http.put(pin_path(clock), json={"amount": 100, "currency": "EUR"})

    assert cheapest(client.search(**one_way(clock, currencyCode="EUR"))) == Decimal("100.00")
    assert cheapest(client.search(**one_way(clock, currencyCode="USD"))) == Decimal("108.70")  # 100 / 0.92


def test_a_pinned_price_scales_with_adults(client: SimulatorClient, clock: ManualClock):
    client.http.put(pin_path(clock), json={"amount": 99.99, "currency": "USD"})

    assert cheapest(client.search(**one_way(clock, adults=2))) == Decimal("199.98")


def test_a_pin_applies_to_its_route_and_date_only(client: SimulatorClient, clock: ManualClock):
    other_day = {**one_way(clock), "departureDate": clock.days_ahead(31)}
    before = (cheapest(client.search(**other_day)), cheapest(client.search(**one_way(clock, "LAX", "JFK"))))

    client.http.put(pin_path(clock), json={"amount": 1.00, "currency": "USD"})

    after = (cheapest(client.search(**other_day)), cheapest(client.search(**one_way(clock, "LAX", "JFK"))))
    assert after == before


def test_unpinning_restores_the_simulated_price(client: SimulatorClient, clock: ManualClock):
    simulated = cheapest(client.search(**one_way(clock)))
    client.http.put(pin_path(clock), json={"amount": 10, "currency": "USD"})

    unpinned = client.http.delete(pin_path(clock))

    assert unpinned.status_code == 200
    assert unpinned.get_json()["pinned"] is False
    assert cheapest(client.search(**one_way(clock))) == simulated


def test_a_route_pinned_to_no_offers_answers_an_empty_list(client: SimulatorClient, clock: ManualClock):
    schema = published_schema(SEARCH_SPEC, "/responses/GETAirOffersReply/schema")

    client.http.put(pin_path(clock), json={"offers": 0})
    answer = client.search(**one_way(clock))

    assert answer.status_code == 200
    assert answer.get_json()["data"] == []
    assert answer.get_json()["meta"]["count"] == 0
    schema.validate(answer.get_json())


def test_pins_can_be_set_in_process(client: SimulatorClient, clock: ManualClock):
    client.simulator.pin_price("JFK", "LAX", clock.days_ahead(30), "321.00", "GBP")

    assert cheapest(client.search(**one_way(clock, currencyCode="GBP"))) == Decimal("321.00")

    client.simulator.pin_no_offers("JFK", "LAX", clock.days_ahead(30))
    assert offers_of(client.search(**one_way(clock))) == []

    client.simulator.unpin("JFK", "LAX", clock.days_ahead(30))
    assert offers_of(client.search(**one_way(clock)))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/__sim/prices/JFK/LAX/2026-04-01", {"amount": -5, "currency": "USD"}),
        ("/__sim/prices/JFK/LAX/2026-04-01", {"amount": 0, "currency": "USD"}),
        ("/__sim/prices/JFK/LAX/2026-04-01", {"amount": 12.345, "currency": "USD"}),
        ("/__sim/prices/JFK/LAX/2026-04-01", {"amount": "cheap", "currency": "USD"}),
        ("/__sim/prices/JFK/LAX/2026-04-01", {"amount": True, "currency": "USD"}),
        ("/__sim/prices/JFK/LAX/2026-04-01", {"amount": 100, "currency": "XYZ"}),
        ("/__sim/prices/JFK/LAX/2026-04-01", {"offers": 1}),
        ("/__sim/prices/JFK/LAX/2026-04-01", {"offers": 0, "amount": 5}),
        ("/__sim/prices/JFK/LAX/2026-04-01", {"price": 100}),
        ("/__sim/prices/JFK/LAX/2026-04-01", [100]),
        ("/__sim/prices/jfk/LAX/2026-04-01", {"amount": 100, "currency": "USD"}),
        ("/__sim/prices/JFK/LAX/2026-02-30", {"amount": 100, "currency": "USD"}),
    ],
)
def test_bad_pin_input_is_400(client: SimulatorClient, path: str, body: Any):
    answer = client.http.put(path, json=body)

    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.get_json()["error"]


def test_a_pin_body_that_is_not_json_is_400(client: SimulatorClient, clock: ManualClock):
    assert client.http.put(pin_path(clock), data="amount=5").status_code == 400


def test_a_pin_without_currency_is_in_us_dollars(client: SimulatorClient, clock: ManualClock):
    pinned = client.http.put(pin_path(clock), data='{"amount": 80}')  # as curl -d would send it

    assert pinned.get_json()["currency"] == "USD"
    assert cheapest(client.search(**one_way(clock))) == Decimal("80.00")


# --- POST with X-HTTP-Method-Override ---------------------------------------------------------


def test_post_with_method_override_searches_the_query_like_get(client: SimulatorClient, clock: ManualClock):
    token = client.token()

    by_get = client.search(token=token, **one_way(clock))
    by_post = client.search_by_post(token=token, **one_way(clock))

    assert by_post.status_code == 200
    assert by_post.headers["Content-Type"] == "application/vnd.amadeus+json"
    assert by_post.get_json()["data"] == by_get.get_json()["data"]


def test_post_without_method_override_is_400(client: SimulatorClient, clock: ManualClock):
    answer = client.search_by_post(headers={"X-HTTP-Method-Override": None}, **one_way(clock))

    assert issues_of(answer) == [(32171, "X-HTTP-Method-Override")]


def test_post_with_another_method_override_is_400(client: SimulatorClient, clock: ManualClock):
    answer = client.search_by_post(headers={"X-HTTP-Method-Override": "DELETE"}, **one_way(clock))

    assert issues_of(answer) == [(477, "X-HTTP-Method-Override")]


def posted_query(clock: ManualClock, **criteria: Any) -> dict[str, Any]:
    return {
        "currencyCode": "EUR",
        "originDestinations": [
            {
                "id": "1",
                "originLocationCode": "NYC",
                "destinationLocationCode": "MAD",
                "departureDateTimeRange": {"date": clock.days_ahead(30), "time": "10:00:00"},
            }
        ],
        "travelers": [{"id": "1", "travelerType": "ADULT"}, {"id": "2", "travelerType": "CHILD"}],
        "sources": ["GDS"],
        "searchCriteria": {"maxFlightOffers": 5, **criteria},
    }


def test_post_body_search_answers_the_published_post_schema(client: SimulatorClient, clock: ManualClock):
    schema = published_schema(SEARCH_SPEC, "/responses/returnAirOffers/schema")

    body = client.search_by_post(body=posted_query(clock)).get_json()

    schema.validate(body)
    assert body["meta"] == {"count": 5}
    assert {offer["price"]["currency"] for offer in body["data"]} == {"EUR"}
    assert [p["travelerType"] for p in body["data"][0]["travelerPricings"]] == ["ADULT", "CHILD"]


def test_post_body_filters_are_applied(client: SimulatorClient, clock: ManualClock):
    criteria = {
        "flightFilters": {
            "connectionRestriction": {"maxNumberOfConnections": 0},
            "cabinRestrictions": [
                {"cabin": "BUSINESS", "coverage": "MOST_SEGMENTS", "originDestinationIds": ["1"]}
            ],
        }
    }

    offers = offers_of(client.search_by_post(body=posted_query(clock, **criteria)))

    assert offers and all(stops(offer) == 0 for offer in offers)
    assert offers[0]["travelerPricings"][0]["fareDetailsBySegment"][0]["cabin"] == "BUSINESS"


def test_post_body_problems_point_into_the_body(client: SimulatorClient, clock: ManualClock):
    query = posted_query(clock)
    query["originDestinations"][0]["departureDateTimeRange"]["date"] = "2020-01-01"
    del query["sources"]
    bad_date = client.search_by_post(body=query)
    query["sources"] = ["GDS"]

    answer = client.search_by_post(body=query)

    assert bad_date.get_json()["errors"][0]["source"] == {"pointer": "/sources"}
    assert answer.status_code == 400
    assert answer.get_json()["errors"][0]["code"] == 425
    assert answer.get_json()["errors"][0]["source"] == {
        "pointer": "/originDestinations/0/departureDateTimeRange/date"
    }


def test_post_body_that_is_not_json_is_477(client: SimulatorClient):
    answer = client.http.post(
        "/v2/shopping/flight-offers",
        data="{not json",
        headers={"Authorization": f"Bearer {client.token()}", "X-HTTP-Method-Override": "GET"},
    )

    assert answer.status_code == 400
    assert answer.get_json()["errors"][0]["code"] == 477
