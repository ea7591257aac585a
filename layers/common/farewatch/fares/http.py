"""How every fare source talks HTTP: timeouts capped by the request's deadline, 429/5xx/transport
failures retried with capped, jittered exponential backoff, and the 502/503/504 left when retries end.

A fare source supplies one *attempt* (a callable that makes the exchange and reads the answer); this
module decides whether, when and how often to run it again. Only `TransientUpstreamFailure` is
retried: anything else an attempt raises (a rejected request, an unreadable body) ends the call at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from aws_lambda_powertools import Logger
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type
from tenacity.stop import stop_base
from tenacity.wait import wait_base
from urllib3.exceptions import ReadTimeoutError

from farewatch.clock import Clock
from farewatch.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable

logger = Logger(child=True)

ResultT = TypeVar("ResultT")

# An attempt that cannot get this long is not started: no upstream answers that fast, and starting it
# would only turn a clear "out of time" into a half-sent request.
MIN_ATTEMPT_SECONDS = 0.05

# One Lambda container serves one request at a time, but the local stack and the poller worker run
# about ten threads over one session: keep that many connections alive per host.
POOL_CONNECTIONS = 4
POOL_MAXSIZE = 16


def new_session() -> requests.Session:
    """A session whose connection pool fits ~10 concurrent callers and whose adapter never retries by
    itself (retries are this module's decision, made against the deadline)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=POOL_CONNECTIONS, pool_maxsize=POOL_MAXSIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class TransientUpstreamFailure(Exception):
    """An attempt failed in a way that may pass (429, 5xx, timeout, connection lost).

    `error` is what the caller sees if no retry succeeds; `retry_after` is the upstream's own hint.
    """

    def __init__(self, error: UpstreamError, *, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class TimeBudget:
    """The time one request may spend upstream, and the per-call timeouts that fit in it."""

    clock: Clock
    deadline: float
    connect_timeout: float
    read_timeout: float

    def remaining(self) -> float:
        return self.deadline - self.clock.now()

    def request_timeout(self, what: str) -> tuple[float, float]:
        """(connect, read) timeouts for the next HTTP call, neither reaching past the deadline."""
        remaining = self.remaining()
        if remaining < MIN_ATTEMPT_SECONDS:
            raise UpstreamTimeout(f"{what} ran out of time before it could be sent.")
        return min(self.connect_timeout, remaining), min(self.read_timeout, remaining)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried.

    Backoff is "equal jitter": before retry n the wait is drawn from [c/2, c] with
    c = min(cap, base * 2**(n-1)), so callers that failed together spread out, yet none comes back
    at once to an upstream that just said "too many requests". A Retry-After hint is honoured up to
    the cap.
    """

    max_attempts: int = 4
    backoff_base: float = 0.25
    backoff_cap: float = 2.0
    jitter: Callable[[], float] = field(default=random.random)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_cap < 0:
            raise ValueError("backoff must not be negative")

    def backoff(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry `retry_number` (1 for the first retry)."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(0, retry_number - 1))
        spread = min(1.0, max(0.0, self.jitter()))
        wait = ceiling / 2 + ceiling / 2 * spread
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(retry_after, self.backoff_cap))
        return wait


def call_within_budget(
    attempt: Callable[[], ResultT], *, budget: TimeBudget, policy: RetryPolicy, what: str
) -> ResultT:
    """Run `attempt` until it succeeds, fails for good, or retrying no longer fits the budget.

    The attempt gets its HTTP timeouts from `budget.request_timeout()`. Sleeps go through the
    budget's clock, so a test clock advances instead of waiting. When retries end, the last
    failure's `error` (an UpstreamError: 502, 503 or 504) is raised.
    """
    retrying = Retrying(
        sleep=budget.clock.sleep,
        stop=_StopWhenOutOfAttemptsOrTime(budget, policy.max_attempts),
        wait=_JitteredBackoff(policy),
        retry=retry_if_exception_type(TransientUpstreamFailure),
        before_sleep=lambda state: _log_retry(state, what),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except TransientUpstreamFailure as failure:
        logger.warning(
            "Giving up on upstream call",
            extra={"upstream": what, "code": failure.error.code, "status": failure.error.status},
        )
        raise failure.error from failure


class _StopWhenOutOfAttemptsOrTime(stop_base):
    """Stop after `max_attempts`, or when the coming backoff would leave no room for another attempt
    before the deadline (tenacity computes the wait before it asks whether to stop)."""

    def __init__(self, budget: TimeBudget, max_attempts: int) -> None:
        self._budget = budget
        self._max_attempts = max_attempts

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.attempt_number >= self._max_attempts:
            return True
        next_attempt_at = self._budget.clock.now() + retry_state.upcoming_sleep
        return next_attempt_at + MIN_ATTEMPT_SECONDS > self._budget.deadline


class _JitteredBackoff(wait_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome is not None else None
        retry_after = failure.retry_after if isinstance(failure, TransientUpstreamFailure) else None
        return self._policy.backoff(retry_state.attempt_number, retry_after)


def _log_retry(retry_state: RetryCallState, what: str) -> None:
    failure = retry_state.outcome.exception() if retry_state.outcome is not None else None
    code = failure.error.code if isinstance(failure, TransientUpstreamFailure) else type(failure).__name__
    logger.warning(
        "Upstream call failed; retrying",
        extra={
            "upstream": what,
            "attempt": retry_state.attempt_number,
            "wait_seconds": round(retry_state.upcoming_sleep, 3),
            "code": code,
        },
    )


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float],
    what: str,
    **kwargs: Any,
) -> requests.Response:
    """One HTTP exchange. Transport failures become TransientUpstreamFailure (504 for timeouts, 503
    for an unreachable host). Redirects are not followed, so credentials never travel elsewhere."""
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout as exc:
        raise TransientUpstreamFailure(UpstreamTimeout(f"{what} did not answer in time.")) from exc
    except requests.ConnectionError as exc:
        # requests reports a read timeout *while reading the body* as a ConnectionError.
        if any(isinstance(arg, ReadTimeoutError) for arg in exc.args):
            raise TransientUpstreamFailure(UpstreamTimeout(f"{what} did not answer in time.")) from exc
        raise TransientUpstreamFailure(
            UpstreamUnavailable(f"{what} could not be reached.", code="upstream_unreachable")
        ) from exc
    except requests.RequestException as exc:
        raise UpstreamError(f"{what} could not be sent.", code="upstream_error") from exc


def transient_failure_for(response: requests.Response, what: str) -> TransientUpstreamFailure | None:
    """The retryable failure a status stands for (429 → 503 rate limited, 5xx → 502), else None."""
    status = response.status_code
    if status == 429:
        return TransientUpstreamFailure(
            UpstreamUnavailable(f"{what} is rate limited; try again shortly.", code="upstream_rate_limited"),
            retry_after=retry_after_seconds(response.headers),
        )
    if status >= 500:
        return TransientUpstreamFailure(
            UpstreamError(f"{what} failed upstream (HTTP {status}).", code="upstream_error"),
            retry_after=retry_after_seconds(response.headers),
        )
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """A Retry-After given in seconds; the HTTP-date form is ignored (our cap is shorter anyway)."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


JSON_MEDIA_TYPES = frozenset({"application/json", "application/vnd.amadeus+json"})


def json_body(response: requests.Response, what: str) -> Any:
    """The decoded JSON body of a success response; an unreadable one is a 502 `upstream_bad_response`.

    The media type may be absent, plain JSON, or any `+json` vendor type; anything else is refused.
    """
    media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if media_type and media_type not in JSON_MEDIA_TYPES and not media_type.endswith("+json"):
        raise UpstreamError(f"{what} answered with {media_type}, not JSON.", code="upstream_bad_response")
    try:
        return response.json()
    except (ValueError, RecursionError) as exc:
        raise UpstreamError(
            f"{what} answered with a body that is not JSON.", code="upstream_bad_response"
        ) from exc
