"""Refresh tokens: opaque, stored only as hashes, one family per sign-in, rotated on every use.

A family lives `refresh_token_days` from its sign-in; rotating does not extend it. Presenting a
token that was already rotated means two parties hold the family (one of them a thief), so the whole
family is revoked and both must sign in again.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from farewatch.clock import Clock
from farewatch.errors import Unauthorized
from farewatch.store.auth_records import AuthRecordStore

logger = Logger(child=True)

_MAX_TOKEN_CHARS = 512


@dataclass(frozen=True)
class RefreshGrant:
    """A freshly issued refresh token (shown to its holder once) and whose it is."""

    user_id: str
    family_id: str
    refresh_token: str
    expires_at: float


def token_hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode("utf-8", "surrogatepass")).hexdigest()


class RefreshTokens:
    def __init__(self, store: AuthRecordStore, *, clock: Clock, lifetime_seconds: int) -> None:
        self._store = store
        self._clock = clock
        self._lifetime = lifetime_seconds

    def start_family(self, user_id: str) -> RefreshGrant:
        """At sign-in: a new family and its first token."""
        now = self._clock.now()
        family_id = uuid.uuid4().hex
        refresh_token = secrets.token_urlsafe(32)
        expires_at = now + self._lifetime
        self._store.start_family(
            family_id=family_id,
            user_id=user_id,
            token_hash=token_hash(refresh_token),
            now=now,
            expires_at=expires_at,
        )
        return RefreshGrant(user_id, family_id, refresh_token, expires_at)

    def rotate(self, presented: str) -> RefreshGrant:
        """Trade a valid, unused token for its successor in the same family."""
        if not presented or len(presented) > _MAX_TOKEN_CHARS:
            raise invalid_refresh_token()
        now = self._clock.now()
        stored = self._store.find_token(token_hash(presented))
        if stored is None or now >= stored.expires_at:
            raise invalid_refresh_token()
        family = self._store.get_family(stored.family_id)
        if family is None or family.revoked or now >= family.expires_at:
            raise invalid_refresh_token()
        if stored.rotated:
            raise self._reused(stored.family_id, stored.user_id)
        successor = secrets.token_urlsafe(32)
        outcome = self._store.rotate(stored, new_hash=token_hash(successor), now=now)
        if outcome == "family_revoked":
            raise invalid_refresh_token()
        if outcome == "already_rotated":  # a concurrent use of the same token won the race
            raise self._reused(stored.family_id, stored.user_id)
        return RefreshGrant(stored.user_id, stored.family_id, successor, stored.expires_at)

    def revoke_family(self, family_id: str) -> None:
        self._store.revoke_family(family_id)

    def revoke(self, presented: str) -> str | None:
        """Sign-out: revoke the family of a token of it (rotated or not); its id, or None if unknown."""
        if not presented or len(presented) > _MAX_TOKEN_CHARS:
            return None
        stored = self._store.find_token(token_hash(presented))
        if stored is None:
            return None
        self._store.revoke_family(stored.family_id)
        return stored.family_id

    def _reused(self, family_id: str, user_id: str) -> RefreshTokenReused:
        self._store.revoke_family(family_id)
        logger.warning(
            "Rotated refresh token presented again; family revoked",
            extra={"user_id": user_id, "family_id": family_id},
        )
        return RefreshTokenReused(user_id)


class RefreshTokenReused(Unauthorized):
    """A rotated refresh token came back: its family is revoked; the caller ends the user's access tokens."""

    def __init__(self, user_id: str) -> None:
        super().__init__("This refresh token was already used; sign in again.", code="refresh_token_reused")
        self.user_id = user_id


def invalid_refresh_token() -> Unauthorized:
    return Unauthorized("The refresh token is not valid; sign in again.", code="invalid_refresh_token")
