"""The fare cache in DynamoDB: one item per fare query holding its normalised offers (CacheTable)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import TypeAdapter
from pynamodb.exceptions import DoesNotExist

from farewatch.offers import Offer
from farewatch.store import leases
from farewatch.store.conditions import update_unless_condition_failed
from farewatch.store.models import FareCacheEntry, ForcedRefreshWindow

_OFFER_LIST = TypeAdapter(list[Offer])


@dataclass(frozen=True)
class CachedFares:
    """What one GetItem tells about a key: the last offers (if any) and who is fetching (if anyone)."""

    offers: list[Offer] | None
    source: str | None
    fetched_at: float | None
    fresh_until: float | None
    purge_at: float | None
    lease_owner: str | None
    lease_until: float | None
    failed_at: float | None

    @property
    def has_offers(self) -> bool:
        return self.offers is not None and self.fetched_at is not None

    def is_fresh(self, now: float) -> bool:
        return self.has_offers and self.fresh_until is not None and now < self.fresh_until

    def is_servable_stale(self, now: float) -> bool:
        """Expired but not yet past its purge time: good enough when upstream fails."""
        return self.has_offers and (self.purge_at is None or now < self.purge_at)

    def lease_free(self, now: float) -> bool:
        return self.lease_owner is None or self.lease_until is None or self.lease_until <= now


# Amadeus was the first source: its entries keep the original `fares#<query>` keys.
DEFAULT_SOURCE = "amadeus"


class FareCacheStore:
    def __init__(self, prefix: str = "fares") -> None:
        self._prefix = prefix

    @classmethod
    def for_source(cls, source: str) -> FareCacheStore:
        """The entries of one fare source: `fares#<query>` for Amadeus, `fares#<source>#<query>` else.

        Keying by source means one source never answers, refreshes or stands in (stale) for another:
        after switching FAREWATCH_FARE_SOURCE the first request of each query asks the new source,
        and `meta.source` always names the source that really priced the entry. Query keys start
        with an upper-case IATA code and source names are lower case, so the two never collide.
        """
        return cls("fares" if source == DEFAULT_SOURCE else f"fares#{source}")

    def _pk(self, cache_key: str) -> str:
        return f"{self._prefix}#{cache_key}"

    def item_key(self, cache_key: str) -> str:
        """The CacheTable key of a query's entry: for a caller that reads it along with other items
        (`TrackingStore.poll_state`, one TransactGetItems) and hands it back through `entry_of`."""
        return self._pk(cache_key)

    def read(self, cache_key: str, *, consistent: bool = False) -> CachedFares | None:
        try:
            entry = FareCacheEntry.get(self._pk(cache_key), consistent_read=consistent)
        except DoesNotExist:
            return None
        return entry_of(entry)

    def try_lease(
        self, cache_key: str, *, owner: str, now: float, until: float, unless_fetched_after: float
    ) -> bool:
        """Become the fetcher for `cache_key`, unless someone holds it or fetched after the given time."""
        not_fetched = FareCacheEntry.fetched_at.does_not_exist() | (
            FareCacheEntry.fetched_at <= unless_fetched_after
        )
        return leases.try_acquire(
            FareCacheEntry(self._pk(cache_key)), owner=owner, now=now, until=until, only_if=not_fetched
        )

    def release_after_failure(self, cache_key: str, *, owner: str, failed_at: float) -> None:
        """End our lease and tell the callers waiting on it that this fetch failed."""
        update_unless_condition_failed(
            FareCacheEntry(self._pk(cache_key)),
            actions=[
                FareCacheEntry.lease_owner.remove(),
                FareCacheEntry.lease_until.remove(),
                FareCacheEntry.failed_at.set(failed_at),
            ],
            condition=FareCacheEntry.lease_owner == owner,
        )

    def write(
        self,
        cache_key: str,
        offers: list[Offer],
        *,
        source: str,
        fetched_at: float,
        fresh_until: float,
        purge_at: float,
    ) -> None:
        """Replace the entry (which also ends any lease on it)."""
        FareCacheEntry(
            self._pk(cache_key),
            offers_json=json.dumps([offer.model_dump(mode="json") for offer in offers]),
            source=source,
            fetched_at=fetched_at,
            fresh_until=fresh_until,
            purge_at=datetime.fromtimestamp(purge_at, tz=UTC),
        ).save()


def entry_of(entry: FareCacheEntry) -> CachedFares:
    """What a CacheTable item tells about its key."""
    offers = _OFFER_LIST.validate_json(entry.offers_json) if entry.offers_json is not None else None
    return CachedFares(
        offers=offers,
        source=entry.source,
        fetched_at=_float(entry.fetched_at),
        fresh_until=_float(entry.fresh_until),
        purge_at=entry.purge_at.timestamp() if entry.purge_at is not None else None,
        lease_owner=entry.lease_owner,
        lease_until=_float(entry.lease_until),
        failed_at=_float(entry.failed_at),
    )


def _float(value: float | None) -> float | None:
    return float(value) if value is not None else None


def count_forced_refresh(source_ip: str, *, window_start: int, window_seconds: int) -> int:
    """One more anonymous forced refresh from `source_ip` in the window starting at `window_start`
    (one UpdateItem, ADD; the item expires with its window): the count so far, this one included."""
    window = ForcedRefreshWindow(f"refresh-ip#{source_ip}#{window_start}")
    window.update(
        actions=[
            ForcedRefreshWindow.refreshes.add(1),
            ForcedRefreshWindow.purge_at.set(
                datetime.fromtimestamp(window_start + 2 * window_seconds, tz=UTC)
            ),
        ]
    )
    return int(window.refreshes)
