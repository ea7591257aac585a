"""One poll cycle (SPEC §4): each due route's refresh (the worker): its fares through the shared
cache, every tracker evaluated by the drop rules, alerts written idempotently and announced through
the outbox. Which routes are due, and their queue messages, is farewatch.tracking.poll_dispatch (the
scheduled dispatcher builds only that); a `PollCycle` carries one, so `due_routes` and `dispatch` run
both sides in one process (tests, the bench).

`PollCycle` is handed its collaborators (the tracking and alert stores, the fare service, the event
bus and the clock), so tests hand it fakes and the poller's handlers get the production ones from
farewatch.composition. What a cycle may spend (a budget, a deadline) would be one more of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from aws_lambda_powertools import Logger

from farewatch.clock import Clock, ManualClock, utc_datetime
from farewatch.fare_query import FareQuery, local_today
from farewatch.insight import Insight, Judge, not_judged
from farewatch.locations import require_location
from farewatch.pricing import UNREAD, FareResult, Unread
from farewatch.store.fare_cache import CachedFares
from farewatch.store.tracking import AlertStore, RoutePollState, RouteSchedule, TrackerCheck, TrackingStore
from farewatch.tracking import poll_policy, window
from farewatch.tracking.poll_dispatch import (
    DispatchReport,
    PollBudget,
    PollDispatcher,
    PollQueue,
    QueueEntry,
    query_of_route_key,
    route_key_of,
)
from farewatch.tracking.poll_policy import is_departed
from farewatch.tracking.rules import AlertKind, TrackerMemory, alert_id, decide, remembered_after
from farewatch.tracking.values import Alert, DatePrice, PricePoint, StoredTracker

if TYPE_CHECKING:
    from farewatch.tracking.service import (
        Fares,
    )  # the protocol only: the worker never loads the API's service

# The dispatcher's side is also importable from here (an in-process cycle runs both).
__all__ = [
    "AlertAnnouncer",
    "CycleSummary",
    "DispatchReport",
    "PollBudget",
    "PollCycle",
    "PollQueue",
    "QueueEntry",
    "RouteRefresh",
    "RouteWork",
    "query_of_route_key",
    "route_key_of",
]

logger = Logger(child=True)

# EventBridge PutEvents takes at most 10 entries per call.
PUT_EVENTS_LIMIT = 10
# A tracker that moved (a PATCH) between read and write is read again and decided again, this often.
_EVALUATION_ATTEMPTS = 3
UNLIMITED = 10**15  # POLL_DAILY_SEARCH_BUDGET 0: searches are still counted, never refused


@runtime_checkable
class _HasCached(Protocol):
    def cached(self, query: FareQuery) -> object | None: ...


@runtime_checkable
class _ReadsAlong(Protocol):
    """A fare service whose cache entry the poll reads along with its route (one TransactGetItems)."""

    def cache_item_key(self, query: FareQuery) -> str: ...

    def fares(
        self, query: FareQuery, *, count_search: bool = True, read: CachedFares | Unread | None = UNREAD
    ) -> FareResult: ...


class AlertAnnouncer(Protocol):
    def announce(self, alerts: Sequence[Alert]) -> None:
        """Publish one PriceDropDetected event per alert (at most 10); raise unless all were accepted."""


@dataclass(frozen=True)
class RouteRefresh:
    """What refreshing one watched route did: whether it asked upstream, the alerts it created, and
    every alert of the route still in the outbox (these and any an earlier attempt left behind)."""

    upstream_call: bool
    alerts: list[Alert] = field(default_factory=list)
    unpublished: list[Alert] = field(default_factory=list)


@dataclass(frozen=True)
class RouteWork:
    """What the worker did for one queued route."""

    route_key: str
    upstream_call: bool
    alerts_created: int


@dataclass(frozen=True)
class CycleSummary:
    """Totals over one worker batch, in the shape `POST /__local/poll` answers."""

    routes_polled: int = 0
    upstream_calls: int = 0
    alerts_created: int = 0

    @classmethod
    def of(cls, results: Iterable[RouteWork]) -> CycleSummary:
        done = list(results)
        return cls(
            routes_polled=len(done),
            upstream_calls=sum(1 for work in done if work.upstream_call),
            alerts_created=sum(work.alerts_created for work in done),
        )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


_KEPT_BOOKING_URLS = 1000


class PollCycle:
    def __init__(
        self,
        *,
        trackers: TrackingStore,
        alerts: AlertStore,
        fares: Fares,
        events: AlertAnnouncer,
        clock: Clock,
        poll_interval_seconds: float,
        insight: Judge = not_judged,
        booking_link: Callable[[str], str | None] | None = None,
        daily_search_budget: int = 0,
        budget: PollBudget | None = None,
    ) -> None:
        self._insight = insight
        self._booking_link = booking_link  # an offer id -> its booking URL, never raising (booking.py)
        self._booking_urls: dict[str, str | None] = {}
        self._judged: dict[tuple[str, Decimal], Insight] = {}
        self._budget_limit = daily_search_budget
        self._budget = budget
        self._uncounted: Counter[date] = Counter()
        self._trackers = trackers
        self._alerts = alerts
        self._fares = fares
        self._events = events
        self._clock = clock
        self._poll_interval = poll_interval_seconds
        self._dispatcher = PollDispatcher(
            trackers=trackers, clock=clock, daily_search_budget=daily_search_budget, budget=budget
        )

    # -- the dispatcher (farewatch.tracking.poll_dispatch) -------------------------------------

    def due_routes(self, *, ahead: float = 0.0, limit: int | None = None) -> Iterator[str]:
        return self._dispatcher.due_routes(ahead=ahead, limit=limit)

    def dispatch(self, queue: PollQueue, *, ahead: float = 0.0) -> DispatchReport:
        return self._dispatcher.dispatch(queue, ahead=ahead)

    # -- the worker -----------------------------------------------------------------------------

    def poll_route(self, route_key: str) -> RouteWork:
        """Refresh one watched route, then announce every alert of it still in the outbox.

        Alerts are written idempotently and start out unpublished, so a redelivered message creates
        nothing twice, and an alert whose PutEvents failed (or whose worker died before it) is
        announced by the retry: delivery is at least once, and the event carries the alert's
        deterministic id for consumers to deduplicate. An exception fails this route only: SQS
        redelivers its message, then moves it to the dead-letter queue.
        """
        refresh = self.refresh(route_key)
        waiting = refresh.unpublished
        for start in range(0, len(waiting), PUT_EVENTS_LIMIT):
            chunk = waiting[start : start + PUT_EVENTS_LIMIT]
            self._events.announce(chunk)
            self._alerts.mark_published(chunk)
        return RouteWork(route_key, upstream_call=refresh.upstream_call, alerts_created=len(refresh.alerts))

    def refresh(self, route_key: str) -> RouteRefresh:
        """Fares through the shared cache, every tracker of the route evaluated, the next poll scheduled.

        A route that is gone, unwatched or departed makes no upstream call and creates nothing.
        Upstream failures raise farewatch.errors.UpstreamError (the worker fails the message).
        """
        now = self._clock.now()
        query = _query_or_none(route_key)
        along = self._fares if isinstance(self._fares, _ReadsAlong) and query is not None else None
        # One read: the route (watchers, last price, its outbox) and, with it, the route's cache entry.
        state, entry = self._trackers.poll_state(
            route_key,
            fare_item=along.cache_item_key(query) if along is not None and query is not None else None,
        )
        # Alerts an earlier attempt wrote but could not announce, whatever happens below.
        waiting, outbox_add = self._waiting(route_key, state)
        if state.watchers <= 0 or query is None:
            return RouteRefresh(upstream_call=False, unpublished=waiting)
        if is_departed(query, ManualClock(now)):
            self._trackers.unschedule(route_key)
            return RouteRefresh(upstream_call=False, unpublished=waiting)
        if not self._within_budget(query, now, entry if along is not None else UNREAD):
            self._trackers.schedule(route_key, now + poll_policy.BUDGET_RETRY_SECONDS)
            return RouteRefresh(upstream_call=False, unpublished=waiting)
        if along is not None:
            result = along.fares(query, count_search=False, read=entry)
        else:
            result = self._fares.fares(query, count_search=False)
        if not self._budget_limit and self._budget is not None and not result.cached:
            # No budget to keep: the search is only counted (GET /stats/poller), written by flush_counts.
            self._uncounted[utc_datetime(now).date()] += 1
        offer = result.cheapest
        latest = offer.price if offer is not None else None
        interval = poll_policy.poll_interval(
            query.departure_date,
            utc_datetime(now).date(),
            previous=state.last_price,
            latest=latest,
            floor_seconds=self._poll_interval,
        )
        schedule = RouteSchedule(
            now + interval,
            polled_at=now,
            price=latest,
            outbox_add=outbox_add,
            outbox_kept=state.outbox is None,
        )
        alerts: list[Alert] = []
        if offer is not None:
            seen = PricePoint(offer.price, offer.currency, result.fetched_at, offer_id=offer.id)
            alerts = self.evaluate_route(route_key, seen, schedule=schedule)
        else:
            self._trackers.schedule_route(route_key, schedule)
        known = {alert.id for alert in waiting}
        return RouteRefresh(
            upstream_call=not result.cached,
            alerts=alerts,
            unpublished=waiting + [alert for alert in alerts if alert.id not in known],
        )

    def _waiting(self, route_key: str, state: RoutePollState) -> tuple[list[Alert], tuple[str, ...]]:
        """The route's alerts awaiting announcement: from its outbox set (no read when it is empty),
        or, on a route whose set is not kept yet, from the outbox index (and those go into the set)."""
        if state.outbox is None:
            waiting = self._alerts.unpublished_of_route(route_key)
            return waiting, tuple(f"{alert.user_id}#{alert.id}" for alert in waiting)
        if not state.outbox:
            return [], ()
        waiting, gone = self._alerts.outbox_alerts(state.outbox)
        self._trackers.remove_from_outbox(route_key, gone)
        return waiting, ()

    def flush_counts(self) -> None:
        """Write the searches counted since the last flush (no daily budget set: they are statistics
        only, so a batch of routes writes them once; the worker flushes at the end of each invocation,
        and a container killed in the middle of one loses at most that invocation's count)."""
        if self._budget is None:
            self._uncounted.clear()
            return
        for day, searches in sorted(self._uncounted.items()):
            self._budget.count(day, searches)
            del self._uncounted[day]

    def _within_budget(self, query: FareQuery, now: float, entry: CachedFares | Unread | None) -> bool:
        """No budget, or a fresh cache entry (no search needed), or one search taken from today's.
        `entry` is the route's cache entry when the poll read it along with the route."""
        if not self._budget_limit or self._budget is None:
            return True
        if not isinstance(entry, Unread):
            if entry is not None and entry.is_fresh(now):
                return True
        elif isinstance(self._fares, _HasCached) and self._fares.cached(query) is not None:
            return True
        if self._budget.take(utc_datetime(now).date(), limit=self._budget_limit):
            return True
        logger.info("The daily search budget is spent; the route waits", extra={"route": query.cache_key})
        return False

    def evaluate_route(
        self, route_key: str, seen: PricePoint, *, schedule: RouteSchedule | None = None
    ) -> list[Alert]:
        """The drop rules applied to every tracker of the route; only newly written alerts are returned.

        Idempotent: a tracker already checked at this observation is skipped, and an alert is written
        with a deterministic id in the same transaction as the tracker's memory, so a re-run or a
        redelivered message never duplicates one. The trackers that changed are written together
        (with `schedule`, when given) in as few transactions as fit; if one of them moved meanwhile
        (a PATCH, another poll), the rest are decided and written one by one, as a single one is.
        """
        self._judged.clear()
        day = query_of_route_key(route_key).departure_date
        checks = [
            check
            for check in (
                self._check(tracker, seen, route_key=route_key, day=day)
                for tracker in self._trackers.of_route(route_key)
            )
            if check is not None
        ]
        if not checks:
            if schedule is not None:
                self._trackers.schedule_route(route_key, schedule)
            return []
        applied = self._trackers.record_checks(route_key, checks, schedule=schedule)
        alerts = [check.alert for check in checks[:applied] if check.alert is not None]
        if applied < len(checks):
            created = (
                self._evaluate(check.tracker, seen, route_key=route_key, day=day)
                for check in checks[applied:]
            )
            alerts += [alert for alert in created if alert is not None]
            if schedule is not None:
                self._trackers.schedule_route(route_key, schedule)
        return alerts

    def _check(
        self, tracker: StoredTracker, seen: PricePoint, *, route_key: str, day: date
    ) -> TrackerCheck | None:
        """The evaluation of one tracker as read, `seen` being the price of `day` (the polled route's
        date): None when there is nothing to write. A flexible tracker is judged on its window's
        cheapest date after this observation, and its window's prices go with the check."""
        if tracker.query.currency != seen.currency:
            return None
        if tracker.flex_days:
            step = self._window_step(tracker, seen, day)
            if step is None or step.best is None:
                return None  # this observation (or a newer one) of its date was applied already
            cheapest = step.best
            price = PricePoint(cheapest.amount, seen.currency, seen.fetched_at, offer_id=cheapest.offer_id)
            best: DatePrice | None = cheapest
            prices: tuple[DatePrice, ...] | None = step.prices
            first_sight = step.first_sight
        else:
            if tracker.last_checked_at is not None and tracker.last_checked_at >= seen.fetched_at:
                return None  # this observation (or a newer one) was applied already
            price, prices, first_sight, best = seen, None, False, None
        memory = TrackerMemory(
            target_price=tracker.target_price,
            notify_on_any_drop=tracker.notify_on_any_drop,
            last_seen_price=tracker.current_price,
            last_alerted_price=tracker.last_alerted_price,
        )
        decision = decide(memory, price.amount)
        if decision is not None and decision.kind is AlertKind.PRICE_DROP and first_sight:
            decision = None  # a date seen for the first time has not dropped: it is a baseline
        after = remembered_after(memory, price.amount, decision)
        alert = (
            self._alert(tracker, decision.kind, price, decision.previous_price, best=best, polled=route_key)
            if decision
            else None
        )
        return TrackerCheck(tracker, price, after.last_alerted_price, alert, prices)

    def _evaluate(
        self, tracker: StoredTracker, seen: PricePoint, *, route_key: str, day: date
    ) -> Alert | None:
        current: StoredTracker | None = tracker
        for _ in range(_EVALUATION_ATTEMPTS):
            if current is None:
                return None  # deleted meanwhile
            check = self._check(current, seen, route_key=route_key, day=day)
            if check is None:
                return None
            # A fake store may not take the window: it is passed for flexible trackers only.
            flexible = {"window_prices": check.window_prices} if check.window_prices is not None else {}
            if self._trackers.record_check(
                current,
                seen=check.seen,
                last_alerted_price=check.last_alerted_price,
                alert=check.alert,
                **flexible,
            ):
                return check.alert
            current = self._trackers.get(current.user_id, current.id)  # it moved: decide again
        return None

    def _window_step(self, tracker: StoredTracker, seen: PricePoint, day: date) -> window.WindowStep | None:
        """A flexible tracker's window after the observation of one of its dates."""
        today = local_today(require_location(tracker.query.origin, "origin"), self._clock)
        observation = DatePrice(day, seen.amount, seen.fetched_at, seen.offer_id)
        return window.observed(tracker.window_prices, observation, watched=tracker.dates, today=today)

    def _alert(
        self,
        tracker: StoredTracker,
        kind: AlertKind,
        seen: PricePoint,
        previous: Decimal | None,
        *,
        best: DatePrice | None = None,
        polled: str | None = None,
    ) -> Alert:
        # A flexible tracker's alert is for its cheapest date: that trip, its insight, its route.
        query = tracker.query if best is None else tracker.query.departing_on(best.departure_date)
        # Every tracker of a route alerting on the same trip and price is judged once (one Query).
        judged_key = (query.cache_key, seen.amount)
        if judged_key not in self._judged:
            self._judged[judged_key] = self._insight(query, seen.amount)
        judged = self._judged[judged_key]
        return Alert(
            id=alert_id(tracker.id, seen.fetched_at, kind, day=best.departure_date if best else None),
            user_id=tracker.user_id,
            tracker_id=tracker.id,
            route_key=query.cache_key,
            kind=kind.value,
            price=seen.amount,
            previous_price=previous,
            target_price=tracker.target_price,
            currency=seen.currency,
            observed_at=seen.fetched_at,
            created_at=self._clock.now(),
            insight_level=judged.level,
            typical_low=judged.typical_low,
            typical_high=judged.typical_high,
            insight_observations=judged.observations,
            insight_explanation=judged.explanation,
            departure_date=query.departure_date.isoformat(),
            return_date=query.return_date.isoformat() if query.return_date is not None else None,
            cabin=query.cabin,
            max_stops=query.max_stops,
            offer_id=seen.offer_id,
            booking_url=self._booking_url(seen.offer_id),
            lowest_price=min(seen.amount, tracker.lowest_price or seen.amount),
            best_date=best.departure_date.isoformat() if best is not None else None,
            outbox_route=polled if best is not None and polled != query.cache_key else None,
        )

    def _booking_url(self, offer_id: str | None) -> str | None:
        """The booking link of the observed offer, asked once per offer (every tracker of a route that
        alerts on one observation shares it), and only when some tracker alerts."""
        if offer_id is None or self._booking_link is None:
            return None
        if offer_id not in self._booking_urls:
            if len(self._booking_urls) >= _KEPT_BOOKING_URLS:
                self._booking_urls.clear()
            self._booking_urls[offer_id] = self._booking_link(offer_id)
        return self._booking_urls[offer_id]


def _query_or_none(route_key: str) -> FareQuery | None:
    try:
        return query_of_route_key(route_key)
    except ValueError:
        return None
