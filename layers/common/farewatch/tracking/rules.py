"""The drop rules of SPEC §4 as pure functions: given a tracker's memory and a new price, which alert.

- target price: alert when the price is at or below the target, once; again only when it falls
  further below the last alerted price;
- any drop: alert when the price is below the tracker's last seen price;
- a rise or an unchanged price never alerts. When both rules fire, the target alert wins (one alert
  per tracker and observation).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class AlertKind(StrEnum):
    TARGET_REACHED = "target_reached"
    PRICE_DROP = "price_drop"


@dataclass(frozen=True)
class TrackerMemory:
    """What a tracker remembers between observations."""

    target_price: Decimal | None
    notify_on_any_drop: bool
    last_seen_price: Decimal | None
    last_alerted_price: Decimal | None


@dataclass(frozen=True)
class Decision:
    kind: AlertKind
    price: Decimal
    previous_price: Decimal | None


def target_reached(memory: TrackerMemory, price: Decimal) -> bool:
    if memory.target_price is None or price > memory.target_price:
        return False
    return memory.last_alerted_price is None or price < memory.last_alerted_price


def dropped(memory: TrackerMemory, price: Decimal) -> bool:
    return memory.notify_on_any_drop and memory.last_seen_price is not None and price < memory.last_seen_price


def decide(memory: TrackerMemory, price: Decimal) -> Decision | None:
    """The alert a new price deserves, or None."""
    if target_reached(memory, price):
        return Decision(AlertKind.TARGET_REACHED, price, memory.last_seen_price)
    if dropped(memory, price):
        return Decision(AlertKind.PRICE_DROP, price, memory.last_seen_price)
    return None


def remembered_after(memory: TrackerMemory, price: Decimal, decision: Decision | None) -> TrackerMemory:
    """The memory after an observation: the last seen price moves; the last alerted only on a target alert."""
    last_alerted = memory.last_alerted_price
    if decision is not None and decision.kind is AlertKind.TARGET_REACHED:
        last_alerted = price
    return TrackerMemory(memory.target_price, memory.notify_on_any_drop, price, last_alerted)


def alert_id(tracker_id: str, fetched_at: float, kind: AlertKind, *, day: date | None = None) -> str:
    """Deterministic: the same tracker, observation and rule always give the same id (idempotency).

    A flexible tracker's alert also names its winning date (`day`): two dates of one window observed
    at the same instant are two alerts, never one swallowing the other."""
    name = f"{tracker_id}#{fetched_at!r}#{kind.value}"
    if day is not None:
        name += f"#{day.isoformat()}"
    return hashlib.sha256(name.encode()).hexdigest()[:24]
