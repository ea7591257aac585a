"""Offer requests and Duffel-shaped offers, priced by the Amadeus simulator's timetable and fares.

An offer request is validated like Duffel validates `POST /air/offer_requests` (the one-way, adult
subset Farewatch sends), then priced once: Duffel's offers are snapshots with their own ids and an
expiry, so paging through them later shows the prices of the moment the request was made. Fares
come from `amadeus_sim.offers.find_offers` — the same routes, drift and pins as the Amadeus
simulator — and totals are for all passengers, as Duffel's `total_amount` is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from amadeus_sim import money
from amadeus_sim.catalogue import AIRCRAFT, CARRIERS, Airport
from amadeus_sim.flight_search import FlightSearch
from amadeus_sim.offers import Pin, PricedOffer, PricePin, RouteDay, find_offers, iso_duration
from amadeus_sim.schedule import Flight
from duffel_sim.errors import DuffelError, RequestRejected, invalid_field, missing_field

OFFER_LIFETIME_SECONDS = 30 * 60
BOOKING_HORIZON_DAYS = 365
MAX_PASSENGERS = 9
MAX_OFFERS_PER_REQUEST = 250
CABIN_CLASSES = ("economy", "premium_economy", "business", "first")
SELLING_CURRENCY = "USD"  # the simulated account sees every airline's offers in US dollars
_CODE = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class OfferRequest:
    """One `orq_…`: what was asked, when, and the offers it found (in Duffel's unsorted order)."""

    id: str
    created_at: float
    route: RouteDay
    adults: int
    cabin_class: str | None
    max_connections: int | None
    offers: tuple[dict[str, Any], ...]

    def as_json(self, *, with_offers: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "live_mode": False,
            "created_at": timestamp(self.created_at),
            "cabin_class": self.cabin_class,
            "client_key": None,
            "slices": [
                {
                    "origin_type": "airport",
                    "origin": place_of_code(self.route.origin),
                    "destination_type": "airport",
                    "destination": place_of_code(self.route.destination),
                    "departure_date": self.route.day.isoformat(),
                }
            ],
            "passengers": _passengers(self.id, self.adults),
        }
        if with_offers:
            body["offers"] = list(self.offers)
        return body


def timestamp(epoch_seconds: float) -> str:
    """Duffel's timestamps: UTC with milliseconds, e.g. `2026-11-23T12:00:00.000Z`."""
    moment = dt.datetime.fromtimestamp(epoch_seconds, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def short_id(prefix: str, *subject: object) -> str:
    """A Duffel-looking id (`off_0000A…`) that is a pure function of what it names."""
    digest = hashlib.sha256("|".join(str(part) for part in subject).encode()).hexdigest()
    return f"{prefix}_{digest[:26]}"


def read_offer_request(body: Any, *, today: dt.date) -> tuple[RouteDay, int, str | None, int | None]:
    """(route/day, adults, cabin class, max connections) from `{"data": {...}}`, every problem at once."""
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        raise RequestRejected([missing_field("/data")])
    data = body["data"]
    problems: list[DuffelError] = []
    route = _slice(data.get("slices"), today, problems)
    adults = _adults(data.get("passengers"), problems)
    cabin_class = data.get("cabin_class")
    if cabin_class is not None and cabin_class not in CABIN_CLASSES:
        problems.append(invalid_field("/data/cabin_class", f"cabin_class must be one of {CABIN_CLASSES}"))
    max_connections = data.get("max_connections")
    if max_connections is not None and (
        isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 0
    ):
        problems.append(invalid_field("/data/max_connections", "max_connections must be 0 or more"))
    if problems or route is None or adults is None:
        raise RequestRejected(problems)
    return route, adults, cabin_class, max_connections


def _slice(slices: Any, today: dt.date, problems: list[DuffelError]) -> RouteDay | None:
    if not isinstance(slices, list) or not slices:
        problems.append(missing_field("/data/slices"))
        return None
    if len(slices) != 1 or not isinstance(slices[0], Mapping):
        problems.append(invalid_field("/data/slices", "the simulator searches one-way journeys (one slice)"))
        return None
    journey = slices[0]
    codes = []
    for name in ("origin", "destination"):
        code = journey.get(name)
        if code is None:
            problems.append(missing_field(f"/data/slices/0/{name}"))
        elif not isinstance(code, str) or not _CODE.fullmatch(code):
            problems.append(invalid_field(f"/data/slices/0/{name}", f"{name} must be an IATA code"))
        else:
            codes.append(code)
    day = _departure_date(journey.get("departure_date"), today, problems)
    if len(codes) == 2 and codes[0] == codes[1]:
        problems.append(invalid_field("/data/slices/0/destination", "destination must differ from origin"))
        return None
    if len(codes) != 2 or day is None:
        return None
    return RouteDay(codes[0], codes[1], day)


def _departure_date(raw: Any, today: dt.date, problems: list[DuffelError]) -> dt.date | None:
    pointer = "/data/slices/0/departure_date"
    if raw is None:
        problems.append(missing_field(pointer))
        return None
    try:
        if not isinstance(raw, str) or not _DATE.fullmatch(raw):
            raise ValueError(raw)
        day = dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(invalid_field(pointer, "departure_date must be a date, YYYY-MM-DD"))
        return None
    if day < today:
        problems.append(invalid_field(pointer, "departure_date must be today or later"))
    elif (day - today).days > BOOKING_HORIZON_DAYS:
        problems.append(invalid_field(pointer, f"departure_date must be within {BOOKING_HORIZON_DAYS} days"))
    else:
        return day
    return None


def _adults(passengers: Any, problems: list[DuffelError]) -> int | None:
    if not isinstance(passengers, list) or not passengers:
        problems.append(missing_field("/data/passengers"))
        return None
    if len(passengers) > MAX_PASSENGERS:
        problems.append(invalid_field("/data/passengers", f"at most {MAX_PASSENGERS} passengers"))
        return None
    if not all(isinstance(p, Mapping) and p.get("type") == "adult" for p in passengers):
        problems.append(
            invalid_field("/data/passengers", 'the simulator prices {"type": "adult"} passengers')
        )
        return None
    return len(passengers)


def price_offer_request(
    request_id: str,
    route: RouteDay,
    adults: int,
    cabin_class: str | None,
    max_connections: int | None,
    *,
    now: float,
    pins: Mapping[RouteDay, Pin],
) -> OfferRequest:
    """Price the request now. A price pin fixes the cheapest one-adult fare and its currency."""
    pin = pins.get(route)
    search = FlightSearch(
        origin=route.origin,
        destination=route.destination,
        departure_date=route.day,
        return_date=None,
        adults=adults,
        children=0,
        infants=0,
        travel_class=cabin_class.upper() if cabin_class else None,
        included_airlines=frozenset(),
        excluded_airlines=frozenset(),
        non_stop=max_connections == 0,
        currency=pin.currency if isinstance(pin, PricePin) else SELLING_CURRENCY,
        max_price=None,
        max_offers=MAX_OFFERS_PER_REQUEST,
    )
    priced = find_offers(search, now=now, pins=pins)
    offers = tuple(_offer(request_id, offer, search, now) for offer in priced)
    return OfferRequest(request_id, now, route, adults, cabin_class, max_connections, offers)


def place(airport: Airport) -> dict[str, Any]:
    return {
        "type": "airport",
        "iata_code": airport.code,
        "iata_city_code": airport.city,
        "iata_country_code": airport.country,
        "name": f"{airport.code} Airport",
    }


def place_of_code(code: str) -> dict[str, Any]:
    return {"type": "airport", "iata_code": code}


def _carrier(code: str) -> dict[str, Any]:
    return {"id": short_id("arl", code), "iata_code": code, "name": CARRIERS[code].name.title()}


def _passengers(request_id: str, adults: int) -> list[dict[str, Any]]:
    return [{"id": short_id("pas", request_id, n), "type": "adult"} for n in range(adults)]


def _segment(request_id: str, offer_key: str, number: int, flight: Flight, cabin: str) -> dict[str, Any]:
    return {
        "id": short_id("seg", request_id, offer_key, number),
        "origin": place(flight.departure),
        "destination": place(flight.arrival),
        "departing_at": flight.departs_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "arriving_at": flight.arrives_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "duration": iso_duration(flight.minutes),
        "marketing_carrier": _carrier(flight.carrier),
        "marketing_carrier_flight_number": flight.number,
        "operating_carrier": _carrier(flight.operating_carrier),
        "operating_carrier_flight_number": flight.number,
        "aircraft": {"iata_code": flight.aircraft, "name": AIRCRAFT[flight.aircraft].title()},
        "stops": [],
        "passengers": [{"cabin_class": cabin, "cabin_class_marketing_name": cabin.replace("_", " ").title()}],
    }


def _offer(request_id: str, offer: PricedOffer, search: FlightSearch, now: float) -> dict[str, Any]:
    itinerary = offer.itineraries[0]
    cabin = offer.cabin.lower()
    total = money.to_cents(offer.adult_total * search.adults)
    base = money.to_cents(total * offer.base_share)
    currency = search.currency
    return {
        "id": short_id("off", request_id, offer.key),
        "live_mode": False,
        "created_at": timestamp(now),
        "updated_at": timestamp(now),
        "expires_at": timestamp(now + OFFER_LIFETIME_SECONDS),
        "total_amount": money.amount_text(total),
        "total_currency": currency,
        "base_amount": money.amount_text(base),
        "base_currency": currency,
        "tax_amount": money.amount_text(total - base),
        "tax_currency": currency,
        "total_emissions_kg": str(int(itinerary.minutes * Decimal("1.6"))),
        "owner": _carrier(itinerary.flights[0].carrier),
        "slices": [
            {
                "id": short_id("sli", request_id, offer.key),
                "origin_type": "airport",
                "origin": place(itinerary.flights[0].departure),
                "destination_type": "airport",
                "destination": place(itinerary.flights[-1].arrival),
                "duration": iso_duration(itinerary.minutes),
                "fare_brand_name": "Basic" if offer.premium < Decimal("0.2") else "Standard",
                "segments": [
                    _segment(request_id, offer.key, n, flight, cabin)
                    for n, flight in enumerate(itinerary.flights)
                ],
            }
        ],
        "passengers": _passengers(request_id, search.adults),
        "payment_requirements": {"requires_instant_payment": False},
        "conditions": {"refund_before_departure": None, "change_before_departure": None},
    }
