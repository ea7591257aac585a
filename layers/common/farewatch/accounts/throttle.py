"""Brute-force protection: failed sign-ins counted per email and per source IP, with a fixed window.

A window opens at the first failure and lasts `login_failure_window_minutes`. Once it holds
`login_max_failures` failures for an email (or `login_ip_max_failures` for an IP), sign-in for it
answers 429 until the window ends, even with the right password, so guessing cannot continue by
waiting for a lucky answer. The check comes before the password is looked at.
"""

from __future__ import annotations

import math

from aws_lambda_powertools import Logger

from farewatch.accounts.values import FailureKind
from farewatch.clock import Clock
from farewatch.errors import TooManyRequests
from farewatch.store.auth_records import AuthRecordStore

logger = Logger(child=True)


class LoginThrottle:
    def __init__(
        self,
        store: AuthRecordStore,
        *,
        clock: Clock,
        max_failures_per_email: int,
        max_failures_per_ip: int,
        window_seconds: int,
    ) -> None:
        self._store = store
        self._clock = clock
        self._limits = {"email": max_failures_per_email, "ip": max_failures_per_ip}
        self._window = window_seconds

    def check(self, email: str, source_ip: str | None) -> None:
        """429 with Retry-After (seconds until the window ends) if the email or the IP is locked out."""
        now = self._clock.now()
        wait = 0.0
        for kind, subject in self._subjects(email, source_ip):
            failures = self._store.read_failures(kind, subject)
            if failures is None or failures.count < self._limits[kind]:
                continue
            window_end = failures.window_started + self._window
            if now < window_end:
                wait = max(wait, window_end - now)
        if wait > 0:
            raise TooManyRequests(
                "Too many failed sign-in attempts; try again later.",
                code="too_many_login_attempts",
                retry_after=math.ceil(wait),
            )

    def record_failure(self, email: str, source_ip: str | None, *, user_id: str | None = None) -> None:
        now = self._clock.now()
        for kind, subject in self._subjects(email, source_ip):
            failures = self._store.add_failure(
                kind,
                subject,
                now=now,
                window_seconds=self._window,
                user_id=user_id if kind == "email" else None,
            )
            if failures.count == self._limits[kind]:
                logger.warning("Sign-in locked out after repeated failures", extra={"by": kind})

    def record_success(self, email: str) -> None:
        # Only the email's counter: clearing the IP's would let one attacker reset it with their own account.
        self._store.clear_failures("email", email)

    @staticmethod
    def _subjects(email: str, source_ip: str | None) -> list[tuple[FailureKind, str]]:
        subjects: list[tuple[FailureKind, str]] = [("email", email)]
        if source_ip:
            subjects.append(("ip", source_ip))
        return subjects
