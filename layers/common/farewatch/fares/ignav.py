"""The Ignav fare source: `POST /api/fares/one-way` (or `/round-trip`) per airport pair, normalised into
`Offer`s, and `POST /api/fares/booking-links` for an offer's booking pages. The only code that knows
Ignav's URLs, its `X-Api-Key` header, its error envelope and its itinerary fields.

Contract (Ignav Public API 1.0.0, ../shared/notes/ignav-api.md):

- **Airports only.** Ignav refuses city codes (400 `invalid_airport_code`), so a city code is expanded
  to its member airports (`farewatch.locations`, most-used first) and every airport pair is searched,
  at most `max_airport_pairs` of them (NYC→LAX is 3, NYC→PAR 9); a query with more pairs is a 400
  `too_many_airports` that names the airports to choose from, before anything is sent (each pair is
  one billed request). The pairs are searched concurrently within one deadline; if any of them fails,
  the search fails (an answer missing one airport's fares is not "the cheapest fare").
- **Market and currency.** Ignav has no currency parameter: `market` (a country) sets the pricing
  locale and the currency. Farewatch sends the market of the query's currency (`MARKETS`: USD → US,
  GBP → GB, EUR → DE, ...); a currency with no market there is a 400 `currency_not_offered`, before
  any call. Offers that come back in another currency are dropped (`in_currency`).
- **Prices.** `price.amount` is per itinerary; whether it covers every traveller or one is not
  documented. `price_per_traveller` (setting `IGNAV_PRICE_PER_TRAVELLER`, default false: the amount is
  the total) decides, and `Offer.price` is always the total for all travellers.
- **Errors.** 400 about our query → 400 `rejected_by_fare_source`; 401 (bad key), 402 (billing), 403
  (email not verified) and 429 `monthly_spend_limit_reached` → 503 `upstream_not_configured`, with a
  log line telling the operator what to do; 424 `unable_to_complete_request`, other 429s, 5xx and
  timeouts are retried with backoff, then 502/503/504; 424 `unsupported_search` is not retried (400
  `rejected_by_fare_source`, as Ignav asks not to loop on it).

An `Offer` from Ignav carries the itinerary's `ignav_id` as its id, which `booking_links` resolves.
The API key is read on every search, so a rotated secret is picked up without a restart.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TypeVar

import requests
from aws_lambda_powertools import Logger
from pydantic import SecretStr, StrictBool

from farewatch.clock import Clock
from farewatch.errors import (
    FarewatchError,
    InvalidRequest,
    NotFound,
    UpstreamError,
    UpstreamUnavailable,
)
from farewatch.fare_query import FareQuery
from farewatch.fares.answers import (
    Amount,
    Answer,
    Count,
    NaiveLocalDateTime,
    NonEmpty,
    ReadableItems,
    Text,
    Tolerated,
    UnreadableOffer,
    UpstreamOffer,
    in_currency,
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
from farewatch.fares.source import BookingLink, BookingLinks, warm_up_quietly
from farewatch.locations import find_location
from farewatch.offers import Leg, Offer

logger = Logger(child=True)

ONE_WAY_PATH = "/api/fares/one-way"
ROUND_TRIP_PATH = "/api/fares/round-trip"
BOOKING_LINKS_PATH = "/api/fares/booking-links"
DEFAULT_READ_TIMEOUT = 20.0  # Ignav searches live; its own examples wait up to 60 s
DEFAULT_MAX_AIRPORT_PAIRS = 9
MAX_CONCURRENT_PAIRS = 4
IGNAV_ID = re.compile(r"[0-9a-f]{32}")
"""Every documented and observed `ignav_id` is 32 lowercase hex characters; nothing else is sent."""

# The market Farewatch sends for each currency a traveller may ask for. Ignav prices in the market's
# currency (../shared/notes/ignav-api.md §3, §10); for the euro, one euro market is chosen (Germany).
MARKETS: Mapping[str, str] = {
    "USD": "US", "GBP": "GB", "EUR": "DE", "CAD": "CA", "AUD": "AU", "NZD": "NZ", "JPY": "JP",
    "INR": "IN", "BRL": "BR", "MXN": "MX", "COP": "CO", "CNY": "CN", "HKD": "HK", "SGD": "SG",
    "THB": "TH", "KRW": "KR", "ILS": "IL", "CHF": "CH", "SEK": "SE", "NOK": "NO", "DKK": "DK",
    "PLN": "PL", "TRY": "TR", "AED": "AE", "ZAR": "ZA",
}  # fmt: skip

Cabin = Literal["economy", "premium_economy", "business", "first"]

_SEARCH = "The Ignav fare search"
_BOOKING = "The Ignav booking-link lookup"

AnswerT = TypeVar("AnswerT", bound=Answer)


@dataclass(frozen=True)
class IgnavCredentials:
    """Our Ignav API key (sent as `X-Api-Key`). A SecretStr, so a repr, a log line or a traceback
    shows `**********`, never the value."""

    api_key: SecretStr


CredentialsProvider = Callable[[], IgnavCredentials]
"""Returns the current credentials; raises UpstreamUnavailable when none are configured."""


@dataclass(frozen=True)
class IgnavTrip:
    """One Ignav search: one airport pair of a trip, in Ignav's terms.

    The whole trip shape is here (a return date, a cabin, a stop limit), so that a round trip, a cabin
    or `max_stops` on `FareQuery` maps onto it field by field.
    """

    origin: str
    destination: str
    departure_date: date
    market: str
    adults: int = 1
    return_date: date | None = None
    cabin: Cabin = "economy"
    max_stops: int | None = None

    @property
    def path(self) -> str:
        return ROUND_TRIP_PATH if self.return_date is not None else ONE_WAY_PATH

    def body(self) -> dict[str, Any]:
        """The request body: only documented fields (Ignav answers 400 to any other)."""
        body: dict[str, Any] = {
            "origin": self.origin,
            "destination": self.destination,
            "departure_date": self.departure_date.isoformat(),
            "adults": self.adults,
            "cabin_class": self.cabin,
            "market": self.market,
        }
        if self.return_date is not None:
            body["return_date"] = self.return_date.isoformat()
        if self.max_stops is not None:
            body["max_stops"] = self.max_stops
        return body


def market_for(currency: str) -> str:
    """The Ignav market that prices in `currency`; a 400 `currency_not_offered` when there is none."""
    market = MARKETS.get(currency)
    if market is None:
        raise InvalidRequest(
            f"Ignav cannot price fares in {currency}: it prices in a market's currency "
            f"({', '.join(sorted(MARKETS))}).",
            code="currency_not_offered",
            details=[{"field": "currency", "issue": f"{currency} is not a currency Ignav prices in"}],
        )
    return market


def airports_of(code: str) -> tuple[str, ...]:
    """The airports Ignav can search for a code: the airport itself, or a city code's airports."""
    location = find_location(code)
    if location is not None and location.kind == "city" and location.airports:
        return location.airports
    return (code,)


