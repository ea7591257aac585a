"""The fare-source interface. Amadeus is the first implementation; a second live provider will follow."""

from __future__ import annotations

from typing import Protocol

from farewatch.fare_query import FareQuery
from farewatch.offers import Offer


class FareSource(Protocol):
    """Finds one-way offers for a fare query.

    `deadline` is an absolute time on the source's clock: the source must give up (raising an
    `UpstreamError` subclass) before it, whatever retries remain. An empty list means "no offers".
    """

    name: str

    def search(self, query: FareQuery, *, deadline: float) -> list[Offer]: ...

    def warm_up(self) -> None:
        """Prepare for the first search (e.g. get an access token) at cold start; never raises."""
