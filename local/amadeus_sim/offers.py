"""Fares and the flight-offers answer: prices that drift, pins, filters, order, and the JSON shape.

A leg's fare (one adult, economy, one way) is a base fare fixed by (origin, destination, date)
times a drift factor fixed by the half-hour of the clock, unless a pin fixes it. An offer costs
its legs' fares times each flight option's premium, so the cheapest option of a pinned one-way
search costs exactly the pinned amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from amadeus_sim import money, seeds
from amadeus_sim.catalogue import AIRCRAFT, CARRIERS, Airport, airports_serving, great_circle_km
from amadeus_sim.flight_search import FlightSearch
from amadeus_sim.schedule import Flight, FlightOption, Itinerary, flight_options

DRIFT_BUCKET_SECONDS = 30 * 60
MAX_DRIFT = Decimal("0.04")  # a fare moves at most 4 % either side of its base fare
CABIN_MULTIPLIER = {
    "ECONOMY": Decimal("1"),
    "PREMIUM_ECONOMY": Decimal("1.65"),
    "BUSINESS": Decimal("3.4"),
    "FIRST": Decimal("5.8"),
}
_BOOKING_CLASSES = {  # cheapest first
    "ECONOMY": "OSTVLKMBY",
    "PREMIUM_ECONOMY": "WE",
    "BUSINESS": "IDCJ",
    "FIRST": "AF",
}
CHILD_SHARE = Decimal("0.75")
INFANT_SHARE = Decimal("0.10")
SOURCE_CURRENCY = "USD"  # base fares are computed in US dollars


@dataclass(frozen=True)
class RouteDay:
    """A one-way route on a departure date, as the search asked for it (city or airport codes)."""

    origin: str
    destination: str
    day: dt.date


@dataclass(frozen=True)
class PricePin:
    """The cheapest one-adult economy fare on a route/day, fixed by an operator."""

    amount: Decimal
    currency: str


@dataclass(frozen=True)
class NoOffersPin:
    """The route/day has no availability at all."""


Pin = PricePin | NoOffersPin


@dataclass(frozen=True)
class LegFare:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class PricedOffer:
    key: str
    itineraries: tuple[Itinerary, ...]
    cabin: str
    adult_total: Decimal  # one adult, in the search currency
    base_share: Decimal  # the part of each total that is fare rather than taxes
    premium: Decimal  # how far above the route's cheapest option, drives booking class and bags


def drift_bucket(now: float) -> int:
    return int(now // DRIFT_BUCKET_SECONDS)


def base_fare_usd(route: RouteDay) -> Decimal:
    """One adult, economy, cheapest option: a pure function of origin, destination and date."""
    distance = great_circle_km(airports_serving(route.origin)[0], airports_serving(route.destination)[0])
    route_level = (49 + 0.065 * distance) * (
        0.8 + 0.5 * seeds.fraction("route", route.origin, route.destination)
    )
    day_level = 0.85 + 0.35 * seeds.fraction("day", route.origin, route.destination, route.day.isoformat())
    return money.to_cents(Decimal(str(route_level * day_level)))


def drift_factor(route: RouteDay, bucket: int) -> Decimal:
    """Up to ±MAX_DRIFT, fixed for a half-hour bucket: repeat searches agree, later ones move."""
    swing = Decimal(
        str(round(2 * seeds.fraction("drift", route.origin, route.destination, route.day, bucket) - 1, 4))
    )
    return 1 + MAX_DRIFT * swing


def leg_fare(route: RouteDay, bucket: int, pin: PricePin | None) -> LegFare:
    if pin is not None:
        return LegFare(pin.amount, pin.currency)
    return LegFare(base_fare_usd(route) * drift_factor(route, bucket), SOURCE_CURRENCY)


def _price_in(currency: str, cabin: str, legs: list[tuple[LegFare, Decimal]]) -> Decimal:
    """One adult's fare for the legs (fare, premium) in `currency`, each leg rounded to cents."""
    total = Decimal(0)
    for fare, premium in legs:
        amount = fare.amount * (1 + premium) * CABIN_MULTIPLIER[cabin]
        total += money.to_cents(money.convert(amount, fare.currency, currency))
    return total


def _journeys(search: FlightSearch) -> list[tuple[FlightOption, ...]]:
    """One-way: each option alone. Round trip: nonstop pairs with nonstop, connection with connection."""
    outbound = flight_options(search.origin, search.destination, search.departure_date)
    if search.return_date is None:
        return [(option,) for option in outbound]
    inbound = flight_options(search.destination, search.origin, search.return_date)
    journeys: list[tuple[FlightOption, ...]] = []
    for nonstop in (True, False):
        going = sorted((o for o in outbound if o.itinerary.is_nonstop == nonstop), key=lambda o: o.premium)
        coming = sorted((o for o in inbound if o.itinerary.is_nonstop == nonstop), key=lambda o: o.premium)
        journeys.extend(zip(going, coming, strict=False))
    return journeys


