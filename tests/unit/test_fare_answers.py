"""The reading rules every fare source shares (farewatch.fares.answers): field types, the offer loop,
the currency rule, and the scrubbing of echoed secrets."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from pydantic import ValidationError

from farewatch.errors import UpstreamError
from farewatch.fare_query import FareQuery
from farewatch.fares.answers import (
    Amount,
    Answer,
    LocalDateTime,
    NaiveLocalDateTime,
    OptionalDurationMinutes,
    ReadableItems,
    Text,
    TimeZone,
    Tolerated,
    UnreadableOffer,
    UpstreamOffer,
    in_currency,
    minutes_between,
    read_answer,
    read_failure,
    read_offers,
    scrub,
)
from farewatch.offers import Offer

JFK_LAX = FareQuery(origin="JFK", destination="LAX", departure_date=dt.date(2027, 1, 15), currency="USD")


class Fields(Answer):
    amount: Amount | None = None
    departs: LocalDateTime | None = None
    local: NaiveLocalDateTime | None = None
    duration: OptionalDurationMinutes = None
    zone: TimeZone | None = None


class PricedOffer(UpstreamOffer):
    id: Text
    amount: Amount
    currency: Text = "USD"

    def to_offer(self) -> Offer:
        return Offer(
            id=self.id,
            price=self.amount,
            currency=self.currency,
            carrier="AA",
            flight_numbers=["AA1"],
            stops=0,
            departure_at="2027-01-15T08:00:00",
            arrival_at="2027-01-15T11:25:00",
            origin="JFK",
            destination="LAX",
            duration_minutes=385,
        )


def offer(offer_id: str, amount: str = "100.00", currency: str = "USD") -> dict[str, Any]:
    return {"id": offer_id, "amount": amount, "currency": currency, "unknown": {"ignored": True}}


# -- field types --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [("412.30", Decimal("412.30")), (412, Decimal("412")), (99.5, Decimal("99.5")), ("0", Decimal("0"))],
)
def test_an_amount_is_a_decimal_string_or_a_number(written: Any, read: Decimal) -> None:
    assert Fields.model_validate({"amount": written}).amount == read


@pytest.mark.parametrize("written", [True, "NaN", "Infinity", "-1", "free", "", [], {"amount": "1"}])
def test_an_amount_that_cannot_be_a_price_is_refused(written: Any) -> None:
    with pytest.raises(ValidationError):
        Fields.model_validate({"amount": written})


def test_a_local_time_is_kept_exactly_as_written() -> None:
    read = Fields.model_validate({"departs": "2027-01-15T08:00:00+01:00"})

    assert read.departs == "2027-01-15T08:00:00+01:00"


@pytest.mark.parametrize("written", ["2027-01-15T08:00:00+01:00", "2027-01-15T08:00:00Z"])
def test_a_naive_local_time_refuses_an_offset(written: str) -> None:
    with pytest.raises(ValidationError, match="carries an offset"):
        Fields.model_validate({"local": written})


@pytest.mark.parametrize("written", ["tomorrow", "", 1700000000])
def test_a_date_time_must_be_iso_8601_text(written: Any) -> None:
    with pytest.raises(ValidationError):
        Fields.model_validate({"departs": written})


@pytest.mark.parametrize(("written", "minutes"), [(None, None), ("", None), ("PT06H25M", 385)])
def test_an_optional_duration_is_absent_or_a_duration(written: str | None, minutes: int | None) -> None:
    assert Fields.model_validate({"duration": written}).duration == minutes


def test_an_optional_duration_that_is_given_must_be_one() -> None:
    with pytest.raises(ValidationError, match="not an ISO 8601 duration"):
        Fields.model_validate({"duration": "P1M"})


def test_a_time_zone_is_an_iana_zone() -> None:
    assert Fields.model_validate({"zone": "America/New_York"}).zone == ZoneInfo("America/New_York")
    with pytest.raises(ValidationError, match="unknown time zone"):
        Fields.model_validate({"zone": "Mars/Olympus_Mons"})


def test_a_tolerated_field_reads_as_none_when_unusable_and_readable_items_keep_what_fits() -> None:
    class Issue(Answer):
        code: Tolerated[int] = None
        title: Tolerated[str] = None

    class Issues(Answer):
        errors: Tolerated[ReadableItems[Issue]] = None

    read = Issues.model_validate({"errors": [{"code": "7", "title": 3}, "junk", {"title": "Bad date"}]})

    assert read.errors == [Issue(code=7, title=None), Issue(code=None, title="Bad date")]
    assert Issues.model_validate({"errors": "not a list"}).errors is None


def test_minutes_between_local_times_counts_the_time_zones() -> None:
    new_york, los_angeles = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")

    minutes = minutes_between("2027-01-15T08:00:00", new_york, "2027-01-15T11:25:00", los_angeles)

    assert minutes == 6 * 60 + 25


def test_a_journey_that_arrives_before_it_departs_is_unreadable() -> None:
    utc = ZoneInfo("UTC")

    with pytest.raises(UnreadableOffer):
        minutes_between("2027-01-15T08:00:00", utc, "2027-01-15T07:00:00", utc)


# -- answers and offers -------------------------------------------------------------------------------


def test_an_answer_that_does_not_fit_its_model_is_a_502_bad_response() -> None:
    with pytest.raises(UpstreamError) as raised:
        read_answer(["not", "an", "object"], PricedOffer, "The test search")

    assert (raised.value.status, raised.value.code) == (502, "upstream_bad_response")
    assert raised.value.message == "The test search answered with an unexpected body."


def test_an_answer_that_fits_ignores_unknown_fields() -> None:
    read = read_answer(offer("1", "12.50"), PricedOffer, "The test search")

    assert (read.id, read.amount, read.currency) == ("1", Decimal("12.50"), "USD")


def test_a_failed_answers_body_that_is_not_json_reads_as_the_empty_model() -> None:
    class Problem(Answer):
        title: Tolerated[str] = None

    response = requests.Response()
    response._content = b"<html>Bad gateway</html>"
    json_response = requests.Response()
    json_response._content = json.dumps({"title": "Rate limit exceeded"}).encode()

    assert read_failure(response, Problem) == Problem()
    assert read_failure(json_response, Problem).title == "Rate limit exceeded"


def test_unreadable_offers_are_skipped_with_a_warning_naming_the_offer_and_the_field(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)

    offers = read_offers(
        [offer("free", "free"), offer("ok", "99.00"), "junk"],
        PricedOffer,
        JFK_LAX,
        source="Test",
        answered_by="x",
    )

    assert [(found.id, found.price) for found in offers] == [("ok", Decimal("99.00"))]
    skipped = [record for record in caplog.records if record.getMessage().startswith("Skipping")]
    assert [(record.offer_id, record.position) for record in skipped] == [("free", 0), (None, 2)]
    assert skipped[0].reason.startswith("amount:") and "free" in skipped[0].reason


def test_no_offers_is_an_empty_list_but_only_unreadable_ones_are_a_502() -> None:
    assert read_offers([], PricedOffer, JFK_LAX, source="Test", answered_by="The test search") == []
    with pytest.raises(UpstreamError) as raised:
        read_offers([offer("x", "-5")], PricedOffer, JFK_LAX, source="Test", answered_by="The test search")

    assert (raised.value.status, raised.value.code) == (502, "upstream_bad_response")
    assert raised.value.message == "The test search answered with no readable offer."


def test_offers_in_another_currency_are_dropped_and_only_such_offers_are_a_502() -> None:
    usd = PricedOffer.model_validate(offer("usd", "1.00")).to_offer()
    eur = PricedOffer.model_validate(offer("eur", "1.00", currency="EUR")).to_offer()

    assert in_currency([eur, usd], JFK_LAX, source="Test") == [usd]
    assert in_currency([], JFK_LAX, source="Test") == []
    with pytest.raises(UpstreamError) as raised:
        in_currency([eur], JFK_LAX, source="Test")
    assert (raised.value.status, raised.value.code) == (502, "upstream_currency_unavailable")
    assert raised.value.message == "The fare source prices this route in EUR, not USD."


def test_scrub_redacts_every_secret_in_nested_values() -> None:
    echoed = {
        "detail": "bad tok-1",
        "source": {"header": "Bearer tok-1"},
        "list": ["tok-2", 3],
        "code": 38190,
    }

    assert scrub(echoed, ("tok-1", "tok-2", "")) == {
        "detail": "bad [redacted]",
        "source": {"header": "Bearer [redacted]"},
        "list": ["[redacted]", 3],
        "code": 38190,
    }


def test_every_sources_answer_models_are_built_at_import() -> None:
    # A model whose schema cannot be built when its class is made (a field type defined further down
    # the module) is built on first use instead, which races between the poller worker's threads.
    from farewatch.fares import amadeus, duffel

    models = [
        value
        for module in (amadeus, duffel)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Answer) and value.__module__ == module.__name__
    ]

    assert len(models) >= 20
    assert [model.__name__ for model in models if not model.__pydantic_complete__] == []
