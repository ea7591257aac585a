"""The operator's levers (not part of Amadeus): injected faults and price pins, and reading their input.

Faults make the next flight-offers requests fail the ways the real API fails; pins fix what a
route/day costs (or that it has no offers) so a test or a demo can predict the cheapest fare.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from amadeus_sim import money
from amadeus_sim.offers import NoOffersPin, Pin, PricePin, RouteDay

MAX_PIN_AMOUNT = Decimal("1000000")
_LOCATION_CODE = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ControlInputError(ValueError):
    """Bad input on a control route: answered 400 with the message."""


class FaultMode(enum.Enum):
    NONE = "none"
    HTTP500 = "http500"  # 500, code 141
    HTTP429 = "http429"  # 429, code 38194
    TIMEOUT = "timeout"  # sleeps, then answers normally
    # 401, code 38192, and the presented token really expires
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 - a mode name, not a secret
    MALFORMED = "malformed"  # 200 with the body cut short


@dataclass
class FaultPlan:
    """The fault applied to upcoming flight-offers requests."""

    mode: FaultMode = FaultMode.NONE
    remaining: int | None = None  # requests still to fault; None = until the mode is set to none

    def set(self, mode: FaultMode, count: int | None) -> None:
        self.mode, self.remaining = mode, None if mode is FaultMode.NONE else count

    def take(self) -> FaultMode:
        """The fault for the request being handled, using up one of the remaining count."""
        mode = self.mode
        if mode is not FaultMode.NONE and self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.set(FaultMode.NONE, None)
        return mode

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "count": self.remaining}


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ControlInputError("the request body must be a JSON object")
    return body


def read_fault(body: Any) -> tuple[FaultMode, int | None]:
    """`{"mode": "http500", "count": 2}`; without count the fault lasts until mode "none"."""
    fields = _object(body)
    unknown = set(fields) - {"mode", "count"}
    if unknown:
        raise ControlInputError(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        mode = FaultMode(fields.get("mode"))
    except ValueError:
        choices = "|".join(mode.value for mode in FaultMode)
        raise ControlInputError(f"mode must be one of {choices}") from None
    count = fields.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ControlInputError("count must be a whole number of at least 1")
    return mode, count


def read_route_day(origin: str, destination: str, departure_date: str) -> RouteDay:
    if not _LOCATION_CODE.fullmatch(origin) or not _LOCATION_CODE.fullmatch(destination):
        raise ControlInputError("origin and destination must be 3-letter IATA codes, e.g. JFK")
    try:
        if not _DATE.fullmatch(departure_date):
            raise ValueError(departure_date)
        day = dt.date.fromisoformat(departure_date)
    except ValueError:
        raise ControlInputError("the date must be YYYY-MM-DD") from None
    return RouteDay(origin, destination, day)


def read_pin(body: Any) -> Pin:
    """`{"amount": 123.45, "currency": "USD"}` (currency defaults to USD) or `{"offers": 0}`."""
    fields = _object(body)
    if "offers" in fields:
        if set(fields) != {"offers"} or fields["offers"] != 0 or isinstance(fields["offers"], bool):
            raise ControlInputError('to pin "no offers" send exactly {"offers": 0}')
        return NoOffersPin()
    unknown = set(fields) - {"amount", "currency"}
    if unknown:
        raise ControlInputError(f"unknown fields: {', '.join(sorted(unknown))}")
    return price_pin(fields.get("amount"), fields.get("currency", "USD"))


def price_pin(amount: Any, currency: Any) -> PricePin:
    if isinstance(amount, bool) or not isinstance(amount, int | float | str | Decimal):
        raise ControlInputError("amount must be a number, e.g. 123.45")
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ControlInputError("amount must be a number, e.g. 123.45") from None
    if not value.is_finite() or not 0 < value < MAX_PIN_AMOUNT:
        raise ControlInputError(f"amount must be above 0 and below {MAX_PIN_AMOUNT}")
    if value != money.to_cents(value):
        raise ControlInputError("amount must have at most 2 decimals")
    if not isinstance(currency, str) or not money.is_known_currency(currency):
        raise ControlInputError(f"currency must be one of {', '.join(money.CURRENCIES)}")
    return PricePin(money.to_cents(value), currency)


def pin_as_json(route: RouteDay, pin: Pin | None) -> dict[str, Any]:
    described: dict[str, Any] = {
        "origin": route.origin,
        "destination": route.destination,
        "departureDate": route.day.isoformat(),
    }
    if isinstance(pin, NoOffersPin):
        described["offers"] = 0
    elif pin is not None:
        described.update(amount=money.amount_text(pin.amount), currency=pin.currency)
    return described


def _control_json(raw: bytes) -> Any:
    """A control request's body as JSON, whatever Content-Type the caller sent (curl -d sends a form
    type)."""
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise ControlInputError("the request body must be JSON") from None


class Levers:
    """Price pins and the fault plan, the levers every simulator offers, behind the simulator's lock.

    A simulator inherits them and guards its own state (counts, tokens, rate limit) with `_lock` too.
    The public methods are the in-process levers; `_fault_control` and `_pin_control` do the work of
    the `/__sim/faults` and `/__sim/prices/...` control routes and answer their JSON.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = FaultPlan()
        self._pins: dict[RouteDay, Pin] = {}

    def pin_price(
        self, origin: str, destination: str, departure_date: str | dt.date, amount: Any, currency: str = "USD"
    ) -> None:
        """Make the cheapest one-adult fare on the route/day exactly `amount` in `currency`."""
        route = read_route_day(origin, destination, str(departure_date))
        pin = price_pin(amount, currency)
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
        fault_mode, fault_count = read_fault(
            {"mode": mode} if count is None else {"mode": mode, "count": count}
        )
        with self._lock:
            self._faults.set(fault_mode, fault_count)

    def fault(self) -> dict[str, Any]:
        with self._lock:
            return self._faults.as_json()

    def _clear_levers(self) -> None:
        """No pins and no fault; the caller holds `_lock`."""
        self._pins.clear()
        self._faults.set(FaultMode.NONE, None)

    def _fault_control(self, body: Callable[[], bytes] | None) -> dict[str, Any]:
        """`GET /__sim/faults` (no body) or `POST` with the JSON `body()` as the new fault."""
        if body is not None:
            mode, count = read_fault(_control_json(body()))
            with self._lock:
                self._faults.set(mode, count)
        return self.fault()

    def _pin_control(
        self, origin: str, destination: str, departure_date: str, body: Callable[[], bytes] | None
    ) -> dict[str, Any]:
        """`PUT /__sim/prices/...` with the JSON `body()` as the pin (read once the path is known to
        be good), or `DELETE` (no body)."""
        route = read_route_day(origin, destination, departure_date)
        if body is None:
            with self._lock:
                removed = self._pins.pop(route, None)
            return {**pin_as_json(route, None), "pinned": False, "was_pinned": removed is not None}
        pin = read_pin(_control_json(body()))
        with self._lock:
            self._pins[route] = pin
        return {**pin_as_json(route, pin), "pinned": True}
