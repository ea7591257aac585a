"""Price history (PriceHistoryTable): every fetched cheapest price, per fare-query series."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from farewatch.clock import sortable_utc
from farewatch.store.models import PriceObservation


@dataclass(frozen=True)
class Observation:
    observed_at: str
    amount: Decimal
    currency: str
    source: str


class PriceHistoryStore:
    def append(self, series: str, *, amount: Decimal, currency: str, source: str, observed_at: float) -> None:
        PriceObservation(
            series, sortable_utc(observed_at), amount=str(amount), currency=currency, source=source
        ).save()

    def observations(self, series: str) -> list[Observation]:
        """Oldest first; PynamoDB follows the query's pages."""
        return [
            Observation(item.observed_at, Decimal(item.amount), item.currency, item.source)
            for item in PriceObservation.query(series, scan_index_forward=True)
        ]
