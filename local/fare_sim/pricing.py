"""The price world every fare simulator sells from: fares that drift, pins, cabins, round trips, filters.

A leg's fare (one adult, economy, one way) is a base fare fixed by (origin, destination, date) times a
drift factor fixed by the half-hour of the clock, unless a pin fixes it. An offer costs its legs' fares
times each flight option's premium and the cabin's multiplier (business 3.4 times economy), so the
cheapest option of a pinned one-way economy search costs exactly the pinned amount; a round trip costs
its two legs times the route's round-trip factor (less than two one-ways on most routes). Each simulator
only turns a `FlightSearch` and the `PricedOffer`s found for it into its own API's shapes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from fare_sim.world import (
    FlightOption,
    Itinerary,
    airports_serving,
    convert,
    flight_options,
    fraction,
    great_circle_km,
    shuffled,
    to_cents,
)

DRIFT_BUCKET_SECONDS = 30 * 60
MAX_DRIFT = Decimal("0.04")  # a fare moves at most 4 % either side of its base fare
CABINS = ("ECONOMY", "PREMIUM_ECONOMY", "BUSINESS", "FIRST")
CABIN_MULTIPLIER = {cabin: Decimal(m) for cabin, m in zip(CABINS, ("1", "1.65", "3.4", "5.8"), strict=True)}
ROUND_TRIP_DISCOUNT_ROUTES = 0.85  # the share of routes where a round trip costs less than two one-ways
SHARE = {"ADULT": Decimal(1), "CHILD": Decimal("0.75"), "HELD_INFANT": Decimal("0.10")}  # of an adult's fare


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
class FlightSearch:
    origin: str
    destination: str
    departure_date: dt.date
    return_date: dt.date | None = None
    adults: int = 1
    children: int = 0
    infants: int = 0
    travel_class: str | None = None
    included_airlines: frozenset[str] = frozenset()
    excluded_airlines: frozenset[str] = frozenset()
    non_stop: bool = False
    currency: str = "USD"
    max_price: int | None = None  # per traveler, whole units of `currency`
    max_offers: int = 250
    max_connections: int | None = None  # per journey (Duffel's `max_connections`); None: any


@dataclass(frozen=True)
class PricedOffer:
    key: str
    itineraries: tuple[Itinerary, ...]
    cabin: str
    adult_total: Decimal  # one adult, in the search currency
    base_share: Decimal  # the part of each total that is fare rather than taxes
    premium: Decimal  # how far above the route's cheapest option: drives booking class and bags


def base_fare_usd(route: RouteDay) -> Decimal:
    """One adult, economy, cheapest option: a pure function of origin, destination and date."""
    distance = great_circle_km(airports_serving(route.origin)[0], airports_serving(route.destination)[0])
    route_level = (49 + 0.065 * distance) * (0.8 + 0.5 * fraction("route", route.origin, route.destination))
    day_level = 0.85 + 0.35 * fraction("day", route.origin, route.destination, route.day.isoformat())
    return to_cents(Decimal(str(route_level * day_level)))


def leg_fare(route: RouteDay, bucket: int, pin: Pin | None) -> tuple[Decimal, str]:
    """The cheapest one-adult economy fare and its currency: the pin's, else the drifting base fare."""
    if isinstance(pin, PricePin):
        return pin.amount, pin.currency
    swing = Decimal(
        str(round(2 * fraction("drift", route.origin, route.destination, route.day, bucket) - 1, 4))
    )
    return base_fare_usd(route) * (1 + MAX_DRIFT * swing), "USD"


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


def round_trip_factor(origin: str, destination: str) -> Decimal:
    """What a round trip costs against its two one-way fares: 6-18 % less on most routes (airlines
    price returns as a pair), 3 % more on the rest. A pure function of the route (either direction)."""
    ends = sorted((origin, destination))
    if fraction("round-trip", *ends) >= ROUND_TRIP_DISCOUNT_ROUTES:
        return Decimal("1.03")
    return Decimal(str(round(1 - (0.06 + 0.12 * fraction("round-trip-discount", *ends)), 3)))


def _wanted(offer: PricedOffer, search: FlightSearch) -> bool:
    if search.non_stop and not all(itinerary.is_nonstop for itinerary in offer.itineraries):
        return False
    if search.max_connections is not None and any(
        len(itinerary.flights) - 1 > search.max_connections for itinerary in offer.itineraries
    ):
        return False
    carriers = frozenset().union(*(itinerary.carriers for itinerary in offer.itineraries))
    if (
        search.included_airlines and not carriers <= search.included_airlines
    ) or carriers & search.excluded_airlines:
        return False
    return search.max_price is None or offer.adult_total <= search.max_price


def find_offers(search: FlightSearch, *, now: float, pins: Mapping[RouteDay, Pin]) -> list[PricedOffer]:
    """The offers Amadeus would return: filtered, the `max` cheapest, in a deliberately unsorted order."""
    routes = [RouteDay(search.origin, search.destination, search.departure_date)]
    if search.return_date is not None:
        routes.append(RouteDay(search.destination, search.origin, search.return_date))
    if any(isinstance(pins.get(route), NoOffersPin) for route in routes):
        return []
    bucket = int(now // DRIFT_BUCKET_SECONDS)
    fares = [leg_fare(route, bucket, pins.get(route)) for route in routes]
    cabin = search.travel_class or "ECONOMY"
    pairing = round_trip_factor(search.origin, search.destination) if search.return_date else Decimal(1)
    offers = []
    for journey in _journeys(search):
        key = "+".join(option.key for option in journey)
        total = Decimal(0)
        for (amount, currency), option in zip(fares, journey, strict=True):
            leg = amount * (1 + option.premium) * CABIN_MULTIPLIER[cabin] * pairing
            total += to_cents(convert(leg, currency, search.currency))
        share = Decimal(str(round(0.78 + 0.12 * fraction("base-share", key), 3)))
        itineraries = tuple(option.itinerary for option in journey)
        offers.append(
            PricedOffer(key, itineraries, cabin, total, share, max(option.premium for option in journey))
        )
    cheapest_first = sorted((o for o in offers if _wanted(o, search)), key=lambda o: (o.adult_total, o.key))
    # A fixed shuffle that never leads with the cheapest offer, so clients must find it themselves.
    arranged = shuffled(cheapest_first[: search.max_offers], lambda offer: offer.key, "order", bucket)
    if len(arranged) > 1:
        lowest = min(offer.adult_total for offer in arranged)
        dearer = next((i for i, offer in enumerate(arranged) if offer.adult_total > lowest), None)
        if arranged[0].adult_total == lowest and dearer is not None:
            arranged[0], arranged[dearer] = arranged[dearer], arranged[0]
    return arranged


def iso_duration(minutes: int) -> str:
    """ISO 8601 durations as Amadeus writes them: PT5H30M, PT11H, PT45M."""
    hours, rest = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest or not hours else "")
