"""Access tokens the simulator has issued, and whether a presented token is valid, unknown or expired.

Expired tokens are remembered so they can be told apart from made-up ones (38192 versus 38190),
as Amadeus does. Not thread-safe by itself: the Simulator holds its lock around every call.
"""

from __future__ import annotations

import enum
import secrets
import string
from dataclasses import dataclass

_TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 30  # Amadeus tokens are opaque alphanumerics of about this length


class TokenState(enum.Enum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"


@dataclass
class AccessToken:
    value: str
    client_id: str
    expires_at: float  # epoch seconds on the simulator's clock

    def state(self, now: float) -> TokenState:
        return TokenState.VALID if now < self.expires_at else TokenState.EXPIRED


class TokenRegistry:
    def __init__(self, lifetime_seconds: int) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._issued: dict[str, AccessToken] = {}

    def issue(self, client_id: str, now: float) -> AccessToken:
        value = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        token = AccessToken(value, client_id, now + self.lifetime_seconds)
        self._issued[value] = token
        return token

    def find(self, value: str) -> AccessToken | None:
        return self._issued.get(value)

    def state_of(self, value: str, now: float) -> TokenState:
        token = self._issued.get(value)
        return TokenState.UNKNOWN if token is None else token.state(now)

    def expire(self, value: str, now: float) -> None:
        """End a token's life early, as if its time had run out."""
        token = self._issued.get(value)
        if token is not None:
            token.expires_at = min(token.expires_at, now)

    def clear(self) -> None:
        self._issued.clear()
