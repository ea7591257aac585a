"""What a fare source needs from token management: an access token, and a way to report it dead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IssuedToken:
    value: str
    expires_at: float  # epoch seconds on the issuing clock

    def __repr__(self) -> str:  # never print the token itself
        return f"IssuedToken(expires_at={self.expires_at})"


class TokenProvider(Protocol):
    def get(self) -> str:
        """A token that is valid now."""

    def invalidate(self, token: str) -> None:
        """Upstream rejected `token` (expired/revoked): forget it everywhere it is shared."""
