"""Reading fare-source answers, the same way for every source: the model base, the field types, the
offer loop, the currency rule and the scrubbing of echoed secrets.

Each source declares the parts of its answers that Farewatch reads as `Answer` models (unknown fields
are ignored, so an upstream may add fields freely) built from the types below. An answer that does not
fit its model is a 502 `upstream_bad_response`. Offers are read one by one: one that does not fit is
skipped with a warning, and when an upstream sent offers but none can be read, the answer as a whole
is a 502 (answering "no offers" would be a lie that gets cached).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from aws_lambda_powertools import Logger
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from farewatch.errors import UpstreamError
from farewatch.fare_query import FareQuery
from farewatch.offers import Offer

logger = Logger(child=True)

AnswerT = TypeVar("AnswerT", bound="Answer")
ItemT = TypeVar("ItemT")


class UnreadableOffer(ValueError):
    """One upstream offer that does not have what an Offer needs; it is skipped, not fatal."""


class Answer(BaseModel):
    """A part of an upstream answer that Farewatch reads: only the fields it reads, the rest ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class UpstreamOffer(Answer):
    """One offer as a source writes it; knows how to become the normalised `Offer`."""

    @abstractmethod
    def to_offer(self) -> Offer:
        """The normalised offer; raises UnreadableOffer when fields that are each valid do not add up."""


# -- field types --------------------------------------------------------------------------------------


def _none_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


Tolerated = Annotated[ItemT | None, WrapValidator(_none_if_invalid)]
"""A field read only when it is usable: anything else reads as None (a fallback decides what then)."""


