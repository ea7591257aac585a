"""The Duffel fare source: an offer request, then its cheapest offers page by page, normalised into
`Offer`s. The only code that knows Duffel's URLs, headers, error shapes and offer fields.

Contract: Duffel API v2 (`Duffel-Version: v2`), `POST /air/offer_requests?return_offers=false` and
`GET /air/offers?offer_request_id=…&sort=total_amount`. Timeouts and retries follow
`farewatch.fares.http`, with Duffel's own rules: 429, 503 and 504 are retried (a 429 waits until
its `ratelimit-reset`, never past the deadline), while 500 and 502 are not (Duffel asks clients not to
retry them). The access token is a long-lived bearer token (`duffel_test_…` / `duffel_live_…`) read
from configuration on every search, so a rotated secret is picked up without a restart.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from aws_lambda_powertools import Logger
from pydantic import SecretStr

from farewatch.clock import Clock
from farewatch.errors import (
    FarewatchError,
    InvalidRequest,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from farewatch.fare_query import FareQuery
from farewatch.fares.http import (
    RetryPolicy,
    TimeBudget,
    TransientUpstreamFailure,
    call_within_budget,
    json_body,
    new_session,
    retry_after_seconds,
    send,
)
from farewatch.fares.offer_fields import (
    UnreadableOffer,
    duration_minutes,
    read_offers,
    required_list,
    required_mapping,
    required_text,
)
from farewatch.offers import Offer

logger = Logger(child=True)

OFFER_REQUESTS_PATH = "/air/offer_requests"
OFFERS_PATH = "/air/offers"
DUFFEL_VERSION = "v2"
# Duffel pages at most 200 offers; 50 is its default and plenty for a cheapest-fare cache entry.
MAX_PAGE_SIZE = 200
DEFAULT_READ_TIMEOUT = 20.0  # an offer request searches airlines live: seconds, not milliseconds

_OFFER_REQUEST = "The Duffel offer request"
_OFFERS = "The Duffel offer list"

AccessTokenProvider = Callable[[], SecretStr]
"""Returns the current Duffel access token; raises UpstreamUnavailable when none is configured."""


class _WaitForUpstreamPolicy(RetryPolicy):
    """Backoff that honours Duffel's wait in full (a `ratelimit-reset` may be seconds away) instead of
    capping it like Amadeus's Retry-After; the retry loop still stops when the wait would pass the
    deadline, so a reset beyond it ends the search at once with a 503."""

    def backoff(self, retry_number: int, retry_after: float | None = None) -> float:
        jittered = super().backoff(retry_number, None)
        if retry_after is not None and retry_after > 0:
            return max(jittered, retry_after)
        return jittered


@dataclass(frozen=True)
class RateLimitState:
    """What Duffel's `ratelimit-*` headers said on the last answer (logged, never enforced here)."""

    limit: int | None = None
    remaining: int | None = None

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> RateLimitState:
        return cls(_int_header(headers, "ratelimit-limit"), _int_header(headers, "ratelimit-remaining"))


