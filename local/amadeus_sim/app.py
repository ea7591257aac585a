"""The Amadeus simulator as a WSGI app: the token and flight-offers endpoints (as Amadeus's published
OpenAPI files describe them) plus `/__sim` control routes.

- `POST /v1/security/oauth2/token` (form-encoded client credentials) → `amadeusOAuth2Token`;
  `GET /v1/security/oauth2/token/{access_token}`: its state, "approved" or "expired".
- `GET /v2/shopping/flight-offers`: the search, every documented query parameter validated.
- `POST /v2/shopping/flight-offers` with `X-HTTP-Method-Override: GET` (without it: 400 code 32171,
  another value: 400 code 477): an empty body searches the query string like GET, a JSON body the
  supported subset of `GetFlightOffersQuery` (search.py), its meta without links.

Flight offers go through Authorization (38191/38190/38192), an injected fault (so requests without a
valid token use none up), the rate limit (429 38194 per client id, sliding one-second window, counting
admitted requests; the token endpoint is not limited), validation (400, every issue at once), then the
search, as `application/vnd.amadeus+json`. Unknown paths and methods answer 404 code 38196; an
unexpected failure 500 code 38189.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import string
from collections import deque
from typing import Any, Unpack

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from amadeus_sim import search as issues
from amadeus_sim.offers import offers_body
from amadeus_sim.search import FlightSearch, Issue, SearchRejected, search_from_body, search_from_query
from fare_sim.core import FareSimulator, FaultMode, Timing, bearer_token, json_response, same_secret

TOKEN_PATH = "/v1/security/oauth2/token"  # noqa: S105 - a URL path, not a secret
FLIGHT_OFFERS_PATH = "/v2/shopping/flight-offers"
AMADEUS_JSON = "application/vnd.amadeus+json"
# The token endpoint's own error body (a flat object, not `errors[]`): status, error, description.
# fmt: off
INVALID_CLIENT = (401, "invalid_client", "Client credentials are invalid")
GRANT_TYPE_MISSING = (400, "invalid_request", "Mandatory grant_type form parameter missing")
UNSUPPORTED_GRANT_TYPE = (400, "unsupported_grant_type",
                          "Only client_credentials value is allowed for the body parameter grant_type")
CREDENTIALS_MISSING = (400, "invalid_request",
                       "Mandatory client_id and client_secret form parameters missing")
UNKNOWN_TOKEN = (404, "invalid_token", "The access token is unknown")
# fmt: on


def amadeus_error(*found: Issue) -> Response:
    return json_response(found[0].status, {"errors": [issue.as_json() for issue in found]}, AMADEUS_JSON)


def oauth_error(error: tuple[int, str, str]) -> Response:
    status, name, description = error
    code, title = (38190, "Invalid access token") if error == UNKNOWN_TOKEN else (38187, "Invalid parameters")
    body = {"error": name, "error_description": description, "code": code, "title": title}
    return json_response(status, body)


class Simulator(FareSimulator):
    """A WSGI app standing in for Amadeus Self-Service; safe to serve from many threads at once. Its
    stats count requests on the token and flight-offers endpoints, whatever their outcome, and the
    searches the rate limit turned away (each also counted in `search_requests`)."""

    counted = {TOKEN_PATH: "token_requests", FLIGHT_OFFERS_PATH: "search_requests"}
    title = "Amadeus simulator"

    def __init__(
        self,
        *,
        client_id: str = "farewatch-local",
        client_secret: str = "farewatch-local-secret",  # noqa: S107 - the published local default
        token_ttl_seconds: int = 1799,
        rate_limit_tps: int = 10,
        **timing: Unpack[Timing],
    ) -> None:
        routes = [
            Rule(TOKEN_PATH, endpoint="issue_token", methods=["POST"]),
            Rule(f"{TOKEN_PATH}/<access_token>", endpoint="token_info", methods=["GET"]),
            Rule(FLIGHT_OFFERS_PATH, endpoint="flight_offers", methods=["GET", "POST"]),
        ]
        counters = ("token_requests", "search_requests", "rate_limited")
        super().__init__(routes=routes, counters=counters, **timing)
        self.client_id, self.client_secret = client_id, client_secret  # a stand-in's, readable by tests
        self.token_ttl_seconds = token_ttl_seconds
        self._rate_limit_tps = rate_limit_tps  # requests per second and client id; 0 disables the limit
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client id, expires at); expired ones kept
        self._admitted: dict[str, deque[float]] = {}  # client id -> when its requests in the window came

    @property
    def rate_limit_tps(self) -> int:
        return self._rate_limit_tps

    @rate_limit_tps.setter
    def rate_limit_tps(self, requests_per_second: int) -> None:
        """Change the per-client limit (0 disables it); benchmarks compare with and without."""
        with self._lock:
            self._rate_limit_tps = requests_per_second
            self._admitted.clear()

    def forget(self) -> None:
        self._tokens.clear()
        self._admitted.clear()

    def internal_error(self) -> Response:
        return amadeus_error(issues.INTERNAL_ERROR)

    def serve(self, request: Request) -> Response:
        try:
            endpoint, arguments = self.match(request)
        except HTTPException:
            return amadeus_error(issues.RESOURCE_NOT_FOUND)
        if endpoint == "issue_token":
            return self._issue_token(request)
        if endpoint == "token_info":
            return self._token_info(arguments["access_token"])
        return self._flight_offers(request)

    # --- OAuth2 ------------------------------------------------------------------------------------

    def _token_body(self, value: str, now: float) -> dict[str, Any]:
        client_id, expires_at = self._tokens[value]
        return {
            "type": "amadeusOAuth2Token",
            "username": "developer@farewatch.local",
            "application_name": "Farewatch (Amadeus simulator)",
            "client_id": client_id,
            "token_type": "Bearer",
            "access_token": value,
            "expires_in": max(0, int(expires_at - now)),
            "state": "approved" if now < expires_at else "expired",
            "scope": "",
        }

    def _issue_token(self, request: Request) -> Response:
        grant_type, client_id, secret = map(request.form.get, ("grant_type", "client_id", "client_secret"))
        if not grant_type:
            return oauth_error(GRANT_TYPE_MISSING)
        if grant_type != "client_credentials":
            return oauth_error(UNSUPPORTED_GRANT_TYPE)
        if not client_id or not secret:
            return oauth_error(CREDENTIALS_MISSING)
        if not (same_secret(client_id, self.client_id) and same_secret(secret, self.client_secret)):
            return oauth_error(INVALID_CLIENT)
        now = self._clock()
        value = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(30))
        with self._lock:
            self._tokens[value] = (client_id, now + self.token_ttl_seconds)
            body = self._token_body(value, now)
        return json_response(200, body, **{"Cache-Control": "no-store"})

    def _token_info(self, access_token: str) -> Response:
        with self._lock:
            if access_token not in self._tokens:
                return oauth_error(UNKNOWN_TOKEN)
            return json_response(200, self._token_body(access_token, self._clock()))

    # --- Flight Offers Search ------------------------------------------------------------------------

    def _flight_offers(self, request: Request) -> Response:
        presented = bearer_token(request.headers.get("Authorization"))
        if presented is None:
            return amadeus_error(issues.INVALID_HTTP_HEADER)
        now = self._clock()
        with self._lock:
            if presented not in self._tokens:
                return amadeus_error(issues.INVALID_ACCESS_TOKEN)
            client_id, expires_at = self._tokens[presented]
            if now >= expires_at:
                return amadeus_error(issues.ACCESS_TOKEN_EXPIRED)
            fault = self._take_fault()
            if fault is FaultMode.EXPIRED_TOKEN:  # a retry with this token fails too, as upstream would
                self._tokens[presented] = (client_id, min(expires_at, now))
                return amadeus_error(issues.ACCESS_TOKEN_EXPIRED)
        if fault is FaultMode.HTTP500:
            return amadeus_error(issues.SYSTEM_ERROR)
        if fault is FaultMode.HTTP429:
            return amadeus_error(issues.TOO_MANY_REQUESTS)
        return self.with_fault(fault, lambda: self._search(request, client_id), malformed_status=200)

    def _admit(self, client_id: str, now: float) -> bool:
        """The sliding one-second window; only admitted requests fill it. The caller holds `_lock`."""
        if self._rate_limit_tps <= 0:
            return True
        window = self._admitted.setdefault(client_id, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self._rate_limit_tps:
            self._counts["rate_limited"] += 1
            return False
        window.append(now)
        return True

    def _search(self, request: Request, client_id: str) -> Response:
        now = self._clock()
        with self._lock:
            admitted, pins = self._admit(client_id, now), dict(self._pins)
        if not admitted:
            return amadeus_error(issues.TOO_MANY_REQUESTS)
        today = self.today(now)
        try:
            search, self_link = self._read_search(request, today)
        except SearchRejected as rejected:
            return amadeus_error(*rejected.issues)
        body = offers_body(self.offers(search, now, pins), search, today=today, self_link=self_link)
        return json_response(200, body, AMADEUS_JSON)

    def _read_search(self, request: Request, today: dt.date) -> tuple[FlightSearch, str | None]:
        """The search asked for, and the `meta.links.self` to answer with (None for a body search)."""
        if request.method == "GET":
            return search_from_query(request.args, today=today), request.url
        override = request.headers.get("X-HTTP-Method-Override")
        if override is None:
            raise SearchRejected([issues.missing(parameter="X-HTTP-Method-Override")])
        if override.strip().upper() != "GET":
            detail = "X-HTTP-Method-Override must be GET"
            raise SearchRejected(
                [issues.bad_request(issues.INVALID_FORMAT, detail, parameter="X-HTTP-Method-Override")]
            )
        raw_body = request.get_data(cache=True)
        if not raw_body.strip():
            return search_from_query(request.args, today=today), request.url
        try:
            body = json.loads(raw_body)
        except ValueError:
            detail = "the request body is not valid JSON"
            raise SearchRejected([issues.bad_request(issues.INVALID_FORMAT, detail, pointer="/")]) from None
        return search_from_body(body, today=today), None
