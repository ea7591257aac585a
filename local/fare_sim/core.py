"""What every fare simulator is besides its wire format: a thread-safe WSGI app with request counts, the
operator's levers (faults and price pins, as methods and as `/__sim` control routes) and the deterministic
price world (`fare_sim.pricing`).

A simulator subclasses `FareSimulator`, names its routes and counted paths, and implements `serve` (its
own API: authentication, rate limit, validation, rendering) and `internal_error`. Control routes:
`GET /__sim/stats`, `POST /__sim/reset`, `GET|POST /__sim/faults` (`{"mode": "http500", "count": 2}`;
without count until mode "none"), `PUT|DELETE /__sim/prices/<origin>/<destination>/<YYYY-MM-DD>`
(`{"amount": 123.45, "currency": "USD"}` or `{"offers": 0}`); a simulator may add its own `/__sim/...`
rules, served by `control_<endpoint>`. Faults make the next fare requests fail the ways the real APIs
fail; pins fix what a route/day costs (or that it has none) so a test or a demo can predict the cheapest.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from fare_sim.pricing import FlightSearch, NoOffersPin, Pin, PricedOffer, PricePin, RouteDay, find_offers
from fare_sim.world import PER_US_DOLLAR, amount_text, to_cents

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

BOOKING_HORIZON_DAYS = 365  # every API refuses departures further ahead than this
# What a date must be, by `day_problem`'s answer, in the words of the Duffel and Ignav errors.
DAY_RULES = {
    "format": "a date, YYYY-MM-DD",
    "past": "today or later",
    "horizon": f"within {BOOKING_HORIZON_DAYS} days",
}
MAX_PIN_AMOUNT = Decimal("1000000")
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


class ControlInputError(ValueError):
    """Bad input on a control route: answered 400 with the message."""


class FaultMode(enum.Enum):
    NONE = "none"
    HTTP500 = "http500"  # 500 (Amadeus code 141)
    HTTP429 = "http429"  # 429 (Amadeus code 38194)
    TIMEOUT = "timeout"  # sleeps, then answers normally
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 - a mode name: 401, and the presented token really expires
    MALFORMED = "malformed"  # 200 with the body cut short


def json_response(status: int, body: Any, content_type: str = "application/json", **headers: str) -> Response:
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


# --- Reading the levers' input ------------------------------------------------------------------------


def _fields(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ControlInputError("the request body must be a JSON object")
    if unknown := set(body) - allowed:
        raise ControlInputError(f"unknown fields: {', '.join(sorted(unknown))}")
    return body


def read_count(count: Any) -> int | None:
    """How many requests a fault lasts: a whole number of at least 1, or None (until cleared)."""
    if count is not None and (type(count) is not int or count < 1):
        raise ControlInputError("count must be a whole number of at least 1")
    return count


def read_fault(body: Any) -> tuple[FaultMode, int | None]:
    """`{"mode": "http500", "count": 2}`; without count the fault lasts until mode "none"."""
    fields = _fields(body, {"mode", "count"})
    try:
        mode = FaultMode(fields.get("mode"))
    except ValueError:
        raise ControlInputError(f"mode must be one of {'|'.join(mode.value for mode in FaultMode)}") from None
    return mode, read_count(fields.get("count"))


def read_route_day(origin: str, destination: str, departure_date: str) -> RouteDay:
    if not re.fullmatch(r"[A-Z]{3}", origin) or not re.fullmatch(r"[A-Z]{3}", destination):
        raise ControlInputError("origin and destination must be 3-letter IATA codes, e.g. JFK")
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", departure_date):
            raise ValueError(departure_date)
        return RouteDay(origin, destination, dt.date.fromisoformat(departure_date))
    except ValueError:
        raise ControlInputError("the date must be YYYY-MM-DD") from None


def read_pin(body: Any) -> Pin:
    """`{"amount": 123.45, "currency": "USD"}` (currency defaults to USD) or `{"offers": 0}`."""
    if isinstance(body, dict) and "offers" in body:
        if set(body) != {"offers"} or body["offers"] != 0 or isinstance(body["offers"], bool):
            raise ControlInputError('to pin "no offers" send exactly {"offers": 0}')
        return NoOffersPin()
    fields = _fields(body, {"amount", "currency"})
    return price_pin(fields.get("amount"), fields.get("currency", "USD"))


def price_pin(amount: Any, currency: Any) -> PricePin:
    try:
        if isinstance(amount, bool) or not isinstance(amount, int | float | str | Decimal):
            raise InvalidOperation
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ControlInputError("amount must be a number, e.g. 123.45") from None
    if not value.is_finite() or not 0 < value < MAX_PIN_AMOUNT:
        raise ControlInputError(f"amount must be above 0 and below {MAX_PIN_AMOUNT}")
    if value != to_cents(value):
        raise ControlInputError("amount must have at most 2 decimals")
    if not isinstance(currency, str) or currency not in PER_US_DOLLAR:
        raise ControlInputError(f"currency must be one of {', '.join(PER_US_DOLLAR)}")
    return PricePin(to_cents(value), currency)


def control_json(raw: bytes) -> Any:
    """A control request's body as JSON, whatever Content-Type was sent (curl -d sends a form type)."""
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise ControlInputError("the request body must be JSON") from None


