"""What every fare simulator is besides its wire format: a thread-safe WSGI app with request counts, the
`/__sim` control routes over the levers (pins, faults), the fault pipeline and the deterministic price
world (`fare_sim.pricing`).

A simulator subclasses `FareSimulator`, names its routes and counted paths, and implements `serve`
(its own API: authentication, rate limit, validation, rendering) and `internal_error`. Control routes:
`GET /__sim/stats`, `POST /__sim/reset`, `GET|POST /__sim/faults` (`{"mode": "http500", "count": 2}`),
`PUT|DELETE /__sim/prices/<origin>/<destination>/<YYYY-MM-DD>` (`{"amount": 123.45, "currency": "USD"}`
or `{"offers": 0}`); a simulator may add its own `/__sim/...` rules, served by `control_<endpoint>`.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from fare_sim.levers import ControlInputError, FaultMode, Levers
from fare_sim.pricing import FlightSearch, Pin, PricedOffer, RouteDay, find_offers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

BOOKING_HORIZON_DAYS = 365  # every API refuses departures further ahead than this
# What a date must be, by `day_problem`'s answer, in the words of the Duffel and Ignav errors.
DAY_RULES = {
    "format": "a date, YYYY-MM-DD",
    "past": "today or later",
    "horizon": f"within {BOOKING_HORIZON_DAYS} days",
}
logger = logging.getLogger(__name__)
T = TypeVar("T")

CONTROL_ROUTES = (
    Rule("/__sim/stats", endpoint="show_stats", methods=["GET"]),
    Rule("/__sim/reset", endpoint="reset_all", methods=["POST"]),
    Rule("/__sim/faults", endpoint="faults", methods=["GET", "POST"]),
    Rule(
        "/__sim/prices/<origin>/<destination>/<departure_date>",
        endpoint="price_pin",
        methods=["PUT", "DELETE"],
    ),
)


def json_response(status: int, body: Any, content_type: str = "application/json", **headers: str) -> Response:
    """`body` as JSON; `headers` are added as given."""
    # An explicit content_type is sent as is: werkzeug adds no charset to it.
    return Response(json.dumps(body), status=status, content_type=content_type, headers=headers)


def bearer_token(header: str | None) -> str | None:
    """The token from `Authorization: Bearer <token>`, or None when the header is missing or malformed."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(char.isspace() for char in token):
        return None
    return token


def same_secret(presented: str | None, expected: str) -> bool:
    """Whether a presented key or token is the expected one (in constant time); never for a missing one."""
    return bool(presented) and hmac.compare_digest(str(presented).encode(), expected.encode())


def remember(store: OrderedDict[str, T], key: str, value: T, limit: int) -> None:
    """Keep `value` as the newest entry of `store`, forgetting the oldest beyond `limit`."""
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


