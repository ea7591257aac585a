"""Tracking routes: tracked flights, their price-drop alerts, and route statistics for admins."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field

from farewatch import composition
from farewatch.api.access import ADMIN_ONLY, SIGNED_IN, Caller
from farewatch.api.params import Cursor, PageLimit, ResourceId
from farewatch.api.resolver import error_responses
from farewatch.clock import iso_utc
from farewatch.errors import InvalidRequest, fields_renamed
from farewatch.fare_query import DEFAULT_CURRENCY, MAX_STOPS, FareQuery, parse_fare_query
from farewatch.insight import Insight
from farewatch.tracking.events import AlertDetails, details_of
from farewatch.tracking.service import Alert, Tracker
from farewatch.tracking.stats import RouteReport, RouteStats, report_csv
from farewatch.tracking.window import MAX_FLEX_DAYS
from farewatch.validation import OneOf, WholeNumber, YesNo

router = Router()
BODY_ERRORS = (400, 413, 415)
_CENTS = Decimal("0.01")
Price = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount.quantize(_CENTS))


FlexDays = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_FLEX_DAYS,
        strict=True,
        description="Flexible dates: also watch this many days before and after departure_date (0-3), "
        "keeping the stay of a round trip; alerts name the cheapest date.",
    ),
]

Channels = Annotated[
    list[Literal["email", "webhook"]],
    Field(max_length=2, examples=[["email", "webhook"]]),
]


class TrackerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    origin: str = Field(max_length=16, examples=["JFK"])
    destination: str = Field(max_length=16, examples=["LAX"])
    departure_date: str = Field(max_length=16, examples=["2026-12-01"])
    target_price: Price | None = Field(None, description="Alert at or below this price (2 decimals).")
    # Strict: JSON types are the contract; "2", true or 1.0 for adults (or "yes" for a flag) are a 400.
    notify_on_any_drop: bool = Field(False, strict=True)
    adults: int = Field(1, ge=1, le=9, strict=True)
    currency: str = Field(DEFAULT_CURRENCY, max_length=8)
    # The trip's shape, as /flights/price takes it (issue 15).
    return_date: str | None = Field(None, max_length=16, description="A round trip: the return date.")
    cabin: Literal["economy", "premium_economy", "business", "first"] = "economy"
    max_stops: int | None = Field(
        None, ge=0, le=MAX_STOPS, strict=True, description="Per direction; null: any."
    )
    notify: Channels | None = Field(None, description="Alert channels; default: every one you set up.")
    flex_days: FlexDays = 0


class TrackerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0, strict=True, description="The version you read; a stale one is a 409.")
    target_price: Price | None = Field(None, description="null removes the target.")
    notify_on_any_drop: bool = Field(False, strict=True)
    notify: Channels | None = Field(None, description="Alert channels: email, webhook, both or none ([]).")
    flex_days: FlexDays | None = Field(
        None, description="A new window (0-3 days each side); absent: unchanged."
    )


class PriceObservationView(BaseModel):
    observed_at: str
    price: str
    currency: str


class InsightView(BaseModel):
    level: str = Field(description="low, typical, high, or unknown (too few comparable observations).")
    typical_low: str | None
    typical_high: str | None
    observations: int
    explanation: str

    @classmethod
    def of(cls, insight: Insight | None) -> InsightView:
        if insight is None:
            return cls(level="unknown", typical_low=None, typical_high=None, observations=0, explanation="")
        return cls(
            level=insight.level,
            typical_low=_money(insight.typical_low),
            typical_high=_money(insight.typical_high),
            observations=insight.observations,
            explanation=insight.explanation,
        )


class WindowDayView(BaseModel):
    departure_date: str
    return_date: str | None
    price: str | None = Field(description="The latest price seen on this date; null: not seen yet.")
    checked_at: str | None


class TrackerView(BaseModel):
    id: str
    origin: str
    destination: str
    departure_date: str
    adults: int
    currency: str
    return_date: str | None = Field(None, description="The return date of a round trip; null: one way.")
    cabin: str
    max_stops: int | None = Field(None, description="Stops allowed per direction; null: any.")
    target_price: str | None
    notify_on_any_drop: bool
    notify: list[str] = Field(description="Where alerts go besides /alerts: email and/or webhook.")
    current_price: str | None
    lowest_price: str | None
    last_checked_at: str | None
    status: str = Field(description="active or expired (departed).")
    version: int
    created_at: str
    updated_at: str
    insight: InsightView = Field(description='How the current price compares (README "Price insight").')
    flex_days: int = Field(0, description="Days each side of departure_date also watched (0-3).")
    best_date: str | None = Field(
        None,
        description="The departure date whose price is current_price (the cheapest of a flexible window).",
    )
    best_return_date: str | None = Field(None, description="The return date of the best date's round trip.")
    best_price: str | None = Field(None, description="The price on best_date (current_price).")
    window: list[WindowDayView] = Field(
        default_factory=list, description="A flexible tracker's dates to come, each with its latest price."
    )
    history: list[PriceObservationView] = Field(
        description="Every observed price, oldest first (the same in a list as alone; never null)."
    )

    @classmethod
    def of(cls, tracker: Tracker) -> TrackerView:
        stored, query = tracker.stored, tracker.stored.query
        best = tracker.best
        return cls(
            id=stored.id,
            origin=query.origin,
            destination=query.destination,
            departure_date=query.departure_date.isoformat(),
            adults=query.adults,
            currency=query.currency,
            return_date=query.return_date.isoformat() if query.return_date is not None else None,
            cabin=query.cabin,
            max_stops=query.max_stops,
            target_price=_money(stored.target_price),
            notify_on_any_drop=stored.notify_on_any_drop,
            notify=list(stored.notify) if stored.notify is not None else ["email", "webhook"],
            current_price=_money(stored.current_price),
            lowest_price=_money(stored.lowest_price),
            last_checked_at=iso_utc(stored.last_checked_at) if stored.last_checked_at is not None else None,
            status=tracker.status,
            version=stored.version,
            created_at=iso_utc(stored.created_at),
            updated_at=iso_utc(stored.updated_at),
            insight=InsightView.of(tracker.insight),
            flex_days=stored.flex_days,
            best_date=best.departure_date.isoformat() if best is not None else None,
            best_return_date=_return_on(query, best.departure_date) if best is not None else None,
            best_price=_money(best.amount) if best is not None else None,
            window=[
                WindowDayView(
                    departure_date=day.trip.departure_date.isoformat(),
                    return_date=day.trip.return_date.isoformat() if day.trip.return_date else None,
                    price=_money(day.price.amount) if day.price is not None else None,
                    checked_at=iso_utc(day.price.fetched_at) if day.price is not None else None,
                )
                for day in tracker.window
            ],
            history=[
                PriceObservationView(
                    observed_at=observation.observed_at,
                    price=str(observation.amount.quantize(_CENTS)),
                    currency=observation.currency,
                )
                for observation in tracker.history
            ],
        )


def _return_on(query: FareQuery, day: date) -> str | None:
    trip = query.departing_on(day)
    return trip.return_date.isoformat() if trip.return_date is not None else None


class TrackerEnvelope(BaseModel):
    data: TrackerView


class TrackerList(BaseModel):
    data: list[TrackerView]


class AlertView(AlertDetails):
    """An alert with its route as fields (the PriceDropDetected event's shape) and whether it was read."""

    route: str = Field(description="The fare query ORIGIN#DESTINATION#DATE#ADULTS#CURRENCY (use the fields).")
    acked: bool
    acked_at: str | None
    offer_id: str | None = Field(
        None, description="The cheapest offer when the alert was made (GET /flights/booking-links?offer=...)."
    )

    @classmethod
    def of(cls, alert: Alert) -> AlertView:
        return cls(
            **details_of(alert),
            route=alert.route_key,
            acked=alert.acked_at is not None,
            acked_at=iso_utc(alert.acked_at) if alert.acked_at is not None else None,
            offer_id=alert.offer_id,
        )


class AlertEnvelope(BaseModel):
    data: AlertView


class AlertPage(BaseModel):
    data: list[AlertView]
    next_cursor: str | None = None


class RouteStatsView(BaseModel):
    route: str
    searches: int
    trackers: int
    currency: str | None
    latest_price: str | None
    min_price: str | None
    max_price: str | None

    @classmethod
    def of(cls, stats: RouteStats) -> RouteStatsView:
        return cls(
            route=stats.route,
            searches=stats.searches,
            trackers=stats.trackers,
            currency=stats.currency,
            latest_price=_money(stats.latest_price),
            min_price=_money(stats.min_price),
            max_price=_money(stats.max_price),
        )


class RouteReportView(BaseModel):
    days: int
    most_searched: list[RouteStatsView]
    most_tracked: list[RouteStatsView]

    @classmethod
    def of(cls, report: RouteReport) -> RouteReportView:
        return cls(
            days=report.days,
            most_searched=[RouteStatsView.of(stats) for stats in report.most_searched],
            most_tracked=[RouteStatsView.of(stats) for stats in report.most_tracked],
        )


class RouteReportEnvelope(BaseModel):
    data: RouteReportView


@router.post(
    "/tracked-flights",
    summary="Track a flight's price",
    status_code=201,
    security=SIGNED_IN,
    responses={
        **error_responses(*BODY_ERRORS, 401, 409, 502, 503, 504, success=201),
        200: {
            "description": "You already track this trip with these rules: that tracker, not a copy",
            "content": {"application/json": {"model": TrackerEnvelope}},
        },
    },
)
def create_tracker(caller: Caller, body: Annotated[TrackerCreate, Body()]) -> Response[TrackerEnvelope]:
    service = composition.tracking_service()
    # Validated like /flights/price (same rules, same 400s); `date` is how those name the day.
    fields = {**body.model_dump(exclude={"departure_date"}), "date": body.departure_date}
    try:
        query = parse_fare_query(fields, clock=service.clock)
    except InvalidRequest as error:  # named as the body names it
        raise fields_renamed(error, {"date": "departure_date"}) from None
    tracker = service.create(
        caller.user_id,
        query,
        target_price=body.target_price,
        notify_on_any_drop=body.notify_on_any_drop,
        notify=tuple(dict.fromkeys(body.notify)) if body.notify is not None else None,
        flex_days=body.flex_days,
    )
    return Response(
        201 if tracker.created else 200,
        "application/json",
        TrackerEnvelope(data=TrackerView.of(tracker)),
    )


@router.get(
    "/tracked-flights",
    summary="Your tracked flights, newest first",
    security=SIGNED_IN,
    responses=error_responses(401),
)
def list_trackers(caller: Caller) -> TrackerList:
    trackers = composition.tracking_service().trackers_of(caller.user_id)
    return TrackerList(data=[TrackerView.of(tracker) for tracker in trackers])


@router.get(
    "/tracked-flights/<id>",
    summary="One of your tracked flights, with its price history",
    security=SIGNED_IN,
    responses=error_responses(400, 401, 404),
)
def get_tracker(id: ResourceId, caller: Caller) -> TrackerEnvelope:
    tracker = composition.tracking_service().get(caller.user_id, id)
    return TrackerEnvelope(data=TrackerView.of(tracker))


@router.patch(
    "/tracked-flights/<id>",
    summary="Change the target price, any-drop flag, channels or flex_days (optimistic locking on version)",
    security=SIGNED_IN,
    responses=error_responses(*BODY_ERRORS, 401, 404, 409),
)
def update_tracker(id: ResourceId, caller: Caller, body: Annotated[TrackerUpdate, Body()]) -> TrackerEnvelope:
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("target_price", "notify_on_any_drop")
        if name in body.model_fields_set
    }
    if body.flex_days is not None:
        changes["flex_days"] = body.flex_days
    if "notify" in body.model_fields_set and body.notify is not None:
        changes["notify"] = tuple(dict.fromkeys(body.notify))
    tracker = composition.tracking_service().update(caller.user_id, id, version=body.version, changes=changes)
    return TrackerEnvelope(data=TrackerView.of(tracker))