class DuffelFareSource:
    """FareSource over Duffel offer requests: one-way, adults only, cheapest offers first."""

    name = "duffel"

    def __init__(
        self,
        *,
        base_url: str,
        access_token: AccessTokenProvider,
        clock: Clock,
        session: requests.Session | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_attempts: int = 4,
        backoff_base: float = 0.25,
        backoff_cap: float = 2.0,
        jitter: Callable[[], float] = random.random,
        max_offers: int = 50,
        page_size: int = 50,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be from 1 to {MAX_PAGE_SIZE}")
        self._base_url = base_url.rstrip("/")
        self._access_token = access_token
        self._clock = clock
        self._session = session if session is not None else new_session()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._policy = _WaitForUpstreamPolicy(
            max_attempts=max_attempts, backoff_base=backoff_base, backoff_cap=backoff_cap, jitter=jitter
        )
        self._max_offers = max_offers
        self._page_size = page_size

    def warm_up(self) -> None:
        """Read the access token at cold start (Secrets Manager, then cached); never raises.

        Duffel has no token exchange, so there is nothing else to prepare; a missing token is logged
        here so that an operator sees it before the first traveller does.
        """
        try:
            self._access_token()
        except Exception as exc:
            code = exc.code if isinstance(exc, FarewatchError) else type(exc).__name__
            logger.warning("The Duffel access token is not available at start-up", extra={"code": code})

    def search(self, query: FareQuery, *, deadline: float) -> list[Offer]:
        budget = TimeBudget(self._clock, deadline, self._connect_timeout, self._read_timeout)
        exchange = _Exchange(self._session, self._access_token(), budget, self._clock)
        created = call_within_budget(
            lambda: exchange.call(
                "POST",
                f"{self._base_url}{OFFER_REQUESTS_PATH}",
                what=_OFFER_REQUEST,
                params={"return_offers": "false"},
                json={"data": offer_request_body(query)},
            ),
            budget=budget,
            policy=self._policy,
            what=_OFFER_REQUEST,
        )
        offer_request_id = _offer_request_id(created)
        raw_offers: list[Any] = []
        after: str | None = None
        pages = 0
        while len(raw_offers) < self._max_offers:
            params = {
                "offer_request_id": offer_request_id,
                "sort": "total_amount",
                "limit": str(min(self._page_size, self._max_offers - len(raw_offers))),
            }
            if after is not None:
                params["after"] = after
            page = call_within_budget(
                partial(exchange.call, "GET", f"{self._base_url}{OFFERS_PATH}", what=_OFFERS, params=params),
                budget=budget,
                policy=self._policy,
                what=_OFFERS,
            )
            pages += 1
            raw_offers.extend(_page_offers(page))
            after = _next_cursor(page)
            if after is None:
                break
        offers = normalise_offers(raw_offers[: self._max_offers], query)
        logger.info(
            "Duffel search answered",
            extra={
                "fare_query": query.cache_key,
                "offer_request_id": offer_request_id,
                "offers": len(offers),
                "pages": pages,
                "requests_sent": exchange.requests_sent,
                "ratelimit_remaining": exchange.rate_limit.remaining,
                "ratelimit_limit": exchange.rate_limit.limit,
            },
        )
        return offers


class _Exchange:
    """One search's HTTP calls: Duffel's headers, the bearer token, and each answer read into data
    or into the error it stands for. Remembers the last rate-limit headers for the search's log line."""

    def __init__(self, session: requests.Session, token: SecretStr, budget: TimeBudget, clock: Clock) -> None:
        self._session = session
        self._token = token
        self._budget = budget
        self._clock = clock
        self.requests_sent = 0
        self.rate_limit = RateLimitState()

    def call(self, method: str, url: str, *, what: str, **kwargs: Any) -> Mapping[str, Any]:
        self.requests_sent += 1
        response = send(
            self._session,
            method,
            url,
            timeout=self._budget.request_timeout(what),
            what=what,
            headers={
                "Authorization": f"Bearer {self._token.get_secret_value()}",
                "Duffel-Version": DUFFEL_VERSION,
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
                "Content-Type": "application/json",
            },
            **kwargs,
        )
        self.rate_limit = RateLimitState.of(response.headers)
        return self._read(response, what)

    def _read(self, response: requests.Response, what: str) -> Mapping[str, Any]:
        status = response.status_code
        if status in (200, 201):
            body = json_body(response, what)
            if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping | list):
                raise UpstreamError(f"{what} answered without a data member.", code="upstream_bad_response")
            return body
        problem = duffel_problem(response, secrets=(self._token.get_secret_value(),))
        log_fields = {"status": status, **problem}
        retryable = _retryable_error(status, what)
        if retryable is not None:
            logger.warning("Duffel call failed; may retry", extra=log_fields)
            raise TransientUpstreamFailure(
                retryable, retry_after=upstream_wait(response.headers, self._clock.now())
            )
        logger.error("Duffel call failed", extra=log_fields)
        raise _final_error(status, what, problem)


def _retryable_error(status: int, what: str) -> UpstreamError | None:
    """The error a status stands for when waiting and asking again may help (429, 503, 504), else None."""
    if status == 429:
        return UpstreamUnavailable(
            "The fare API is rate limited; try again shortly.", code="upstream_rate_limited"
        )
    if status == 503:
        return UpstreamUnavailable("The fare API is temporarily unavailable.", code="upstream_unavailable")
    if status == 504:
        return UpstreamTimeout(f"{what} did not answer in time (HTTP 504).")
    return None


def _final_error(status: int, what: str, problem: Mapping[str, Any]) -> FarewatchError:
    """The error for a status that asking again would not fix."""
    if status in (401, 403):
        # The token is missing, revoked, of the wrong mode or lacks permission: an operator's problem.
        return UpstreamUnavailable(
            "The fare source is not configured: Duffel refused Farewatch's access token.",
            code="upstream_not_configured",
        )
    if status >= 500:
        # 500 and 502: Duffel asks clients not to retry them.
        return UpstreamError(f"{what} failed upstream (HTTP {status}).", code="upstream_error")
    if status == 422 and "validation_error" in problem.get("types", []):
        # Duffel could not search what the traveller asked for (e.g. a place it does not sell).
        return InvalidRequest(
            "The fare source cannot search this route and date.",
            code="rejected_by_fare_source",
            details=[{"issue": title} for title in problem.get("titles", [])],
        )
    return UpstreamError(f"{what} rejected the request (HTTP {status}).", code="upstream_rejected")


