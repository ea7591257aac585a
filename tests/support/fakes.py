"""In-memory stand-ins for collaborators that are not under test."""

from __future__ import annotations

import threading

from farewatch.fares.tokens_api import IssuedToken


class InMemoryTokenStore:
    """The TokenStore contract of farewatch.fares.token_manager, kept in a dict (one 'item')."""

    def __init__(self) -> None:
        self.token: IssuedToken | None = None
        self.lease_owner: str | None = None
        self.lease_until = 0.0
        self._lock = threading.Lock()

    def load(self) -> IssuedToken | None:
        return self.token

    def try_lease(self, *, owner: str, now: float, until: float) -> bool:
        with self._lock:
            if self.lease_owner not in (None, owner) and self.lease_until > now:
                return False
            self.lease_owner, self.lease_until = owner, until
            return True

    def release(self, *, owner: str) -> None:
        with self._lock:
            if self.lease_owner == owner:
                self.lease_owner, self.lease_until = None, 0.0

    def save(self, token: IssuedToken) -> None:
        with self._lock:
            self.token = token
            self.lease_owner, self.lease_until = None, 0.0

    def discard(self, token_value: str) -> None:
        with self._lock:
            if self.token is not None and self.token.value == token_value:
                self.token = None


class CountingIssuer:
    """Issues numbered tokens valid for `ttl` seconds on `clock`, and counts the requests."""

    def __init__(self, clock, ttl: float = 1799.0, fail: bool = False) -> None:
        self.clock = clock
        self.ttl = ttl
        self.calls = 0
        self.fail = fail

    def __call__(self) -> IssuedToken:
        self.calls += 1
        if self.fail:
            from farewatch.errors import UpstreamUnavailable

            raise UpstreamUnavailable("token endpoint down")
        return IssuedToken(f"token-{self.calls}", self.clock.now() + self.ttl)
