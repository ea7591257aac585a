"""What accounts are about, as plain values: a user, the account sign-in checks, a refresh token and
its family, a window of failed sign-ins.

The stores (`store.users`, `store.auth_records`) turn their items into these; they are the only code
that knows attribute names. The accounts service decides with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FailureKind = Literal["email", "ip", "email_ip"]
"""What failed sign-ins are counted per: the email tried, the source IP, and the two together."""


@dataclass(frozen=True)
class User:
    id: str
    email: str
    role: str
    created_at: float
    updated_at: float
    email_verified: bool = False
    email_alerts: bool = True  # price emails wanted (PATCH /users/me, or one-click unsubscribe)
    email_suppressed: str | None = None  # "bounce" or "complaint": SES said to send no more mail
    token_generation: int = 0  # access tokens of another generation stop working (reset, reuse)

    @property
    def can_receive_price_mail(self) -> bool:
        return self.email_verified and self.email_alerts and self.email_suppressed is None


@dataclass(frozen=True)
class Account:
    """A user with what signing in checks: the bcrypt hash of the password, never shown anywhere."""

    user: User
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class StoredRefreshToken:
    """A refresh token as stored: only its hash, never the token itself."""

    token_hash: str
    family_id: str
    user_id: str
    expires_at: float
    rotated: bool


@dataclass(frozen=True)
class TokenFamily:
    """Every refresh token of one sign-in; revoking it stops them all."""

    id: str
    user_id: str
    expires_at: float
    revoked: bool


@dataclass(frozen=True)
class OneTimeToken:
    """A mailed single-use token (email verification, password reset), stored as its hash only."""

    purpose: str
    user_id: str
    email: str  # the address it was sent to: verifying it verifies that address, no other
    expires_at: float


@dataclass(frozen=True)
class FailureWindow:
    """Failed sign-ins counted for one email or source IP since the window opened."""

    count: int
    window_started: float
    last_failed_at: float = 0.0