def trips_for(query: FareQuery, *, max_airport_pairs: int) -> list[IgnavTrip]:
    """One IgnavTrip per airport pair of the query, or a 400 when there are more than allowed."""
    market = market_for(query.currency)
    origins, destinations = airports_of(query.origin), airports_of(query.destination)
    pairs = [(start, end) for start in origins for end in destinations if start != end]
    if len(pairs) > max_airport_pairs:
        raise InvalidRequest(
            f"{query.origin} to {query.destination} is {len(pairs)} airport pairs; Ignav searches one "
            f"airport pair at a time and Farewatch searches at most {max_airport_pairs} per query: "
            "choose an airport for the origin or the destination.",
            code="too_many_airports",
            details=[
                {"field": field, "issue": f"{code} stands for {', '.join(airports)}"}
                for field, code, airports in (
                    ("origin", query.origin, origins),
                    ("destination", query.destination, destinations),
                )
                if len(airports) > 1
            ],
        )
    return [
        IgnavTrip(
            origin=start,
            destination=end,
            departure_date=query.departure_date,
            market=market,
            adults=query.adults,
            return_date=query.return_date,
            cabin=query.cabin,
            max_stops=query.max_stops,
        )
        for start, end in pairs
    ]


class IgnavFareSource:
    """FareSource over Ignav's fare searches; also resolves an offer's booking links."""

    name = "ignav"

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
        price_per_traveller: bool = False,
        max_airport_pairs: int = DEFAULT_MAX_AIRPORT_PAIRS,
        pacer: UpstreamPacer | None = None,
    ) -> None:
        if max_airport_pairs < 1:
            raise ValueError("max_airport_pairs must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._clock = clock
        self._session = session if session is not None else new_session()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._policy = RetryPolicy(
            max_attempts=max_attempts, backoff_base=backoff_base, backoff_cap=backoff_cap, jitter=jitter
        )
        self._price_per_traveller = price_per_traveller
        self._max_airport_pairs = max_airport_pairs
        self._pacer = pacer

    def upstream_query(self, query: FareQuery) -> FareQuery:
        """Ignav searches every part of a trip itself (`return_date`, `cabin_class`, `max_stops`)."""
        return query

    def warm_up(self) -> None:
        """Read the API key at cold start (Secrets Manager, then cached); never raises. Ignav has no
        token exchange: a missing key is logged here so an operator sees it before a traveller does."""
        warm_up_quietly(self._credentials, failure="The Ignav API key is not available at start-up")

    def search(self, query: FareQuery, *, deadline: float) -> list[Offer]:
        trips = trips_for(query, max_airport_pairs=self._max_airport_pairs)
        exchange = self._exchange(deadline)
        if len(trips) == 1:
            answers = [self._search_one(exchange, trips[0])]
        else:
            with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT_PAIRS, len(trips))) as pool:
                answers = list(pool.map(lambda trip: self._search_one(exchange, trip), trips))
        raw = [itinerary for answer in answers for itinerary in answer.itineraries]
        readable = read_offers(raw, IgnavItinerary, query, source="Ignav", answered_by=_SEARCH)
        if self._price_per_traveller and query.adults > 1:
            readable = [offer.model_copy(update={"price": offer.price * query.adults}) for offer in readable]
        offers = in_currency(readable, query, source="Ignav")
        logger.info(
            "Ignav search answered",
            extra={
                "fare_query": query.cache_key,
                "airport_pairs": len(trips),
                "offers": len(offers),
                "requests_sent": exchange.requests_sent,
            },
        )
        return offers

    def booking_links(self, offer_id: str, *, deadline: float) -> BookingLinks:
        """The booking pages of an offer this source found (its `ignav_id`): 404 `offer_not_found` for
        an id Ignav does not know (or no longer knows), 400 for one that is not an Ignav id at all."""
        if not IGNAV_ID.fullmatch(offer_id):
            raise InvalidRequest(
                "offer: not an offer id of this fare source.",
                code="invalid_offer",
                details=[{"field": "offer", "issue": "must be the id of an offer from /flights/search"}],
            )
        exchange = self._exchange(deadline)
        answer = call_within_budget(
            lambda: exchange.call(
                BOOKING_LINKS_PATH, what=_BOOKING, answer=IgnavBookingAnswer, body={"ignav_id": offer_id}
            ),
            budget=exchange.budget,
            policy=self._policy,
            what=_BOOKING,
        )
        return answer.to_links(offer_id)

    def _exchange(self, deadline: float) -> _Exchange:
        budget = TimeBudget(self._clock, deadline, self._connect_timeout, self._read_timeout)
        return _Exchange(
            self._session, self._base_url, self._credentials().api_key, budget, pacer=self._pacer
        )

    def _search_one(self, exchange: _Exchange, trip: IgnavTrip) -> IgnavFareAnswer:
        return call_within_budget(
            lambda: exchange.call(trip.path, what=_SEARCH, answer=IgnavFareAnswer, body=trip.body()),
            budget=exchange.budget,
            policy=self._policy,
            what=_SEARCH,
        )


