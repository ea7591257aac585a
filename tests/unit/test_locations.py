"""Airports and city codes: lookup, validation of a code, the city table's integrity, autosuggest."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

import airportsdata
import pytest

from farewatch.cities import METRO_AREAS
from farewatch.errors import InvalidRequest
from farewatch.locations import find_location, require_location, suggest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "common"


def codes(locations: list) -> list[str]:
    return [location.code for location in locations]


# --- lookup -----------------------------------------------------------------------------------------


def test_an_airport_is_found_by_its_code_in_any_case():
    # Given the bundled airport data
    # When JFK is looked up in lower, mixed and upper case
    found = [find_location(code) for code in ("jfk", "Jfk", "JFK")]

    # Then each is John F Kennedy, New York, in the New York time zone
    assert {location.code for location in found if location} == {"JFK"}
    jfk = found[0]
    assert jfk is not None
    assert (jfk.kind, jfk.city, jfk.country, jfk.time_zone) == (
        "airport",
        "New York",
        "US",
        "America/New_York",
    )
    assert jfk.airports == ()


def test_a_city_code_is_found_with_its_member_airports():
    london = find_location("lon")

    assert london is not None
    assert london.kind == "city"
    assert london.city == "London"
    assert london.country == "GB"
    assert london.time_zone == "Europe/London"
    assert london.airports == ("LHR", "LGW", "STN", "LTN", "LCY", "SEN")


@pytest.mark.parametrize("code", [" jfk", "jfk ", "JF", "JFKX", "", "J1K", "\uff2a\uff26\uff2b", "jfk\n"])
def test_text_that_is_not_exactly_three_letters_is_not_a_code(code):
    assert find_location(code) is None


def test_an_unknown_three_letter_code_is_not_found():
    assert find_location("QQQ") is None


def test_an_airport_wins_over_a_city_code_with_the_same_letters():
    # BER is Berlin's metropolitan code and also Berlin Brandenburg airport's code
    berlin = find_location("BER")

    assert berlin is not None and berlin.kind == "airport"


def test_require_location_answers_unknown_location_for_an_unknown_code():
    with pytest.raises(InvalidRequest) as raised:
        require_location("qqq", "origin")

    assert raised.value.status == 400
    assert raised.value.code == "unknown_location"
    assert raised.value.details == [{"field": "origin", "issue": "QQQ is not a known airport or city code"}]


def test_require_location_answers_invalid_parameter_for_text_that_is_not_a_code():
    with pytest.raises(InvalidRequest) as raised:
        require_location("New York", "destination")

    assert raised.value.code == "invalid_parameter"
    assert raised.value.details[0]["field"] == "destination"


def test_require_location_returns_the_location_of_a_known_code():
    assert require_location("nyc", "origin").code == "NYC"


# --- the city table ---------------------------------------------------------------------------------


def test_no_city_code_is_also_an_airport_code():
    # When a future airportsdata adds an airport with a city's code, this fails: decide on purpose.
    airports = airportsdata.load("IATA")

    assert [area.code for area in METRO_AREAS if area.code in airports] == []


def test_every_member_airport_exists_in_the_same_country_and_time_zone_as_its_city():
    airports = airportsdata.load("IATA")

    for area in METRO_AREAS:
        for code in area.airports:
            assert code in airports, f"{area.code}: {code} is not in airportsdata"
            assert airports[code]["country"] == area.country, f"{area.code}: {code} country"
            assert airports[code]["tz"] == area.time_zone, f"{area.code}: {code} time zone"


def test_city_codes_are_unique_and_have_at_least_two_airports():
    city_codes = [area.code for area in METRO_AREAS]

    assert len(city_codes) == len(set(city_codes))
    assert all(len(area.airports) >= 2 for area in METRO_AREAS)
    assert 20 <= len(METRO_AREAS) <= 30


def test_every_time_zone_of_the_data_is_available_to_date_departures():
    airport_zones = {row["tz"] for row in airportsdata.load("IATA").values()}
    city_zones = {area.time_zone for area in METRO_AREAS}

    assert (airport_zones | city_zones) - zoneinfo.available_timezones() == set()


# --- autosuggest ------------------------------------------------------------------------------------


def test_an_exact_city_code_comes_first_then_its_airports_in_table_order():
    assert codes(suggest("nyc", 10)) == ["NYC", "JFK", "LGA", "EWR"]


def test_a_city_name_lists_the_city_code_then_its_airports_then_other_airports_of_that_name():
    # Given the data places EWR in "Newark", it still belongs to New York through the city table
    found = codes(suggest("New York", 10))

    assert found[:4] == ["NYC", "JFK", "LGA", "EWR"]
    assert len(found) > 4


def test_an_exact_airport_code_comes_before_name_matches():
    assert codes(suggest("LHR", 5))[0] == "LHR"


def test_matching_ignores_accents_case_and_extra_spaces():
    # Given "São Paulo" in the city table
    # When the query has no accent, odd case and extra spaces
    found = codes(suggest("  sao   PAULO ", 4))

    # Then the city code and its airports come first
    assert found == ["SAO", "GRU", "CGH", "VCP"]


def test_an_accented_query_finds_an_unaccented_name():
    assert "ZRH" in codes(suggest("Zürich", 5))


def test_an_airport_is_found_by_a_word_inside_its_name():
    assert codes(suggest("heathrow", 5)) == ["LHR"]


def test_a_partial_code_finds_the_airport():
    assert "LHR" in codes(suggest("lh", 50))


def test_airports_whose_city_starts_with_the_query_come_before_airports_that_only_mention_it():
    # Given airports in the city of Paris, and airports that only have "paris" inside their name
    found = suggest("paris", 50)
    in_paris = [location.city.casefold().startswith("paris") for location in found[4:]]

    # Then the city code leads, its airports follow, and every city match precedes every mention
    assert codes(found[:4]) == ["PAR", "CDG", "ORY", "BVA"]
    assert True in in_paris and False in in_paris
    assert in_paris == sorted(in_paris, reverse=True)


def test_ties_are_broken_by_code_so_the_answer_is_stable():
    # Given many airports in cities called "Santa ..." (one tier, no city code, no exact code)
    # When the same query is asked twice
    first = codes(suggest("santa", 20))
    second = codes(suggest("santa", 20))

    # Then the answers are equal and the tied airports come in code order
    assert first == second
    assert len(first) == 20
    assert first == sorted(first)


@pytest.mark.parametrize("query", ["", " ", "j", "  j  ", "é"])
def test_a_query_shorter_than_two_characters_suggests_nothing(query):
    assert suggest(query, 10) == []


def test_the_limit_caps_the_number_of_suggestions():
    assert len(suggest("an", 7)) == 7
    assert suggest("an", 0) == []


def test_a_query_that_matches_nothing_suggests_nothing():
    assert suggest("zzzzqqqq", 10) == []


def test_every_suggested_airport_has_a_code_and_a_time_zone():
    for location in suggest("international", 50):
        assert len(location.code) == 3 and location.time_zone


def test_the_airports_read_at_cold_start_are_exactly_what_airportsdata_loads_by_iata_code():
    import airportsdata

    from farewatch.locations import _load_iata_airports

    assert _load_iata_airports() == airportsdata.load("IATA")


def test_a_code_looked_up_alone_gives_the_row_of_the_whole_table_even_where_the_data_is_tricky():
    """A fare request finds its two codes without parsing the table (issue 18); the answer must be the
    table's, including where a code appears as another field of some row (a name, a local id), where a
    text search could mistake it, and, should the data have them, codes on several rows (the last
    wins) or without a time zone."""
    import csv
    import io
    import re
    from collections import Counter

    from farewatch.locations import _airport_row, _airport_rows, _airports_csv

    table = _airport_rows()
    text = _airports_csv().decode("utf8")
    rows = list(csv.DictReader(io.StringIO(text), quoting=csv.QUOTE_NONNUMERIC))
    rows_of = Counter(str(row["iata"]) for row in rows)
    repeated = {code for code, count in rows_of.items() if count > 1 and code}
    no_time_zone = {str(row["iata"]) for row in rows if row["iata"] and not row["tz"]}
    # A code-like field after a quoted one that is not the second field (a name, a city, a local id).
    elsewhere = {match.group(1) for match in re.finditer(r'(?<!^"[^"\n]{4})","([A-Z]{3})",', text, re.M)}
    codes = sorted(table)[::25] + sorted(elsewhere | repeated | no_time_zone) + ["ZZZ", "QQQ"]

    assert elsewhere and len(codes) > 300
    assert {code: _airport_row(code) for code in codes} == {code: table.get(code) for code in codes}


def test_folding_ascii_the_short_way_matches_the_unicode_way_for_every_airport_name():
    import unicodedata

    import airportsdata

    from farewatch.locations import fold

    def slow(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())

    names = [row[field] for row in airportsdata.load("IATA").values() for field in ("name", "city")]
    names += ["  São   Paulo ", "Zürich", "Straße", "ÅLESUND", "\tNew\u00a0York  "]
    assert [fold(name) for name in names] == [slow(name) for name in names]
