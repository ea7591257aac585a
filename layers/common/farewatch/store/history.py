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

    def append_with_class(
        self,
        series: str,
        klass: str,
        *,
        amount: Decimal,
        currency: str,
        source: str,
        observed_at: float,
    ) -> None:
        """`append` to the trip's series and `append_comparable` to its class in one BatchWriteItem
        (what every fetch records; two items, one call)."""
        purge_at = utc_datetime(observed_at) + self._retention
        at = sortable_utc(observed_at)
        with PriceObservation.batch_write() as batch:
            for pk, sk in ((series, at), (klass, f"{at}#{series}")):
                batch.save(
                    PriceObservation(
                        pk, sk, amount=str(amount), currency=currency, source=source, purge_at=purge_at
                    )
                )

    def observations(self, series: str) -> list[Observation]:
        """Oldest first; PynamoDB follows the query's pages."""
        return [
            Observation(item.observed_at, Decimal(item.amount), item.currency, item.source)
            for item in PriceObservation.query(series, scan_index_forward=True)
        ]

    # -- comparable classes (farewatch.insight) ---------------------------------------------------

    def append_comparable(
        self, klass: str, *, amount: Decimal, currency: str, source: str, observed_at: float, trip: str
    ) -> None:
        """One observation of a comparable class; `trip` (the trip's key) keeps two trips fetched in
        the same microsecond apart."""
        PriceObservation(
            klass,
            f"{sortable_utc(observed_at)}#{trip}",
            amount=str(amount),
            currency=currency,
            source=source,
            purge_at=utc_datetime(observed_at) + self._retention,
        ).save()

    def comparable_amounts(self, klass: str, *, since: float, limit: int = 1000) -> list[Decimal]:
        """The class's amounts observed since `since`, newest first, at most `limit` (one Query)."""
        items = PriceObservation.query(
            klass,
            PriceObservation.observed_at >= sortable_utc(since),
            scan_index_forward=False,
            limit=limit,
        )
        return [Decimal(item.amount) for item in items]