def _keep_readable(items: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(items)
    except ValidationError:
        if not isinstance(items, list):
            raise
    readable: list[Any] = []
    for item in items:
        try:
            readable.extend(handler([item]))
        except ValidationError:
            continue
    return readable


ReadableItems = Annotated[list[ItemT], WrapValidator(_keep_readable)]
"""A list of which only the items that fit are kept (error bodies, read for logs and details)."""

NonEmpty = Annotated[list[ItemT], Field(min_length=1)]
OnlyOne = Annotated[list[ItemT], Field(min_length=1, max_length=1)]
"""Exactly one: a one-way offer has one itinerary (Amadeus) or one slice (Duffel)."""

OneOrTwo = Annotated[list[ItemT], Field(min_length=1, max_length=2)]
"""One journey (one way) or two (a round trip: out, then back): itineraries or slices."""

Text = Annotated[StrictStr, Field(min_length=1)]
"""A non-empty string (ids, codes, flight numbers)."""


def _amount(value: Any) -> Decimal:
    """A decimal string or a JSON number (never a boolean): finite and not negative."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("an amount is a decimal string or a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{value!r} is not a usable amount")
    return amount


Amount = Annotated[Decimal, PlainValidator(_amount)]


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("a count is a whole number, zero or more")
    return value


Count = Annotated[int, PlainValidator(_count)]
"""A JSON integer, zero or more (not a boolean, not a numeric string)."""

_ISO_DURATION = re.compile(
    r"P(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


def duration_minutes(iso_duration: str) -> int:
    """Whole minutes of an ISO 8601 duration as fare APIs write them: `PT5H30M`, `P1DT2H`, `PT45M`.

    Years, months and weeks are refused (no flight lasts that long, and a month has no fixed length).
    """
    match = _ISO_DURATION.fullmatch(iso_duration.strip().upper())
    if match is None or not any(match.groupdict().values()):
        raise UnreadableOffer(f"duration {iso_duration!r} is not an ISO 8601 duration")
    parts = {name: float(value) if value else 0.0 for name, value in match.groupdict().items()}
    seconds = parts["days"] * 86400 + parts["hours"] * 3600 + parts["minutes"] * 60 + parts["seconds"]
    return int(seconds // 60)


def _duration(value: Any) -> int:
    if not isinstance(value, str) or not value:
        raise ValueError("a duration is an ISO 8601 duration string")
    return duration_minutes(value)


DurationMinutes = Annotated[int, PlainValidator(_duration)]
"""An ISO 8601 duration (`PT6H25M`), read as whole minutes."""


def _optional_duration(value: Any) -> int | None:
    return None if value is None or value == "" else _duration(value)


OptionalDurationMinutes = Annotated[int | None, PlainValidator(_optional_duration)]
"""A duration that may be absent (null or empty); when given, it must be one."""


def _date_time_text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("a date-time is a non-empty string")
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from exc
    return value


LocalDateTime = Annotated[str, PlainValidator(_date_time_text)]
"""An ISO 8601 date-time kept exactly as the source wrote it (Amadeus's local times)."""


def _without_offset(value: str) -> str:
    if datetime.fromisoformat(value).tzinfo is not None:
        raise ValueError(f"{value!r} carries an offset; a local time was expected")
    return value


NaiveLocalDateTime = Annotated[LocalDateTime, AfterValidator(_without_offset)]
"""A local wall-clock time with no offset, the form `Offer` stores (Duffel refuses anything else)."""


def _time_zone(value: Any) -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise ValueError("a time zone is an IANA zone name")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc


TimeZone = Annotated[ZoneInfo, PlainValidator(_time_zone)]


def minutes_between(departs_at: str, departs_in: ZoneInfo, arrives_at: str, arrives_in: ZoneInfo) -> int:
    """Minutes from a local departure to a local arrival, each read in its airport's time zone."""
    departs = datetime.fromisoformat(departs_at).replace(tzinfo=departs_in)
    arrives = datetime.fromisoformat(arrives_at).replace(tzinfo=arrives_in)
    minutes = int((arrives - departs).total_seconds() // 60)
    if minutes < 0:
        raise UnreadableOffer("the journey arrives before it departs")
    return minutes


# -- reading answers ----------------------------------------------------------------------------------


def read_answer(body: Any, model: type[AnswerT], what: str) -> AnswerT:
    """A decoded success body read into its model; one that does not fit is a 502 `upstream_bad_response`."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        logger.warning("Unexpected upstream answer", extra={"upstream": what, "reason": _reason(exc)})
        raise UpstreamError(
            f"{what} answered with an unexpected body.", code="upstream_bad_response"
        ) from None


def read_failure(response: requests.Response, model: type[AnswerT]) -> AnswerT:
    """The body of a failed answer, for logs and error details. Every field of `model` must have a
    default: a body that is not JSON, or not an object, reads as the empty model."""
    try:
        return model.model_validate(response.json())
    except (ValueError, ValidationError):  # ValidationError is a ValueError; named for the reader
        return model()


def read_offers(
    raw_offers: Sequence[Any], model: type[UpstreamOffer], query: FareQuery, *, source: str, answered_by: str
) -> list[Offer]:
    """Every offer that `model` can read, in upstream order; `source` (the upstream) goes in the skip
    warning and `answered_by` (the call) in the 502."""
    offers: list[Offer] = []
    for position, raw in enumerate(raw_offers):
        try:
            offer = model.model_validate(raw).to_offer()
            if (offer.inbound is not None) != query.is_round_trip:
                raise UnreadableOffer(
                    "a round trip has two journeys"
                    if query.is_round_trip
                    else "a one-way trip has one journey"
                )
            offers.append(offer)
        except ValueError as exc:  # a ValidationError or an UnreadableOffer
            logger.warning(
                "Skipping an offer that cannot be read",
                extra={
                    "source": source,
                    "fare_query": query.cache_key,
                    "position": position,
                    "offer_id": raw.get("id") if isinstance(raw, Mapping) else None,
                    "reason": _reason(exc),
                },
            )
    if raw_offers and not offers:
        raise UpstreamError(f"{answered_by} answered with no readable offer.", code="upstream_bad_response")
    return offers


def in_currency(offers: list[Offer], query: FareQuery, *, source: str) -> list[Offer]:
    """The offers priced in the query's currency, for sources that price in the seller's currency.

    Farewatch has no exchange rates, and a price in another currency can be neither compared nor
    stored in the query's history series, so such offers are dropped (and counted in a warning). When
    offers came back but none is in the asked currency, the answer is a 502
    `upstream_currency_unavailable` rather than "no offers" (that would be a lie, and it would be cached).
    """
    priced = [offer for offer in offers if offer.currency == query.currency]
    if len(priced) < len(offers):
        logger.warning(
            "Dropping offers priced in another currency",
            extra={
                "source": source,
                "fare_query": query.cache_key,
                "dropped": len(offers) - len(priced),
                "currencies": sorted({offer.currency for offer in offers} - {query.currency}),
            },
        )
    if offers and not priced:
        raise UpstreamError(
            f"The fare source prices this route in {offers[0].currency}, not {query.currency}.",
            code="upstream_currency_unavailable",
        )
    return priced


def _reason(exc: ValueError) -> str:
    """Why an answer or offer could not be read, short enough for one log field (never its values)."""
    if isinstance(exc, ValidationError):
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        ]
        return "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")
    return str(exc)


# -- secrets ------------------------------------------------------------------------------------------


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """Upstream echoes are logged; make sure none carries a token or secret back into our logs."""
    if isinstance(value, str):
        for secret in secrets:
            if secret:
                value = value.replace(secret, "[redacted]")
        return value
    if isinstance(value, Mapping):
        return {key: scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item, secrets) for item in value]
    return value
