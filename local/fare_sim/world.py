"""The small world the simulators fly in: deterministic "randomness", currencies, airports, carriers,
aircraft, and the flights on a route on a day.

Every "random" choice is a SHA-256 of what it is about, so the same route, date and time bucket give
the same flights and fares in every process. Any well-formed three-letter code is searchable: a code not
in the table becomes a made-up airport placed by its code. The timetable is a pure function of (origin,
destination, date): 2-4 nonstops and 4-9 one-stop connections via carrier hubs, each with a fare
premium over the route's cheapest option (premium 0), which is what a price pin fixes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

T = TypeVar("T")


def fraction(*subject: object) -> float:
    """A number in [0, 1) fixed by `subject`."""
    digest = hashlib.sha256("|".join(str(part) for part in subject).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def whole_number(low: int, high: int, *subject: object) -> int:
    return low + int(fraction(*subject) * (high - low + 1))


def pick(choices: Sequence[T], *subject: object) -> T:
    return choices[int(fraction(*subject) * len(choices))]


def shuffled(items: Sequence[T], identity: Callable[[T], object], *subject: object) -> list[T]:
    return sorted(items, key=lambda item: fraction(*subject, identity(item)))


# --- Money: frozen exchange rates, so prices move only with the fare drift --------------------------

CENT = Decimal("0.01")
_RATES = """USD 1 US DOLLAR|EUR 0.92 EURO|GBP 0.79 POUND STERLING|JPY 151.20 YEN|CAD 1.36 CANADIAN DOLLAR
AUD 1.52 AUSTRALIAN DOLLAR|NZD 1.66 NEW ZEALAND DOLLAR|CHF 0.88 SWISS FRANC|SEK 10.60 SWEDISH KRONA
NOK 10.80 NORWEGIAN KRONE|DKK 6.87 DANISH KRONE|PLN 3.98 ZLOTY|CNY 7.24 YUAN RENMINBI
HKD 7.82 HONG KONG DOLLAR|SGD 1.35 SINGAPORE DOLLAR|INR 83.30 INDIAN RUPEE|THB 36.50 BAHT
AED 3.6725 UAE DIRHAM|MXN 17.10 MEXICAN PESO|BRL 5.05 BRAZILIAN REAL|ZAR 18.60 RAND"""
_CURRENCIES = [row.split(" ", 2) for row in _RATES.replace("\n", "|").split("|")]
PER_US_DOLLAR = {code: Decimal(rate) for code, rate, _ in _CURRENCIES}
CURRENCY_NAMES = {code: name for code, _, name in _CURRENCIES}


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def convert(amount: Decimal, source: str, target: str) -> Decimal:
    """`amount` in `source` expressed in `target`, unrounded (round once, at the end)."""
    return amount if source == target else amount * PER_US_DOLLAR[target] / PER_US_DOLLAR[source]


def amount_text(amount: Decimal) -> str:
    """Every amount as a decimal string with two decimals, e.g. "342.20"."""
    return f"{to_cents(amount):.2f}"


# --- Airports, carriers, aircraft ------------------------------------------------------------------


@dataclass(frozen=True)
class Airport:
    code: str
    city: str
    country: str | None  # None for made-up airports (Amadeus's LocationValue makes it optional)
    utc_offset_minutes: int  # fixed, no daylight saving: local times only need to be plausible
    latitude: float
    longitude: float


# code city country utc-offset-hours latitude longitude
_AIRPORTS = """JFK NYC US -5 40.64 -73.78|EWR NYC US -5 40.69 -74.17|LGA NYC US -5 40.78 -73.87
BOS BOS US -5 42.36 -71.01|IAD WAS US -5 38.95 -77.46|ATL ATL US -5 33.64 -84.43
MIA MIA US -5 25.79 -80.29|ORD CHI US -6 41.98 -87.90|DFW DFW US -6 32.90 -97.04
DEN DEN US -7 39.86 -104.67|LAX LAX US -8 33.94 -118.41|SFO SFO US -8 37.62 -122.38
SEA SEA US -8 47.45 -122.31|YYZ YTO CA -5 43.68 -79.63|YVR YVR CA -8 49.19 -123.18
MEX MEX MX -6 19.44 -99.07|GRU SAO BR -3 -23.43 -46.47|LHR LON GB 0 51.47 -0.45|LGW LON GB 0 51.15 -0.19
CDG PAR FR 1 49.01 2.55|ORY PAR FR 1 48.73 2.38|AMS AMS NL 1 52.31 4.76|FRA FRA DE 1 50.04 8.56
MUC MUC DE 1 48.35 11.79|ZRH ZRH CH 1 47.46 8.55|MAD MAD ES 1 40.47 -3.56|BCN BCN ES 1 41.30 2.08
FCO ROM IT 1 41.80 12.25|IST IST TR 3 41.26 28.74|CAI CAI EG 2 30.12 31.41|JNB JNB ZA 2 -26.14 28.24
DOH DOH QA 3 25.27 51.61|DXB DXB AE 4 25.25 55.36|DEL DEL IN 5.5 28.56 77.10|BKK BKK TH 7 13.69 100.75
SIN SIN SG 8 1.36 103.99|HKG HKG HK 8 22.31 113.91|MNL MNL PH 8 14.51 121.02|PEK BJS CN 8 40.08 116.58
ICN SEL KR 9 37.46 126.44|HND TYO JP 9 35.55 139.78|NRT TYO JP 9 35.77 140.39
SYD SYD AU 10 -33.95 151.18|MEL MEL AU 10 -37.67 144.84|AKL AKL NZ 12 -37.01 174.79"""
AIRPORTS = {
    code: Airport(code, city, country, round(float(hours) * 60), float(latitude), float(longitude))
    for code, city, country, hours, latitude, longitude in (
        row.split() for row in _AIRPORTS.replace("\n", "|").split("|")
    )
}
# code: (name, hub)
CARRIERS: dict[str, tuple[str, str]] = {
    "AA": ("AMERICAN AIRLINES", "DFW"), "DL": ("DELTA AIR LINES", "ATL"), "UA": ("UNITED AIRLINES", "ORD"),
    "AC": ("AIR CANADA", "YYZ"), "BA": ("BRITISH AIRWAYS", "LHR"), "AF": ("AIR FRANCE", "CDG"),
    "KL": ("KLM ROYAL DUTCH AIRLINES", "AMS"), "LH": ("LUFTHANSA", "FRA"), "IB": ("IBERIA", "MAD"),
    "TK": ("TURKISH AIRLINES", "IST"), "EK": ("EMIRATES", "DXB"), "QR": ("QATAR AIRWAYS", "DOH"),
    "SQ": ("SINGAPORE AIRLINES", "SIN"), "NH": ("ALL NIPPON AIRWAYS", "HND"), "QF": ("QANTAS AIRWAYS", "SYD"),
}  # fmt: skip
AIRCRAFT = {
    "E90": "EMBRAER 190", "320": "AIRBUS A320", "321": "AIRBUS A321", "32N": "AIRBUS A320NEO",
    "738": "BOEING 737-800", "7M8": "BOEING 737 MAX 8", "333": "AIRBUS A330-300", "359": "AIRBUS A350-900",
    "388": "AIRBUS A380-800", "789": "BOEING 787-9", "77W": "BOEING 777-300ER",
}  # fmt: skip
# Aircraft by the longest distance they fly (km).
_FLEETS = (
    (1500, ("E90", "320", "321", "32N", "738", "7M8")),
    (4500, ("321", "32N", "738", "7M8", "333", "789")),
)
_LONG_HAUL = ("333", "359", "388", "789", "77W")


def hub_of(carrier: str) -> Airport:
    return AIRPORTS[CARRIERS[carrier][1]]


def airports_serving(location_code: str) -> tuple[Airport, ...]:
    """The airports a location code stands for: itself, a city's airports, or a made-up airport."""
    if location_code in AIRPORTS:
        return (AIRPORTS[location_code],)
    city = tuple(airport for airport in AIRPORTS.values() if airport.city == location_code)
    if city:
        return city
    latitude = -45.0 + 110.0 * fraction("latitude", location_code)
    longitude = -180.0 + 360.0 * fraction("longitude", location_code)
    return (Airport(location_code, location_code, None, round(longitude / 15) * 60, latitude, longitude),)


