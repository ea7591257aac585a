"""Booking links: where an offer can be bought, asked of the fare source that found it, cached briefly.

Only a source that implements `fares.source.BookingLinkSource` (Ignav) has them; with any other,
asking is a 404 `booking_links_unavailable`. A lookup is a billed upstream request, so a resolved
offer is kept `cache_seconds` (5 minutes by default) in the cache table, fleet-wide.

`best_url` is what the poller uses for an alert: the first link of the answer, or None when the source
has none or the lookup fails (an alert is never held back for its link).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from farewatch.clock import Clock
from farewatch.errors import FarewatchError, NotFound
from farewatch.fares.source import BookingLinks, BookingLinkSource, FareSource
from farewatch.store.booking_links import BookingLinkStore

logger = Logger(child=True)

ALERT_LINK_BUDGET_SECONDS = 4.0


@dataclass(frozen=True)
class BookingLinksResult:
    links: BookingLinks
    source: str
    fetched_at: float
    cached: bool


class BookingLinkService:
    def __init__(
        self,
        *,
        source: FareSource,
        store: BookingLinkStore,
        clock: Clock,
        cache_seconds: float = 300.0,
        budget_seconds: float = 20.0,
    ) -> None:
        self._source = source
        self._store = store
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._budget_seconds = budget_seconds

    @property
    def available(self) -> bool:
        return isinstance(self._source, BookingLinkSource)

    def links(self, offer_id: str, *, budget_seconds: float | None = None) -> BookingLinksResult:
        """The offer's booking links: from the cache while fresh, else from the source (and cached)."""
        source = self._source
        if not isinstance(source, BookingLinkSource):
            raise NotFound(
                f"The fare source ({source.name}) gives no booking links; book with the airline.",
                code="booking_links_unavailable",
            )
        now = self._clock.now()
        cached = self._store.read(offer_id, now=now)
        if cached is not None:
            return BookingLinksResult(cached[0], source.name, cached[1], cached=True)
        budget = self._budget_seconds if budget_seconds is None else budget_seconds
        links = source.booking_links(offer_id, deadline=now + budget)
        fetched_at = self._clock.now()
        if self._cache_seconds > 0:
            self._store.write(links, fetched_at=fetched_at, fresh_until=fetched_at + self._cache_seconds)
        return BookingLinksResult(links, source.name, fetched_at, cached=False)

    def best_url(self, offer_id: str) -> str | None:
        """The first booking link of an offer, or None (no links, no such source, or a failed lookup).

        For alerts: the poll worker's per-route reserve is sized for one fare search, so the lookup
        gets a short budget of its own (ALERT_LINK_BUDGET_SECONDS) and is never retried past it.
        """
        if not self.available:
            return None
        try:
            best = self.links(offer_id, budget_seconds=ALERT_LINK_BUDGET_SECONDS).links.best
        except FarewatchError as failure:
            logger.warning(
                "No booking link for an alert's offer",
                extra={"offer_id": offer_id, "code": failure.code, "status": failure.status},
            )
            return None
        return best.url if best is not None else None
