"""The simulator as a WSGI app: Duffel's offer requests and offers, plus the `/__sim` control routes.

Duffel routes (the subset Farewatch uses, in Duffel's v2 shapes):
- `POST /air/offer_requests[?return_offers=false]` — `{"data": {slices, passengers, cabin_class?,
  max_connections?}}` → 201 with the offer request (`orq_…`), its offers inline unless
  `return_offers=false`.
- `GET /air/offers?offer_request_id=…[&sort=total_amount|-total_amount|total_duration][&limit=1..200]
  [&after=…|&before=…]` — one page of that request's offers, `meta.after` naming the next page.

Every Duffel request is handled in this order: the rate limit (a fixed window per presented token;
every answer carries `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset`), the bearer
token (401 `authentication_error`), the `Duffel-Version: v2` header (400 `unsupported_version`), an
injected fault, then validation (422 `validation_error`, every problem at once) and the answer.
Errors use Duffel's `{"errors": [...], "meta": {"status", "request_id"}}` body.

Test-mode quirks, as a Duffel test account shows them: one route has no offers at all
(`NO_OFFERS_ROUTE`), and one route's offer requests take `slow_route_seconds` to answer
(`SLOW_ROUTE`), longer than Farewatch's read timeout, so that the timeout path can be exercised.

Control routes (`/__sim/...`, JSON, the same paths and bodies as the Amadeus simulator's, SPEC §6):
`GET /__sim/stats` → `{"token_requests": 0, "search_requests": n, "offer_list_requests": n}` (Duffel
has no token endpoint; a search is one offer request); `POST /__sim/reset`; `PUT|DELETE
/__sim/prices/{origin}/{destination}/{date}`; `GET|POST /__sim/faults` with `{"mode", "count"}`. A
fault applies to the next `count` Duffel requests of either kind; `expired_token` answers 401 as a
revoked token would (Duffel tokens do not expire).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from amadeus_sim.controls import (
    ControlInputError,
    FaultMode,
    Levers,
)
from amadeus_sim.offers import NoOffersPin
from duffel_sim import errors
from duffel_sim.errors import DuffelError, RequestRejected
from duffel_sim.offers import OfferRequest, price_offer_request, read_offer_request
from duffel_sim.rate_limit import Admission, WindowRateLimiter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

OFFER_REQUESTS_PATH = "/air/offer_requests"
OFFERS_PATH = "/air/offers"
CONTROL_PREFIX = "/__sim/"
API_VERSION = "v2"
JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_ACCESS_TOKEN = "duffel_test_farewatch-local"  # noqa: S105 - the published local default
NO_OFFERS_ROUTE = ("JNB", "AKL")
SLOW_ROUTE = ("JNB", "MNL")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
KEPT_OFFER_REQUESTS = 1000  # older ones are forgotten, like expired offers
SORTS = ("total_amount", "-total_amount", "total_duration")

logger = logging.getLogger(__name__)


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, content_type=JSON_TYPE, headers=headers)


def _duffel_error(*problems: DuffelError, headers: dict[str, str] | None = None) -> Response:
    return _json_response(problems[0].status, errors.errors_body(*problems), headers)


def _control_error(status: int, message: str) -> Response:
    return _json_response(status, {"error": message})


def _bearer_token(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and " " not in token else None


def _cursor(request_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{request_id}:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str, request_id: str) -> int | None:
    """The offset a cursor we issued for this request stands for; None for anything else."""
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    owner, _, offset = decoded.rpartition(":")
    return int(offset) if owner == request_id and offset.isdigit() else None


def _sorted(offers: Iterable[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    if sort is None:
        return list(offers)

    def amount(offer: dict[str, Any]) -> float:
        return float(offer["total_amount"])

    if sort == "total_duration":
        return sorted(offers, key=lambda offer: (offer["slices"][0]["duration"], amount(offer)))
    return sorted(offers, key=amount, reverse=sort.startswith("-"))


class Simulator(Levers):
    """A WSGI app standing in for Duffel's flight search; safe to serve from many threads at once."""

    def __init__(
        self,
        *,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        rate_limit: int = 300,
        rate_limit_window_seconds: float = 60.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        timeout_fault_seconds: float = 35.0,
        slow_route_seconds: float = 30.0,
        no_offers_routes: Iterable[tuple[str, str]] = (NO_OFFERS_ROUTE,),
        slow_routes: Iterable[tuple[str, str]] = (SLOW_ROUTE,),
    ) -> None:
        self.access_token = access_token  # a local stand-in's token, readable by tests
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self.timeout_fault_seconds = timeout_fault_seconds
        self.slow_route_seconds = slow_route_seconds
        self.no_offers_routes = frozenset(no_offers_routes)
        self.slow_routes = frozenset(slow_routes)
        super().__init__()
        self._rate_limiter = WindowRateLimiter(rate_limit, rate_limit_window_seconds)
        self._offer_requests: OrderedDict[str, OfferRequest] = OrderedDict()
        self._search_requests = 0
        self._offer_list_requests = 0
        self._routes = Map(
            [
                Rule(OFFER_REQUESTS_PATH, endpoint="create_offer_request", methods=["POST"]),
                Rule(f"{OFFER_REQUESTS_PATH}/<request_id>", endpoint="show_offer_request", methods=["GET"]),
                Rule(OFFERS_PATH, endpoint="list_offers", methods=["GET"]),
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
        """Requests received on the Duffel endpoints, whatever their outcome."""
        with self._lock:
            return {
                "token_requests": 0,
                "search_requests": self._search_requests,
                "offer_list_requests": self._offer_list_requests,
            }

    def reset(self) -> None:
        """Back to a fresh start: no counts, pins, fault, offer requests or rate-limit history."""
        with self._lock:
            self._search_requests = self._offer_list_requests = 0
            self._clear_levers()
            self._offer_requests.clear()
            self._rate_limiter.clear()

    # --- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        try:
            response = self._dispatch(request)
        except Exception:
            logger.exception("Duffel simulator failed on %s %s", request.method, request.path)
            response = _duffel_error(errors.INTERNAL_SERVER_ERROR)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        self._count(request)
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        admission = self._admit(request)
        response = self._duffel(request, admission)
        for name, value in admission.headers().items():
            response.headers.setdefault(name, value)  # an injected 429 brings its own
        return response

    def _count(self, request: Request) -> None:
        with self._lock:
            if request.path == OFFER_REQUESTS_PATH:
                self._search_requests += 1
            elif request.path == OFFERS_PATH:
                self._offer_list_requests += 1

    def _admit(self, request: Request) -> Admission:
        client = _bearer_token(request.headers.get("Authorization")) or "anonymous"
        with self._lock:
            return self._rate_limiter.admit(client, self._clock())

    def _duffel(self, request: Request, admission: Admission) -> Response:
        if not admission.admitted:
            return _duffel_error(errors.RATE_LIMIT_EXCEEDED)
        presented = _bearer_token(request.headers.get("Authorization"))
        if presented is None:
            return _duffel_error(errors.MISSING_AUTHORIZATION)
        if not hmac.compare_digest(presented.encode(), self.access_token.encode()):
            return _duffel_error(errors.ACCESS_TOKEN_NOT_FOUND)
        if request.headers.get("Duffel-Version", "").strip() != API_VERSION:
            return _duffel_error(errors.UNSUPPORTED_VERSION)
        try:
            endpoint, arguments = self._routes.bind_to_environ(request.environ).match()
        except HTTPException:
            return _duffel_error(errors.NOT_FOUND)
        with self._lock:
            fault = self._faults.take()
        if fault is FaultMode.HTTP500:
            return _duffel_error(errors.INTERNAL_SERVER_ERROR)
        if fault is FaultMode.HTTP429:
            now = self._clock()
            soon = Admission(False, admission.limit, 0, float(math.ceil(now)) + 1)
            return _duffel_error(errors.RATE_LIMIT_EXCEEDED, headers=soon.headers())
        if fault is FaultMode.EXPIRED_TOKEN:
            return _duffel_error(errors.ACCESS_TOKEN_NOT_FOUND)
        if fault is FaultMode.TIMEOUT:
            self._sleep(self.timeout_fault_seconds)  # outside the lock: other requests carry on
        handler: Callable[..., Response] = getattr(self, f"_route_{endpoint}")
        try:
            answer = handler(request, **arguments)
        except RequestRejected as rejected:
            answer = _duffel_error(*rejected.problems)
        if fault is FaultMode.MALFORMED:
            body = answer.get_data()
            return Response(body[: len(body) // 2], status=answer.status_code, content_type=JSON_TYPE)
        return answer

    # --- Duffel ----------------------------------------------------------------------------------

    def _route_create_offer_request(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            return _duffel_error(errors.MALFORMED_BODY)
        now = self._clock()
        today = dt.datetime.fromtimestamp(now, tz=dt.UTC).date()
        route, adults, cabin_class, max_connections = read_offer_request(body, today=today)
        if (route.origin, route.destination) in self.slow_routes:
            self._sleep(self.slow_route_seconds)  # an airline that takes its time; outside the lock
            now = self._clock()
        request_id = "orq_" + uuid.uuid4().hex[:26]
        with self._lock:
            pins = dict(self._pins)
        if (route.origin, route.destination) in self.no_offers_routes:
            pins[route] = NoOffersPin()
        offer_request = price_offer_request(
            request_id, route, adults, cabin_class, max_connections, now=now, pins=pins
        )
        with self._lock:
            self._offer_requests[request_id] = offer_request
            while len(self._offer_requests) > KEPT_OFFER_REQUESTS:
                self._offer_requests.popitem(last=False)
        with_offers = request.args.get("return_offers", "true").lower() != "false"
        return _json_response(201, {"data": offer_request.as_json(with_offers=with_offers)})

    def _route_show_offer_request(self, request: Request, request_id: str) -> Response:
        with self._lock:
            offer_request = self._offer_requests.get(request_id)
        if offer_request is None:
            return _duffel_error(errors.NOT_FOUND)
        return _json_response(200, {"data": offer_request.as_json(with_offers=True)})

    def _route_list_offers(self, request: Request) -> Response:
        args = request.args
        request_id = args.get("offer_request_id")
        if not request_id:
            raise RequestRejected(
                [errors.invalid_parameter("offer_request_id", "offer_request_id is required")]
            )
        problems = []
        sort = args.get("sort") or None
        if sort is not None and sort not in SORTS:
            problems.append(errors.invalid_parameter("sort", f"sort must be one of {', '.join(SORTS)}"))
        raw_limit = args.get("limit", str(DEFAULT_PAGE_SIZE))
        limit = int(raw_limit) if raw_limit.isdigit() else 0
        if not 1 <= limit <= MAX_PAGE_SIZE:
            problems.append(errors.invalid_parameter("limit", f"limit must be from 1 to {MAX_PAGE_SIZE}"))
        with self._lock:
            offer_request = self._offer_requests.get(request_id)
        if offer_request is None:
            return _duffel_error(errors.NOT_FOUND)
        offset = 0
        for name in ("after", "before"):
            cursor = args.get(name)
            if cursor is None:
                continue
            read = _offset(cursor, request_id)
            if read is None:
                problems.append(errors.invalid_parameter(name, f"{name} is not a cursor of this list"))
            else:
                offset = read if name == "after" else max(0, read - limit)
        if problems:
            raise RequestRejected(problems)
        offers = _sorted(offer_request.offers, sort)
        page = offers[offset : offset + limit]
        after = _cursor(request_id, offset + limit) if offset + limit < len(offers) else None
        before = _cursor(request_id, offset) if offset > 0 else None
        return _json_response(200, {"data": page, "meta": {"limit": limit, "after": after, "before": before}})

    # --- Control routes (not part of Duffel) ---------------------------------------------------------

    def _control(self, request: Request) -> Response:
        try:
            endpoint, arguments = self._routes.bind_to_environ(request.environ).match()
        except (NotFound, MethodNotAllowed) as refused:
            return _control_error(refused.code or 404, refused.description or "not found")
        except HTTPException as refused:
            return _control_error(refused.code or 400, refused.description or "bad request")
        handler: Callable[..., Response] = getattr(self, f"_route_{endpoint}")
        try:
            return handler(request, **arguments)
        except ControlInputError as bad_input:
            return _control_error(400, str(bad_input))

    def _route_show_stats(self, request: Request) -> Response:
        return _json_response(200, self.stats())

    def _route_reset_all(self, request: Request) -> Response:
        self.reset()
        return _json_response(200, {"reset": True, **self.stats()})

    def _route_faults(self, request: Request) -> Response:
        body = request.get_data if request.method == "POST" else None
        return _json_response(200, self._fault_control(body))

    def _route_price_pin(
        self, request: Request, origin: str, destination: str, departure_date: str
    ) -> Response:
        body = request.get_data if request.method == "PUT" else None
        return _json_response(200, self._pin_control(origin, destination, departure_date, body))
