"""Multi-airport city codes (IATA metropolitan area codes): plain data, read by farewatch.locations.

A city code lets a traveller ask for "any airport in London" (LON) instead of one airport (LHR).
Member airports are listed most-used first; that order is the order autosuggest shows them in.

Codes that IATA uses for both a metropolitan area and one of its airports are *not* in this table,
because the airport wins: BER (Berlin Brandenburg), SHA (Shanghai Hongqiao), BKK (Suvarnabhumi),
IST (Istanbul), OSL (Gardermoen), DFW, HOU, MEL, NGO, BRU, DXB, TPE, BFS, DKR, THR and MEX all mean
the airport of that code. A unit test fails if a future airportsdata release adds an airport whose
code collides with an entry here, so the conflict is decided on purpose, not by accident.
"""

from __future__ import annotations

from typing import NamedTuple


class MetroArea(NamedTuple):
    code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    time_zone: str  # IANA; every member airport is in this zone
    airports: tuple[str, ...]


METRO_AREAS: tuple[MetroArea, ...] = (
    MetroArea("BHZ", "Belo Horizonte", "BR", "America/Sao_Paulo", ("CNF", "PLU")),
    MetroArea("BJS", "Beijing", "CN", "Asia/Shanghai", ("PEK", "PKX")),
    MetroArea("BUE", "Buenos Aires", "AR", "America/Argentina/Buenos_Aires", ("EZE", "AEP")),
    MetroArea("BUH", "Bucharest", "RO", "Europe/Bucharest", ("OTP", "BBU")),
    MetroArea("CHI", "Chicago", "US", "America/Chicago", ("ORD", "MDW")),
    MetroArea("DTT", "Detroit", "US", "America/New_York", ("DTW", "YIP")),
    MetroArea("JKT", "Jakarta", "ID", "Asia/Jakarta", ("CGK", "HLP")),
    MetroArea("LON", "London", "GB", "Europe/London", ("LHR", "LGW", "STN", "LTN", "LCY", "SEN")),
    MetroArea("MIL", "Milan", "IT", "Europe/Rome", ("MXP", "LIN", "BGY")),
    MetroArea("MOW", "Moscow", "RU", "Europe/Moscow", ("SVO", "DME", "VKO", "ZIA")),
    MetroArea("NYC", "New York", "US", "America/New_York", ("JFK", "LGA", "EWR")),
    MetroArea("OSA", "Osaka", "JP", "Asia/Tokyo", ("KIX", "ITM", "UKB")),
    MetroArea("PAR", "Paris", "FR", "Europe/Paris", ("CDG", "ORY", "BVA")),
    MetroArea("REK", "Reykjavík", "IS", "Atlantic/Reykjavik", ("KEF", "RKV")),
    MetroArea("RIO", "Rio de Janeiro", "BR", "America/Sao_Paulo", ("GIG", "SDU")),
    MetroArea("ROM", "Rome", "IT", "Europe/Rome", ("FCO", "CIA")),
    MetroArea("SAO", "São Paulo", "BR", "America/Sao_Paulo", ("GRU", "CGH", "VCP")),
    MetroArea("SEL", "Seoul", "KR", "Asia/Seoul", ("ICN", "GMP")),
    MetroArea("SPK", "Sapporo", "JP", "Asia/Tokyo", ("CTS", "OKD")),
    MetroArea("STO", "Stockholm", "SE", "Europe/Stockholm", ("ARN", "BMA", "NYO")),
    MetroArea("TCI", "Tenerife", "ES", "Atlantic/Canary", ("TFS", "TFN")),
    MetroArea("TYO", "Tokyo", "JP", "Asia/Tokyo", ("HND", "NRT")),
    MetroArea("WAS", "Washington", "US", "America/New_York", ("IAD", "DCA", "BWI")),
    MetroArea("YMQ", "Montréal", "CA", "America/Toronto", ("YUL", "YMX")),
    MetroArea("YTO", "Toronto", "CA", "America/Toronto", ("YYZ", "YTZ")),
)
