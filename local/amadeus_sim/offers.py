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

BOOKING_CLASSES: dict[str, str] = {
    "ECONOMY": "OSTVLKMBY",
    "PREMIUM_ECONOMY": "WE",
    "BUSINESS": "IDCJ",
    "FIRST": "AF",
}  # cheapest first


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
            "departure": {
                "iataCode": flight.departure.code,
                "at": flight.departs_at.strftime("%Y-%m-%dT%H:%M:%S"),
            },
            "arrival": {
                "iataCode": flight.arrival.code,
                "at": flight.arrives_at.strftime("%Y-%m-%dT%H:%M:%S"),
            },
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
        ids = [item["id"] for flights in segments for item in flights]
        classes = BOOKING_CLASSES[offer.cabin]
        booking_class = classes[min(int(offer.premium * 10), len(classes) - 1)]
        bags = (0 if offer.cabin == "ECONOMY" and offer.premium < Decimal("0.2") else 1) + {
            "BUSINESS": 1,
            "FIRST": 2,
        }.get(offer.cabin, 0)
        fare_basis = booking_class + "".join(
            pick("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", "fare-basis", offer.key, n) for n in range(5)
        )
        pricings, total, base = [], Decimal(0), Decimal(0)
        for number, kind in enumerate(kinds, start=1):
            traveler_total = to_cents(offer.adult_total * SHARE[kind])
            traveler_base = to_cents(traveler_total * offer.base_share)
            total, base = total + traveler_total, base + traveler_base
            details = [
                {
                    "segmentId": i,
                    "cabin": offer.cabin,
                    "fareBasis": fare_basis,
                    "class": booking_class,
                    "includedCheckedBags": {"quantity": bags},
                }
                for i in ids
            ]
            price = {
                "currency": currency,
                "total": amount_text(traveler_total),
                "base": amount_text(traveler_base),
            }
            pricing = {
                "travelerId": str(number),
                "fareOption": "STANDARD",
                "travelerType": kind,
                "price": price,
                "fareDetailsBySegment": details,
            }
            if kind == "HELD_INFANT":  # each infant sits with an adult: the first with the first, ...
                pricing["associatedAdultId"] = str(number - search.adults - search.children)
            pricings.append(pricing)
        last_ticketing = min(
            search.departure_date, today + dt.timedelta(days=whole_number(0, 6, "ticketing", offer.key))
        )
        return {
            "type": "flight-offer",
            "id": offer_id,
            "source": "GDS",
            "instantTicketingRequired": False,
            "nonHomogeneous": False,
            "oneWay": False,
            "lastTicketingDate": last_ticketing.isoformat(),
            "numberOfBookableSeats": max(
                search.adults + search.children, whole_number(1, 9, "seats", offer.key)
            ),
            "itineraries": itineraries,
            "price": {
                "currency": currency,
                "total": amount_text(total),
                "base": amount_text(base),
                "fees": [{"amount": "0.00", "type": "SUPPLIER"}, {"amount": "0.00", "type": "TICKETING"}],
                "grandTotal": amount_text(total),
            },
            "pricingOptions": {"fareType": ["PUBLISHED"], "includedCheckedBagsOnly": bags > 0},
            "validatingAirlineCodes": [offer.itineraries[0].flights[0].carrier],
            "travelerPricings": pricings,
        }

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
