"""Price history (PriceHistoryTable): every fetched cheapest price, per fare-query series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from farewatch.clock import sortable_utc, utc_datetime
from farewatch.settings import get_settings
from farewatch.store.models import PriceObservation


@dataclass(frozen=True)
class Observation:
    observed_at: str
    amount: Decimal
    currency: str
    source: str


class PriceHistoryStore:
    def __init__(self, retention_days: int | None = None) -> None:
        days = get_settings().price_history_retention_days if retention_days is None else retention_days
        self._retention = timedelta(days=days)

    def append(self, series: str, *, amount: Decimal, currency: str, source: str, observed_at: float) -> None:
        PriceObservation(
            series,
            sortable_utc(observed_at),
            amount=str(amount),
            currency=currency,
            source=source,
            purge_at=utc_datetime(observed_at) + self._retention,
        ).save()

    def observations(self, series: str) -> list[Observation]:
        """Oldest first; PynamoDB follows the query's pages."""
        return [
            Observation(item.observed_at, Decimal(item.amount), item.currency, item.source)
            for item in PriceObservation.query(series, scan_index_forward=True)
        ]
