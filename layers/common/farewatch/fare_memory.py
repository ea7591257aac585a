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
another container's observation is seen within the bound. It keeps instead, for `TOKEN_SECONDS`, the
token its observation wrote into the class's mark (store/history.py), so that the request that
fetched rebuilds the class's snapshot for the other containers without reading the mark first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from decimal import Decimal
from typing import Generic, TypeVar

from farewatch.store.fare_cache import CachedFares

DEFAULT_MAX_ENTRIES = 1024  # about 2 KiB of offers each: a few MiB at most per container
TOKEN_SECONDS = 60.0  # a fetch's own mark token serves the judgement of the request that fetched

_Value = TypeVar("_Value")


class _Checked(Generic[_Value]):
    """Values with the moment each was read from DynamoDB, least recently used out first; the caller
    holds the lock."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._values: OrderedDict[str, tuple[float, _Value]] = OrderedDict()

    def get(self, key: str) -> tuple[float, _Value] | None:
        kept = self._values.get(key)
        if kept is not None:
            self._values.move_to_end(key)
        return kept

    def put(self, key: str, value: _Value, *, checked_at: float) -> None:
        """Keep `value` as read at `checked_at`, unless a later read is kept already."""
        kept = self._values.get(key)
        if kept is not None and kept[0] > checked_at:
            return
        self._values[key] = (checked_at, value)
        self._values.move_to_end(key)
        while len(self._values) > self._max_entries:
            self._values.popitem(last=False)

    def pop(self, key: str) -> None:
        self._values.pop(key, None)


class FareMemory:
    """At most `max_entries` fresh entries (and as many insight classes), least recently used out
    first; thread-safe."""

    def __init__(self, *, recheck_seconds: float, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if recheck_seconds < 0 or max_entries < 1:
            raise ValueError("recheck_seconds must be >= 0 and max_entries >= 1")
        self.recheck_seconds = recheck_seconds
        self._entries: _Checked[CachedFares] = _Checked(max_entries)
        self._comparables: _Checked[tuple[Decimal, ...]] = _Checked(max_entries)
        self._stale_tokens: _Checked[str] = _Checked(max_entries)
        self._lock = threading.Lock()

    def fresh(self, cache_key: str, now: float) -> CachedFares | None:
        """The kept entry if it is fresh and was checked within the bound, else None (and forgotten)."""
        with self._lock:
            kept = self._entries.get(cache_key)
            if kept is None:
                return None
            checked_at, entry = kept
            if not entry.is_fresh(now) or now >= checked_at + self.recheck_seconds:
                self._entries.pop(cache_key)
                return None
            return entry

    def keep(self, cache_key: str, entry: CachedFares, *, checked_at: float) -> None:
        """Remember a fresh entry as DynamoDB held it at `checked_at` (an older check never wins)."""
        if self.recheck_seconds <= 0 or not entry.is_fresh(checked_at):
            return
        with self._lock:
            self._entries.put(cache_key, entry, checked_at=checked_at)

    def forget(self, cache_key: str) -> None:
        with self._lock:
            self._entries.pop(cache_key)

    def comparables(self, klass: str, now: float) -> list[Decimal] | None:
        """The insight class's amounts as read less than the bound ago, else None (and forgotten)."""
        with self._lock:
            kept = self._comparables.get(klass)
            if kept is None:
                return None
            checked_at, amounts = kept
            if now >= checked_at + self.recheck_seconds:
                self._comparables.pop(klass)
                return None
            return list(amounts)

    def keep_comparables(self, klass: str, amounts: list[Decimal], *, checked_at: float) -> None:
        """Remember a class's amounts as DynamoDB held them when the read started at `checked_at`
        (an older read never wins)."""
        if self.recheck_seconds <= 0:
            return
        with self._lock:
            self._comparables.put(klass, tuple(amounts), checked_at=checked_at)

    def forget_comparables(self, klass: str, *, stale_token: str | None = None, at: float = 0.0) -> None:
        """This container observed the class at `at`: forget its amounts; `stale_token` is what that
        observation wrote into the class's mark (None: unknown)."""
        with self._lock:
            self._comparables.pop(klass)
            self._stale_tokens.pop(klass)
            if stale_token is not None:
                self._stale_tokens.put(klass, stale_token, checked_at=at)

    def stale_token(self, klass: str, now: float) -> str | None:
        """The mark token of this container's observation of the class in the last `TOKEN_SECONDS`,
        once (then forgotten)."""
        with self._lock:
            kept = self._stale_tokens.get(klass)
            self._stale_tokens.pop(klass)
            return kept[1] if kept is not None and 0 <= now - kept[0] < TOKEN_SECONDS else None
