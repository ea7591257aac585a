"""Tracked flights and their alerts: create/read/update/delete for the API, and evaluate_route for the poller.

Collaborators are injected (fares, stores, clock, history) so tests hand in fakes; production ones
come from farewatch.composition.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from farewatch.clock import Clock, utc_datetime
from farewatch.errors import Conflict, InvalidRequest, NotFound
from farewatch.fare_query import FareQuery, local_today, parse_fare_query
from farewatch.locations import require_location
from farewatch.pricing import FareResult
from farewatch.store.history import Observation
from farewatch.store.search_stats import SearchStatsStore
from farewatch.store.tracking import (
    TRACKER_PREFIX,
    AlertStore,
    PriceDropAlert,
    RouteFields,
    TrackerRecord,
    TrackingStore,
    version_conflict,
)
from farewatch.tracking.rules import AlertKind, TrackerMemory, alert_id, decide, remembered_after
from farewatch.tracking.stats import RouteReport, Searches, WatchedCount, route_report

ACTIVE = "active"
EXPIRED = "expired"


class Fares(Protocol):
    def fares(
        self, query: FareQuery, *, force_refresh: bool = False, count_search: bool = True
    ) -> FareResult: ...


class History(Protocol):
    def observations(self, series: str) -> list[Observation]: ...


@dataclass(frozen=True)
class PricePoint:
    """One observed cheapest price of a watched route."""

    amount: Decimal
    currency: str
    fetched_at: float


@dataclass(frozen=True)
class Tracker:
    id: str
    user_id: str
    query: FareQuery
    target_price: Decimal | None
    notify_on_any_drop: bool
    current_price: Decimal | None
    lowest_price: Decimal | None
    last_checked_at: float | None
    status: str
    version: int
    created_at: float
    updated_at: float
    history: list[Observation] = field(default_factory=list)


@dataclass(frozen=True)
class Alert:
    id: str
    user_id: str
    tracker_id: str
    route_key: str
    kind: str
    price: Decimal
    previous_price: Decimal | None
    target_price: Decimal | None
    currency: str
    observed_at: float
    created_at: float
    acked_at: float | None

    @classmethod
    def of(cls, item: PriceDropAlert) -> Alert:
        return cls(
            id=item.alert_id,
            user_id=item.user_id,
            tracker_id=item.tracker_id,
            route_key=item.route_key,
            kind=item.kind,
            price=Decimal(item.price),
            previous_price=_decimal(item.previous_price),
            target_price=_decimal(item.target_price),
            currency=item.currency,
            observed_at=float(item.observed_at),
            created_at=float(item.created_at),
            acked_at=float(item.acked_at) if item.acked_at is not None else None,
        )


@dataclass(frozen=True)
class RouteEvaluation:
    route_key: str
    trackers_checked: int
    alerts: list[Alert]


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def query_of_route_key(route_key: str) -> FareQuery:
    """The FareQuery a watched-route key stands for (`JFK#LAX#2026-12-01#1#USD`)."""
    origin, destination, departure, adults, currency = route_key.split("#")
    return FareQuery(
        origin=origin,
        destination=destination,
        departure_date=date.fromisoformat(departure),
        adults=int(adults),
        currency=currency,
    )


def is_departed(query: FareQuery, clock: Clock) -> bool:
    """A departure date before today at the origin: its trackers expire and it is no longer polled."""
    return query.departure_date < local_today(require_location(query.origin, "origin"), clock)


def fare_query_of(params: Mapping[str, Any], clock: Clock) -> FareQuery:
    """Validated exactly like /flights/price (same parser, same 400s)."""
    as_text = {
        "origin": params.get("origin"),
        "destination": params.get("destination"),
        "date": params.get("departure_date"),
        "adults": None if params.get("adults") is None else str(params.get("adults")),
        "currency": params.get("currency"),
    }
    return parse_fare_query(as_text, clock=clock)


class TrackingService:
    def __init__(
        self,
        *,
        fares: Fares,
        store: TrackingStore,
        alerts: AlertStore,
        history: History,
        clock: Clock,
        max_active_trackers: int,
        poll_interval_seconds: float,
        searches: Searches | None = None,
    ) -> None:
        self._fares = fares
        self._store = store
        self._alerts = alerts
        self._history = history
        self._clock = clock
        self._limit = max_active_trackers
        self._poll_interval = poll_interval_seconds
        self._searches = searches if searches is not None else SearchStatsStore()

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def fares(self) -> Fares:
        return self._fares

    @property
    def poll_interval_seconds(self) -> float:
        return self._poll_interval

    # -- trackers -------------------------------------------------------------------------------

    def create(
        self,
        user_id: str,
        query: FareQuery,
        *,
        target_price: Decimal | None,
        notify_on_any_drop: bool,
    ) -> Tracker:
        if target_price is None and not notify_on_any_drop:
            raise InvalidRequest(
                "Set target_price, notify_on_any_drop, or both.",
                code="invalid_body",
                details=[{"field": "target_price", "issue": "or notify_on_any_drop is required"}],
            )
        # Upstream failures propagate from here (502/503/504) before anything is written.
        result = self._fares.fares(query)
        offer = result.cheapest
        price = str(offer.price) if offer is not None else None
        now = self._clock.now()
        record = TrackerRecord(
            user_id,
            f"{TRACKER_PREFIX}{uuid.uuid4().hex}",
            route_key=query.cache_key,
            origin=query.origin,
            destination=query.destination,
            departure_date=query.departure_date.isoformat(),
            adults=query.adults,
            currency=query.currency,
            target_price=str(target_price) if target_price is not None else None,
            notify_on_any_drop=notify_on_any_drop,
            current_price=price,
            lowest_price=price,
            last_checked_at=result.fetched_at,
            created_at=now,
            updated_at=now,
        )
        route = RouteFields(
            query.origin, query.destination, query.departure_date.isoformat(), query.adults, query.currency
        )
        self._create(record, route, next_poll_at=now + self._poll_interval)
        return self._view(record, with_history=True)

    def _create(self, record: TrackerRecord, route: RouteFields, *, next_poll_at: float) -> None:
        try:
            self._store.create(record, route, limit=self._limit, next_poll_at=next_poll_at)
        except Conflict as error:
            # Only active trackers count: if some of the user's have departed since, uncount them
            # and try once more; otherwise the limit stands.
            if error.code != "tracker_limit_reached":
                raise
            departed = self._store.release_departed(
                record.user_id,
                lambda tracker: is_departed(query_of_route_key(tracker.route_key), self._clock),
                now=self._clock.now(),
            )
            if not departed:
                raise
            self._store.create(record, route, limit=self._limit, next_poll_at=next_poll_at)

    def trackers_of(self, user_id: str) -> list[Tracker]:
        records = sorted(self._store.of_user(user_id), key=lambda record: record.created_at, reverse=True)
        return [self._view(record, with_history=False) for record in records]

    def get(self, user_id: str, tracker_id: str) -> Tracker:
        return self._view(self._own(user_id, tracker_id), with_history=True)

    def update(
        self,
        user_id: str,
        tracker_id: str,
        *,
        version: int,
        changes: Mapping[str, Any],
    ) -> Tracker:
        record = self._own(user_id, tracker_id)
        if record.version != version:
            raise version_conflict()
        target = changes.get("target_price", _decimal(record.target_price))
        any_drop = bool(changes.get("notify_on_any_drop", record.notify_on_any_drop))
        if target is None and not any_drop:
            raise InvalidRequest(
                "A tracker needs target_price, notify_on_any_drop, or both.",
                code="invalid_body",
                details=[{"field": "target_price", "issue": "or notify_on_any_drop is required"}],
            )
        self._store.update_settings(
            record,
            target_price=str(target) if target is not None else None,
            notify_on_any_drop=any_drop,
            now=self._clock.now(),
        )
        return self._view(record, with_history=True)

    def delete(self, user_id: str, tracker_id: str) -> None:
        if not self._store.delete(self._own(user_id, tracker_id)):
            raise NotFound("No such tracked flight.")

    def delete_all_of(self, user_id: str) -> None:
        self._store.delete_all_of(user_id)

    def _own(self, user_id: str, tracker_id: str) -> TrackerRecord:
        # Keyed by the caller's id: another user's tracker is simply not found (SPEC: 404, not 403).
        record = self._store.get(user_id, tracker_id)
        if record is None:
            raise NotFound("No such tracked flight.")
        return record

    def _view(self, record: TrackerRecord, *, with_history: bool) -> Tracker:
        query = query_of_route_key(record.route_key)
        return Tracker(
            id=record.tracker_id,
            user_id=record.user_id,
            query=query,
            target_price=_decimal(record.target_price),
            notify_on_any_drop=bool(record.notify_on_any_drop),
            current_price=_decimal(record.current_price),
            lowest_price=_decimal(record.lowest_price),
            last_checked_at=float(record.last_checked_at) if record.last_checked_at is not None else None,
            status=EXPIRED if is_departed(query, self._clock) else ACTIVE,
            version=int(record.version or 0),
            created_at=float(record.created_at),
            updated_at=float(record.updated_at),
            history=self._history.observations(record.route_key) if with_history else [],
        )

    # -- evaluation (the poller) ----------------------------------------------------------------

    def evaluate_route(self, route_key: str, observation: PricePoint, now: float) -> RouteEvaluation:
        """Apply the rules to every tracker of the route; only newly written alerts are returned.

        Idempotent: a tracker already checked at this observation is skipped, and an alert is written
        with a deterministic id in the same transaction as the tracker update, so a re-run or a
        redelivered message never duplicates one.
        """
        new_alerts: list[Alert] = []
        trackers = self._store.of_route(route_key)
        for record in trackers:
            alert = self._evaluate_tracker(record, observation, now)
            if alert is not None:
                new_alerts.append(alert)
        return RouteEvaluation(route_key, len(trackers), new_alerts)

    def _evaluate_tracker(self, record: TrackerRecord, observation: PricePoint, now: float) -> Alert | None:
        for _ in range(3):  # the tracker moved (a PATCH): read it again and decide again
            if record.last_checked_at is not None and float(record.last_checked_at) >= observation.fetched_at:
                return None  # this observation (or a newer one) was applied already
            if record.currency != observation.currency:
                return None
            memory = TrackerMemory(
                target_price=_decimal(record.target_price),
                notify_on_any_drop=bool(record.notify_on_any_drop),
                last_seen_price=_decimal(record.current_price),
                last_alerted_price=_decimal(record.last_alerted_price),
            )
            price = observation.amount
            decision = decide(memory, price)
            after = remembered_after(memory, price, decision)
            lowest = _decimal(record.lowest_price)
            actions: list[Any] = [
                TrackerRecord.current_price.set(str(price)),
                TrackerRecord.lowest_price.set(str(price if lowest is None else min(lowest, price))),
                TrackerRecord.last_checked_at.set(observation.fetched_at),
            ]
            if after.last_alerted_price is not None:
                actions.append(TrackerRecord.last_alerted_price.set(str(after.last_alerted_price)))
            item = None
            if decision is not None:
                item = self._alert_item(record, decision.kind, observation, decision.previous_price, now)
            if self._store.record_check(record, actions, item):
                return Alert.of(item) if item is not None else None
            fresh = self._store.get(record.user_id, record.tracker_id)
            if fresh is None:
                return None
            record = fresh
        return None

    def _alert_item(
        self,
        record: TrackerRecord,
        kind: AlertKind,
        observation: PricePoint,
        previous: Decimal | None,
        now: float,
    ) -> PriceDropAlert:
        identifier = alert_id(record.tracker_id, observation.fetched_at, kind)
        stamp = utc_datetime(observation.fetched_at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return PriceDropAlert(
            record.user_id,
            identifier,
            listed_at=f"{stamp}#{identifier}",
            tracker_id=record.tracker_id,
            route_key=record.route_key,
            kind=kind.value,
            price=str(observation.amount),
            previous_price=str(previous) if previous is not None else None,
            target_price=record.target_price,
            currency=observation.currency,
            observed_at=observation.fetched_at,
            created_at=now,
            unpublished_route=record.route_key,
        )

    # -- alerts ---------------------------------------------------------------------------------

    def alerts(
        self, user_id: str, *, limit: int, cursor: str | None, unacked_only: bool
    ) -> tuple[list[Alert], str | None]:
        items, next_cursor = self._alerts.page(user_id, limit=limit, cursor=cursor, unacked_only=unacked_only)
        return [Alert.of(item) for item in items], next_cursor

    def acknowledge(self, user_id: str, alert_id_: str) -> Alert:
        return Alert.of(self._alerts.acknowledge(user_id, alert_id_, now=self._clock.now()))

    def delete_alerts_of(self, user_id: str) -> None:
        self._alerts.delete_all_of(user_id)

    # -- statistics -----------------------------------------------------------------------------

    def route_report(self, *, days: int, limit: int) -> RouteReport:
        watched = [
            WatchedCount(route.route_key, int(route.active_count or 0)) for route in self._store.all_watched()
        ]
        return route_report(
            now=self._clock.now(),
            days=days,
            limit=limit,
            searches=self._searches,
            watched=watched,
            history=self._history,
        )