def iana_zone(airport: Airport) -> str:
    """An IANA time zone with the airport's fixed offset (the simulated world has no daylight saving),
    for APIs that name zones (Duffel, Ignav): `Etc/GMT+5` is UTC-5; half hours use a real zone."""
    hours, minutes = divmod(airport.utc_offset_minutes, 60)
    if minutes:
        return {330: "Asia/Kolkata", 345: "Asia/Kathmandu", 570: "Australia/Darwin"}.get(
            airport.utc_offset_minutes, "Asia/Kolkata"
        )
    return "Etc/UTC" if hours == 0 else f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


def great_circle_km(start: Airport, end: Airport) -> float:
    lat1, lat2 = math.radians(start.latitude), math.radians(end.latitude)
    half_chord = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin(math.radians(end.longitude - start.longitude) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, half_chord)))


# --- The timetable ---------------------------------------------------------------------------------

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
        departed = first.departs_at - dt.timedelta(minutes=first.departure.utc_offset_minutes)
        arrived = last.arrives_at - dt.timedelta(minutes=last.arrival.utc_offset_minutes)
        return int((arrived - departed).total_seconds() // 60)

    @property
    def carriers(self) -> frozenset[str]:
        return frozenset(flight.carrier for flight in self.flights)


@dataclass(frozen=True)
class FlightOption:
    key: str  # stable identity, e.g. "JFK-LAX-2026-05-01/N1"
    itinerary: Itinerary
    premium: Decimal  # 0 for the route's cheapest option; fare = leg fare * (1 + premium)


def _fly(
    carrier: str, start: Airport, end: Airport, departs_at: dt.datetime, subject: tuple[object, ...]
) -> Flight:
    distance = great_circle_km(start, end)
    minutes = int(round((TAXI_AND_CLIMB_MINUTES + distance / CRUISE_KM_PER_HOUR * 60) / 5) * 5)
    fleet = next((fleet for reach, fleet in _FLEETS if distance < reach), _LONG_HAUL)
    arrives_utc = departs_at - dt.timedelta(minutes=start.utc_offset_minutes - minutes)
    return Flight(
        carrier=carrier,
        number=str(whole_number(10, 2999, "flight-number", carrier, *subject)),
        operating_carrier=carrier,
        aircraft=pick(fleet, "aircraft", *subject),
        departure=start,
        departs_at=departs_at,
        arrival=end,
        arrives_at=arrives_utc + dt.timedelta(minutes=end.utc_offset_minutes),
        minutes=minutes,
    )


def _departure_time(day: dt.date, *subject: object) -> dt.datetime:
    minutes_after_midnight = 6 * 60 + 5 * whole_number(0, 191, "departs", *subject)  # 06:00-21:55
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes_after_midnight)