def _wanted(offer: PricedOffer, search: FlightSearch) -> bool:
    if search.non_stop and not all(itinerary.is_nonstop for itinerary in offer.itineraries):
        return False
    carriers = frozenset().union(*(itinerary.carriers for itinerary in offer.itineraries))
    if search.included_airlines and not carriers <= search.included_airlines:
        return False
    if carriers & search.excluded_airlines:
        return False
    return search.max_price is None or offer.adult_total <= search.max_price


def find_offers(search: FlightSearch, *, now: float, pins: Mapping[RouteDay, Pin]) -> list[PricedOffer]:
    """The offers Amadeus would return: filtered, the `max` cheapest, in a deliberately unsorted order."""
    routes = [RouteDay(search.origin, search.destination, search.departure_date)]
    if search.return_date is not None:
        routes.append(RouteDay(search.destination, search.origin, search.return_date))
    if any(isinstance(pins.get(route), NoOffersPin) for route in routes):
        return []
    bucket = drift_bucket(now)
    fares = []
    for route in routes:
        pin = pins.get(route)
        fares.append(leg_fare(route, bucket, pin if isinstance(pin, PricePin) else None))

    cabin = search.travel_class or "ECONOMY"
    offers = []
    for journey in _journeys(search):
        key = "+".join(option.key for option in journey)
        offers.append(
            PricedOffer(
                key=key,
                itineraries=tuple(option.itinerary for option in journey),
                cabin=cabin,
                adult_total=_price_in(
                    search.currency,
                    cabin,
                    [(fare, option.premium) for fare, option in zip(fares, journey, strict=True)],
                ),
                base_share=Decimal(str(round(0.78 + 0.12 * seeds.fraction("base-share", key), 3))),
                premium=max(option.premium for option in journey),
            )
        )
    cheapest_first = sorted((o for o in offers if _wanted(o, search)), key=lambda o: (o.adult_total, o.key))
    return _unsorted(cheapest_first[: search.max_offers], bucket)


def _unsorted(offers: list[PricedOffer], bucket: int) -> list[PricedOffer]:
    """A fixed shuffle that never leads with the cheapest offer, so clients must find it themselves."""
    arranged = seeds.shuffled(offers, lambda offer: offer.key, "order", bucket)
    if len(arranged) > 1:
        lowest = min(offer.adult_total for offer in arranged)
        if arranged[0].adult_total == lowest:
            dearer = next((i for i, offer in enumerate(arranged) if offer.adult_total > lowest), None)
            if dearer is not None:
                arranged[0], arranged[dearer] = arranged[dearer], arranged[0]
    return arranged


# --- The JSON answer (the spec's `GETAirOffersReply` / `returnAirOffers`) ----------------------


@dataclass(frozen=True)
class _Traveler:
    id: str
    kind: str  # ADULT, CHILD, HELD_INFANT
    share: Decimal  # of an adult's fare
    accompanying_adult: str | None = None


def _travelers(search: FlightSearch) -> list[_Traveler]:
    travelers = [_Traveler(str(n), "ADULT", Decimal(1)) for n in range(1, search.adults + 1)]
    travelers += [
        _Traveler(str(len(travelers) + n), "CHILD", CHILD_SHARE) for n in range(1, search.children + 1)
    ]
    first_infant = len(travelers) + 1
    travelers += [
        _Traveler(str(first_infant + n), "HELD_INFANT", INFANT_SHARE, accompanying_adult=str(n + 1))
        for n in range(search.infants)
    ]
    return travelers


