"""Reading upstream offers field by field, the same way for every fare source.

An offer that lacks what an `Offer` needs raises `UnreadableOffer` and is skipped with a warning;
when an upstream sent offers and none can be read, the answer as a whole is a 502
`upstream_bad_response` (answering "no offers" would be a lie that gets cached).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from farewatch.errors import UpstreamError
from farewatch.fare_query import FareQuery
from farewatch.offers import Offer

logger = Logger(child=True)


class UnreadableOffer(ValueError):
    """One upstream offer that does not have what an Offer needs; it is skipped, not fatal."""


def read_offers(
    raw_offers: list[Any], read: Callable[[Any], Offer], query: FareQuery, *, source: str, answered_by: str
) -> list[Offer]:
    """Every offer `read` can read, in upstream order; `source` (the upstream) goes in the skip
    warning and `answered_by` (the call) in the 502."""
    offers: list[Offer] = []
    for position, raw in enumerate(raw_offers):
        try:
            offers.append(read(raw))
        except (UnreadableOffer, ValidationError) as exc:
            logger.warning(
                "Skipping an offer that cannot be read",
                extra={
                    "source": source,
                    "fare_query": query.cache_key,
                    "position": position,
                    "offer_id": raw.get("id") if isinstance(raw, Mapping) else None,
                    "reason": str(exc),
                },
            )
    if raw_offers and not offers:
        raise UpstreamError(f"{answered_by} answered with no readable offer.", code="upstream_bad_response")
    return offers


def required_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise UnreadableOffer(f"{what} is missing")
    return value


def required_mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UnreadableOffer(f"{what} is missing")
    return value


def required_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise UnreadableOffer(f"{what} is missing")
    return value


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