def _connecting_carriers(start: Airport, end: Airport, route: str) -> list[str]:
    """Carriers whose hub makes a sensible connection, least detour first."""
    direct = max(great_circle_km(start, end), 1.0)
    ranked = []
    for carrier in CARRIERS:
        hub = hub_of(carrier)
        if hub.code in (start.code, end.code) or hub.city in (start.city, end.city):
            continue
        detour = (great_circle_km(start, hub) + great_circle_km(hub, end)) / direct
        ranked.append((detour + 0.05 * fraction("detour", route, carrier), carrier))
    ranked.sort()
    sensible = [carrier for detour, carrier in ranked if detour <= MAX_HUB_DETOUR]
    return (
        sensible
        if len(sensible) >= MIN_CONNECTING_CARRIERS
        else [c for _, c in ranked[:MIN_CONNECTING_CARRIERS]]
    )


def flight_options(origin: str, destination: str, day: dt.date) -> list[FlightOption]:
    """Every option on the route that day: 2-4 nonstops and 4-9 one-stop connections."""
    route = f"{origin}-{destination}-{day.isoformat()}"
    # Never the same airport at both ends (NYC to JFK leaves from EWR or LGA).
    starts, ends = airports_serving(origin), airports_serving(destination)
    starts = tuple(a for a in starts if a.code not in {b.code for b in ends}) or starts
    ends = tuple(a for a in ends if a.code not in {b.code for b in starts}) or ends
    # Home carriers (based in either end's country) fly the nonstops; any carrier if none is at home.
    countries = {airport.country for airport in starts + ends} - {None}
    home = [carrier for carrier in CARRIERS if hub_of(carrier).country in countries] or list(CARRIERS)
    nonstop_carriers = shuffled(home, lambda carrier: carrier, "nonstop-carrier", route)
    itineraries: list[tuple[str, Itinerary]] = []
    for index in range(whole_number(2, 4, "nonstops", route)):
        subject = (route, "N", index)
        start, end = pick(starts, "from", *subject), pick(ends, "to", *subject)
        carrier = nonstop_carriers[index % len(nonstop_carriers)]
        flight = _fly(carrier, start, end, _departure_time(day, *subject), subject)
        itineraries.append((f"{route}/N{index}", Itinerary((flight,))))
    for index in range(whole_number(4, 9, "connections", route)):
        subject = (route, "C", index)
        start, end = pick(starts, "from", *subject), pick(ends, "to", *subject)
        carriers = _connecting_carriers(start, end, route)
        carrier = carriers[index % len(carriers)]
        first = _fly(carrier, start, hub_of(carrier), _departure_time(day, *subject), (*subject, 1))
        layover = dt.timedelta(minutes=50 + 5 * whole_number(0, 30, "layover", *subject))
        second = _fly(carrier, hub_of(carrier), end, first.arrives_at + layover, (*subject, 2))
        itineraries.append((f"{route}/C{index}", Itinerary((first, second))))
    cheapest = pick(itineraries, "cheapest", route)[0]

    def premium(key: str, itinerary: Itinerary) -> Decimal:
        # Nonstops usually cost more; connections spread a little wider but start closer to the cheapest.
        low, spread = (0.10, 0.80) if itinerary.is_nonstop else (0.03, 0.60)
        return (
            Decimal(0) if key == cheapest else Decimal(str(round(low + spread * fraction("premium", key), 4)))
        )

    return [FlightOption(key, itinerary, premium(key, itinerary)) for key, itinerary in itineraries]