def upstream_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until Duffel says to come back: `ratelimit-reset` (an HTTP-date), else Retry-After."""
    reset = headers.get("ratelimit-reset")
    if reset:
        try:
            moment = parsedate_to_datetime(reset)
            # RFC 1123 dates are GMT; a date without a zone ("-0000") is read as UTC, never local time.
            reset_at: float | None = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        except (TypeError, ValueError):
            reset_at = None
        if reset_at is not None:
            return max(0.0, reset_at - now)
    return retry_after_seconds(headers)


def duffel_problem(response: requests.Response, *, secrets: Iterable[str]) -> dict[str, Any]:
    """The fields of a Duffel `errors[]` body worth logging, secrets scrubbed: types, codes, titles,
    messages and the request id Duffel support asks for."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, Mapping):
        return {}
    problem: dict[str, Any] = {}
    errors = body.get("errors")
    if isinstance(errors, list):
        readable = [error for error in errors[:5] if isinstance(error, Mapping)]
        for field, key in (
            ("type", "types"),
            ("code", "codes"),
            ("title", "titles"),
            ("message", "messages"),
        ):
            values = [_scrub(str(error[field]), secrets) for error in readable if error.get(field)]
            if values:
                problem[key] = values
    meta = body.get("meta")
    if isinstance(meta, Mapping) and isinstance(meta.get("request_id"), str):
        problem["request_id"] = meta["request_id"]
    return problem


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """Upstream echoes are logged; none may carry the access token into our logs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    return int(value) if value is not None and value.strip().isdigit() else None


def offer_request_body(
    query: FareQuery, *, nonstop: bool = False, cabin_class: str | None = None
) -> dict[str, Any]:
    """The `data` of a one-way offer request.

    Farewatch caches every offer of a query and filters nonstop and cabin locally, so searches send
    neither; the options exist for callers that want Duffel to narrow the search itself.
    """
    body: dict[str, Any] = {
        "slices": [
            {
                "origin": query.origin,
                "destination": query.destination,
                "departure_date": query.departure_date.isoformat(),
            }
        ],
        "passengers": [{"type": "adult"} for _ in range(query.adults)],
    }
    if cabin_class is not None:
        body["cabin_class"] = cabin_class
    if nonstop:
        body["max_connections"] = 0
    return body


def _offer_request_id(created: Mapping[str, Any]) -> str:
    data = created.get("data")
    offer_request_id = data.get("id") if isinstance(data, Mapping) else None
    if not isinstance(offer_request_id, str) or not offer_request_id:
        raise UpstreamError(f"{_OFFER_REQUEST} answered without an id.", code="upstream_bad_response")
    return offer_request_id


def _page_offers(page: Mapping[str, Any]) -> list[Any]:
    data = page.get("data")
    if not isinstance(data, list):
        raise UpstreamError(f"{_OFFERS} answered without a data list.", code="upstream_bad_response")
    return data


def _next_cursor(page: Mapping[str, Any]) -> str | None:
    meta = page.get("meta")
    after = meta.get("after") if isinstance(meta, Mapping) else None
    return after if isinstance(after, str) and after else None


# -- normalisation -----------------------------------------------------------------------------------


def normalise_offers(raw_offers: list[Any], query: FareQuery) -> list[Offer]:
    """Duffel offers as `Offer`s, in upstream order, only those priced in the query's currency.

    Duffel has no currency parameter: an airline prices in its own selling currency. Farewatch has
    no exchange rates, and a price in another currency can be neither compared nor stored in the
    query's history series, so such offers are dropped (and counted in a warning). When offers came
    back but none is in the asked currency, the answer is a 502 `upstream_currency_unavailable`
    rather than "no offers" (that would be a lie, and it would be cached). An offer that cannot be
    read is skipped; if none can, the reply is a 502 `upstream_bad_response`, as for Amadeus.
    """
    readable = read_offers(raw_offers, _offer, query, source="Duffel", answered_by=_OFFERS)
    offers = [offer for offer in readable if offer.currency == query.currency]
    if len(offers) < len(readable):
        logger.warning(
            "Dropping Duffel offers priced in another currency",
            extra={
                "fare_query": query.cache_key,
                "dropped": len(readable) - len(offers),
                "currencies": sorted({offer.currency for offer in readable} - {query.currency}),
            },
        )
    if readable and not offers:
        raise UpstreamError(
            f"The fare source prices this route in {readable[0].currency}, not {query.currency}.",
            code="upstream_currency_unavailable",
        )
    return offers


def _offer(raw: Any) -> Offer:
    offer = required_mapping(raw, "offer")
    slices = required_list(offer.get("slices"), "slices")
    if len(slices) != 1:
        raise UnreadableOffer(f"expected one slice (one-way), got {len(slices)}")
    journey = required_mapping(slices[0], "slice")
    raw_segments = required_list(journey.get("segments"), "segments")
    segments = [required_mapping(segment, "segment") for segment in raw_segments]
    if not segments:
        raise UnreadableOffer("slice has no segments")
    first, last = segments[0], segments[-1]
    departure_at = _local_time(first.get("departing_at"), "departing_at")
    arrival_at = _local_time(last.get("arriving_at"), "arriving_at")
    origin = _place(first.get("origin")) or _place(journey.get("origin"))
    destination = _place(last.get("destination")) or _place(journey.get("destination"))
    return Offer(
        id=required_text(offer.get("id"), "id"),
        price=_amount(offer.get("total_amount")),
        currency=required_text(offer.get("total_currency"), "total_currency"),
        carrier=_carrier(offer, first),
        flight_numbers=[_flight_number(segment) for segment in segments],
        stops=(len(segments) - 1) + sum(_technical_stops(segment) for segment in segments),
        departure_at=departure_at,
        arrival_at=arrival_at,
        origin=required_text(origin, "origin.iata_code"),
        destination=required_text(destination, "destination.iata_code"),
        duration_minutes=_slice_minutes(journey, first, last, departure_at, arrival_at),
    )


def _place(value: Any) -> str | None:
    code = value.get("iata_code") if isinstance(value, Mapping) else None
    return code if isinstance(code, str) and code else None


def _carrier(offer: Mapping[str, Any], first_segment: Mapping[str, Any]) -> str:
    """The offer's owner is the airline that sells (validates) it; else the first marketing carrier."""
    owner = offer.get("owner")
    code = owner.get("iata_code") if isinstance(owner, Mapping) else None
    if isinstance(code, str) and code:
        return code
    marketing = required_mapping(first_segment.get("marketing_carrier"), "marketing_carrier")
    return required_text(marketing.get("iata_code"), "marketing_carrier.iata_code")