class _Exchange:
    """One search's HTTP calls: the key header, and each answer read into data or into its error."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        key: SecretStr,
        budget: TimeBudget,
        *,
        pacer: UpstreamPacer | None = None,
    ) -> None:
        self._pacer = pacer
        self._session = session
        self._base_url = base_url
        self._key = key
        self.budget = budget
        self.requests_sent = 0

    def call(self, path: str, *, what: str, answer: type[AnswerT], body: Mapping[str, Any]) -> AnswerT:
        if self._pacer is not None:  # every request sent (each airport pair, each retry) waits for its slot
            self._pacer.wait_turn(deadline=self.budget.deadline, what=what)
        self.requests_sent += 1
        response = send(
            self._session,
            "POST",
            f"{self._base_url}{path}",
            timeout=self.budget.request_timeout(what),
            what=what,
            headers={
                "X-Api-Key": self._key.get_secret_value(),
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            json=dict(body),
        )
        if response.status_code == 200:
            return read_answer(json_body(response, what), answer, what)
        problem = ignav_problem(response, secrets=(self._key.get_secret_value(),))
        raise failure_for(response.status_code, what, problem, retry_after_seconds(response.headers))


# What an operator must do when Ignav refuses the account rather than the query.
OPERATOR_ACTIONS: Mapping[int, str] = {
    401: "Ignav refused the API key: put a valid key into the IgnavCredentials secret "
    "(README 'Fare sources', Ignav).",
    402: "Ignav requires billing: the free allowance is used up; add a payment method at "
    "https://ignav.com/dashboard.",
    403: "Ignav refused the account: verify its email address (the link Ignav sent at sign-up), then retry.",
    429: "Ignav's monthly spend limit is reached: raise it at https://ignav.com/dashboard.",
}


def failure_for(
    status: int, what: str, problem: Mapping[str, Any], retry_after: float | None = None
) -> Exception:
    """The error (or the retryable failure) an Ignav status and error envelope stand for."""
    code = problem.get("error_code")
    if status in (401, 402, 403) or (status == 429 and code == "monthly_spend_limit_reached"):
        logger.error(OPERATOR_ACTIONS[status], extra={"upstream": what, "status": status, **problem})
        return UpstreamUnavailable(
            "The fare source is not configured: Ignav refused Farewatch's account.",
            code="upstream_not_configured",
        )
    if status == 424 and code == "unsupported_search":
        logger.warning("Ignav cannot search this trip", extra={"status": status, **problem})
        return _rejected(problem)
    if status in (424, 429) or status >= 500:
        logger.warning("Ignav call failed; may retry", extra={"upstream": what, "status": status, **problem})
        error: UpstreamError = (
            UpstreamUnavailable(
                "The fare API is rate limited; try again shortly.", code="upstream_rate_limited"
            )
            if status == 429
            else UpstreamError(f"{what} failed upstream (HTTP {status}).", code="upstream_error")
        )
        return TransientUpstreamFailure(error, retry_after=retry_after)
    logger.error("Ignav call failed", extra={"upstream": what, "status": status, **problem})
    if status == 404:
        return NotFound(
            "The fare source no longer knows this offer; search again for a current one.",
            code="offer_not_found",
        )
    if status == 400:
        return _rejected(problem)
    return UpstreamError(f"{what} rejected the request (HTTP {status}).", code="upstream_rejected")


def _rejected(problem: Mapping[str, Any]) -> FarewatchError:
    detail = {key: problem[f"error_{key}"] for key in ("field", "code") if problem.get(f"error_{key}")}
    detail["issue"] = str(problem.get("error_message") or "refused by the fare source")
    return InvalidRequest(
        "The fare source cannot search this trip.", code="rejected_by_fare_source", details=[detail]
    )


def ignav_problem(response: requests.Response, *, secrets: Sequence[str]) -> dict[str, Any]:
    """Ignav's `{"error": {type, code, message, field}}` as log fields (`error_type`, `error_code`...:
    `message` is the log line's own key), secrets scrubbed."""
    body = read_failure(response, IgnavErrorBody)
    if body.error is None:
        return {}
    fields = {"type": body.error.type, "code": body.error.code, "message": body.error.message}
    fields["field"] = body.error.field
    return {f"error_{key}": scrub(value, secrets) for key, value in fields.items() if value}


