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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any, TypeVar

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
from farewatch.fares.answers import (
    Amount,
    Answer,
    NaiveLocalDateTime,
    NonEmpty,
    OneOrTwo,
    OptionalDurationMinutes,
    ReadableItems,
    Text,
    TimeZone,
    Tolerated,
    UnreadableOffer,
    UpstreamOffer,
    in_currency,
    minutes_between,
    read_answer,
    read_failure,
    read_offers,
    scrub,
)
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
from farewatch.fares.pacing import UpstreamPacer
from farewatch.fares.source import warm_up_quietly
from farewatch.offers import Leg, Offer

logger = Logger(child=True)

OFFER_REQUESTS_PATH = "/air/offer_requests"
OFFERS_PATH = "/air/offers"
DUFFEL_VERSION = "v2"
# Duffel pages at most 200 offers; 50 is its default and plenty for a cheapest-fare cache entry.
MAX_PAGE_SIZE = 200
DEFAULT_READ_TIMEOUT = 20.0  # an offer request searches airlines live: seconds, not milliseconds

_OFFER_REQUEST = "The Duffel offer request"
_OFFERS = "The Duffel offer list"

AnswerT = TypeVar("AnswerT", bound=Answer)


@dataclass(frozen=True)
class DuffelCredentials:
    """Our Duffel access token (`duffel_test_…` / `duffel_live_…`). A SecretStr, so a repr, a log line
    or a traceback shows `**********`, never the value."""

    access_token: SecretStr


CredentialsProvider = Callable[[], DuffelCredentials]
"""Returns the current credentials; raises UpstreamUnavailable when none are configured."""


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
    """FareSource over Duffel offer requests: one way or round trip, adults only, cheapest first."""

    name = "duffel"

    def __init__(
        self,
        *,
        base_url: str,
        credentials: CredentialsProvider,
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
        pacer: UpstreamPacer | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be from 1 to {MAX_PAGE_SIZE}")
        self._base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._clock = clock
        self._session = session if session is not None else new_session()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._policy = _WaitForUpstreamPolicy(
            max_attempts=max_attempts, backoff_base=backoff_base, backoff_cap=backoff_cap, jitter=jitter
        )
        self._max_offers = max_offers
        self._page_size = page_size
        self._pacer = pacer

    def upstream_query(self, query: FareQuery) -> FareQuery:
        """Duffel searches every part of a trip itself (slices, `cabin_class`, `max_connections`)."""
        return query

    def warm_up(self) -> None:
        """Read the access token at cold start (Secrets Manager, then cached); never raises.

        Duffel has no token exchange, so there is nothing else to prepare; a missing token is logged
        here so that an operator sees it before the first traveller does.
        """
        warm_up_quietly(self._credentials, failure="The Duffel access token is not available at start-up")

    def search(self, query: FareQuery, *, deadline: float) -> list[Offer]:
        budget = TimeBudget(self._clock, deadline, self._connect_timeout, self._read_timeout)
        exchange = _Exchange(
            self._session, self._credentials().access_token, budget, self._clock, pacer=self._pacer
        )
        created = call_within_budget(
            lambda: exchange.call(
                "POST",
                f"{self._base_url}{OFFER_REQUESTS_PATH}",
                what=_OFFER_REQUEST,
                answer=DuffelCreatedOfferRequest,
                params={"return_offers": "false"},
                json={"data": offer_request_body(query)},
            ),
            budget=budget,
            policy=self._policy,
            what=_OFFER_REQUEST,
        )
        offer_request_id = created.data.id
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
                partial(
                    exchange.call,
                    "GET",
                    f"{self._base_url}{OFFERS_PATH}",
                    what=_OFFERS,
                    answer=DuffelOfferPage,
                    params=params,
                ),
                budget=budget,
                policy=self._policy,
                what=_OFFERS,
            )
            pages += 1
            raw_offers.extend(page.data)
            after = page.meta.after if page.meta is not None else None
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

    def __init__(
        self,
        session: requests.Session,
        token: SecretStr,
        budget: TimeBudget,
        clock: Clock,
        *,
        pacer: UpstreamPacer | None = None,
    ) -> None:
        self._pacer = pacer
        self._session = session
        self._token = token
        self._budget = budget
        self._clock = clock
        self.requests_sent = 0
        self.rate_limit = RateLimitState()

    def call(self, method: str, url: str, *, what: str, answer: type[AnswerT], **kwargs: Any) -> AnswerT:
        if self._pacer is not None:  # every request sent, retries included, waits for its fleet-wide slot
            self._pacer.wait_turn(deadline=self._budget.deadline, what=what)
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
        return self._read(response, what, answer)

    def _read(self, response: requests.Response, what: str, answer: type[AnswerT]) -> AnswerT:
        status = response.status_code
        if status in (200, 201):
            return read_answer(json_body(response, what), answer, what)
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


