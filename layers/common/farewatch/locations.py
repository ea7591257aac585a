"""Airports and multi-airport city codes: lookup by IATA code, validation of a code, and autosuggest.

Airports come from the `airportsdata` package and city codes from farewatch.cities. Both are read on
first use and kept for the life of the container: importing this module stays cheap because it is
on the Lambda cold-start path (call `preload()` during init to pay the cost there instead).
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal, NamedTuple, cast

from farewatch.cities import METRO_AREAS
from farewatch.errors import invalid_field

if TYPE_CHECKING:
    from airportsdata import Airport

LocationKind = Literal["airport", "city"]

MIN_QUERY_LENGTH = 2
"""Autosuggest answers nothing for shorter queries: one letter matches thousands of airports."""


@dataclass(frozen=True, slots=True)
class Location:
    """An airport, or a city code that stands for all of its airports."""

    code: str
    kind: LocationKind
    name: str
    city: str
    country: str
    time_zone: str
    airports: tuple[str, ...] = ()
    """Member airports of a city code, most-used first; empty for an airport."""


def is_code_shaped(code: str) -> bool:
    """Exactly three ASCII letters, in any case (no trimming: " jfk" is not a code)."""
    return len(code) == 3 and code.isascii() and code.isalpha()


def find_location(code: str) -> Location | None:
    """The airport or city with this IATA code (case-insensitive), or None.

    An airport wins over a city code of the same letters (farewatch.cities leaves such codes out).
    """
    if not is_code_shaped(code):
        return None
    key = code.upper()
    return _airport(key) or _cities().get(key)


def require_location(code: str, field: str) -> Location:
    """The location of a request parameter; a 400 naming `field` when it is malformed or unknown."""
    if not is_code_shaped(code):
        raise invalid_field(field, "must be a 3-letter IATA airport or city code")
    location = find_location(code)
    if location is None:
        raise invalid_field(
            field, f"{code.upper()} is not a known airport or city code", code="unknown_location"
        )
    return location


def suggest(query: str, limit: int) -> list[Location]:
    """Airports and cities matching `query` by IATA code, city or airport name, best first.

    Matching ignores case, accents and surrounding or repeated spaces. Queries shorter than
    MIN_QUERY_LENGTH (after trimming) and limits below 1 give an empty list. Ranking:

    0. the location whose code is the query (a city code and an airport never share one);
    1. city codes whose city starts with the query;
    2. member airports of the city codes in 0 and 1, grouped by city code and in the city table's
       order (so "NYC" and "new york" both list JFK, LGA, EWR, though the data puts EWR in Newark);
    3. airports whose city starts with the query;
    4. airports whose name starts with the query;
    5. locations whose code starts with the query (typing "LH" finds LHR);
    6. locations whose code, city or name contains the query.

    Ties are broken by code, so the answer is deterministic.
    """
    needle = fold(query)
    if len(needle) < MIN_QUERY_LENGTH or limit < 1:
        return []
    index = _search_index()
    # Airport code → (its city code, its position in that city) for the cities the query names.
    members_of_matched_cities = {
        airport: (city.location.code, position)
        for city in index.cities
        if city.code == needle or city.city.startswith(needle)
        for position, airport in enumerate(city.location.airports)
    }
    ranked: list[tuple[tuple[int, str, int, str], Location]] = []
    for entry in index.entries:
        membership = members_of_matched_cities.get(entry.location.code)
        if membership is None and needle not in entry.haystack:
            continue
        ranked.append((_rank(entry, needle, membership), entry.location))
    best = heapq.nsmallest(limit, ranked, key=lambda hit: hit[0])
    return [location for _, location in best]


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching: NFKD, combining marks dropped, casefolded,
    whitespace trimmed and collapsed ("  São   Paulo " → "sao paulo")."""
    if text.isascii():  # most names: NFKD leaves ASCII as it is and it has no combining marks
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def preload() -> None:
    """Read the airport and city data now rather than on the first request (every fare request checks
    its codes against them). Only the file is read: a code is looked up in it alone (a few ms), and
    the table of every airport, which the autosuggest's index needs, is built by the first suggest()."""
    _airports_csv()
    _cities()


# --- data, built once per container -------------------------------------------------------------

# Joins code, city and name into one haystack. str.split() counts it as whitespace, so fold() removes
# it from every query and no match can straddle two fields.
_FIELD_SEPARATOR = "\x1f"


# A row of airportsdata's CSV whose IATA code (the second field, after the quoted ICAO code) is empty.
_NO_IATA_ROW = re.compile(r'^"[^"]*","",')


