"""Price history (PriceHistoryTable): every fetched cheapest price, per fare-query series.

A comparable class (farewatch.insight) is read two ways. `comparable_amounts` is one Query of its
observations. `ComparableSnapshot` keeps what such a Query found, so a cache hit can read it along
with the fare entry in one BatchGetItem (`read_entry_and_snapshot`) instead of a GetItem and a Query:
- every observation of the class is written first, then marks the snapshot stale (a PutItem with a
  new token and no amounts);
- a reader that finds it stale (or absent) runs the Query (consistent, so it sees every observation
  whose mark it saw) and writes what it found back, on condition that the token is still the one it
  read: a mark written meanwhile, by an observation the Query may have missed, makes that write fail
  and the snapshot stays stale.
So a clean snapshot is what the Query would answer now, with two exceptions, both documented in the
README: a reader may see the previous clean snapshot while the new mark replicates (eventually
consistent reads, as for the fare entry), and an observation whose writer died between its two
writes is missed until the class's next observation marks the snapshot stale.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from pynamodb.exceptions import DoesNotExist, PutError

from farewatch.clock import sortable_utc, utc_datetime
from farewatch.settings import get_settings
from farewatch.store.batch_get import batch_get
from farewatch.store.conditions import is_conditional_failure
from farewatch.store.fare_cache import CachedFares, entry_of
from farewatch.store.models import ComparableSnapshot, FareCacheEntry, PriceObservation

SNAPSHOT_KEY = "#snapshot"  # sorts before every `sortable_utc` timestamp
COMPARABLE_LIMIT = 1000


@dataclass(frozen=True)
class ClassSnapshot:
    """A class's snapshot as read: `token` to rebuild it on condition; `observed` (newest first
    `(observed_at, amount)` pairs) when it is clean, None when it is stale."""

    token: str
    observed: tuple[tuple[str, Decimal], ...] | None

    def amounts_since(self, since: float, limit: int = COMPARABLE_LIMIT) -> list[Decimal] | None:
        """What `comparable_amounts(since=since)` answers, or None when the snapshot is stale."""
        if self.observed is None:
            return None
        start = sortable_utc(since)
        return [amount for at, amount in self.observed if at >= start][:limit]


def _snapshot_of(item: ComparableSnapshot) -> ClassSnapshot:
    if item.amounts_json is None:
        return ClassSnapshot(item.token, None)
    pairs = json.loads(item.amounts_json)
    return ClassSnapshot(item.token, tuple((at, Decimal(amount)) for at, amount in pairs))


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
    ) -> str:
        """`append` to the trip's series and `append_comparable` to its class in one BatchWriteItem
        (what every fetch records; two items, one call), then `mark_stale` the class's snapshot: its
        new token."""
        purge_at = utc_datetime(observed_at) + self._retention
        at = sortable_utc(observed_at)
        with PriceObservation.batch_write() as batch:
            for pk, sk in ((series, at), (klass, f"{at}#{series}")):
                batch.save(
                    PriceObservation(
                        pk, sk, amount=str(amount), currency=currency, source=source, purge_at=purge_at
                    )
                )
        return self.mark_stale(klass, observed_at=observed_at)

    def mark_stale(self, klass: str, *, observed_at: float) -> str:
        """After an observation of `klass` is written: its snapshot no longer answers (one PutItem).
        The new token, for the writer's own rebuild."""
        token = uuid.uuid4().hex
        ComparableSnapshot(
            klass, SNAPSHOT_KEY, token=token, purge_at=utc_datetime(observed_at) + self._retention
        ).save()
        return token

    def observations(self, series: str) -> list[Observation]:
        """Oldest first; PynamoDB follows the query's pages."""
        return [
            Observation(item.observed_at, Decimal(item.amount), item.currency, item.source)
            for item in PriceObservation.query(series, scan_index_forward=True)
        ]

    # -- comparable classes (farewatch.insight) ---------------------------------------------------

    def append_comparable(
        self, klass: str, *, amount: Decimal, currency: str, source: str, observed_at: float, trip: str
    ) -> str:
        """One observation of a comparable class (then `mark_stale`); `trip` (the trip's key) keeps
        two trips fetched in the same microsecond apart."""
        PriceObservation(
            klass,
            f"{sortable_utc(observed_at)}#{trip}",
            amount=str(amount),
            currency=currency,
            source=source,
            purge_at=utc_datetime(observed_at) + self._retention,
        ).save()
        return self.mark_stale(klass, observed_at=observed_at)

    def comparable_amounts(
        self, klass: str, *, since: float, limit: int = COMPARABLE_LIMIT, consistent: bool = False
    ) -> list[Decimal]:
        """The class's amounts observed since `since`, newest first, at most `limit` (one Query)."""
        return [amount for _, amount in self._comparable(klass, since, limit, consistent)]

    def _comparable(
        self, klass: str, since: float, limit: int, consistent: bool
    ) -> list[tuple[str, Decimal]]:
        items = PriceObservation.query(
            klass,
            PriceObservation.observed_at >= sortable_utc(since),
            scan_index_forward=False,
            limit=limit,
            consistent_read=consistent,
        )
        return [(item.observed_at, Decimal(item.amount)) for item in items]

    def snapshot(self, klass: str) -> ClassSnapshot | None:
        """The class's snapshot (one GetItem), None when there is none."""
        try:
            return _snapshot_of(ComparableSnapshot.get(klass, SNAPSHOT_KEY))
        except DoesNotExist:
            return None

    def rebuild_snapshot(self, klass: str, *, since: float, token: str | None, now: float) -> list[Decimal]:
        """`comparable_amounts` (a consistent Query), written back as the class's snapshot when its
        token is still `token` (None: when there is still none). A failed condition means a newer
        observation marked it stale meanwhile: it stays stale. The amounts, either way."""
        found = self._comparable(klass, since, COMPARABLE_LIMIT, consistent=True)
        condition = (
            ComparableSnapshot.series.does_not_exist() if token is None else ComparableSnapshot.token == token
        )
        try:
            ComparableSnapshot(
                klass,
                SNAPSHOT_KEY,
                token=uuid.uuid4().hex,
                amounts_json=json.dumps([[at, str(amount)] for at, amount in found], separators=(",", ":")),
                purge_at=utc_datetime(now) + self._retention,
            ).save(condition=condition)
        except PutError as error:
            if not is_conditional_failure(error):
                raise
        return [amount for _, amount in found]


def read_entry_and_snapshot(entry_key: str, klass: str) -> tuple[CachedFares | None, ClassSnapshot | None]:
    """A fare cache entry (its CacheTable key) and a comparable class's snapshot, in one BatchGetItem
    (eventually consistent, like the entry's GetItem); None for either that does not exist."""
    entry, snapshot = batch_get((FareCacheEntry, entry_key, None), (ComparableSnapshot, klass, SNAPSHOT_KEY))
    return (
        entry_of(entry) if isinstance(entry, FareCacheEntry) else None,
        _snapshot_of(snapshot) if isinstance(snapshot, ComparableSnapshot) else None,
    )