class Timing(TypedDict, total=False):
    """The time a simulator lives in: its clock, how it sleeps, how long a timeout fault hangs."""

    clock: Callable[[], float] | None
    sleep: Callable[[float], None] | None
    timeout_fault_seconds: float


class FareSimulator:
    """The shared core of the simulators; safe to serve from many threads at once. `_lock` guards the
    levers and each simulator's own state."""

    counted: Mapping[str, str] = {}  # request path -> the stats counter it adds to
    max_body_bytes = 1024 * 1024
    title = "fare simulator"

    def __init__(self, *, routes: Iterable[Rule], counters: Iterable[str], **timing: Unpack[Timing]) -> None:
        self._lock = threading.Lock()
        self._fault: tuple[FaultMode, int | None] = (FaultMode.NONE, None)  # mode, requests still to fault
        self._pins: dict[RouteDay, Pin] = {}
        self._clock = timing.get("clock") or time.time
        self._sleep = timing.get("sleep") or time.sleep
        self.timeout_fault_seconds = timing.get("timeout_fault_seconds", 35.0)
        self._counts = dict.fromkeys(counters, 0)
        self._routes = Map([*routes, *(rule.empty() for rule in CONTROL_ROUTES)], merge_slashes=False)

    # --- What a simulator provides -----------------------------------------------------------------

    def serve(self, request: Request) -> Response:
        """Answer a request of the simulated API (not a control route)."""
        raise NotImplementedError

    def internal_error(self) -> Response:
        """The API's own answer to an unexpected failure."""
        raise NotImplementedError

    def forget(self) -> None:
        """Drop the simulator's own state on reset (tokens, offer requests...); the caller holds `_lock`."""

    # --- In-process levers ---------------------------------------------------------------------------

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
            self._pins.clear()
            self._fault = (FaultMode.NONE, None)
            self.forget()

    def pin_price(
        self, origin: str, destination: str, departure_date: str | dt.date, amount: Any, currency: str = "USD"
    ) -> None:
        """Make the cheapest one-adult fare on the route/day exactly `amount` in `currency`."""
        self._pin(read_route_day(origin, destination, str(departure_date)), price_pin(amount, currency))

    def pin_no_offers(self, origin: str, destination: str, departure_date: str | dt.date) -> None:
        self._pin(read_route_day(origin, destination, str(departure_date)), NoOffersPin())

    def unpin(self, origin: str, destination: str, departure_date: str | dt.date) -> bool:
        """Remove a pin; whether there was one."""
        route = read_route_day(origin, destination, str(departure_date))
        with self._lock:
            return self._pins.pop(route, None) is not None

    def _pin(self, route: RouteDay, pin: Pin) -> None:
        with self._lock:
            self._pins[route] = pin

    def pins(self) -> dict[RouteDay, Pin]:
        with self._lock:
            return dict(self._pins)

    def set_fault(self, mode: str, count: int | None = None) -> None:
        """Fault the next `count` fare requests (all of them until mode "none" if count is None)."""
        self._set_fault(*read_fault({"mode": mode} if count is None else {"mode": mode, "count": count}))

    def _set_fault(self, mode: FaultMode, count: int | None) -> None:
        with self._lock:
            self._fault = (mode, None if mode is FaultMode.NONE else count)

    def fault(self) -> dict[str, Any]:
        with self._lock:
            return {"mode": self._fault[0].value, "count": self._fault[1]}

    def _take_fault(self) -> FaultMode:
        """The fault for the request being handled, using up one of its count; the caller holds `_lock`."""
        mode, remaining = self._fault
        if mode is not FaultMode.NONE and remaining is not None:
            self._fault = (mode, remaining - 1) if remaining > 1 else (FaultMode.NONE, None)
        return mode

    def take_fault(self) -> FaultMode:
        with self._lock:
            return self._take_fault()

    def today(self, now: float | None = None) -> dt.date:
        return dt.datetime.fromtimestamp(self._clock() if now is None else now, tz=dt.UTC).date()

    def offers(
        self, search: FlightSearch, now: float, pins: Mapping[RouteDay, Pin] | None = None
    ) -> list[PricedOffer]:
        """The offers the price world has for `search` at `now`, under the current pins."""
        return find_offers(search, now=now, pins=self.pins() if pins is None else pins)

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
        status = malformed_status or response.status_code
        return Response(data[: len(data) // 2], status=status, content_type=response.content_type)

    def match(self, request: Request) -> tuple[str, Mapping[str, Any]]:
        """The endpoint and path arguments of a request; werkzeug's HTTPException when none matches."""
        return self._routes.bind_to_environ(request.environ).match()

    # --- WSGI ----------------------------------------------------------------------------------------

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
            body = (lambda: control_json(request.get_data())) if request.method in ("POST", "PUT") else None
            if endpoint == "show_stats":
                return json_response(200, self.stats())
            if endpoint == "reset_all":
                self.reset()
                return json_response(200, {"reset": True, **self.stats()})
            if endpoint == "faults":
                if body is not None:
                    self._set_fault(*read_fault(body()))
                return json_response(200, self.fault())
            if endpoint == "price_pin":
                return json_response(200, self._pin_control(body=body, **arguments))
            control: Callable[[Callable[[], Any] | None], Any] = getattr(self, f"control_{endpoint}")
            return json_response(200, control(body))
        except HTTPException as refused:
            return json_response(refused.code or 400, {"error": refused.description or "bad request"})
        except ControlInputError as bad_input:
            return json_response(400, {"error": str(bad_input)})

    def _pin_control(
        self, origin: str, destination: str, departure_date: str, body: Callable[[], Any] | None
    ) -> dict[str, Any]:
        """`PUT /__sim/prices/...` with the JSON `body()` as the pin (read once the path is known to be
        good), or `DELETE` (no body)."""
        route = read_route_day(origin, destination, departure_date)
        described = {"origin": origin, "destination": destination, "departureDate": departure_date}
        if body is None:
            return {
                **described,
                "pinned": False,
                "was_pinned": self.unpin(origin, destination, departure_date),
            }
        self._pin(route, pin := read_pin(body()))
        if isinstance(pin, PricePin):
            return {**described, "amount": amount_text(pin.amount), "currency": pin.currency, "pinned": True}
        return {**described, "offers": 0, "pinned": True}