@cache
def _airport_rows() -> dict[str, Airport]:
    # Only airports a fare can be asked for: a real IATA code and a time zone to date it in.
    return {
        code: row
        for code, row in _load_iata_airports().items()
        if is_code_shaped(code) and code.isupper() and row["tz"]
    }


@cache
def _airports_csv() -> bytes:
    """airportsdata's CSV as it is on disk (3 MB, kept for the life of the container)."""
    from importlib.resources import files

    return files("airportsdata").joinpath("airports.csv").read_bytes()


def _load_iata_airports() -> dict[str, Airport]:
    """`airportsdata.load("IATA")`, reading only the rows that have an IATA code (a quarter of them).

    Parsing the CSV is most of the autosuggest's cold cost; rows without an IATA code are skipped
    before the csv module sees them, and the others are read as `load` reads them (the same dialect,
    later rows winning), so the answer is the same (tests/unit/test_locations.py holds it to `load`).
    """
    import csv
    import io

    lines = io.StringIO(_airports_csv().decode("utf8")).readlines()  # split at "\n" only, as csv does
    rows = [lines[0], *(line for line in lines[1:] if not _NO_IATA_ROW.match(line))]
    airports: dict[str, Airport] = {}
    for row in csv.DictReader(rows, quoting=csv.QUOTE_NONNUMERIC):
        airports[row["iata"]] = cast("Airport", row)
    airports.pop("", None)
    return airports


def _airport_row(code: str) -> Airport | None:
    """`_airport_rows().get(code)` for one upper-case code, without parsing the other rows: the last
    line whose second field (after the quoted ICAO code) is `code` is the row `load` keeps, read with
    the same dialect. A fare request looks up two codes; parsing all 28,000 rows took ~70 ms."""
    import csv

    data = _airports_csv()
    needle = b'","' + code.encode("ascii") + b'",'
    at = data.rfind(needle)
    while at != -1:
        start = data.rfind(b"\n", 0, at) + 1
        if data.startswith(b'"', start) and data.find(b'"', start + 1) == at:
            end = data.find(b"\n", at)
            header = data[: data.find(b"\n")].decode("utf8")
            line = data[start : end if end != -1 else len(data)].decode("utf8")
            row = cast("Airport", next(csv.DictReader([header, line], quoting=csv.QUOTE_NONNUMERIC)))
            return row if row["tz"] else None
        at = data.rfind(needle, 0, at)
    return None


@cache
def _airport(code: str) -> Location | None:
    # Built one by one on demand: a lookup should not pay for 8,000 Locations, only autosuggest does.
    row = _airport_row(code) if is_code_shaped(code) and code.isupper() else None
    return None if row is None else _airport_location(code, row)


def _airport_location(code: str, row: Airport) -> Location:
    return Location(
        code=code,
        kind="airport",
        name=row["name"],
        city=row["city"],
        country=row["country"],
        time_zone=row["tz"],
    )


@cache
def _cities() -> dict[str, Location]:
    return {
        area.code: Location(
            code=area.code,
            kind="city",
            name=f"{area.city} (all airports)",
            city=area.city,
            country=area.country,
            time_zone=area.time_zone,
            airports=area.airports,
        )
        for area in METRO_AREAS
    }


class _SearchEntry(NamedTuple):
    location: Location
    code: str
    city: str
    name: str
    haystack: str


class _SearchIndex(NamedTuple):
    entries: tuple[_SearchEntry, ...]
    cities: tuple[_SearchEntry, ...]


@cache
def _search_index() -> _SearchIndex:
    def entry(location: Location) -> _SearchEntry:
        code, city, name = fold(location.code), fold(location.city), fold(location.name)
        return _SearchEntry(location, code, city, name, _FIELD_SEPARATOR.join((code, city, name)))

    cities = tuple(entry(location) for location in _cities().values())
    airports = tuple(entry(_airport_location(code, row)) for code, row in _airport_rows().items())
    return _SearchIndex(entries=cities + airports, cities=cities)


def _rank(entry: _SearchEntry, needle: str, membership: tuple[str, int] | None) -> tuple[int, str, int, str]:
    """(tier, city code, position in the city, code): see suggest() for the tiers."""
    code = entry.location.code
    is_city = entry.location.kind == "city"
    if entry.code == needle:
        return 0, "", 0, code
    if is_city and entry.city.startswith(needle):
        return 1, "", 0, code
    if membership is not None:
        city_code, position = membership
        return 2, city_code, position, code
    if not is_city and entry.city.startswith(needle):
        return 3, "", 0, code
    if not is_city and entry.name.startswith(needle):
        return 4, "", 0, code
    if entry.code.startswith(needle):
        return 5, "", 0, code
    return 6, "", 0, code
