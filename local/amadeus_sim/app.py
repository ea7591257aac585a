"""The simulator as a WSGI app: Amadeus's token and flight-offers endpoints plus `/__sim` control routes.

Amadeus routes (faithful to the published OpenAPI files):
- `POST /v1/security/oauth2/token` — form-encoded client credentials → `amadeusOAuth2Token`.
- `GET /v1/security/oauth2/token/{access_token}` — token info (state "approved" or "expired").
- `GET /v2/shopping/flight-offers` — the search, every documented query parameter validated.
- `POST /v2/shopping/flight-offers` — needs `X-HTTP-Method-Override: GET` (required by the spec;
  without it: 400 code 32171, another value: 400 code 477). With an empty body the query string is
  searched exactly like GET; with a JSON body a minimal `GetFlightOffersQuery` is searched: one or
  two (return) originDestinations, ADULT/CHILD/HELD_INFANT travelers, sources containing "GDS",
  currencyCode, searchCriteria.maxFlightOffers/maxPrice and flightFilters' cabin, carrier and
  connection restrictions; its issues point into the body and its `meta` has no links.

Flight-offers requests are handled in the gateway's order: Authorization (38191/38190/38192), then
an injected fault (so requests without a valid token do not use one up), then the rate limit (429
38194, per client id, sliding one-second window, counting admitted requests only; the token
endpoint is not limited), then validation (400, every issue at once) and the search. The
`malformed` fault answers 200 with the first half of whatever the answer would have been. Every
flight-offers answer, error or not, is `application/vnd.amadeus+json`; token endpoint answers are
`application/json`. Unknown paths, and unsupported methods on Amadeus paths, answer 404 code 38196;
an unexpected failure answers 500 code 38189. Control routes (`/__sim/...`, JSON in and out) are
described in SPEC §6; the same levers are methods on `Simulator` for in-process tests.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from amadeus_sim import issues
from amadeus_sim.controls import (
    ControlInputError,
    FaultMode,
    Levers,
)
from amadeus_sim.flight_search import FlightSearch, search_from_body, search_from_query
from amadeus_sim.issues import Issue, OAuthError, SearchRejected
from amadeus_sim.offers import find_offers, offers_body
from amadeus_sim.rate_limit import RateLimiter
from amadeus_sim.tokens import AccessToken, TokenRegistry, TokenState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

TOKEN_PATH = "/v1/security/oauth2/token"  # noqa: S105 - a URL path, not a secret
FLIGHT_OFFERS_PATH = "/v2/shopping/flight-offers"
CONTROL_PREFIX = "/__sim/"
AMADEUS_JSON = "application/vnd.amadeus+json"
PLAIN_JSON = "application/json"
MAX_BODY_BYTES = 1024 * 1024

logger = logging.getLogger(__name__)


def _json_response(
    status: int, body: Any, content_type: str, headers: dict[str, str] | None = None
) -> Response:
    # An explicit content_type is sent as is: werkzeug adds no charset to it.
    return Response(json.dumps(body), status=status, content_type=content_type, headers=headers)


def _amadeus_error(*found: Issue) -> Response:
    return _json_response(found[0].status, issues.errors_body(*found), AMADEUS_JSON)


def _oauth_error(error: OAuthError) -> Response:
    return _json_response(error.status, error.as_json(), PLAIN_JSON)


def _control_error(status: int, message: str) -> Response:
    return _json_response(status, {"error": message}, PLAIN_JSON)


def _bearer_token(header: str | None) -> str | None:
    """The token from `Authorization: Bearer <token>`, or None when the header is missing or malformed."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(char.isspace() for char in token):
        return None
    return token


