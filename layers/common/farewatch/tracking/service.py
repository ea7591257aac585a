"""Tracked flights and their alerts, as the API serves them: create, read, change, delete, acknowledge,
and the route statistics for admins. The poller's side is farewatch.tracking.poll_cycle.

Collaborators are injected (fares, stores, clock, history) so tests hand in fakes; production ones
come from farewatch.composition. The stores take and give plain values (farewatch.tracking.values).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from farewatch.clock import Clock, utc_datetime
from farewatch.errors import Conflict, InvalidRequest, NotFound, UpstreamError
from farewatch.fare_query import FareQuery, local_today
from farewatch.insight import Insight, Judge, not_judged
from farewatch.locations import require_location
from farewatch.pricing import FareResult
from farewatch.store.history import Observation
from farewatch.store.search_stats import SearchStatsStore
from farewatch.store.tracking import TRACKER_PREFIX, AlertStore, TrackingStore, version_conflict
from farewatch.tracking import poll_policy, window
from farewatch.tracking.poll_policy import is_departed
from farewatch.tracking.stats import History, RouteReport, Searches, route_report
from farewatch.tracking.values import Alert, DatePrice, StoredTracker

ACTIVE = "active"
EXPIRED = "expired"


class Fares(Protocol):
    def fares(
        self, query: FareQuery, *, force_refresh: bool = False, count_search: bool = True
    ) -> FareResult: ...


@dataclass(frozen=True)
class WindowDay:
    """One date of a flexible tracker's window: its trip and the latest price seen (None: not yet)."""

    trip: FareQuery
    price: DatePrice | None


@dataclass(frozen=True)
class Tracker:
    """A tracker as its owner sees it: what is stored, whether it is still active, and its history."""

    stored: StoredTracker
    status: str
    history: list[Observation] = field(default_factory=list)
    insight: Insight | None = None  # how its current price compares (farewatch.insight)
    created: bool = True  # False: a create found the same tracker already there (answered 200)
    window: tuple[WindowDay, ...] = ()  # a flexible tracker's dates to come, with their prices

    @property
    def best(self) -> DatePrice | None:
        """The date that wins: a flexible window's cheapest, or the tracker's own date at its price."""
        stored = self.stored
        if stored.flex_days:
            return stored.best
        if stored.current_price is None:
            return None
        return DatePrice(stored.query.departure_date, stored.current_price, stored.last_checked_at or 0.0)


def _nothing_to_alert_on(message: str) -> InvalidRequest:
    return InvalidRequest(
        message,
        code="invalid_body",
        details=[{"field": "target_price", "issue": "or notify_on_any_drop is required"}],
    )


class PollBudget(Protocol):
    def used(self, day: date) -> int: ...


