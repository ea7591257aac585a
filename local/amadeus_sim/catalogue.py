"""The small world the simulator flies in: airports and the cities they serve, carriers, aircraft.

Any well-formed three-letter code is searchable. Codes not in the table become a made-up airport
at a position derived from the code, so every route has a distance, a duration and a fare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from amadeus_sim import seeds


@dataclass(frozen=True)
class Airport:
    code: str
    city: str
    country: str | None  # None for made-up airports: Amadeus's LocationValue makes it optional
    utc_offset_minutes: int  # fixed offset, no daylight saving: local times only need to be plausible
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    hub: str  # airport code where its connections are made


def _airport(code: str, city: str, country: str, offset_hours: float, lat: float, lon: float) -> Airport:
    return Airport(code, city, country, round(offset_hours * 60), lat, lon)


_AIRPORTS: dict[str, Airport] = {
    airport.code: airport
    for airport in (
        _airport("JFK", "NYC", "US", -5, 40.64, -73.78),
        _airport("EWR", "NYC", "US", -5, 40.69, -74.17),
        _airport("LGA", "NYC", "US", -5, 40.78, -73.87),
        _airport("BOS", "BOS", "US", -5, 42.36, -71.01),
        _airport("IAD", "WAS", "US", -5, 38.95, -77.46),
        _airport("ATL", "ATL", "US", -5, 33.64, -84.43),
        _airport("MIA", "MIA", "US", -5, 25.79, -80.29),
        _airport("ORD", "CHI", "US", -6, 41.98, -87.90),
        _airport("DFW", "DFW", "US", -6, 32.90, -97.04),
        _airport("DEN", "DEN", "US", -7, 39.86, -104.67),
        _airport("LAX", "LAX", "US", -8, 33.94, -118.41),
        _airport("SFO", "SFO", "US", -8, 37.62, -122.38),
        _airport("SEA", "SEA", "US", -8, 47.45, -122.31),
        _airport("YYZ", "YTO", "CA", -5, 43.68, -79.63),
        _airport("YVR", "YVR", "CA", -8, 49.19, -123.18),
        _airport("MEX", "MEX", "MX", -6, 19.44, -99.07),
        _airport("GRU", "SAO", "BR", -3, -23.43, -46.47),
        _airport("LHR", "LON", "GB", 0, 51.47, -0.45),
        _airport("LGW", "LON", "GB", 0, 51.15, -0.19),
        _airport("CDG", "PAR", "FR", 1, 49.01, 2.55),
        _airport("ORY", "PAR", "FR", 1, 48.73, 2.38),
        _airport("AMS", "AMS", "NL", 1, 52.31, 4.76),
        _airport("FRA", "FRA", "DE", 1, 50.04, 8.56),
        _airport("MUC", "MUC", "DE", 1, 48.35, 11.79),
        _airport("ZRH", "ZRH", "CH", 1, 47.46, 8.55),
        _airport("MAD", "MAD", "ES", 1, 40.47, -3.56),
        _airport("BCN", "BCN", "ES", 1, 41.30, 2.08),
        _airport("FCO", "ROM", "IT", 1, 41.80, 12.25),
        _airport("IST", "IST", "TR", 3, 41.26, 28.74),
        _airport("CAI", "CAI", "EG", 2, 30.12, 31.41),
        _airport("JNB", "JNB", "ZA", 2, -26.14, 28.24),
        _airport("DOH", "DOH", "QA", 3, 25.27, 51.61),
        _airport("DXB", "DXB", "AE", 4, 25.25, 55.36),
        _airport("DEL", "DEL", "IN", 5.5, 28.56, 77.10),
        _airport("BKK", "BKK", "TH", 7, 13.69, 100.75),
        _airport("SIN", "SIN", "SG", 8, 1.36, 103.99),
        _airport("HKG", "HKG", "HK", 8, 22.31, 113.91),
        _airport("MNL", "MNL", "PH", 8, 14.51, 121.02),
        _airport("PEK", "BJS", "CN", 8, 40.08, 116.58),
        _airport("ICN", "SEL", "KR", 9, 37.46, 126.44),
        _airport("HND", "TYO", "JP", 9, 35.55, 139.78),
        _airport("NRT", "TYO", "JP", 9, 35.77, 140.39),
        _airport("SYD", "SYD", "AU", 10, -33.95, 151.18),
        _airport("MEL", "MEL", "AU", 10, -37.67, 144.84),
        _airport("AKL", "AKL", "NZ", 12, -37.01, 174.79),
    )
}

CARRIERS: dict[str, Carrier] = {
    carrier.code: carrier
    for carrier in (
        Carrier("AA", "AMERICAN AIRLINES", "DFW"),
        Carrier("DL", "DELTA AIR LINES", "ATL"),
        Carrier("UA", "UNITED AIRLINES", "ORD"),
        Carrier("AC", "AIR CANADA", "YYZ"),
        Carrier("BA", "BRITISH AIRWAYS", "LHR"),
        Carrier("AF", "AIR FRANCE", "CDG"),
        Carrier("KL", "KLM ROYAL DUTCH AIRLINES", "AMS"),
        Carrier("LH", "LUFTHANSA", "FRA"),
        Carrier("IB", "IBERIA", "MAD"),
        Carrier("TK", "TURKISH AIRLINES", "IST"),
        Carrier("EK", "EMIRATES", "DXB"),
        Carrier("QR", "QATAR AIRWAYS", "DOH"),
        Carrier("SQ", "SINGAPORE AIRLINES", "SIN"),
        Carrier("NH", "ALL NIPPON AIRWAYS", "HND"),
        Carrier("QF", "QANTAS AIRWAYS", "SYD"),
    )
}

AIRCRAFT: dict[str, str] = {
    "E90": "EMBRAER 190",
    "320": "AIRBUS A320",
    "321": "AIRBUS A321",
    "32N": "AIRBUS A320NEO",
    "738": "BOEING 737-800",
    "7M8": "BOEING 737 MAX 8",
    "333": "AIRBUS A330-300",
    "359": "AIRBUS A350-900",
    "388": "AIRBUS A380-800",
    "789": "BOEING 787-9",
    "77W": "BOEING 777-300ER",
}

_SHORT_HAUL_AIRCRAFT = ("E90", "320", "321", "32N", "738", "7M8")
_MEDIUM_HAUL_AIRCRAFT = ("321", "32N", "738", "7M8", "333", "789")
_LONG_HAUL_AIRCRAFT = ("333", "359", "388", "789", "77W")


def hub_of(carrier: Carrier) -> Airport:
    return _AIRPORTS[carrier.hub]


def airports_serving(location_code: str) -> tuple[Airport, ...]:
    """The airports a location code stands for: itself, a city's airports, or a made-up airport."""
    if location_code in _AIRPORTS:
        return (_AIRPORTS[location_code],)
    city_airports = tuple(airport for airport in _AIRPORTS.values() if airport.city == location_code)
    return city_airports or (_made_up_airport(location_code),)


def _made_up_airport(code: str) -> Airport:
    latitude = -45.0 + 110.0 * seeds.fraction("latitude", code)
    longitude = -180.0 + 360.0 * seeds.fraction("longitude", code)
    return Airport(code, code, None, round(longitude / 15) * 60, latitude, longitude)


def great_circle_km(start: Airport, end: Airport) -> float:
    earth_radius_km = 6371.0
    lat1, lat2 = math.radians(start.latitude), math.radians(end.latitude)
    half_chord = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin(math.radians(end.longitude - start.longitude) / 2) ** 2
    )
    return 2 * earth_radius_km * math.asin(math.sqrt(min(1.0, half_chord)))


def aircraft_for(distance_km: float, *subject: object) -> str:
    if distance_km < 1500:
        return seeds.pick(_SHORT_HAUL_AIRCRAFT, "aircraft", *subject)
    if distance_km < 4500:
        return seeds.pick(_MEDIUM_HAUL_AIRCRAFT, "aircraft", *subject)
    return seeds.pick(_LONG_HAUL_AIRCRAFT, "aircraft", *subject)