# -- answers ---------------------------------------------------------------------------------------
# The parts of Ignav's answers that Farewatch reads (FareSearchResponseModel, BookingOptionsResponseModel,
# ErrorResponseModel of the Ignav Public API 1.0.0).


class IgnavErrorDetail(Answer):
    type: Tolerated[str] = None
    code: Tolerated[str] = None
    message: Tolerated[str] = None
    field: Tolerated[str] = None


class IgnavErrorBody(Answer):
    error: Tolerated[IgnavErrorDetail] = None


class IgnavFareAnswer(Answer):
    itineraries: list[Any]  # read one by one


class IgnavPrice(Answer):
    amount: Amount  # a JSON number: 899 in the docs, 46523.0 live
    currency: Text


class IgnavSegment(Answer):
    marketing_carrier_code: Text
    flight_number: Text
    departure_airport: Text
    arrival_airport: Text
    departure_time_local: NaiveLocalDateTime
    arrival_time_local: NaiveLocalDateTime
    departure_time_utc: Tolerated[str] = None
    arrival_time_utc: Tolerated[str] = None


class IgnavLeg(Answer):
    duration_minutes: Tolerated[Count] = None  # the whole leg, layovers included; may be null
    segments: NonEmpty[IgnavSegment]

    def journey(self) -> dict[str, Any]:
        """The leg in `Offer`'s journey fields (for a round trip's way back, the fields of its `inbound`)."""
        first, last = self.segments[0], self.segments[-1]
        return {
            "flight_numbers": [
                segment.marketing_carrier_code + segment.flight_number for segment in self.segments
            ],
            "stops": len(self.segments) - 1,
            "departure_at": first.departure_time_local,
            "arrival_at": last.arrival_time_local,
            "origin": first.departure_airport,
            "destination": last.arrival_airport,
            "duration_minutes": self.minutes(),
        }

    def minutes(self) -> int:
        if self.duration_minutes is not None:
            return self.duration_minutes
        first, last = self.segments[0], self.segments[-1]
        departed, arrived = _utc(first.departure_time_utc), _utc(last.arrival_time_utc)
        if departed is None or arrived is None or arrived < departed:
            raise UnreadableOffer("the leg has no duration and no usable UTC times")
        return int((arrived - departed).total_seconds() // 60)


def _utc(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class IgnavItinerary(UpstreamOffer):
    """One itinerary, priced as Ignav writes it (the source applies the per-traveller switch)."""

    price: IgnavPrice
    outbound: IgnavLeg
    inbound: IgnavLeg | None = (
        None  # round trips only: the way back, shaped like `outbound` (a broken one spoils the offer)
    )
    ignav_id: Text

    def to_offer(self) -> Offer:
        return Offer(
            id=self.ignav_id,
            price=self.price.amount,
            currency=self.price.currency,
            carrier=self.outbound.segments[0].marketing_carrier_code,
            inbound=Leg(**self.inbound.journey()) if self.inbound is not None else None,
            **self.outbound.journey(),
        )


class IgnavLinkPrice(Answer):
    amount: Amount
    currency: Text


class IgnavLink(Answer):
    provider_name: Text
    provider_type: Tolerated[str] = None
    fare_name: Tolerated[str] = None
    price: Tolerated[IgnavLinkPrice] = None
    url: Text


class IgnavBookingOption(Answer):
    legs: Tolerated[list[str]] = None
    links: ReadableItems[IgnavLink]


class IgnavBookingItinerary(Answer):
    price: IgnavPrice


class IgnavBookingAnswer(Answer):
    itinerary: IgnavBookingItinerary
    booking_options: ReadableItems[IgnavBookingOption]
    requires_self_transfer: Tolerated[StrictBool] = None

    def to_links(self, offer_id: str) -> BookingLinks:
        """Links of options that cover the whole journey first (one ticket), airlines first in each."""
        whole = [
            option for option in self.booking_options if option.legs is None or "outbound" in option.legs
        ]
        ordered = sorted(whole, key=lambda option: -len(option.legs or []))
        links = [
            BookingLink(
                provider_name=link.provider_name,
                provider_type=link.provider_type or "third_party",
                url=link.url,
                fare_name=link.fare_name,
                price=link.price.amount if link.price is not None else None,
                currency=link.price.currency if link.price is not None else None,
            )
            for option in ordered
            for link in sorted(option.links, key=lambda link: link.provider_type != "airline")
            if link.url.startswith("https://") or link.url.startswith("http://")
        ]
        return BookingLinks(
            offer_id=offer_id,
            price=self.itinerary.price.amount,
            currency=self.itinerary.price.currency,
            links=tuple(links),
        )