def day_problem(raw: Any, today: dt.date) -> tuple[dt.date | None, str | None]:
    """A departure date as every API reads it: (the day, None), or (None, what is wrong: "format",
    "past" or "horizon")."""
    try:
        if not isinstance(raw, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None, "format"
    if day < today:
        return None, "past"
    return (None, "horizon") if (day - today).days > BOOKING_HORIZON_DAYS else (day, None)


class Timing(TypedDict, total=False):
    """The time a simulator lives in: its clock, how it sleeps, how long a timeout fault hangs."""

    clock: Callable[[], float] | None
    sleep: Callable[[float], None] | None
    timeout_fault_seconds: float


class FareSimulator(Levers):
    """The shared core of the simulators; safe to serve from many threads at once."""

    counted: Mapping[str, str] = {}  # request path -> the stats counter it adds to
    max_body_bytes = 1024 * 1024
    title = "fare simulator"

    def __init__(self, *, routes: Iterable[Rule], counters: Iterable[str], **timing: Unpack[Timing]) -> None:
        super().__init__()
        self._clock = timing.get("clock") or time.time
        self._sleep = timing.get("sleep") or time.sleep
        self.timeout_fault_seconds = timing.get("timeout_fault_seconds", 35.0)
        self._counts = dict.fromkeys(counters, 0)
        self._routes = Map([*routes, *(rule.empty() for rule in CONTROL_ROUTES)], merge_slashes=False)

    # --- What a simulator provides ---------------------------------------------------------------

    def serve(self, request: Request) -> Response:
        """Answer a request of the simulated API (not a control route)."""
        raise NotImplementedError

    def internal_error(self) -> Response:
        """The API's own answer to an unexpected failure."""
        raise NotImplementedError

    def forget(self) -> None:
        """Drop the simulator's own state on reset (tokens, offer requests...); the caller holds `_lock`."""

    # --- In-process levers --------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Requests received per counted endpoint, whatever their outcome."""
        with self._lock:
            return dict(self._counts)

    def count(self, counter: str) -> None:
        with self._lock:
            self._counts[counter] += 1

    def reset(self) -> None:
        """Back to a fresh start: no counts, pins, fault or remembered state."""
        with self._lock:
            self._counts = dict.fromkeys(self._counts, 0)
            self._clear_levers()
            self.forget()

    def today(self, now: float | None = None) -> dt.date:
        return dt.datetime.fromtimestamp(self._clock() if now is None else now, tz=dt.UTC).date()

    def pins(self) -> dict[RouteDay, Pin]:
        with self._lock:
            return dict(self._pins)

    def offers(
        self, search: FlightSearch, now: float, pins: Mapping[RouteDay, Pin] | None = None
    ) -> list[PricedOffer]:
        """The offers the price world has for `search` at `now`, under the current pins."""
        return find_offers(search, now=now, pins=self.pins() if pins is None else pins)

    def take_fault(self) -> FaultMode:
        with self._lock:
            return self._take_fault()

    def with_fault(
        self, fault: FaultMode, answer: Callable[[], Response], *, malformed_status: int | None = None
    ) -> Response:
        """`answer()` under the fault taken for this request: a timeout sleeps first (outside the lock:
        other requests carry on), malformed answers the first half of the body, as if the connection
        dropped. The API-specific faults (500, 429, expired token) are answered by the caller."""
        if fault is FaultMode.TIMEOUT:
            self._sleep(self.timeout_fault_seconds)
        response = answer()
        if fault is not FaultMode.MALFORMED:
            return response
        data = response.get_data()
        return Response(
            data[: len(data) // 2],
            status=malformed_status or response.status_code,
            content_type=response.content_type,
        )

    def match(self, request: Request) -> tuple[str, Mapping[str, Any]]:
        """The endpoint and path arguments of a request; werkzeug's HTTPException when none matches."""
        return self._routes.bind_to_environ(request.environ).match()

    # --- WSGI ---------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = self.max_body_bytes
        try:
            if counter := self.counted.get(request.path):
                self.count(counter)
            response = self._control(request) if request.path.startswith("/__sim/") else self.serve(request)
        except Exception:
            logger.exception("%s failed on %s %s", self.title, request.method, request.path)
            response = self.internal_error()
        return response(environ, start_response)

    def _control(self, request: Request) -> Response:
        try:
            endpoint, arguments = self.match(request)
            if endpoint == "show_stats":
                return json_response(200, self.stats())
            if endpoint == "reset_all":
                self.reset()
                return json_response(200, {"reset": True, **self.stats()})
            body = request.get_data if request.method in ("POST", "PUT") else None
            if endpoint == "faults":
                return json_response(200, self._fault_control(body))
            if endpoint == "price_pin":
                return json_response(200, self._pin_control(body=body, **arguments))
            control: Callable[[Callable[[], bytes] | None], Any] = getattr(self, f"control_{endpoint}")
            return json_response(200, control(body))
        except HTTPException as refused:
            return json_response(refused.code or 400, {"error": refused.description or "bad request"})
        except ControlInputError as bad_input:
            return json_response(400, {"error": str(bad_input)})
