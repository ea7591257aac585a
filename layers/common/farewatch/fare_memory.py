"""The fare cache's memory tier: a warm container answers a hot key without asking DynamoDB.

An entry read from (or written to) DynamoDB is kept in the container's memory and answers again while
both hold:
- the entry is still fresh by its own `fresh_until` (an expired entry is never answered from memory);
- it was checked against DynamoDB less than `recheck_seconds` ago (FARE_MEMORY_SECONDS, 5 s).

The second bound is how long a container may miss another container's forced refresh (`nocache`):
after it, the next request reads the item again (one GetItem) and keeps what it finds. The check time
is the moment the read *started*, so a refresh written while the read was on its way is not hidden
for longer than the bound. Stale answers never come from memory (they are answered only when the fare
source fails, from the item itself), and single flight still happens in DynamoDB on a miss.

The price's insight (issue 15) reads its class's observations (one Query); they are kept the same way,
under the same bound, so that a hit from memory costs no DynamoDB call at all. A container that
records an observation in a class forgets what it kept of that class, so its own fetch always counts;
another container's observation is seen within the bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from farewatch.store.fare_cache import CachedFares

DEFAULT_MAX_ENTRIES = 1024  # about 2 KiB of offers each: a few MiB at most per container


@dataclass(frozen=True)
class _Kept:
    entry: CachedFares
    checked_at: float


class FareMemory:
    """At most `max_entries` fresh entries, least recently used out first; thread-safe."""

    def __init__(self, *, recheck_seconds: float, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if recheck_seconds < 0 or max_entries < 1:
            raise ValueError("recheck_seconds must be >= 0 and max_entries >= 1")
        self.recheck_seconds = recheck_seconds
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Kept] = OrderedDict()
        self._comparables: OrderedDict[str, tuple[float, tuple[Decimal, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def fresh(self, cache_key: str, now: float) -> CachedFares | None:
        """The kept entry if it is fresh and was checked within the bound, else None (and forgotten)."""
        with self._lock:
            kept = self._entries.get(cache_key)
            if kept is None:
                return None
            if not kept.entry.is_fresh(now) or now >= kept.checked_at + self.recheck_seconds:
                del self._entries[cache_key]
                return None
            self._entries.move_to_end(cache_key)
            return kept.entry

    def keep(self, cache_key: str, entry: CachedFares, *, checked_at: float) -> None:
        """Remember a fresh entry as DynamoDB held it at `checked_at` (an older check never wins)."""
        if self.recheck_seconds <= 0 or not entry.is_fresh(checked_at):
            return
        with self._lock:
            kept = self._entries.get(cache_key)
            if kept is not None and kept.checked_at > checked_at:
                return
            self._entries[cache_key] = _Kept(entry, checked_at)
            self._entries.move_to_end(cache_key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def forget(self, cache_key: str) -> None:
        with self._lock:
            self._entries.pop(cache_key, None)

    def comparables(self, klass: str, now: float) -> list[Decimal] | None:
        """The insight class's amounts as read less than the bound ago, else None (and forgotten)."""
        with self._lock:
            kept = self._comparables.get(klass)
            if kept is None:
                return None
            if now >= kept[0] + self.recheck_seconds or now < kept[0]:
                del self._comparables[klass]
                return None
            self._comparables.move_to_end(klass)
            return list(kept[1])

    def keep_comparables(self, klass: str, amounts: list[Decimal], *, checked_at: float) -> None:
        """Remember a class's amounts as DynamoDB held them when the read started at `checked_at`."""
        if self.recheck_seconds <= 0:
            return
        with self._lock:
            kept = self._comparables.get(klass)
            if kept is not None and kept[0] > checked_at:
                return
            self._comparables[klass] = (checked_at, tuple(amounts))
            self._comparables.move_to_end(klass)
            while len(self._comparables) > self._max_entries:
                self._comparables.popitem(last=False)

    def forget_comparables(self, klass: str) -> None:
        with self._lock:
            self._comparables.pop(klass, None)