@dataclass(frozen=True)
class PollerStats:
    """GET /stats/poller: the poller's searches today against its budget, what is due, the oldest poll."""

    day: str
    searches_today: int
    daily_budget: int
    routes_watched: int
    routes_due: int
    oldest_poll_at: float | None
    oldest_poll_age_seconds: float
    never_polled: int
    max_poll_age_seconds: float
    budget_needed_for_max_age: int


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
        insight: Judge = not_judged,
        poll_budget: PollBudget | None = None,
        daily_search_budget: int = 0,
    ) -> None:
        self._insight = insight
        self._poll_budget = poll_budget
        self._daily_search_budget = daily_search_budget
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

    # -- trackers -------------------------------------------------------------------------------

    def create(
        self,
        user_id: str,
        query: FareQuery,
        *,
        target_price: Decimal | None,
        notify_on_any_drop: bool,
        notify: tuple[str, ...] | None = None,
        flex_days: int = 0,
    ) -> Tracker:
        if target_price is None and not notify_on_any_drop:
            raise _nothing_to_alert_on("Set target_price, notify_on_any_drop, or both.")
        existing = self._same_tracker(user_id, query, target_price, notify_on_any_drop, flex_days)
        if existing is not None:
            return replace(self._view(existing, with_history=True), created=False)
        # Upstream failures propagate from here (502/503/504) before anything is written.
        result = self._fares.fares(query)
        offer = result.cheapest
        price = offer.price if offer is not None else None
        now = self._clock.now()
        dates: tuple[date, ...] = ()
        prices: tuple[DatePrice, ...] = ()
        unpriced: dict[str, float] = {}
        if flex_days:
            dates = window.window_dates(query, flex_days, today=self._today(query))
            own = DatePrice(query.departure_date, offer.price, result.fetched_at, offer.id) if offer else None
            prices, unpriced = self._window_prices(query, dates, known=own, now=now)
            best = window.cheapest(prices)
            price = best.amount if best is not None else None
        wanted = StoredTracker(
            id=f"{TRACKER_PREFIX}{uuid.uuid4().hex}",
            user_id=user_id,
            query=query,
            target_price=target_price,
            notify_on_any_drop=notify_on_any_drop,
            current_price=price,
            lowest_price=price,
            last_alerted_price=None,
            last_checked_at=result.fetched_at,
            created_at=now,
            updated_at=now,
            notify=notify,
            flex_days=flex_days,
            watched_dates=dates,
            window_prices=prices,
        )
        created = self._create(wanted, next_poll_at=now + self._poll_interval, poll_now=unpriced)
        return self._view(created, with_history=True)

    def _today(self, query: FareQuery) -> date:
        return local_today(require_location(query.origin, "origin"), self._clock)

    def _window_prices(
        self, query: FareQuery, dates: tuple[date, ...], *, known: DatePrice | None, now: float
    ) -> tuple[tuple[DatePrice, ...], dict[str, float]]:
        """The latest price of each date of a window, through the shared cache (a search each, counted
        once per request), and the watched-route keys of the dates it could not price: those are
        polled at once rather than at the next interval. Only the tracker's own date's failure fails
        a create; another date's waits for the poller."""
        prices: list[DatePrice] = []
        unpriced: dict[str, float] = {}
        for day in dates:
            if known is not None and day == known.departure_date:
                prices.append(known)
                continue
            trip = query.departing_on(day)
            try:
                result = self._fares.fares(trip, count_search=False)
            except UpstreamError:
                unpriced[trip.cache_key] = now
                continue
            offer = result.cheapest
            if offer is None:
                continue
            prices.append(DatePrice(day, offer.price, result.fetched_at, offer.id))
        return tuple(prices), unpriced

    def _same_tracker(
        self,
        user_id: str,
        query: FareQuery,
        target_price: Decimal | None,
        notify_on_any_drop: bool,
        flex_days: int = 0,
    ) -> StoredTracker | None:
        """The user's tracker of this very trip with these very rules, if there is one: creating it
        again answers it rather than a copy that would alert twice."""
        for tracker in self._store.of_user(user_id):
            if (
                tracker.query == query
                and tracker.target_price == target_price
                and tracker.notify_on_any_drop == notify_on_any_drop
                and tracker.flex_days == flex_days
            ):
                return tracker
        return None

    def _create(
        self, tracker: StoredTracker, *, next_poll_at: float, poll_now: dict[str, float] | None = None
    ) -> StoredTracker:
        try:
            return self._store.create(
                tracker, limit=self._limit, next_poll_at=next_poll_at, poll_now=poll_now
            )
        except Conflict as error:
            # Only active trackers count: if some of the user's have departed since, uncount them
            # and try once more; otherwise the limit stands.
            if error.code != "tracker_limit_reached":
                raise
            departed = self._store.release_departed(
                tracker.user_id, lambda stored: self._status(stored) == EXPIRED, now=self._clock.now()
            )
            if not departed:
                raise
            return self._store.create(
                tracker, limit=self._limit, next_poll_at=next_poll_at, poll_now=poll_now
            )

    def trackers_of(self, user_id: str) -> list[Tracker]:
        """The user's trackers, newest first, each as it reads alone (with its history)."""
        stored = sorted(self._store.of_user(user_id), key=lambda tracker: tracker.created_at, reverse=True)
        return [self._view(tracker, with_history=True) for tracker in stored]

    def get(self, user_id: str, tracker_id: str) -> Tracker:
        return self._view(self._own(user_id, tracker_id), with_history=True)

    def update(self, user_id: str, tracker_id: str, *, version: int, changes: Mapping[str, Any]) -> Tracker:
        tracker = self._own(user_id, tracker_id)
        if tracker.version != version:
            raise version_conflict()
        target = changes.get("target_price", tracker.target_price)
        any_drop = bool(changes.get("notify_on_any_drop", tracker.notify_on_any_drop))
        if target is None and not any_drop:
            raise _nothing_to_alert_on("A tracker needs target_price, notify_on_any_drop, or both.")
        now = self._clock.now()
        reshaped: StoredTracker | None = None
        unpriced: dict[str, float] = {}
        flex_days = changes.get("flex_days")
        if flex_days is not None and flex_days != tracker.flex_days:
            reshaped, unpriced = self._reshaped(tracker, flex_days, now=now)
        updated = self._store.update_settings(
            tracker,
            target_price=target,
            notify_on_any_drop=any_drop,
            now=now,
            notify=changes.get("notify"),
            reshaped=reshaped,
            poll_now=unpriced,
        )
        return self._view(updated, with_history=True)

    def _reshaped(
        self, tracker: StoredTracker, flex_days: int, *, now: float
    ) -> tuple[StoredTracker, dict[str, float]]:
        """The tracker with a new window: the prices of the dates it keeps stay, the dates it gains are
        priced through the shared cache (those it cannot price are polled at once)."""
        query = tracker.query
        today = self._today(query)
        dates = window.window_dates(query, flex_days, today=today)
        if not dates:
            raise InvalidRequest(
                "Every date of this window has departed; its dates cannot change.",
                code="invalid_body",
                details=[{"field": "flex_days", "issue": "the window's dates have departed"}],
            )
        kept = window.kept(tracker.window_prices, dates, today=today)
        if (
            not tracker.flex_days
            and tracker.current_price is not None
            and tracker.last_checked_at is not None
        ):
            # A tracker of one date becoming flexible: its own date's price is known already.
            own = DatePrice(query.departure_date, tracker.current_price, tracker.last_checked_at)
            kept = window.kept((own,), dates, today=today)
        known = {price.departure_date for price in kept}
        gained, unpriced = self._window_prices(
            query, tuple(day for day in dates if day not in known), known=None, now=now
        )
        prices = window.kept((*kept, *gained), dates, today=today)
        best = window.cheapest(prices)
        current = best.amount if best is not None else None
        lowest = tracker.lowest_price
        if current is not None:
            lowest = current if lowest is None else min(lowest, current)
        reshaped = replace(
            tracker,
            flex_days=flex_days,
            watched_dates=dates,
            window_prices=prices if flex_days else (),
            current_price=current,
            lowest_price=lowest,
        )
        return reshaped, unpriced

    def delete(self, user_id: str, tracker_id: str) -> None:
        if not self._store.delete(self._own(user_id, tracker_id)):
            raise NotFound("No such tracked flight.")

    def _own(self, user_id: str, tracker_id: str) -> StoredTracker:
        # Keyed by the caller's id: another user's tracker is simply not found (SPEC: 404, not 403).
        tracker = self._store.get(user_id, tracker_id)
        if tracker is None:
            raise NotFound("No such tracked flight.")
        return tracker

    def _view(self, tracker: StoredTracker, *, with_history: bool) -> Tracker:
        best = tracker.best if tracker.flex_days else None
        trip = tracker.query if best is None else tracker.query.departing_on(best.departure_date)
        return Tracker(
            stored=tracker,
            status=self._status(tracker),
            history=self._history.observations(tracker.route_key) if with_history else [],
            insight=self._insight(trip, tracker.current_price),
            window=self._window(tracker),
        )

    def _status(self, tracker: StoredTracker) -> str:
        """Expired once every date it watches has departed."""
        if not tracker.flex_days:
            return EXPIRED if is_departed(tracker.query, self._clock) else ACTIVE
        today = self._today(tracker.query)
        return ACTIVE if any(day >= today for day in tracker.dates) else EXPIRED

    def _window(self, tracker: StoredTracker) -> tuple[WindowDay, ...]:
        """A flexible tracker's dates still to come, each with its latest price (None: not yet seen)."""
        if not tracker.flex_days:
            return ()
        today = self._today(tracker.query)
        prices = {price.departure_date: price for price in tracker.window_prices}
        return tuple(
            WindowDay(tracker.query.departing_on(day), prices.get(day))
            for day in tracker.dates
            if day >= today
        )

    # -- alerts ---------------------------------------------------------------------------------

    def alerts(
        self, user_id: str, *, limit: int, cursor: str | None, unacked_only: bool
    ) -> tuple[list[Alert], str | None]:
        return self._alerts.page(user_id, limit=limit, cursor=cursor, unacked_only=unacked_only)

    def acknowledge(self, user_id: str, alert_id: str) -> Alert:
        return self._alerts.acknowledge(user_id, alert_id, now=self._clock.now())

    # -- the poller, for admins ------------------------------------------------------------------

    def poller_stats(self) -> PollerStats:
        now = self._clock.now()
        today = utc_datetime(now).date()
        routes = self._store.scheduled_routes()
        polled = [route.last_polled_at for route in routes if route.last_polled_at is not None]
        never = [route for route in routes if route.last_polled_at is None]
        oldest = min(polled, default=None)
        ages = [now - at for at in polled] + [poll_policy.age(route, now) for route in never]
        return PollerStats(
            day=today.isoformat(),
            searches_today=self._poll_budget.used(today) if self._poll_budget is not None else 0,
            daily_budget=self._daily_search_budget,
            routes_watched=len(routes),
            routes_due=sum(1 for route in routes if route.next_poll_at <= now),
            oldest_poll_at=oldest,
            oldest_poll_age_seconds=max(ages, default=0.0),
            never_polled=len(never),
            max_poll_age_seconds=poll_policy.MAX_POLL_AGE_SECONDS,
            budget_needed_for_max_age=math.ceil(len(routes) * 86400 / poll_policy.MAX_POLL_AGE_SECONDS),
        )

    # -- statistics -----------------------------------------------------------------------------

    def route_report(self, *, days: int, limit: int) -> RouteReport:
        return route_report(
            now=self._clock.now(),
            days=days,
            limit=limit,
            searches=self._searches,
            watched=self._store.all_watched(),
            history=self._history,
        )
