"""The Amadeus fare source: client-credentials tokens, the Flight Offers Search call, and the
normalisation of its offers into `Offer`s. The only code that knows Amadeus's URLs, codes and shapes.

Contract: the Amadeus Self-Service OpenAPI files (Authorization v1, Flight Offers Search v2).
Retries and timeouts follow `farewatch.fares.http`; access tokens come from a `TokenProvider`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import requests
from aws_lambda_powertools import Logger
from pydantic import BeforeValidator, ConfigDict, PlainValidator, SecretStr, ValidationError
from pydantic.alias_generators import to_camel

from farewatch.clock import Clock
from farewatch.errors import UpstreamError
from farewatch.fare_query import DEFAULT_CABIN, FareQuery
from farewatch.fares.answers import (
    Amount,
    Answer,
    Count,
    DurationMinutes,
    LocalDateTime,
    NonEmpty,
    OneOrTwo,
    ReadableItems,
    Text,
    Tolerated,
    UnreadableOffer,
    UpstreamOffer,
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
    send,
    transient_failure_for,
)
from farewatch.fares.pacing import UpstreamPacer
from farewatch.fares.source import warm_up_quietly
from farewatch.fares.tokens_api import IssuedToken, TokenProvider
from farewatch.offers import Leg, Offer

logger = Logger(child=True)

AUTHORIZATION_PATH = "/v1/security/oauth2/token"
FLIGHT_OFFERS_PATH = "/v2/shopping/flight-offers"
AMADEUS_MEDIA_TYPE = "application/vnd.amadeus+json"

# 401 codes that mean "this access token is no longer good" (38190 invalid, 38192 expired): worth
# one fresh token. Any other 401 would fail again with a new token too.
STALE_TOKEN_CODES = frozenset({38190, 38192})

_SEARCH = "The Amadeus flight search"
_AUTHORIZATION = "The Amadeus authorization endpoint"


@dataclass(frozen=True)
class AmadeusCredentials:
    """The API key and secret of our Amadeus application. The secret is a SecretStr, so a repr, a log
    line or a traceback shows `**********`, never the value."""

    client_id: str
    client_secret: SecretStr


class AmadeusTokenIssuer:
    """Asks Amadeus for a new access token (OAuth2 client credentials). One attempt per call: the
    TokenManager decides when to ask again and keeps using a still-valid token when this fails."""

    def __init__(
        self,
        base_url: str,
        credentials_provider: Callable[[], AmadeusCredentials],
        *,
        session: requests.Session | None = None,
        clock: Clock,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
    ) -> None:
        self._url = base_url.rstrip("/") + AUTHORIZATION_PATH
        self._credentials_provider = credentials_provider
        self._session = session if session is not None else new_session()
        self._clock = clock
        self._timeout = (connect_timeout, read_timeout)

    def __call__(self) -> IssuedToken:
        credentials = self._credentials_provider()
        # The token's lifetime is counted from before the request: it can only be shorter than we think.
        requested_at = self._clock.now()
        form = {
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.get_secret_value(),
        }
        try:
            response = send(
                self._session,
                "POST",
                self._url,
                timeout=self._timeout,
                what=_AUTHORIZATION,
                data=form,
                headers={"Accept": "application/json"},
            )
        except TransientUpstreamFailure as failure:
            raise failure.error from failure
        if response.status_code == 200:
            token = _issued_token(json_body(response, _AUTHORIZATION), requested_at)
            logger.info("Amadeus issued an access token", extra={"expires_at": token.expires_at})
            return token
        problem = _oauth_problem(response, secrets=(form["client_secret"],))
        if response.status_code in (400, 401):
            logger.error(
                "Amadeus refused our client credentials", extra={"status": response.status_code, **problem}
            )
            raise UpstreamError(
                "The fare API refused Farewatch's client credentials.", code="upstream_auth_failed"
            )
        transient = transient_failure_for(response, _AUTHORIZATION)
        if transient is not None:
            logger.warning("Amadeus token request failed", extra={"status": response.status_code, **problem})
            raise transient.error
        logger.error("Amadeus token request rejected", extra={"status": response.status_code, **problem})
        raise UpstreamError(
            f"{_AUTHORIZATION} rejected the request (HTTP {response.status_code}).", code="upstream_rejected"
        )


def _issued_token(body: Any, requested_at: float) -> IssuedToken:
    try:
        granted = AmadeusToken.model_validate(body)
    except ValidationError:
        # Never logged: the body of a token answer carries the token.
        raise UpstreamError(
            f"{_AUTHORIZATION} answered without a usable token.", code="upstream_bad_response"
        ) from None
    return IssuedToken(value=granted.access_token, expires_at=requested_at + granted.expires_in)


def _oauth_problem(response: requests.Response, *, secrets: Iterable[str]) -> dict[str, Any]:
    """The OAuth error fields worth logging (error, code, title, description), secrets scrubbed."""
    return scrub(read_failure(response, AmadeusOAuthProblem).model_dump(exclude_none=True), tuple(secrets))


class AmadeusFareSource:
    """FareSource over Amadeus Flight Offers Search (GET, one-way, one itinerary per offer)."""

    name = "amadeus"

    def __init__(
        self,
        *,
        base_url: str,
        tokens: TokenProvider,
        clock: Clock,
        session: requests.Session | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_base: float = 0.25,
        backoff_cap: float = 2.0,
        jitter: Callable[[], float] = random.random,
        max_offers: int = 50,
        pacer: UpstreamPacer | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + FLIGHT_OFFERS_PATH
        self._pacer = pacer
        self._tokens = tokens
        self._clock = clock
        self._session = session if session is not None else new_session()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._policy = RetryPolicy(
            max_attempts=max_attempts, backoff_base=backoff_base, backoff_cap=backoff_cap, jitter=jitter
        )
        self._max_offers = max_offers

    def upstream_query(self, query: FareQuery) -> FareQuery:
        """The trip Amadeus searches: `nonStop` covers `max_stops=0` only, so 1 and 2 stops are
        searched as "any stops" (one search and one cache entry shared with it) and filtered after."""
        return query if query.max_stops in (None, 0) else query.model_copy(update={"max_stops": None})

    def warm_up(self) -> None:
        """Get an access token at cold start; a failure is logged and left to the first search."""
        warm_up_quietly(self._tokens.get, failure="Could not get an Amadeus access token at start-up")

    def search(self, query: FareQuery, *, deadline: float) -> list[Offer]:
        budget = TimeBudget(self._clock, deadline, self._connect_timeout, self._read_timeout)
        params = flight_offers_params(query, max_offers=self._max_offers)
        attempt = _SearchAttempt(self._tokens, lambda token: self._get_offers(params, token, budget))
        payload = call_within_budget(attempt, budget=budget, policy=self._policy, what=_SEARCH)
        offers = normalise_offers(payload, query)
        logger.info(
            "Amadeus search answered",
            extra={
                "fare_query": query.cache_key,
                "offers": len(offers),
                "requests_sent": attempt.requests_sent,
            },
        )
        return offers

    def _get_offers(self, params: Mapping[str, str], token: str, budget: TimeBudget) -> requests.Response:
        if self._pacer is not None:  # every request sent, retries included, waits for its fleet-wide slot
            self._pacer.wait_turn(deadline=budget.deadline, what=_SEARCH)
        return send(
            self._session,
            "GET",
            self._url,
            timeout=budget.request_timeout(_SEARCH),
            what=_SEARCH,
            params=params,
            headers={"Authorization": f"Bearer {token}", "Accept": AMADEUS_MEDIA_TYPE},
        )


class _SearchAttempt:
    """One attempt of one search, called again by the retry policy. Remembers, across attempts,
    whether the single token refresh this search is allowed has been spent."""

    def __init__(self, tokens: TokenProvider, get_offers: Callable[[str], requests.Response]) -> None:
        self._tokens = tokens
        self._get_offers = get_offers
        self.token_refreshed = False
        self.requests_sent = 0

    def __call__(self) -> Any:
        token = self._tokens.get()
        response = self._send(token)
        if response.status_code == 401 and not self.token_refreshed:
            codes = _amadeus_error_codes(response)
            if codes & STALE_TOKEN_CODES:
                self.token_refreshed = True
                logger.info(
                    "Amadeus refused the access token; refreshing it once", extra={"codes": sorted(codes)}
                )
                self._tokens.invalidate(token)
                token = self._tokens.get()
                response = self._send(token)
        return self._read(response, token)

    def _send(self, token: str) -> requests.Response:
        self.requests_sent += 1
        return self._get_offers(token)

    def _read(self, response: requests.Response, token: str) -> Any:
        """The decoded body of a 200 (read into models by `normalise_offers`), or the error it stands for."""
        status = response.status_code
        if status == 200:
            return json_body(response, _SEARCH)
        issues = _amadeus_issues(response, secrets=(token,))
        transient = transient_failure_for(response, _SEARCH)
        if transient is not None:
            logger.warning("Amadeus search failed", extra={"status": status, "issues": issues})
            raise transient
        if status == 401:
            logger.error("Amadeus refused our access token", extra={"status": status, "issues": issues})
            raise UpstreamError("The fare API refused Farewatch's access token.", code="upstream_auth_failed")
        logger.error("Amadeus rejected the search", extra={"status": status, "issues": issues})
        raise UpstreamError(f"{_SEARCH} rejected the request (HTTP {status}).", code="upstream_rejected")


def flight_offers_params(query: FareQuery, *, max_offers: int) -> dict[str, str]:
    """The GET query string of Flight Offers Search for a trip: `returnDate` for a round trip,
    `travelClass` for the cabin, `nonStop=true` for `max_stops=0` (Amadeus has no "at most one stop":
    `upstream_query` leaves that to the fare service's filter)."""
    params: dict[str, str | int | bool] = {
        "originLocationCode": query.origin,
        "destinationLocationCode": query.destination,
        "departureDate": query.departure_date.isoformat(),
        "adults": query.adults,
        "currencyCode": query.currency,
        "max": max_offers,
    }
    if query.return_date is not None:
        params["returnDate"] = query.return_date.isoformat()
    if query.cabin != DEFAULT_CABIN:
        params["travelClass"] = query.cabin.upper()
    if query.max_stops == 0:
        params["nonStop"] = True
    return {name: _query_value(value) for name, value in params.items()}


def _query_value(value: str | int | bool) -> str:
    """Amadeus wants `true`/`false`; Python's str() would send `True`/`False`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _amadeus_issues(response: requests.Response, *, secrets: Iterable[str]) -> list[dict[str, Any]]:
    """The `errors[]` of an Amadeus error body, trimmed to what an operator needs, secrets scrubbed."""
    issues = read_failure(response, AmadeusErrors).errors or []
    return [scrub(issue.model_dump(exclude_none=True), tuple(secrets)) for issue in issues[:5]]


def _amadeus_error_codes(response: requests.Response) -> set[int]:
    issues = read_failure(response, AmadeusErrors).errors or []
    return {issue.code for issue in issues if issue.code is not None}


# -- answers ---------------------------------------------------------------------------------------
# The parts of Amadeus's answers that Farewatch reads (Flight Offers Search v2, Authorization v1).


class _AmadeusAnswer(Answer):
    model_config = ConfigDict(alias_generator=to_camel)


def _digits_as_int(value: Any) -> Any:
    """Amadeus writes numbers, but a digit string (`"38192"`) means the same."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _lifetime_seconds(value: Any) -> float:
    value = _digits_as_int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError("expires_in is a positive number of seconds")
    return float(value)


class AmadeusToken(Answer):
    """A granted client-credentials token (OAuth2's own snake_case names)."""

    access_token: Text
    expires_in: Annotated[float, PlainValidator(_lifetime_seconds)]


class AmadeusOAuthProblem(Answer):
    error: Tolerated[str] = None
    code: Tolerated[int] = None
    title: Tolerated[str] = None
    error_description: Tolerated[str] = None


class AmadeusIssue(_AmadeusAnswer):
    status: Tolerated[int] = None
    code: Tolerated[Annotated[Count, BeforeValidator(_digits_as_int)]] = None
    title: Tolerated[str] = None
    detail: Tolerated[str] = None
    source: Tolerated[dict[str, Any]] = None


class AmadeusErrors(_AmadeusAnswer):
    errors: Tolerated[ReadableItems[AmadeusIssue]] = None


class AmadeusEndPoint(_AmadeusAnswer):
    iata_code: Text
    at: LocalDateTime  # local time at the airport, as Amadeus writes it


class AmadeusSegment(_AmadeusAnswer):
    # Only the first departure and the last arrival are read; `to_offer` insists on those.
    departure: AmadeusEndPoint | None = None
    arrival: AmadeusEndPoint | None = None
    carrier_code: Text
    number: Text
    number_of_stops: Tolerated[Count] = None
    stops: Tolerated[list[Any]] = None

    @property
    def technical_stops(self) -> int:
        """Stops inside one segment (refuelling, change of gauge): numberOfStops, else the stops list."""
        if self.number_of_stops is not None:
            return self.number_of_stops
        return len(self.stops) if self.stops is not None else 0


class AmadeusItinerary(_AmadeusAnswer):
    duration: DurationMinutes
    segments: NonEmpty[AmadeusSegment]


class AmadeusPrice(_AmadeusAnswer):
    currency: Text
    grand_total: Amount | None = None  # what the traveller pays, fees included
    total: Tolerated[Amount] = None


def _journey(itinerary: AmadeusItinerary) -> Leg:
    segments = itinerary.segments
    departure, arrival = segments[0].departure, segments[-1].arrival
    if departure is None or arrival is None:
        raise UnreadableOffer("the itinerary has no departure or no arrival")
    return Leg(
        flight_numbers=[segment.carrier_code + segment.number for segment in segments],
        stops=(len(segments) - 1) + sum(segment.technical_stops for segment in segments),
        departure_at=departure.at,
        arrival_at=arrival.at,
        origin=departure.iata_code,
        destination=arrival.iata_code,
        duration_minutes=itinerary.duration,
    )


class AmadeusFlightOffer(UpstreamOffer, _AmadeusAnswer):
    id: Text
    itineraries: OneOrTwo[AmadeusItinerary]  # one-way: one itinerary; a round trip: out, back
    price: AmadeusPrice
    validating_airline_codes: Tolerated[list[str]] = None

    def to_offer(self) -> Offer:
        out = _journey(self.itineraries[0])
        back = _journey(self.itineraries[1]) if len(self.itineraries) == 2 else None
        amount = self.price.grand_total if self.price.grand_total is not None else self.price.total
        if amount is None:
            raise UnreadableOffer("price has no grandTotal or total")
        validating = self.validating_airline_codes
        return Offer(
            id=self.id,
            price=amount,
            currency=self.price.currency,
            carrier=validating[0]
            if validating and validating[0]
            else self.itineraries[0].segments[0].carrier_code,
            inbound=back,
            **out.model_dump(),
        )


class AmadeusSearchReply(_AmadeusAnswer):
    data: list[Any]  # the flight offers, read one by one


def normalise_offers(payload: Any, query: FareQuery) -> list[Offer]:
    """The offers of a Flight Offers Search reply, as `Offer`s, in upstream order.

    A reply without a `data` list is a 502 `upstream_bad_response`; an offer that cannot be read is
    skipped with a warning, and a reply of only unreadable offers is a 502 (see `fares.answers`).
    """
    reply = read_answer(payload, AmadeusSearchReply, _SEARCH)
    return read_offers(reply.data, AmadeusFlightOffer, query, source="Amadeus", answered_by=_SEARCH)
