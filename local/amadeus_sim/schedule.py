"""The flights on a route on a day: a few nonstops and some one-stop connections via carrier hubs.

The timetable is a pure function of (origin, destination, date), so the same search always shows
the same flights; only their fares drift. Each flight option carries a fare premium over the
route's cheapest option (premium 0), which is what a price pin fixes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from amadeus_sim import seeds
from amadeus_sim.catalogue import (
    CARRIERS,
    Airport,
    Carrier,
    aircraft_for,
    airports_serving,
    great_circle_km,
    hub_of,
)

CRUISE_KM_PER_HOUR = 820
TAXI_AND_CLIMB_MINUTES = 30
MAX_HUB_DETOUR = 1.8  # connections longer than 1.8 times the direct distance are not offered...
MIN_CONNECTING_CARRIERS = 2  # ...unless fewer than this many hubs would be left


@dataclass(frozen=True)
class Flight:
    """One segment: a marketed flight between two airports, at local times."""

    carrier: str
    number: str
    operating_carrier: str
    aircraft: str
    departure: Airport
    departs_at: dt.datetime  # local time at `departure`
    arrival: Airport
    arrives_at: dt.datetime  # local time at `arrival`
    minutes: int


@dataclass(frozen=True)
class Itinerary:
    flights: tuple[Flight, ...]

    @property
    def is_nonstop(self) -> bool:
        return len(self.flights) == 1

    @property
    def minutes(self) -> int:
        """Door to door, across time zones: first departure to last arrival."""
        first, last = self.flights[0], self.flights[-1]
        departed_utc = first.departs_at - dt.timedelta(minutes=first.departure.utc_offset_minutes)
        arrived_utc = last.arrives_at - dt.timedelta(minutes=last.arrival.utc_offset_minutes)
        return int((arrived_utc - departed_utc).total_seconds() // 60)

    @property
    def carriers(self) -> frozenset[str]:
        return frozenset(flight.carrier for flight in self.flights)


@dataclass(frozen=True)
class FlightOption:
    """A way to fly the route that day, and how much dearer it is than the cheapest way."""

    key: str  # stable identity, e.g. "JFK-LAX-2026-05-01/N1"
    itinerary: Itinerary
    premium: Decimal  # 0 for the route's cheapest option; fare = leg fare * (1 + premium)


def flight_minutes(start: Airport, end: Airport) -> int:
    raw = TAXI_AND_CLIMB_MINUTES + great_circle_km(start, end) / CRUISE_KM_PER_HOUR * 60
    return int(round(raw / 5) * 5)


def _fly(
    carrier: Carrier, start: Airport, end: Airport, departs_at: dt.datetime, subject: tuple[object, ...]
) -> Flight:
    minutes = flight_minutes(start, end)
    arrives_utc = departs_at - dt.timedelta(minutes=start.utc_offset_minutes - minutes)
    return Flight(
        carrier=carrier.code,
        number=str(seeds.whole_number(10, 2999, "flight-number", carrier.code, *subject)),
        operating_carrier=carrier.code,
        aircraft=aircraft_for(great_circle_km(start, end), *subject),
        departure=start,
        departs_at=departs_at,
        arrival=end,
        arrives_at=arrives_utc + dt.timedelta(minutes=end.utc_offset_minutes),
        minutes=minutes,
    )


def _departure_time(day: dt.date, *subject: object) -> dt.datetime:
    minutes_after_midnight = 6 * 60 + 5 * seeds.whole_number(0, 191, "departs", *subject)  # 06:00-21:55
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes_after_midnight)


def _nonstop_carriers(starts: tuple[Airport, ...], ends: tuple[Airport, ...], route: str) -> list[Carrier]:
    """Home carriers (based in either end's country) fly the nonstops; any carrier if none is at home."""
    countries = {airport.country for airport in starts + ends} - {None}
    home = [carrier for carrier in CARRIERS.values() if hub_of(carrier).country in countries]
    return seeds.shuffled(
        home or list(CARRIERS.values()), lambda carrier: carrier.code, "nonstop-carrier", route
    )


def _connecting_carriers(start: Airport, end: Airport, route: str) -> list[Carrier]:
    """Carriers whose hub makes a sensible connection, least detour first."""
    direct = max(great_circle_km(start, end), 1.0)
    candidates = []
    for carrier in CARRIERS.values():
        hub = hub_of(carrier)
        if hub.code in (start.code, end.code) or hub.city in (start.city, end.city):
            continue
        detour = (great_circle_km(start, hub) + great_circle_km(hub, end)) / direct
        candidates.append((detour + 0.05 * seeds.fraction("detour", route, carrier.code), carrier))
    candidates.sort(key=lambda ranked: ranked[0])
    sensible = [carrier for detour, carrier in candidates if detour <= MAX_HUB_DETOUR]
    return (
        sensible
        if len(sensible) >= MIN_CONNECTING_CARRIERS
        else [c for _, c in candidates[:MIN_CONNECTING_CARRIERS]]
    )


def _distinct_ends(origin: str, destination: str) -> tuple[tuple[Airport, ...], tuple[Airport, ...]]:
    """The airports at each end, never the same airport at both (e.g. NYC to JFK leaves from EWR/LGA)."""
    starts, ends = airports_serving(origin), airports_serving(destination)
    end_codes = {airport.code for airport in ends}
    starts = tuple(airport for airport in starts if airport.code not in end_codes) or starts
    start_codes = {airport.code for airport in starts}
    ends = tuple(airport for airport in ends if airport.code not in start_codes) or ends
    return starts, ends


def flight_options(origin: str, destination: str, day: dt.date) -> list[FlightOption]:
    """Every option on the route that day: 2-4 nonstops and 4-9 one-stop connections."""
    route = f"{origin}-{destination}-{day.isoformat()}"
    starts, ends = _distinct_ends(origin, destination)
    itineraries: list[tuple[str, Itinerary]] = []

    nonstop_carriers = _nonstop_carriers(starts, ends, route)
    for index in range(seeds.whole_number(2, 4, "nonstops", route)):
        subject = (route, "N", index)
        start, end = seeds.pick(starts, "from", *subject), seeds.pick(ends, "to", *subject)
        carrier = nonstop_carriers[index % len(nonstop_carriers)]
        flight = _fly(carrier, start, end, _departure_time(day, *subject), subject)
        itineraries.append((f"{route}/N{index}", Itinerary((flight,))))

    for index in range(seeds.whole_number(4, 9, "connections", route)):
        subject = (route, "C", index)
        start, end = seeds.pick(starts, "from", *subject), seeds.pick(ends, "to", *subject)
        carriers = _connecting_carriers(start, end, route)
        carrier = carriers[index % len(carriers)]
        first = _fly(carrier, start, hub_of(carrier), _departure_time(day, *subject), (*subject, 1))
        layover = dt.timedelta(minutes=50 + 5 * seeds.whole_number(0, 30, "layover", *subject))
        second = _fly(carrier, hub_of(carrier), end, first.arrives_at + layover, (*subject, 2))
        itineraries.append((f"{route}/C{index}", Itinerary((first, second))))

    cheapest = seeds.pick(itineraries, "cheapest", route)[0]
    return [
        FlightOption(key, itinerary, Decimal(0) if key == cheapest else _premium(key, itinerary))
        for key, itinerary in itineraries
    ]


def _premium(key: str, itinerary: Itinerary) -> Decimal:
    # Nonstops usually cost more; connections spread a little wider but start closer to the cheapest.
    low, spread = (0.10, 0.80) if itinerary.is_nonstop else (0.03, 0.60)
    return Decimal(str(round(low + spread * seeds.fraction("premium", key), 4)))