def duffel_problem(response: requests.Response, *, secrets: tuple[str, ...]) -> dict[str, Any]:
    """The fields of a Duffel `errors[]` body worth logging, secrets scrubbed: types, codes, titles,
    messages and the request id Duffel support asks for."""
    body = read_failure(response, DuffelErrors)
    errors = (body.errors or [])[:5]
    problem: dict[str, Any] = {}
    for field, key in (("type", "types"), ("code", "codes"), ("title", "titles"), ("message", "messages")):
        values = [scrub(getattr(error, field), secrets) for error in errors if getattr(error, field)]
        if values:
            problem[key] = values
    if body.meta is not None and body.meta.request_id is not None:
        problem["request_id"] = body.meta.request_id
    return problem


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    return int(value) if value is not None and value.strip().isdigit() else None


def offer_request_body(query: FareQuery) -> dict[str, Any]:
    """The `data` of an offer request for a trip: one slice (one way) or two (out, then back), the
    cabin as `cabin_class`, and `max_stops` as `max_connections` (Duffel applies it to each slice)."""
    slices = [
        {
            "origin": query.origin,
            "destination": query.destination,
            "departure_date": query.departure_date.isoformat(),
        }
    ]
    if query.return_date is not None:
        slices.append(
            {
                "origin": query.destination,
                "destination": query.origin,
                "departure_date": query.return_date.isoformat(),
            }
        )
    body: dict[str, Any] = {
        "slices": slices,
        "passengers": [{"type": "adult"} for _ in range(query.adults)],
        "cabin_class": query.cabin,
    }
    if query.max_stops is not None:
        body["max_connections"] = query.max_stops
    return body


# -- answers ---------------------------------------------------------------------------------------
# The parts of Duffel's answers that Farewatch reads (API v2: offer requests, offers, errors).


class DuffelError(Answer):
    type: Tolerated[str] = None
    code: Tolerated[str] = None
    title: Tolerated[str] = None
    message: Tolerated[str] = None


class DuffelErrorMeta(Answer):
    request_id: Tolerated[str] = None


class DuffelErrors(Answer):
    errors: Tolerated[ReadableItems[DuffelError]] = None
    meta: Tolerated[DuffelErrorMeta] = None


class DuffelOfferRequest(Answer):
    id: Text


class DuffelCreatedOfferRequest(Answer):
    data: DuffelOfferRequest


class DuffelPageMeta(Answer):
    after: Tolerated[Text] = None  # the next page's cursor; absent on the last page


class DuffelOfferPage(Answer):
    data: list[Any]  # the offers, read one by one
    meta: Tolerated[DuffelPageMeta] = None


class DuffelPlace(Answer):
    iata_code: Tolerated[Text] = None
    time_zone: Tolerated[TimeZone] = None


class DuffelCarrier(Answer):
    iata_code: Text


class DuffelOwner(Answer):
    iata_code: Tolerated[Text] = None


