"""The Amadeus fare source: client-credentials tokens, the Flight Offers Search call, and the
normalisation of its offers into `Offer`s. The only code that knows Amadeus's URLs, codes and shapes.

Contract: the Amadeus Self-Service OpenAPI files (Authorization v1, Flight Offers Search v2).
Retries and timeouts follow `farewatch.fares.http`; access tokens come from a `TokenProvider`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from aws_lambda_powertools import Logger
from pydantic import SecretStr

from farewatch.clock import Clock
from farewatch.errors import FarewatchError, UpstreamError
from farewatch.fare_query import FareQuery
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
from farewatch.fares.offer_fields import (
    UnreadableOffer,
    duration_minutes,
    read_offers,
    required_list,
    required_mapping,
    required_text,
)
from farewatch.fares.tokens_api import IssuedToken, TokenProvider
from farewatch.offers import Offer

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
    if isinstance(body, Mapping):
        value = body.get("access_token")
        expires_in = body.get("expires_in")
        if isinstance(expires_in, str) and expires_in.isdigit():
            expires_in = int(expires_in)
        if isinstance(value, str) and value and isinstance(expires_in, int | float) and expires_in > 0:
            return IssuedToken(value=value, expires_at=requested_at + float(expires_in))
    raise UpstreamError(f"{_AUTHORIZATION} answered without a usable token.", code="upstream_bad_response")


def _oauth_problem(response: requests.Response, *, secrets: Iterable[str]) -> dict[str, Any]:
    """The OAuth error fields worth logging (error, code, title, description), secrets scrubbed."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, Mapping):
        return {}
    problem = {key: body[key] for key in ("error", "code", "title", "error_description") if key in body}
    return {key: _scrub(value, secrets) for key, value in problem.items()}


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
    ) -> None:
        self._url = base_url.rstrip("/") + FLIGHT_OFFERS_PATH
        self._tokens = tokens
        self._clock = clock
        self._session = session if session is not None else new_session()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._policy = RetryPolicy(
            max_attempts=max_attempts, backoff_base=backoff_base, backoff_cap=backoff_cap, jitter=jitter
        )
        self._max_offers = max_offers

    def warm_up(self) -> None:
        """Get an access token at cold start; a failure is logged and left to the first search."""
        try:
            self._tokens.get()
        except Exception as exc:
            code = exc.code if isinstance(exc, FarewatchError) else type(exc).__name__
            logger.warning("Could not get an Amadeus access token at start-up", extra={"code": code})

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

    def __call__(self) -> Mapping[str, Any]:
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

    def _read(self, response: requests.Response, token: str) -> Mapping[str, Any]:
        status = response.status_code
        if status == 200:
            body = json_body(response, _SEARCH)
            if not isinstance(body, Mapping):
                raise UpstreamError(
                    f"{_SEARCH} answered with an unexpected body.", code="upstream_bad_response"
                )
            return body
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
    """The GET query string of Flight Offers Search for a one-way fare query."""
    params: dict[str, str | int | bool] = {
        "originLocationCode": query.origin,
        "destinationLocationCode": query.destination,
        "departureDate": query.departure_date.isoformat(),
        "adults": query.adults,
        "currencyCode": query.currency,
        "max": max_offers,
    }
    return {name: _query_value(value) for name, value in params.items()}


