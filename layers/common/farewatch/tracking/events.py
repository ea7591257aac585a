"""The one shape of a price-drop alert outside the alerts table: the `PriceDropDetected` event.

`AlertDetails` is what a traveller may see of an alert: `GET /alerts` answers it (plus acknowledgement)
and the webhook body carries it as `data`. `PriceDropDetected` adds whose alert it is, and is the detail
of the EventBridge event the poller publishes and the notifier reads. Nothing here is an internal key:
the route is its fields, prices are decimal strings with two places ("240.00").

The trip fields beyond the one-way economy query (`return_date`, `cabin`, `max_stops`, the winning
`best_date` of a flexible window), the price `insight` and a `booking_url` are optional here (None),
so that the trip shape and the fare sources can fill them in without changing how an alert travels.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from farewatch.clock import iso_utc
from farewatch.tracking.values import Alert

EVENT_SOURCE = "farewatch"
PRICE_DROP_DETAIL_TYPE = "PriceDropDetected"
WEBHOOK_EVENT_TYPE = "price_drop.detected"

_CENTS = Decimal("0.01")
DecimalString = Annotated[
    str, StringConstraints(pattern=r"^\d{1,10}\.\d{2}$"), Field(examples=["240.00"], description="2 places")
]
AlertKind = Literal["target_reached", "price_drop"]
Cabin = Literal["economy", "premium_economy", "business", "first"]


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount.quantize(_CENTS))


class AlertInsight(BaseModel):
    """How the alert's price compared with our own comparable observations (README "Price insight")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Literal["low", "typical", "high", "unknown"] = Field(
        description="low, typical, high, or unknown (too few comparable observations)."
    )
    typical_low: DecimalString | None
    typical_high: DecimalString | None
    observations: int = Field(ge=0)
    explanation: str


class AlertDetails(BaseModel):
    """A price-drop alert as travellers and their integrations see it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="The alert's id: the same for every delivery of one alert.")
    tracked_flight_id: str
    kind: AlertKind = Field(description="target_reached or price_drop.")
    origin: str = Field(examples=["JFK"])
    destination: str = Field(examples=["LAX"])
    departure_date: str = Field(examples=["2027-01-15"], description="YYYY-MM-DD")
    return_date: str | None = Field(None, description="YYYY-MM-DD of a round trip; null one way.")
    adults: int = Field(ge=1, le=9)
    cabin: Cabin | None = Field(None, description="null: the fare source's default (economy).")
    max_stops: int | None = Field(None, ge=0, description="null: any number of stops.")
    best_date: str | None = Field(
        None, description="YYYY-MM-DD: the day of a flexible window whose price raised the alert."
    )
    currency: str = Field(examples=["USD"])
    price: DecimalString = Field(description="The price that raised the alert.")
    previous_price: DecimalString | None = Field(description="The price the tracker saw before.")
    target_price: DecimalString | None
    lowest_price: DecimalString | None = Field(None, description="The lowest price the tracker has seen.")
    observed_at: str = Field(description="When the price was fetched (UTC).")
    created_at: str
    insight: AlertInsight | None = Field(
        None,
        description="How the price compared when the alert was made (null on alerts made before insight).",
    )
    booking_url: str | None = Field(None, description="Where to book at this price, when the source says.")


class PriceDropDetected(AlertDetails):
    """The detail of a `PriceDropDetected` event (source `farewatch`): the alert and whose it is."""

    user_id: str

    @classmethod
    def of(cls, alert: Alert) -> PriceDropDetected:
        return cls(user_id=alert.user_id, **details_of(alert))

    def details(self) -> AlertDetails:
        return AlertDetails(**self.model_dump(exclude={"user_id"}))


def details_of(alert: Alert) -> dict[str, Any]:
    """The fields of AlertDetails for a stored alert."""
    price = money(alert.price)
    assert price is not None
    return {
        "id": alert.id,
        "tracked_flight_id": alert.tracker_id,
        "kind": alert.kind,
        "origin": alert.origin,
        "destination": alert.destination,
        "departure_date": alert.departure_date or alert.route_key.split("#")[2],
        "return_date": alert.return_date,
        "adults": alert.adults,
        "cabin": alert.cabin,
        "max_stops": alert.max_stops,
        "best_date": alert.best_date,
        "currency": alert.currency,
        "price": price,
        "previous_price": money(alert.previous_price),
        "target_price": money(alert.target_price),
        "lowest_price": money(alert.lowest_price),
        "observed_at": iso_utc(alert.observed_at),
        "created_at": iso_utc(alert.created_at),
        "insight": None
        if alert.insight_level is None
        else AlertInsight(
            level=alert.insight_level,
            typical_low=money(alert.typical_low),
            typical_high=money(alert.typical_high),
            observations=alert.insight_observations or 0,
            explanation=alert.insight_explanation or "",
        ),
        "booking_url": alert.booking_url,
    }


def webhook_body(event: PriceDropDetected, *, timestamp: str) -> dict[str, Any]:
    """The Standard Webhooks payload of an alert: `type`, `timestamp`, `data` (no internal key)."""
    return {
        "type": WEBHOOK_EVENT_TYPE,
        "timestamp": timestamp,
        "data": event.details().model_dump(mode="json"),
    }
