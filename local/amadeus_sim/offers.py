"""Amadeus's flight-offers answer (the spec's `GETAirOffersReply`) for offers the shared price world found."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fare_sim.pricing import SHARE, FlightSearch, PricedOffer, iso_duration
from fare_sim.world import (
    AIRCRAFT,
    CARRIERS,
    CURRENCY_NAMES,
    Airport,
    Flight,
    amount_text,
    pick,
    to_cents,
    whole_number,
)

BOOKING_CLASSES = {
    "ECONOMY": "OSTVLKMBY",
    "PREMIUM_ECONOMY": "WE",
    "BUSINESS": "IDCJ",
    "FIRST": "AF",
}  # cheapest first
EXTRA_BAGS = {"BUSINESS": 1, "FIRST": 2}
FARE_BASIS_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
LOCAL_TIME = "%Y-%m-%dT%H:%M:%S"


def offers_body(
    offers: list[PricedOffer], search: FlightSearch, *, today: dt.date, self_link: str | None
) -> dict[str, Any]:
    """The success body. `self_link` is given for GET (its meta has links), omitted for POST."""
    kinds = ["ADULT"] * search.adults + ["CHILD"] * search.children + ["HELD_INFANT"] * search.infants
    locations: dict[str, Airport] = {}
    aircraft: set[str] = set()
    carriers: set[str] = set()
    segment_ids = iter(range(1, 10**6))

    def segment(flight: Flight) -> dict[str, Any]:
        locations.update({flight.departure.code: flight.departure, flight.arrival.code: flight.arrival})
        aircraft.add(flight.aircraft)
        carriers.update((flight.carrier, flight.operating_carrier))
        return {
            "departure": {"iataCode": flight.departure.code, "at": flight.departs_at.strftime(LOCAL_TIME)},
            "arrival": {"iataCode": flight.arrival.code, "at": flight.arrives_at.strftime(LOCAL_TIME)},
            "carrierCode": flight.carrier,
            "number": flight.number,
            "aircraft": {"code": flight.aircraft},
            "operating": {"carrierCode": flight.operating_carrier},
            "duration": iso_duration(flight.minutes),
            "id": str(next(segment_ids)),
            "numberOfStops": 0,
            "blacklistedInEU": False,
        }

    def offer(offer_id: str, offer: PricedOffer) -> dict[str, Any]:
        currency = search.currency
        segments = [[segment(flight) for flight in itinerary.flights] for itinerary in offer.itineraries]
        itineraries = [
            {"duration": iso_duration(itinerary.minutes), "segments": flights}
            for itinerary, flights in zip(offer.itineraries, segments, strict=True)
        ]
        classes = BOOKING_CLASSES[offer.cabin]
        booking_class = classes[min(int(offer.premium * 10), len(classes) - 1)]
        bags = int(offer.cabin != "ECONOMY" or offer.premium >= Decimal("0.2")) + EXTRA_BAGS.get(
            offer.cabin, 0
        )
        basis = booking_class + "".join(
            pick(FARE_BASIS_LETTERS, "fare-basis", offer.key, n) for n in range(5)
        )
        details = [
            {"segmentId": item["id"], "cabin": offer.cabin, "fareBasis": basis, "class": booking_class,
             "includedCheckedBags": {"quantity": bags}}
            for flights in segments for item in flights
        ]  # fmt: skip
        pricings, total, base = [], Decimal(0), Decimal(0)
        for number, kind in enumerate(kinds, start=1):
            traveler_total = to_cents(offer.adult_total * SHARE[kind])
            traveler_base = to_cents(traveler_total * offer.base_share)
            total, base = total + traveler_total, base + traveler_base
            price = {
                "currency": currency,
                "total": amount_text(traveler_total),
                "base": amount_text(traveler_base),
            }
            pricing = {"travelerId": str(number), "fareOption": "STANDARD", "travelerType": kind,
                       "price": price, "fareDetailsBySegment": details}  # fmt: skip
            if kind == "HELD_INFANT":  # each infant sits with an adult: the first with the first, ...
                pricing["associatedAdultId"] = str(number - search.adults - search.children)
            pricings.append(pricing)
        ticketing = today + dt.timedelta(days=whole_number(0, 6, "ticketing", offer.key))
        seats = max(search.adults + search.children, whole_number(1, 9, "seats", offer.key))
        fees = [{"amount": "0.00", "type": "SUPPLIER"}, {"amount": "0.00", "type": "TICKETING"}]
        return {
            "type": "flight-offer",
            "id": offer_id,
            "source": "GDS",
            "instantTicketingRequired": False,
            "nonHomogeneous": False,
            "oneWay": False,
            "lastTicketingDate": min(search.departure_date, ticketing).isoformat(),
            "numberOfBookableSeats": seats,
            "itineraries": itineraries,
            "price": {"currency": currency, "total": amount_text(total), "base": amount_text(base),
                      "fees": fees, "grandTotal": amount_text(total)},
            "pricingOptions": {"fareType": ["PUBLISHED"], "includedCheckedBagsOnly": bags > 0},
            "validatingAirlineCodes": [offer.itineraries[0].flights[0].carrier],
            "travelerPricings": pricings,
        }  # fmt: skip

    data = [offer(str(number), priced) for number, priced in enumerate(offers, start=1)]
    body: dict[str, Any] = {
        "meta": {"count": len(data), **({"links": {"self": self_link}} if self_link else {})},
        "data": data,
    }
    if data:
        body["dictionaries"] = {
            "locations": {
                code: {
                    "cityCode": airport.city,
                    **({"countryCode": airport.country} if airport.country else {}),
                }
                for code, airport in sorted(locations.items())
            },
            "aircraft": {code: AIRCRAFT[code] for code in sorted(aircraft)},
            "currencies": {search.currency: CURRENCY_NAMES[search.currency]},
            "carriers": {code: CARRIERS[code][0] for code in sorted(carriers)},
        }
    return body
