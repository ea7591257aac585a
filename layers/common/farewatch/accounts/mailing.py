"""What accounts mail, as plain values, and the signed tokens that mails carry.

The accounts service decides that a mail goes out (`AccountMail`); the notifier writes and sends it.
Mailed one-time tokens (verification, password reset) are random and stored as hashes; the
unsubscribe token is an HMAC of the user id under the stack's signing key, so it needs no storage,
carries no email address, and nobody without the key can make one for another user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

AccountMailKind = Literal["verify_email", "already_registered", "password_reset"]
_UNSUBSCRIBE = b"farewatch/unsubscribe/v1:"
_USER_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class AccountMessage:
    kind: AccountMailKind
    user_id: str
    email: str
    token: str | None = None  # the one-time token the link carries (never logged)


class AccountMail(Protocol):
    def send(self, message: AccountMessage) -> None:
        """Hand the mail over for delivery (the notifier sends it)."""


def one_time_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class UnsubscribeTokens:
    """`<user id>.<mac>`: HMAC-SHA256 of the user id under the signing key (constant-time check)."""

    def __init__(self, key: Callable[[], str]) -> None:
        self._key = key

    def _mac(self, user_id: str) -> str:
        digest = hmac.new(self._key().encode(), _UNSUBSCRIBE + user_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def make(self, user_id: str) -> str:
        return f"{user_id}.{self._mac(user_id)}"

    def user_of(self, token: str) -> str | None:
        """The user id a genuine token names; None for anything else."""
        user_id, _, mac = token.partition(".")
        if not _USER_ID.fullmatch(user_id) or not mac or len(mac) > 64:
            return None
        return user_id if hmac.compare_digest(mac, self._mac(user_id)) else None