def _query_value(value: str | int | bool) -> str:
    """Amadeus wants `true`/`false`; Python's str() would send `True`/`False`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _amadeus_issues(response: requests.Response, *, secrets: Iterable[str]) -> list[dict[str, Any]]:
    """The `errors[]` of an Amadeus error body, trimmed to what an operator needs, secrets scrubbed."""
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(errors, list):
        return []
    issues = []
    for error in errors[:5]:
        if isinstance(error, Mapping):
            issue = {
                key: error[key] for key in ("status", "code", "title", "detail", "source") if key in error
            }
            issues.append({key: _scrub(value, secrets) for key, value in issue.items()})
    return issues


def _amadeus_error_codes(response: requests.Response) -> set[int]:
    codes = set()
    for issue in _amadeus_issues(response, secrets=()):
        code = issue.get("code")
        if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
            codes.add(int(code))
    return codes


def _scrub(value: Any, secrets: Iterable[str]) -> Any:
    """Upstream echoes are logged; make sure none carries a token or secret back into our logs."""
    if isinstance(value, str):
        for secret in secrets:
            if secret:
                value = value.replace(secret, "[redacted]")
        return value
    if isinstance(value, Mapping):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    return value


# -- normalisation -----------------------------------------------------------------------------------


def normalise_offers(payload: Mapping[str, Any], query: FareQuery) -> list[Offer]:
    """The offers of a Flight Offers Search reply, as `Offer`s, in upstream order.

    Unknown fields are ignored. An offer that cannot be read is skipped with a warning; if upstream
    sent offers and none could be read, the reply as a whole is a 502 `upstream_bad_response`
    (answering "no offers" would be a lie that gets cached).
    """
    flight_offers = payload.get("data")
    if not isinstance(flight_offers, list):
        raise UpstreamError(f"{_SEARCH} answered without a data list.", code="upstream_bad_response")
    return read_offers(flight_offers, _offer, query, source="Amadeus", answered_by=_SEARCH)


def _offer(flight_offer: Any) -> Offer:
    flight_offer = required_mapping(flight_offer, "offer")
    itineraries = required_list(flight_offer.get("itineraries"), "itineraries")
    if len(itineraries) != 1:
        raise UnreadableOffer(f"expected one itinerary (one-way), got {len(itineraries)}")
    itinerary = required_mapping(itineraries[0], "itinerary")
    raw_segments = required_list(itinerary.get("segments"), "segments")
    segments = [required_mapping(segment, "segment") for segment in raw_segments]
    if not segments:
        raise UnreadableOffer("itinerary has no segments")
    price = required_mapping(flight_offer.get("price"), "price")
    first_departure = required_mapping(segments[0].get("departure"), "departure")
    last_arrival = required_mapping(segments[-1].get("arrival"), "arrival")
    return Offer(
        id=required_text(flight_offer.get("id"), "id"),
        price=_amount(price.get("grandTotal", price.get("total"))),
        currency=required_text(price.get("currency"), "price.currency"),
        carrier=_carrier(flight_offer, segments[0]),
        flight_numbers=[_flight_number(segment) for segment in segments],
        stops=(len(segments) - 1) + sum(_technical_stops(segment) for segment in segments),
        departure_at=_local_time(first_departure.get("at"), "departure.at"),
        arrival_at=_local_time(last_arrival.get("at"), "arrival.at"),
        origin=required_text(first_departure.get("iataCode"), "departure.iataCode"),
        destination=required_text(last_arrival.get("iataCode"), "arrival.iataCode"),
        duration_minutes=duration_minutes(required_text(itinerary.get("duration"), "itinerary.duration")),
    )


def _carrier(flight_offer: Mapping[str, Any], first_segment: Mapping[str, Any]) -> str:
    validating = flight_offer.get("validatingAirlineCodes")
    if isinstance(validating, list) and validating and isinstance(validating[0], str) and validating[0]:
        return validating[0]
    return required_text(first_segment.get("carrierCode"), "carrierCode")


def _flight_number(segment: Mapping[str, Any]) -> str:
    carrier = required_text(segment.get("carrierCode"), "carrierCode")
    return carrier + required_text(segment.get("number"), "number")


def _technical_stops(segment: Mapping[str, Any]) -> int:
    """Stops inside one segment (refuelling, change of gauge): numberOfStops, else the stops list."""
    count = segment.get("numberOfStops")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    stops = segment.get("stops")
    return len(stops) if isinstance(stops, list) else 0


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UnreadableOffer("price has no grandTotal or total")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise UnreadableOffer(f"price {value!r} is not a number") from exc
    if not amount.is_finite() or amount < 0:
        raise UnreadableOffer(f"price {value!r} is not a usable amount")
    return amount


def _local_time(value: Any, what: str) -> str:
    text = required_text(value, what)
    try:
        datetime.fromisoformat(text)
    except ValueError as exc:
        raise UnreadableOffer(f"{what} {text!r} is not an ISO 8601 date-time") from exc
    return text
