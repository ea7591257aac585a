"""Tracking routes (tracked flights, alerts, route statistics) as a Router served by the users function.

Like users_routes, it lives in the layer so the price function can merge it into /openapi.json.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from farewatch.api import error_responses
from farewatch.auth_guard import admin_only, principal, signed_in
from farewatch.clock import iso_utc
from farewatch.errors import invalid_field
from farewatch.fare_query import DEFAULT_CURRENCY, parse_flag, parse_int
from farewatch.json_body import documented_body, request_body
from farewatch.tracking import wiring
from farewatch.tracking.service import Alert, Tracker, fare_query_of
from farewatch.tracking.stats import RouteReport, RouteStats, report_csv

router = Router()
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
BODY_ERRORS = (400, 413, 415)
_CENTS = Decimal("0.01")
Price = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount.quantize(_CENTS))


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


class TrackerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0, strict=True, description="The version you read; a stale one is a 409.")
    target_price: Price | None = Field(None, description="null removes the target.")
    notify_on_any_drop: bool = Field(False, strict=True)


class PriceObservationView(BaseModel):
    observed_at: str
    price: str
    currency: str


class TrackerView(BaseModel):
    id: str
    origin: str
    destination: str
    departure_date: str
    adults: int
    currency: str
    target_price: str | None
    notify_on_any_drop: bool
    current_price: str | None
    lowest_price: str | None
    last_checked_at: str | None
    status: str = Field(description="active or expired (departed).")
    version: int
    created_at: str
    updated_at: str
    history: list[PriceObservationView] | None = Field(
        None, description="Every observed price, oldest first (single tracker only)."
    )

    @classmethod
    def of(cls, tracker: Tracker, *, with_history: bool) -> TrackerView:
        query = tracker.query
        return cls(
            id=tracker.id,
            origin=query.origin,
            destination=query.destination,
            departure_date=query.departure_date.isoformat(),
            adults=query.adults,
            currency=query.currency,
            target_price=_money(tracker.target_price),
            notify_on_any_drop=tracker.notify_on_any_drop,
            current_price=_money(tracker.current_price),
            lowest_price=_money(tracker.lowest_price),
            last_checked_at=iso_utc(tracker.last_checked_at) if tracker.last_checked_at is not None else None,
            status=tracker.status,
            version=tracker.version,
            created_at=iso_utc(tracker.created_at),
            updated_at=iso_utc(tracker.updated_at),
            history=[
                PriceObservationView(
                    observed_at=observation.observed_at,
                    price=str(observation.amount.quantize(_CENTS)),
                    currency=observation.currency,
                )
                for observation in tracker.history
            ]
            if with_history
            else None,
        )


class TrackerEnvelope(BaseModel):
    data: TrackerView


class TrackerList(BaseModel):
    data: list[TrackerView]


class AlertView(BaseModel):
    id: str
    tracked_flight_id: str
    route: str = Field(description="The fare query: ORIGIN#DESTINATION#DATE#ADULTS#CURRENCY.")
    kind: str = Field(description="target_reached or price_drop.")
    price: str
    previous_price: str | None
    target_price: str | None
    currency: str
    observed_at: str
    created_at: str
    acked: bool
    acked_at: str | None

    @classmethod
    def of(cls, alert: Alert) -> AlertView:
        return cls(
            id=alert.id,
            tracked_flight_id=alert.tracker_id,
            route=alert.route_key,
            kind=alert.kind,
            price=str(alert.price.quantize(_CENTS)),
            previous_price=_money(alert.previous_price),
            target_price=_money(alert.target_price),
            currency=alert.currency,
            observed_at=iso_utc(alert.observed_at),
            created_at=iso_utc(alert.created_at),
            acked=alert.acked_at is not None,
            acked_at=iso_utc(alert.acked_at) if alert.acked_at is not None else None,
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


_Body = TypeVar("_Body", bound=BaseModel)


def _body(model: type[_Body]) -> _Body:
    return request_body(router, model)


TrackerId = Annotated[str, Path(max_length=100)]
AlertId = Annotated[str, Path(max_length=100)]


@router.post(
    "/tracked-flights",
    summary="Track a flight's price",
    status_code=201,
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(*BODY_ERRORS, 401, 409, 502, 503, 504, success=201),
    openapi_extensions=documented_body(TrackerCreate),
)
def create_tracker() -> TrackerEnvelope:
    request = _body(TrackerCreate)
    service = wiring.tracking_service()
    query = fare_query_of(request.model_dump(), service.clock)
    tracker = service.create(
        principal(router).user_id,
        query,
        target_price=request.target_price,
        notify_on_any_drop=request.notify_on_any_drop,
    )
    return TrackerEnvelope(data=TrackerView.of(tracker, with_history=True))


@router.get(
    "/tracked-flights",
    summary="Your tracked flights, newest first",
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(401),
)
def list_trackers() -> TrackerList:
    trackers = wiring.tracking_service().trackers_of(principal(router).user_id)
    return TrackerList(data=[TrackerView.of(tracker, with_history=False) for tracker in trackers])


@router.get(
    "/tracked-flights/<id>",
    summary="One of your tracked flights, with its price history",
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(400, 401, 404),
)
def get_tracker(id: TrackerId) -> TrackerEnvelope:
    tracker = wiring.tracking_service().get(principal(router).user_id, id)
    return TrackerEnvelope(data=TrackerView.of(tracker, with_history=True))


@router.patch(
    "/tracked-flights/<id>",
    summary="Change the target price or the any-drop flag (optimistic locking on version)",
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(*BODY_ERRORS, 401, 404, 409),
    openapi_extensions=documented_body(TrackerUpdate),
)
def update_tracker(id: TrackerId) -> TrackerEnvelope:
    request = _body(TrackerUpdate)
    changes: dict[str, Any] = {
        name: getattr(request, name)
        for name in ("target_price", "notify_on_any_drop")
        if name in request.model_fields_set
    }
    tracker = wiring.tracking_service().update(
        principal(router).user_id, id, version=request.version, changes=changes
    )
    return TrackerEnvelope(data=TrackerView.of(tracker, with_history=True))


@router.delete(
    "/tracked-flights/<id>",
    summary="Stop tracking a flight",
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(400, 401, 404, success=204),
)
def delete_tracker(id: TrackerId) -> Response[str]:
    wiring.tracking_service().delete(principal(router).user_id, id)
    return Response(204, None, "")


@router.get(
    "/alerts",
    summary="Your price-drop alerts, newest first",
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(400, 401),
)
def list_alerts(
    limit: Annotated[str | None, Query(description="1-100 (default 20).")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    unacked_only: Annotated[str | None, Query(description="true: only alerts not acknowledged.")] = None,
) -> AlertPage:
    count = parse_int(limit, "limit", default=20, minimum=1, maximum=100)
    alerts, next_cursor = wiring.tracking_service().alerts(
        principal(router).user_id,
        limit=count,
        cursor=cursor or None,
        unacked_only=parse_flag(unacked_only, "unacked_only"),
    )
    return AlertPage(data=[AlertView.of(alert) for alert in alerts], next_cursor=next_cursor)


@router.post(
    "/alerts/<id>/ack",
    summary="Acknowledge an alert (idempotent)",
    middlewares=[signed_in],
    security=BEARER,
    responses=error_responses(400, 401, 404),
)
def acknowledge_alert(id: AlertId) -> AlertEnvelope:
    alert = wiring.tracking_service().acknowledge(principal(router).user_id, id)
    return AlertEnvelope(data=AlertView.of(alert))


@router.get(
    "/stats/routes",
    summary="Most searched and most tracked routes (admin)",
    middlewares=[admin_only],
    security=BEARER,
    responses={
        200: {
            "description": "The report, as JSON or (format=csv) CSV with a header row.",
            "content": {"application/json": {"model": RouteReportEnvelope}, "text/csv": {}},
        },
        **error_responses(400, 401, 403, success=None),
    },
)
def route_stats(
    days: Annotated[str | None, Query(description="Window in days, 1-90 (default 7).")] = None,
    limit: Annotated[str | None, Query(description="Rows per list, 1-100 (default 20).")] = None,
    format: Annotated[str | None, Query(description="json (default) or csv.")] = None,
) -> Response[str]:
    window = parse_int(days, "days", default=7, minimum=1, maximum=90)
    rows = parse_int(limit, "limit", default=20, minimum=1, maximum=100)
    kind = (format or "json").lower()
    if kind not in ("json", "csv"):
        raise invalid_field("format", "must be json or csv")
    report = wiring.tracking_service().route_report(days=window, limit=rows)
    if kind == "csv":
        return Response(
            200,
            "text/csv; charset=utf-8",
            report_csv(report),
            headers={"Content-Disposition": 'attachment; filename="routes.csv"'},
        )
    envelope = RouteReportEnvelope(data=RouteReportView.of(report))
    return Response(200, "application/json", envelope.model_dump_json())