def _flight_number(segment: Mapping[str, Any]) -> str:
    marketing = required_mapping(segment.get("marketing_carrier"), "marketing_carrier")
    return required_text(marketing.get("iata_code"), "marketing_carrier.iata_code") + required_text(
        segment.get("marketing_carrier_flight_number"), "marketing_carrier_flight_number"
    )


def _technical_stops(segment: Mapping[str, Any]) -> int:
    stops = segment.get("stops")
    return len(stops) if isinstance(stops, list) else 0


def _slice_minutes(
    journey: Mapping[str, Any],
    first: Mapping[str, Any],
    last: Mapping[str, Any],
    departure_at: str,
    arrival_at: str,
) -> int:
    """The slice's own duration; Duffel may leave it null, and then the local times are compared in
    the airports' time zones (which Duffel gives with every place)."""
    duration = journey.get("duration")
    if isinstance(duration, str) and duration:
        try:
            return duration_minutes(duration)
        except ValueError as exc:
            raise UnreadableOffer(str(exc)) from exc
    departs = _zoned(departure_at, first.get("origin"))
    arrives = _zoned(arrival_at, last.get("destination"))
    minutes = int((arrives - departs).total_seconds() // 60)
    if minutes < 0:
        raise UnreadableOffer("the slice arrives before it departs")
    return minutes


def _zoned(local_time: str, place: Any) -> datetime:
    zone_name = place.get("time_zone") if isinstance(place, Mapping) else None
    if not isinstance(zone_name, str) or not zone_name:
        raise UnreadableOffer("slice has no duration and its places no time zone")
    try:
        return datetime.fromisoformat(local_time).replace(tzinfo=ZoneInfo(zone_name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnreadableOffer(f"unknown time zone {zone_name!r}") from exc


def _amount(value: Any) -> Decimal:
    if not isinstance(value, str) or not value:
        raise UnreadableOffer("offer has no total_amount")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise UnreadableOffer(f"total_amount {value!r} is not a number") from exc
    if not amount.is_finite() or amount < 0:
        raise UnreadableOffer(f"total_amount {value!r} is not a usable amount")
    return amount


def _local_time(value: Any, what: str) -> str:
    """Duffel writes local times without an offset, exactly what `Offer` stores."""
    text = required_text(value, what)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UnreadableOffer(f"{what} {text!r} is not an ISO 8601 date-time") from exc
    if moment.tzinfo is not None:
        raise UnreadableOffer(f"{what} {text!r} carries an offset; a local time was expected")
    return text
