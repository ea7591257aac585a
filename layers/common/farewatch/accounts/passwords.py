"""Password policy and bcrypt: 8+ characters, at most 72 bytes (never truncated), constant-time checks."""

from __future__ import annotations

import threading

import bcrypt

from farewatch.errors import invalid_field

MIN_CHARACTERS = 8
MAX_BYTES = 72  # bcrypt ignores everything after 72 bytes; we refuse such passwords instead


def check_policy(password: str) -> bytes:
    """The password as UTF-8 bytes, or a 400 saying which rule it breaks (never echoing it)."""
    try:
        encoded = password.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be stored or typed again
        raise invalid_field("password", "must be valid text", code="invalid_password") from None
    if len(encoded) > MAX_BYTES:
        raise invalid_field("password", f"must be at most {MAX_BYTES} bytes", code="password_too_long")
    if len(password) < MIN_CHARACTERS:
        raise invalid_field(
            "password", f"must be at least {MIN_CHARACTERS} characters", code="password_too_short"
        )
    return encoded


class PasswordHasher:
    """bcrypt at a configurable cost (12 in production, 4 in tests)."""

    def __init__(self, rounds: int) -> None:
        self._rounds = rounds
        self._dummy_hash: bytes | None = None
        self._dummy_lock = threading.Lock()

    def hash(self, password: str) -> str:
        encoded = check_policy(password)
        return bcrypt.hashpw(encoded, bcrypt.gensalt(rounds=self._rounds)).decode("ascii")

    def verify(self, password: str, password_hash: str) -> bool:
        """Constant-time check; a password that could never have been stored costs the same and fails."""
        candidate = _comparable(password)
        if candidate is None:
            self._spend_one_check()
            return False
        try:
            return bcrypt.checkpw(candidate, password_hash.encode("ascii"))
        except ValueError:  # a damaged stored hash: nobody gets in with it
            return False

    def verify_unknown(self, password: str) -> bool:
        """For an unknown email: the same bcrypt work as a wrong password, and always False."""
        self._spend_one_check(_comparable(password))
        return False

    def _spend_one_check(self, candidate: bytes | None = None) -> None:
        bcrypt.checkpw(candidate if candidate is not None else b"farewatch", self._dummy())

    def _dummy(self) -> bytes:
        # Same cost as real hashes, so checking against it takes as long as checking a real one.
        with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = bcrypt.hashpw(
                    b"no account has this password", bcrypt.gensalt(self._rounds)
                )
            return self._dummy_hash


def _comparable(password: str) -> bytes | None:
    try:
        encoded = password.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return encoded if len(encoded) <= MAX_BYTES else None