class DuffelSegment(Answer):
    origin: Tolerated[DuffelPlace] = None
    destination: Tolerated[DuffelPlace] = None
    # Only the first departure and the last arrival are read; `to_offer` insists on those.
    departing_at: NaiveLocalDateTime | None = None
    arriving_at: NaiveLocalDateTime | None = None
    marketing_carrier: DuffelCarrier
    marketing_carrier_flight_number: Text
    stops: Tolerated[list[Any]] = None  # technical stops inside the segment


class DuffelSlice(Answer):
    origin: Tolerated[DuffelPlace] = None
    destination: Tolerated[DuffelPlace] = None
    duration: OptionalDurationMinutes = None  # Duffel may leave it null
    segments: NonEmpty[DuffelSegment]


def _journey(journey: DuffelSlice) -> Leg:
    first, last = journey.segments[0], journey.segments[-1]
    if first.departing_at is None or last.arriving_at is None:
        raise UnreadableOffer("the slice has no departure or no arrival time")
    origin = _iata_code(first.origin) or _iata_code(journey.origin)
    destination = _iata_code(last.destination) or _iata_code(journey.destination)
    if origin is None or destination is None:
        raise UnreadableOffer("the slice has no origin or no destination")
    return Leg(
        flight_numbers=[
            segment.marketing_carrier.iata_code + segment.marketing_carrier_flight_number
            for segment in journey.segments
        ],
        stops=(len(journey.segments) - 1) + sum(len(segment.stops or []) for segment in journey.segments),
        departure_at=first.departing_at,
        arrival_at=last.arriving_at,
        origin=origin,
        destination=destination,
        duration_minutes=_slice_minutes(journey, first, last),
    )


class DuffelOffer(UpstreamOffer):
    id: Text
    total_amount: Amount
    total_currency: Text
    owner: Tolerated[DuffelOwner] = None  # the airline that sells (validates) the offer
    slices: OneOrTwo[DuffelSlice]  # one way: one slice; a round trip: out, then back

    def to_offer(self) -> Offer:
        out = _journey(self.slices[0])
        back = _journey(self.slices[1]) if len(self.slices) == 2 else None
        owner = self.owner.iata_code if self.owner is not None else None
        return Offer(
            id=self.id,
            price=self.total_amount,
            currency=self.total_currency,
            carrier=owner or self.slices[0].segments[0].marketing_carrier.iata_code,
            inbound=back,
            **out.model_dump(),
        )


def _iata_code(place: DuffelPlace | None) -> str | None:
    return place.iata_code if place is not None else None


def _slice_minutes(journey: DuffelSlice, first: DuffelSegment, last: DuffelSegment) -> int:
    """The slice's own duration; when Duffel leaves it null, the local times are compared in the
    airports' time zones (which Duffel gives with every place)."""
    if journey.duration is not None:
        return journey.duration
    departs_in = first.origin.time_zone if first.origin is not None else None
    arrives_in = last.destination.time_zone if last.destination is not None else None
    if departs_in is None or arrives_in is None or first.departing_at is None or last.arriving_at is None:
        raise UnreadableOffer("slice has no duration and its places no time zone")
    return minutes_between(first.departing_at, departs_in, last.arriving_at, arrives_in)


def normalise_offers(raw_offers: list[Any], query: FareQuery) -> list[Offer]:
    """Duffel offers as `Offer`s, in upstream order, only those priced in the query's currency.

    Duffel has no currency parameter: an airline prices in its own selling currency, so offers in
    another currency are dropped, and a reply of only such offers is a 502
    `upstream_currency_unavailable` (`fares.answers.in_currency`). An offer that cannot be read is
    skipped; if none can, the reply is a 502 `upstream_bad_response`, as for Amadeus.
    """
    readable = read_offers(raw_offers, DuffelOffer, query, source="Duffel", answered_by=_OFFERS)
    return in_currency(readable, query, source="Duffel")