def iso_duration(minutes: int) -> str:
    """ISO 8601 durations as Amadeus writes them: PT5H30M, PT11H, PT45M."""
    hours, rest = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest or not hours else "")


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class _Renderer:
    """Turns priced offers into the response body, numbering segments across the whole answer."""

    def __init__(self, search: FlightSearch, today: dt.date) -> None:
        self.search = search
        self.today = today
        self.travelers = _travelers(search)
        self.next_segment = 1
        self.locations: dict[str, Airport] = {}
        self.aircraft: set[str] = set()
        self.carriers: set[str] = set()

    def segment(self, flight: Flight) -> dict[str, Any]:
        segment_id = str(self.next_segment)
        self.next_segment += 1
        self.locations[flight.departure.code] = flight.departure
        self.locations[flight.arrival.code] = flight.arrival
        self.aircraft.add(flight.aircraft)
        self.carriers.update((flight.carrier, flight.operating_carrier))
        return {
            "departure": {"iataCode": flight.departure.code, "at": _local(flight.departs_at)},
            "arrival": {"iataCode": flight.arrival.code, "at": _local(flight.arrives_at)},
            "carrierCode": flight.carrier,
            "number": flight.number,
            "aircraft": {"code": flight.aircraft},
            "operating": {"carrierCode": flight.operating_carrier},
            "duration": iso_duration(flight.minutes),
            "id": segment_id,
            "numberOfStops": 0,
            "blacklistedInEU": False,
        }

    def offer(self, offer_id: str, offer: PricedOffer) -> dict[str, Any]:
        currency = self.search.currency
        itineraries, segment_ids = [], []
        for itinerary in offer.itineraries:
            segments = [self.segment(flight) for flight in itinerary.flights]
            segment_ids += [segment["id"] for segment in segments]
            itineraries.append({"duration": iso_duration(itinerary.minutes), "segments": segments})
        booking_classes = _BOOKING_CLASSES[offer.cabin]
        booking_class = booking_classes[min(int(offer.premium * 10), len(booking_classes) - 1)]
        checked_bags = 0 if offer.cabin == "ECONOMY" and offer.premium < Decimal("0.2") else 1
        checked_bags += {"BUSINESS": 1, "FIRST": 2}.get(offer.cabin, 0)
        fare_basis = booking_class + "".join(
            seeds.pick("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", "fare-basis", offer.key, n) for n in range(5)
        )
        traveler_pricings, total, base = [], Decimal(0), Decimal(0)
        for traveler in self.travelers:
            traveler_total = money.to_cents(offer.adult_total * traveler.share)
            traveler_base = money.to_cents(traveler_total * offer.base_share)
            total, base = total + traveler_total, base + traveler_base
            pricing: dict[str, Any] = {
                "travelerId": traveler.id,
                "fareOption": "STANDARD",
                "travelerType": traveler.kind,
                "price": {
                    "currency": currency,
                    "total": money.amount_text(traveler_total),
                    "base": money.amount_text(traveler_base),
                },
                "fareDetailsBySegment": [
                    {
                        "segmentId": segment_id,
                        "cabin": offer.cabin,
                        "fareBasis": fare_basis,
                        "class": booking_class,
                        "includedCheckedBags": {"quantity": checked_bags},
                    }
                    for segment_id in segment_ids
                ],
            }
            if traveler.accompanying_adult is not None:
                pricing["associatedAdultId"] = traveler.accompanying_adult
            traveler_pricings.append(pricing)

        first_flight = offer.itineraries[0].flights[0]
        ticketing_days = seeds.whole_number(0, 6, "ticketing", offer.key)
        last_ticketing = min(self.search.departure_date, self.today + dt.timedelta(days=ticketing_days))
        seats = max(self.search.seated_travelers, seeds.whole_number(1, 9, "seats", offer.key))
        return {
            "type": "flight-offer",
            "id": offer_id,
            "source": "GDS",
            "instantTicketingRequired": False,
            "nonHomogeneous": False,
            "oneWay": False,
            "lastTicketingDate": last_ticketing.isoformat(),
            "numberOfBookableSeats": seats,
            "itineraries": itineraries,
            "price": {
                "currency": currency,
                "total": money.amount_text(total),
                "base": money.amount_text(base),
                "fees": [{"amount": "0.00", "type": "SUPPLIER"}, {"amount": "0.00", "type": "TICKETING"}],
                "grandTotal": money.amount_text(total),
            },
            "pricingOptions": {"fareType": ["PUBLISHED"], "includedCheckedBagsOnly": checked_bags > 0},
            "validatingAirlineCodes": [first_flight.carrier],
            "travelerPricings": traveler_pricings,
        }

    def dictionaries(self) -> dict[str, Any]:
        locations: dict[str, dict[str, str]] = {}
        for code, airport in sorted(self.locations.items()):
            locations[code] = {"cityCode": airport.city}
            if airport.country is not None:
                locations[code]["countryCode"] = airport.country
        return {
            "locations": locations,
            "aircraft": {code: AIRCRAFT[code] for code in sorted(self.aircraft)},
            "currencies": {self.search.currency: money.CURRENCIES[self.search.currency].name},
            "carriers": {code: CARRIERS[code].name for code in sorted(self.carriers)},
        }


def offers_body(
    offers: list[PricedOffer], search: FlightSearch, *, today: dt.date, self_link: str | None
) -> dict[str, Any]:
    """The success body. `self_link` is given for GET (its meta has links), omitted for POST."""
    renderer = _Renderer(search, today)
    data = [renderer.offer(str(number), offer) for number, offer in enumerate(offers, start=1)]
    meta: dict[str, Any] = {"count": len(data)}
    if self_link is not None:
        meta["links"] = {"self": self_link}
    body: dict[str, Any] = {"meta": meta, "data": data}
    if data:
        body["dictionaries"] = renderer.dictionaries()
    return body