@router.delete(
    "/tracked-flights/<id>",
    summary="Stop tracking a flight",
    security=SIGNED_IN,
    responses=error_responses(400, 401, 404, success=204),
)
def delete_tracker(id: ResourceId, caller: Caller) -> Response[str]:
    composition.tracking_service().delete(caller.user_id, id)
    return Response(204, None, "")


@router.get(
    "/alerts",
    summary="Your price-drop alerts, newest first",
    security=SIGNED_IN,
    responses=error_responses(400, 401),
)
def list_alerts(
    caller: Caller,
    limit: PageLimit = 20,
    cursor: Cursor = None,
    unacked_only: Annotated[bool, YesNo(), Query(description="Only alerts not acknowledged yet.")] = False,
) -> AlertPage:
    alerts, next_cursor = composition.tracking_service().alerts(
        caller.user_id, limit=limit, cursor=cursor, unacked_only=unacked_only
    )
    return AlertPage(data=[AlertView.of(alert) for alert in alerts], next_cursor=next_cursor)


@router.post(
    "/alerts/<id>/ack",
    summary="Acknowledge an alert (idempotent)",
    security=SIGNED_IN,
    responses=error_responses(400, 401, 404),
)
def acknowledge_alert(id: ResourceId, caller: Caller) -> AlertEnvelope:
    alert = composition.tracking_service().acknowledge(caller.user_id, id)
    return AlertEnvelope(data=AlertView.of(alert))


