"""The fare-source interface, implemented by `amadeus` and `duffel`.

A source is one module: its client (transport and retries through `fares.http`), its answers declared
as pydantic models on `fares.answers`, and a `search` that turns them into `Offer`s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from aws_lambda_powertools import Logger

from farewatch.errors import FarewatchError
from farewatch.fare_query import FareQuery
from farewatch.offers import Offer

logger = Logger(child=True)


class FareSource(Protocol):
    """Finds offers for a trip: one-way or round trip, in a cabin, optionally with a stop limit.

    `upstream_query` says which trip the source really searches: a filter it cannot apply upstream
    is taken out (the fare service applies it to the normalised offers), so that trips differing only
    in it share one upstream search and one cache entry, and a filter it can apply stays in (its
    answer differs, so does its cache entry). `search` is only ever given such a query.

    `deadline` is an absolute time on the source's clock: the source must give up (raising an
    `UpstreamError` subclass) before it, whatever retries remain. An empty list means "no offers".
    """

    name: str

    def upstream_query(self, query: FareQuery) -> FareQuery: ...

    def search(self, query: FareQuery, *, deadline: float) -> list[Offer]: ...

    def warm_up(self) -> None:
        """Prepare for the first search (e.g. get an access token) at cold start; never raises."""


@dataclass(frozen=True)
class BookingLink:
    """One page that sells an offer: an airline's or a travel agent's checkout, the flight pre-selected."""

    provider_name: str
    provider_type: str  # "airline" or "third_party"
    url: str  # exactly as the source gave it (query string included)
    fare_name: str | None = None
    price: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class BookingLinks:
    """What a source answers for one offer: its current price and the pages that sell it, best first."""

    offer_id: str
    price: Decimal
    currency: str
    links: tuple[BookingLink, ...]

    @property
    def best(self) -> BookingLink | None:
        return self.links[0] if self.links else None


@runtime_checkable
class BookingLinkSource(Protocol):
    """A fare source that can say where an offer it found is sold (Ignav)."""

    name: str

    def booking_links(self, offer_id: str, *, deadline: float) -> BookingLinks: ...


def warm_up_quietly(prepare: Callable[[], object], *, failure: str) -> None:
    """Run a source's cold-start step; a failure is logged (`failure`, with its code) and left for the
    first search to meet, because a cold start must never fail on upstream trouble."""
    try:
        prepare()
    except Exception as exc:
        code = exc.code if isinstance(exc, FarewatchError) else type(exc).__name__
        logger.warning(failure, extra={"code": code})
