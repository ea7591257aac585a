"""The operator's levers every simulator offers (not part of any fare API): injected faults and price
pins, as in-process methods and as the `/__sim/faults` and `/__sim/prices/...` control routes.

Faults make the next fare requests fail the ways the real APIs fail; pins fix what a route/day costs (or
that it has no offers) so a test or a demo can predict the cheapest fare.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from fare_sim.pricing import NoOffersPin, Pin, PricePin, RouteDay
from fare_sim.world import PER_US_DOLLAR, amount_text, to_cents

MAX_PIN_AMOUNT = Decimal("1000000")


class ControlInputError(ValueError):
    """Bad input on a control route: answered 400 with the message."""


class FaultMode(enum.Enum):
    NONE = "none"
    HTTP500 = "http500"  # 500 (Amadeus code 141)
    HTTP429 = "http429"  # 429 (Amadeus code 38194)
    TIMEOUT = "timeout"  # sleeps, then answers normally
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 - a mode name: 401, and the presented token really expires
    MALFORMED = "malformed"  # 200 with the body cut short


def read_fault(body: Any) -> tuple[FaultMode, int | None]:
    """`{"mode": "http500", "count": 2}`; without count the fault lasts until mode "none"."""
    fields = _object(body)
    if set(fields) - {"mode", "count"}:
        raise ControlInputError(f"unknown fields: {', '.join(sorted(set(fields) - {'mode', 'count'}))}")
    try:
        mode = FaultMode(fields.get("mode"))
    except ValueError:
        raise ControlInputError(f"mode must be one of {'|'.join(mode.value for mode in FaultMode)}") from None
    return mode, read_count(fields.get("count"))


def read_count(count: Any) -> int | None:
    """How many requests a fault lasts: a whole number of at least 1, or None (until cleared)."""
    if count is not None and (type(count) is not int or count < 1):
        raise ControlInputError("count must be a whole number of at least 1")
    return count


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
    fields = _object(body)
    if "offers" in fields:
        if set(fields) != {"offers"} or fields["offers"] != 0 or isinstance(fields["offers"], bool):
            raise ControlInputError('to pin "no offers" send exactly {"offers": 0}')
        return NoOffersPin()
    if set(fields) - {"amount", "currency"}:
        raise ControlInputError(f"unknown fields: {', '.join(sorted(set(fields) - {'amount', 'currency'}))}")
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


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ControlInputError("the request body must be a JSON object")
    return body


def control_json(raw: bytes) -> Any:
    """A control request's body as JSON, whatever Content-Type was sent (curl -d sends a form type)."""
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise ControlInputError("the request body must be JSON") from None


class Levers:
    """Price pins and the fault plan, behind the simulator's lock (which guards its own state too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: tuple[FaultMode, int | None] = (FaultMode.NONE, None)  # mode, requests still to fault
        self._pins: dict[RouteDay, Pin] = {}

    def pin_price(
        self, origin: str, destination: str, departure_date: str | dt.date, amount: Any, currency: str = "USD"
    ) -> None:
        """Make the cheapest one-adult fare on the route/day exactly `amount` in `currency`."""
        route, pin = read_route_day(origin, destination, str(departure_date)), price_pin(amount, currency)
        with self._lock:
            self._pins[route] = pin

    def pin_no_offers(self, origin: str, destination: str, departure_date: str | dt.date) -> None:
        route = read_route_day(origin, destination, str(departure_date))
        with self._lock:
            self._pins[route] = NoOffersPin()

    def unpin(self, origin: str, destination: str, departure_date: str | dt.date) -> None:
        route = read_route_day(origin, destination, str(departure_date))
        with self._lock:
            self._pins.pop(route, None)

    def set_fault(self, mode: str, count: int | None = None) -> None:
        """Fault the next `count` fare requests (all of them until mode "none" if count is None)."""
        fault = read_fault({"mode": mode} if count is None else {"mode": mode, "count": count})
        with self._lock:
            self._set_fault(*fault)

    def fault(self) -> dict[str, Any]:
        with self._lock:
            return {"mode": self._fault[0].value, "count": self._fault[1]}

    def _set_fault(self, mode: FaultMode, count: int | None) -> None:
        self._fault = (mode, None if mode is FaultMode.NONE else count)

    def _take_fault(self) -> FaultMode:
        """The fault for the request being handled, using up one of its count; the caller holds `_lock`."""
        mode, remaining = self._fault
        if mode is not FaultMode.NONE and remaining is not None:
            self._set_fault(mode if remaining > 1 else FaultMode.NONE, remaining - 1)
        return mode

    def _clear_levers(self) -> None:
        self._pins.clear()
        self._set_fault(FaultMode.NONE, None)

    def _fault_control(self, body: Callable[[], bytes] | None) -> dict[str, Any]:
        """`GET /__sim/faults` (no body) or `POST` with the JSON `body()` as the new fault."""
        if body is not None:
            fault = read_fault(control_json(body()))
            with self._lock:
                self._set_fault(*fault)
        return self.fault()

    def _pin_control(
        self, origin: str, destination: str, departure_date: str, body: Callable[[], bytes] | None
    ) -> dict[str, Any]:
        """`PUT /__sim/prices/...` with the JSON `body()` as the pin (read once the path is known to be
        good), or `DELETE` (no body)."""
        route = read_route_day(origin, destination, departure_date)
        described: dict[str, Any] = {
            "origin": origin,
            "destination": destination,
            "departureDate": departure_date,
        }
        if body is None:
            with self._lock:
                removed = self._pins.pop(route, None)
            return {**described, "pinned": False, "was_pinned": removed is not None}
        pin = read_pin(control_json(body()))
        with self._lock:
            self._pins[route] = pin
        if isinstance(pin, NoOffersPin):
            return {**described, "offers": 0, "pinned": True}
        return {**described, "amount": amount_text(pin.amount), "currency": pin.currency, "pinned": True}