def _same_secret(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def _cut_short(response: Response) -> Response:
    """The `malformed` fault: a 200 whose JSON body stops halfway, as if the connection dropped."""
    body = response.get_data()
    return Response(body[: len(body) // 2], status=200, content_type=AMADEUS_JSON)


class Simulator(Levers):
    """A WSGI app standing in for Amadeus Self-Service; safe to serve from many threads at once."""

    def __init__(
        self,
        *,
        client_id: str = "farewatch-local",
        client_secret: str = "farewatch-local-secret",  # noqa: S107 - the published local default
        token_ttl_seconds: int = 1799,
        rate_limit_tps: int = 10,
        clock: Callable[[], float] | None = None,
        timeout_fault_seconds: float = 35.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret  # a local stand-in's secret, readable by tests
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self.timeout_fault_seconds = timeout_fault_seconds
        super().__init__()
        self._tokens = TokenRegistry(token_ttl_seconds)
        self._rate_limiter = RateLimiter(rate_limit_tps)
        self._token_requests = 0
        self._search_requests = 0
        self._rate_limited = 0
        self._routes = Map(
            [
                Rule(TOKEN_PATH, endpoint="issue_token", methods=["POST"]),
                Rule(f"{TOKEN_PATH}/<access_token>", endpoint="token_info", methods=["GET"]),
                Rule(FLIGHT_OFFERS_PATH, endpoint="flight_offers", methods=["GET", "POST"]),
                Rule("/__sim/stats", endpoint="show_stats", methods=["GET"]),
                Rule("/__sim/reset", endpoint="reset_all", methods=["POST"]),
                Rule("/__sim/faults", endpoint="faults", methods=["GET", "POST"]),
                Rule(
                    "/__sim/prices/<origin>/<destination>/<departure_date>",
                    endpoint="price_pin",
                    methods=["PUT", "DELETE"],
                ),
            ],
            merge_slashes=False,
        )

    # --- In-process levers (the control routes call these too) ----------------------------------

    def stats(self) -> dict[str, int]:
        """Requests received on the token and flight-offers endpoints, whatever their outcome, and how
        many searches the rate limit turned away (each is also counted in `search_requests`)."""
        with self._lock:
            return {
                "token_requests": self._token_requests,
                "search_requests": self._search_requests,
                "rate_limited": self._rate_limited,
            }

    @property
    def rate_limit_tps(self) -> int:
        return self._rate_limiter.requests_per_second

    @rate_limit_tps.setter
    def rate_limit_tps(self, requests_per_second: int) -> None:
        """Change the per-client limit (0 disables it); benchmarks compare with and without."""
        with self._lock:
            self._rate_limiter.requests_per_second = requests_per_second
            self._rate_limiter.clear()

    def reset(self) -> None:
        """Back to a fresh start: no counts, pins, fault, tokens or rate-limit history."""
        with self._lock:
            self._token_requests = self._search_requests = self._rate_limited = 0
            self._clear_levers()
            self._tokens.clear()
            self._rate_limiter.clear()

    # --- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        try:
            response = self._dispatch(request)
        except Exception:
            logger.exception("Amadeus simulator failed on %s %s", request.method, request.path)
            response = _amadeus_error(issues.INTERNAL_ERROR)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        self._count(request.path)
        is_control = request.path.startswith(CONTROL_PREFIX)
        try:
            endpoint, arguments = self._routes.bind_to_environ(request.environ).match()
        except (NotFound, MethodNotAllowed) as refused:
            if is_control:
                return _control_error(refused.code or 404, refused.description or "not found")
            return _amadeus_error(issues.RESOURCE_NOT_FOUND)
        except HTTPException as refused:
            return _control_error(refused.code or 400, refused.description or "bad request")
        handler: Callable[..., Response] = getattr(self, f"_route_{endpoint}")
        try:
            return handler(request, **arguments)
        except ControlInputError as bad_input:
            return _control_error(400, str(bad_input))

    def _count(self, path: str) -> None:
        with self._lock:
            if path == TOKEN_PATH:
                self._token_requests += 1
            elif path == FLIGHT_OFFERS_PATH:
                self._search_requests += 1

    # --- OAuth2 ------------------------------------------------------------------------------------

    def _token_body(self, token: AccessToken, now: float) -> dict[str, Any]:
        state = token.state(now)
        return {
            "type": "amadeusOAuth2Token",
            "username": "developer@farewatch.local",
            "application_name": "Farewatch (Amadeus simulator)",
            "client_id": token.client_id,
            "token_type": "Bearer",
            "access_token": token.value,
            "expires_in": max(0, int(token.expires_at - now)),
            "state": "approved" if state is TokenState.VALID else "expired",
            "scope": "",
        }

    def _route_issue_token(self, request: Request) -> Response:
        form = request.form
        grant_type = form.get("grant_type")
        if not grant_type:
            return _oauth_error(issues.GRANT_TYPE_MISSING)
        if grant_type != "client_credentials":
            return _oauth_error(issues.UNSUPPORTED_GRANT_TYPE)
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if not client_id or not client_secret:
            return _oauth_error(issues.CLIENT_CREDENTIALS_MISSING)
        if not (_same_secret(client_id, self.client_id) and _same_secret(client_secret, self.client_secret)):
            return _oauth_error(issues.INVALID_CLIENT)
        now = self._clock()
        with self._lock:
            token = self._tokens.issue(client_id, now)
        return _json_response(200, self._token_body(token, now), PLAIN_JSON, {"Cache-Control": "no-store"})

    def _route_token_info(self, request: Request, access_token: str) -> Response:
        with self._lock:
            token = self._tokens.find(access_token)
        if token is None:
            return _oauth_error(issues.UNKNOWN_TOKEN)
        return _json_response(200, self._token_body(token, self._clock()), PLAIN_JSON)

    # --- Flight Offers Search ------------------------------------------------------------------------

    def _route_flight_offers(self, request: Request) -> Response:
        presented = _bearer_token(request.headers.get("Authorization"))
        if presented is None:
            return _amadeus_error(issues.INVALID_HTTP_HEADER)
        now = self._clock()
        with self._lock:
            token = self._tokens.find(presented)
            if token is None:
                return _amadeus_error(issues.INVALID_ACCESS_TOKEN)
            if token.state(now) is TokenState.EXPIRED:
                return _amadeus_error(issues.ACCESS_TOKEN_EXPIRED)
            fault = self._faults.take()
            if fault is FaultMode.EXPIRED_TOKEN:
                self._tokens.expire(presented, now)  # a retry with this token fails too, as upstream would
                return _amadeus_error(issues.ACCESS_TOKEN_EXPIRED)
        if fault is FaultMode.HTTP500:
            return _amadeus_error(issues.SYSTEM_ERROR)
        if fault is FaultMode.HTTP429:
            return _amadeus_error(issues.TOO_MANY_REQUESTS)
        if fault is FaultMode.TIMEOUT:
            self._sleep(self.timeout_fault_seconds)  # outside the lock: other requests carry on
        answer = self._search(request, token.client_id)
        return _cut_short(answer) if fault is FaultMode.MALFORMED else answer

    def _search(self, request: Request, client_id: str) -> Response:
        now = self._clock()
        with self._lock:
            admitted = self._rate_limiter.admit(client_id, now)
            if not admitted:
                self._rate_limited += 1
            pins = dict(self._pins)
        if not admitted:
            return _amadeus_error(issues.TOO_MANY_REQUESTS)
        today = dt.datetime.fromtimestamp(now, tz=dt.UTC).date()
        try:
            search, self_link = self._read_search(request, today)
        except SearchRejected as rejected:
            return _amadeus_error(*rejected.issues)
        offers = find_offers(search, now=now, pins=pins)
        return _json_response(
            200, offers_body(offers, search, today=today, self_link=self_link), AMADEUS_JSON
        )

    def _read_search(self, request: Request, today: dt.date) -> tuple[FlightSearch, str | None]:
        """The search asked for, and the `meta.links.self` to answer with (None for a body search)."""
        if request.method == "GET":
            return search_from_query(request.args, today=today), request.url
        override = request.headers.get("X-HTTP-Method-Override")
        if override is None:
            raise SearchRejected([issues.mandatory_missing(parameter="X-HTTP-Method-Override")])
        if override.strip().upper() != "GET":
            raise SearchRejected(
                [
                    issues.invalid_format(
                        "X-HTTP-Method-Override must be GET", parameter="X-HTTP-Method-Override"
                    )
                ]
            )
        raw_body = request.get_data(cache=True)
        if not raw_body.strip():
            return search_from_query(request.args, today=today), request.url
        try:
            body = json.loads(raw_body)
        except ValueError:
            raise SearchRejected(
                [issues.invalid_format("the request body is not valid JSON", pointer="/")]
            ) from None
        return search_from_body(body, today=today), None

    # --- Control routes (not part of Amadeus) --------------------------------------------------------

    def _route_show_stats(self, request: Request) -> Response:
        return _json_response(200, self.stats(), PLAIN_JSON)

    def _route_reset_all(self, request: Request) -> Response:
        self.reset()
        return _json_response(200, {"reset": True, **self.stats()}, PLAIN_JSON)

    def _route_faults(self, request: Request) -> Response:
        body = request.get_data if request.method == "POST" else None
        return _json_response(200, self._fault_control(body), PLAIN_JSON)

    def _route_price_pin(
        self, request: Request, origin: str, destination: str, departure_date: str
    ) -> Response:
        body = request.get_data if request.method == "PUT" else None
        return _json_response(200, self._pin_control(origin, destination, departure_date, body), PLAIN_JSON)
