"""Access-token management: memory → DynamoDB → the fare API, refreshed ahead of expiry by one caller.

Every container keeps the token in memory and shares it through DynamoDB. When it comes within
`refresh_margin` seconds of expiry, the first caller to take the DynamoDB lease fetches a new one;
everyone else keeps using the current token meanwhile. Only when no usable token exists at all do
the others wait (briefly, on the injected clock) for the lease holder's result.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Protocol

from aws_lambda_powertools import Logger

from farewatch.clock import Clock
from farewatch.fares.tokens_api import IssuedToken

logger = Logger(child=True)

# A token this close to expiry is not handed out: a request using it could reach upstream too late.
_MIN_REMAINING_SECONDS = 5.0


class TokenStore(Protocol):
    def load(self) -> IssuedToken | None: ...
    def try_lease(self, *, owner: str, now: float, until: float) -> bool: ...
    def release(self, *, owner: str) -> None: ...
    def save(self, token: IssuedToken) -> None: ...
    def discard(self, token_value: str) -> None: ...


class TokenManager:
    def __init__(
        self,
        *,
        issue: Callable[[], IssuedToken],
        store: TokenStore,
        clock: Clock,
        refresh_margin: float = 300.0,
        lease_seconds: float = 10.0,
        wait_seconds: float = 5.0,
        poll_interval: float = 0.1,
        recheck_interval: float = 5.0,
    ) -> None:
        self._issue = issue
        self._store = store
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._lease_seconds = lease_seconds
        self._wait_seconds = wait_seconds
        self._poll_interval = poll_interval
        self._recheck_interval = recheck_interval
        self._owner = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._token: IssuedToken | None = None
        # While another caller refreshes, keep using an ageing token without asking DynamoDB each time.
        self._recheck_at = 0.0

    def get(self) -> str:
        token = self._fast_path(self._clock.now())
        if token is not None:
            return token
        with self._lock:
            now = self._clock.now()
            token = self._fast_path(now)
            if token is not None:
                return token
            return self._refresh_or_share(now)

    def invalidate(self, token: str) -> None:
        with self._lock:
            if self._token is not None and self._token.value == token:
                self._token = None
            self._recheck_at = 0.0
        self._store.discard(token)

    # -- internals -------------------------------------------------------------------------------

    def _fast_path(self, now: float) -> str | None:
        token = self._token
        if token is None:
            return None
        if now < token.expires_at - self._refresh_margin:
            return token.value
        if now < self._recheck_at and self._usable(token, now):
            return token.value
        return None

    def _usable(self, token: IssuedToken | None, now: float) -> bool:
        return token is not None and now < token.expires_at - _MIN_REMAINING_SECONDS

    def _refresh_or_share(self, now: float) -> str:
        stored = self._store.load()
        if stored is not None and now < stored.expires_at - self._refresh_margin:
            self._token = stored
            return stored.value
        current = (
            stored if self._usable(stored, now) else (self._token if self._usable(self._token, now) else None)
        )
        if self._store.try_lease(owner=self._owner, now=now, until=now + self._lease_seconds):
            try:
                return self._fetch_and_share()
            except Exception:
                self._store.release(owner=self._owner)
                if current is not None:
                    logger.warning("Token refresh failed; the current token is still valid and stays in use")
                    self._token = current
                    self._recheck_at = now + self._recheck_interval
                    return current.value
                raise
        if current is not None:
            # Someone else is refreshing; the current token still works until they are done.
            self._token = current
            self._recheck_at = now + self._recheck_interval
            return current.value
        return self._wait_for_other_refresher(now)

    def _wait_for_other_refresher(self, started: float) -> str:
        deadline = started + self._wait_seconds
        while self._clock.now() < deadline:
            self._clock.sleep(self._poll_interval)
            stored = self._store.load()
            if self._usable(stored, self._clock.now()):
                assert stored is not None
                self._token = stored
                return stored.value
        logger.warning("Token refresh by another caller did not finish in time; fetching one here")
        return self._fetch_and_share()

    def _fetch_and_share(self) -> str:
        token = self._issue()
        self._store.save(token)
        self._token = token
        self._recheck_at = 0.0
        logger.info("Fetched a new access token", extra={"expires_at": token.expires_at})
        return token.value
