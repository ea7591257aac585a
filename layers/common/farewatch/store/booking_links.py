"""Resolved booking links in the cache table: one item per (source, offer), kept briefly (CacheTable).

An offer's booking pages change with its price and availability, so an entry is reused only for a few
minutes (`BOOKING_LINKS_CACHE_SECONDS`) and then removed by the table's TTL; keys start with `booking#`,
which no fare-cache or token key does.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal

from pynamodb.exceptions import DoesNotExist

from farewatch.fares.source import BookingLink, BookingLinks
from farewatch.store.models import FareCacheEntry


class BookingLinkStore:
    def __init__(self, source: str) -> None:
        self._prefix = f"booking#{source}"

    def _pk(self, offer_id: str) -> str:
        return f"{self._prefix}#{offer_id}"

    def read(self, offer_id: str, *, now: float) -> tuple[BookingLinks, float] | None:
        """The links stored for the offer and when they were fetched, if still fresh."""
        try:
            entry = FareCacheEntry.get(self._pk(offer_id))
        except DoesNotExist:
            return None
        if entry.offers_json is None or entry.fresh_until is None or now >= float(entry.fresh_until):
            return None
        stored = json.loads(entry.offers_json)
        links = BookingLinks(
            offer_id=offer_id,
            price=Decimal(stored["price"]),
            currency=stored["currency"],
            links=tuple(
                BookingLink(
                    **{**link, "price": Decimal(link["price"]) if link["price"] is not None else None}
                )
                for link in stored["links"]
            ),
        )
        return links, float(entry.fetched_at or now)

    def write(self, links: BookingLinks, *, fetched_at: float, fresh_until: float) -> None:
        body = {
            "price": str(links.price),
            "currency": links.currency,
            "links": [
                {**asdict(link), "price": str(link.price) if link.price is not None else None}
                for link in links.links
            ],
        }
        FareCacheEntry(
            self._pk(links.offer_id),
            offers_json=json.dumps(body),
            fetched_at=fetched_at,
            fresh_until=fresh_until,
            purge_at=datetime.fromtimestamp(fresh_until, tz=UTC),
        ).save()
