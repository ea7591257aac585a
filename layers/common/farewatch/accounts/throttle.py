"""Brute-force protection that cannot be turned against the account owner.

Failed sign-ins are counted per email *and source IP together*, and per source IP, in fixed windows
that open at the first failure and last `login_failure_window_minutes`:

- email + IP: after `login_max_failures` failures, each further try from that IP for that email must
  wait a growing delay after the last failure (1 s, 2 s, 4 s, ... up to the window), so guessing one
  password from one place slows to a crawl. Someone else's failures, from another IP, never delay the
  owner's sign-in: nobody can lock a victim out by failing on purpose.
- IP: after `login_ip_max_failures` failures (any emails), that IP is locked out (429) until the
  window ends. This is the only hard lock.

The check comes before the password is looked at, and a 429 carries Retry-After.
"""

from __future__ import annotations

import math

from aws_lambda_powertools import Logger

from farewatch.accounts.values import FailureKind
from farewatch.clock import Clock
from farewatch.errors import TooManyRequests
from farewatch.store.auth_records import AuthRecordStore

logger = Logger(child=True)

FIRST_DELAY_SECONDS = 1.0


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
        self._email_limit = max_failures_per_email
        self._ip_limit = max_failures_per_ip
        self._window = window_seconds

    def check(self, email: str, source_ip: str | None) -> None:
        """429 with Retry-After while the IP is locked out or the email+IP pair must still wait."""
        now = self._clock.now()
        wait = 0.0
        if source_ip:
            per_ip = self._store.read_failures("ip", source_ip)
            if per_ip is not None and per_ip.count >= self._ip_limit:
                wait = max(wait, per_ip.window_started + self._window - now)
        pair = self._store.read_failures("email_ip", _pair(email, source_ip))
        if pair is not None and pair.count >= self._email_limit and now < pair.window_started + self._window:
            wait = max(wait, pair.last_failed_at + self.delay_after(pair.count) - now)
        if wait > 0:
            raise TooManyRequests(
                "Too many failed sign-in attempts; try again later.",
                code="too_many_login_attempts",
                retry_after=math.ceil(wait),
            )

    def delay_after(self, failures: int) -> float:
        """How long the next try must wait after `failures` failures of one email from one IP."""
        if failures < self._email_limit:
            return 0.0
        return float(min(FIRST_DELAY_SECONDS * 2 ** (failures - self._email_limit), self._window))

    def record_failure(self, email: str, source_ip: str | None, *, user_id: str | None = None) -> None:
        now = self._clock.now()
        subjects: list[tuple[FailureKind, str, int]] = [
            ("email_ip", _pair(email, source_ip), self._email_limit)
        ]
        if source_ip:
            subjects.append(("ip", source_ip, self._ip_limit))
        for kind, subject, limit in subjects:
            failures = self._store.add_failure(
                kind,
                subject,
                now=now,
                window_seconds=self._window,
                user_id=user_id if kind == "email_ip" else None,
            )
            if failures.count == limit:
                logger.warning("Sign-in slowed down after repeated failures", extra={"by": kind})

    def record_success(self, email: str, source_ip: str | None) -> None:
        # Only the pair's counter: clearing the IP's would let one attacker reset it with their own account.
        self._store.clear_failures("email_ip", _pair(email, source_ip))


def _pair(email: str, source_ip: str | None) -> str:
    return f"{email}|{source_ip or '-'}"