@router.get(
    "/stats/routes",
    summary="Most searched and most tracked routes (admin)",
    security=ADMIN_ONLY,
    responses={
        200: {
            "description": "The report, as JSON or (format=csv) CSV with a header row.",
            "content": {"application/json": {"model": RouteReportEnvelope}, "text/csv": {}},
        },
        **error_responses(400, 401, 403, success=None),
    },
)
def route_stats(
    days: Annotated[int, WholeNumber(1, 90), Query(description="Window in days (default 7).")] = 7,
    limit: Annotated[int, WholeNumber(1, 100), Query(description="Rows per list (default 20).")] = 20,
    format: Annotated[
        str, OneOf(("json", "csv"), any_case=True), Query(description="json (default) or csv.")
    ] = "json",
) -> Response[str]:
    report = composition.tracking_service().route_report(days=days, limit=limit)
    if format == "csv":
        return Response(
            200,
            "text/csv; charset=utf-8",
            report_csv(report),
            headers={"Content-Disposition": 'attachment; filename="routes.csv"'},
        )
    envelope = RouteReportEnvelope(data=RouteReportView.of(report))
    return Response(200, "application/json", envelope.model_dump_json())


class PollerStatsView(BaseModel):
    day: str = Field(description="The UTC day the budget counts.")
    searches_today: int = Field(description="The poller's upstream searches today.")
    daily_budget: int = Field(description="POLL_DAILY_SEARCH_BUDGET (0 = unlimited).")
    budget_left: int | None = Field(description="Searches left today; null when unlimited.")
    routes_watched: int
    routes_due: int = Field(description="Watched routes whose next poll is due now.")
    oldest_poll_at: str | None = Field(description="The least recent poll of a watched route (UTC).")
    oldest_poll_age_seconds: int
    never_polled: int
    max_poll_age_seconds: int = Field(description="No route waits longer, if the budget covers what follows.")
    budget_needed_for_max_age: int = Field(
        description="The daily budget that keeps every route within the max age."
    )


class PollerStatsEnvelope(BaseModel):
    data: PollerStatsView


@router.get(
    "/stats/poller",
    summary="The poller's searches today against its budget, routes due, the oldest poll (admin)",
    security=ADMIN_ONLY,
    responses=error_responses(401, 403),
)
def poller_stats() -> PollerStatsEnvelope:
    stats = composition.tracking_service().poller_stats()
    return PollerStatsEnvelope(
        data=PollerStatsView(
            day=stats.day,
            searches_today=stats.searches_today,
            daily_budget=stats.daily_budget,
            budget_left=max(0, stats.daily_budget - stats.searches_today) if stats.daily_budget else None,
            routes_watched=stats.routes_watched,
            routes_due=stats.routes_due,
            oldest_poll_at=iso_utc(stats.oldest_poll_at) if stats.oldest_poll_at is not None else None,
            oldest_poll_age_seconds=int(stats.oldest_poll_age_seconds),
            never_polled=stats.never_polled,
            max_poll_age_seconds=int(stats.max_poll_age_seconds),
            budget_needed_for_max_age=stats.budget_needed_for_max_age,
        )
    )
