"""Tracked flights, watched routes and price-drop alerts in DynamoDB: the only code that touches them.

TrackersTable (user_id, tracker_id)      no TTL: trackers live until their owner deletes them
  tracker_id = trk_<32 hex>              TrackerRecord: the fare query, target_price / notify_on_any_drop,
                                         current/lowest/last alerted price (decimal strings),
                                         last_checked_at, and `version` (PynamoDB VersionAttribute:
                                         every update is conditional on the version it read).
                                         Read by Query on user_id (GET /tracked-flights) and GetItem.
  tracker_id = #active                   TrackerCounter: active_count of the user's trackers, changed in
                                         the same transaction as the tracker, with the condition
                                         `active_count < limit` on create (the per-user limit, race-safe).
                                         A departed tracker is uncounted (released_at set, same
                                         transaction) when its user next hits the limit.
  index by_route (route_key, tracker_id) The poller's worker: Query the trackers of one watched route.
                                         Sparse: the counter item has no route_key.
  tracker_id = wch#trk_<32 hex>#<date>   TrackerWatch (issue 15): a flexible tracker's other dates, one
                                         item per departure date of its window besides its own, whose
                                         route_key puts the tracker in by_route under that date's route.
                                         Written and deleted in the tracker's transactions; a tracker
                                         lists the dates it is counted on in `watched_dates`, and keeps
                                         the latest price of each in `window_prices` (JSON).

WatchedRoutesTable (route_key)           one item per fare query with trackers (`JFK#LAX#2026-12-01#1#USD`)
                                         WatchedRoute: active_count (ADD ±1 in the tracker's transaction),
                                         origin/destination/departure_date/adults/currency, next_poll_at.
  index by_due (shard, next_poll_at)     The dispatcher: Query shard = "all", next_poll_at <= now, filter
                                         active_count > 0. One constant shard is enough for thousands of
                                         routes (a Query pages through them); more shards can come later.

AlertsTable (user_id, alert_id)          no TTL (alerts are kept until the account goes)
  alert_id = sha256(tracker#fetched_at#kind[#winning date])[:24]
                                         PriceDropAlert: written with attribute_not_exists in the same
                                         transaction as the tracker update, so a re-run never duplicates.
                                         POST /alerts/{id}/ack: GetItem + conditional update.
  LSI newest_first (user_id, listed_at)  GET /alerts: Query newest first; listed_at = "<ISO>#<alert_id>".
  GSI unpublished (unpublished_route, alert_id)
                                         The event outbox, sparse: an alert is written with
                                         unpublished_route = its route key, removed once its
                                         PriceDropDetected event is on the bus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from farewatch.clock import sortable_utc
from farewatch.errors import Conflict, NotFound
from farewatch.fare_query import FareQuery
from farewatch.settings import get_settings
from farewatch.store.conditions import (
    TRANSACTION_ATTEMPTS,
    cancellation_codes,
    retried_on_transaction_conflict,
    update_unless_condition_failed,
)
from farewatch.store.fare_cache import CachedFares, entry_of
from farewatch.store.models import FareCacheEntry, TableMeta
from farewatch.store.pages import decode_cursor, encode_cursor, first_page, invalid_cursor, start_key_checked
from farewatch.tracking import window
from farewatch.tracking.poll_policy import DueRoute
from farewatch.tracking.stats import WatchedCount
from farewatch.tracking.values import Alert, DatePrice, PricePoint, StoredTracker

_settings = get_settings()

COUNTER_ID = "#active"
ROUTE_SHARD = "all"
TRACKER_PREFIX = "trk_"
WATCH_PREFIX = "wch#"
_ALERT_ID = re.compile(r"[0-9a-f]{24}")


class TrackersByRoute(GlobalSecondaryIndex["TrackerRecord"]):
    class Meta:
        index_name = "by_route"
        projection = AllProjection()

    route_key = UnicodeAttribute(hash_key=True)
    tracker_id = UnicodeAttribute(range_key=True)


class TrackerRecord(Model):
    class Meta(TableMeta):
        table_name = _settings.trackers_table

    user_id = UnicodeAttribute(hash_key=True)
    tracker_id = UnicodeAttribute(range_key=True)
    route_key = UnicodeAttribute()
    origin = UnicodeAttribute()
    destination = UnicodeAttribute()
    departure_date = UnicodeAttribute()
    adults = NumberAttribute()
    currency = UnicodeAttribute()
    target_price = UnicodeAttribute(null=True)
    notify_on_any_drop = BooleanAttribute(default=False)
    current_price = UnicodeAttribute(null=True)
    lowest_price = UnicodeAttribute(null=True)
    last_alerted_price = UnicodeAttribute(null=True)
    last_checked_at = NumberAttribute(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    # Set once a departed tracker stops counting toward its user's limit (see release_departed).
    released_at = NumberAttribute(null=True)
    version = VersionAttribute()
    notify = UnicodeAttribute(null=True)  # alert channels, comma-separated ("" none); absent: all set up
    # Flexible dates (issue 15); absent on trackers of one date.
    flex_days = NumberAttribute(null=True)
    watched_dates = UnicodeAttribute(null=True)  # the dates counted on watched routes, comma-separated
    window_prices = UnicodeAttribute(null=True)  # farewatch.tracking.window.dumps
    best_date = UnicodeAttribute(null=True)

    by_route = TrackersByRoute()


class TrackerWatch(Model):
    """One more departure date of a flexible tracker: in by_route under that date's watched route."""

    class Meta(TableMeta):
        table_name = _settings.trackers_table

    user_id = UnicodeAttribute(hash_key=True)
    tracker_id = UnicodeAttribute(range_key=True)  # wch#<tracker id>#<YYYY-MM-DD>
    route_key = UnicodeAttribute()


class TrackerMemoryRecord(Model):
    """The poller's view of a TrackerRecord: what it has seen, written without touching `version`
    (only its owner's edits move the version a PATCH must send; issue 15). Its writes are conditional
    on the settings it decided with and on the last check it read instead, so a PATCH or another poll
    in between makes it read and decide again."""

    class Meta(TableMeta):
        table_name = _settings.trackers_table

    user_id = UnicodeAttribute(hash_key=True)
    tracker_id = UnicodeAttribute(range_key=True)
    target_price = UnicodeAttribute(null=True)
    notify_on_any_drop = BooleanAttribute(default=False)
    current_price = UnicodeAttribute(null=True)
    lowest_price = UnicodeAttribute(null=True)
    last_alerted_price = UnicodeAttribute(null=True)
    last_checked_at = NumberAttribute(null=True)
    window_prices = UnicodeAttribute(null=True)
    best_date = UnicodeAttribute(null=True)


class TrackerCounter(Model):
    class Meta(TableMeta):
        table_name = _settings.trackers_table

    user_id = UnicodeAttribute(hash_key=True)
    tracker_id = UnicodeAttribute(range_key=True, default=COUNTER_ID)
    active_count = NumberAttribute(default=0)


class RoutesByDue(GlobalSecondaryIndex["WatchedRoute"]):
    class Meta:
        index_name = "by_due"
        projection = AllProjection()

    shard = UnicodeAttribute(hash_key=True)
    next_poll_at = NumberAttribute(range_key=True)


class WatchedRoute(Model):
    class Meta(TableMeta):
        table_name = _settings.watched_routes_table

    route_key = UnicodeAttribute(hash_key=True)
    active_count = NumberAttribute(default=0)
    origin = UnicodeAttribute(null=True)
    destination = UnicodeAttribute(null=True)
    departure_date = UnicodeAttribute(null=True)
    adults = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    shard = UnicodeAttribute(null=True)
    next_poll_at = NumberAttribute(null=True)
    # Issue 15: when it was last polled and the price it found (adaptive intervals, budget, stats).
    last_polled_at = NumberAttribute(null=True)
    last_price = UnicodeAttribute(null=True)
    # Issue 18: the route's outbox, kept on the route so a poll needs no index query to find it: the
    # alerts (`user_id#alert_id`) written and not yet announced, added in the alert's transaction and
    # removed once published. `outbox_kept` says the set is complete (set by the first poll that read
    # the outbox index; before it, alerts written by older code are only in the index).
    outbox = UnicodeSetAttribute(null=True)
    outbox_kept = BooleanAttribute(null=True)

    by_due = RoutesByDue()


class AlertsNewestFirst(LocalSecondaryIndex["PriceDropAlert"]):
    class Meta:
        index_name = "newest_first"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    listed_at = UnicodeAttribute(range_key=True)


class AlertsAwaitingPublication(GlobalSecondaryIndex["PriceDropAlert"]):
    class Meta:
        index_name = "unpublished"
        projection = AllProjection()

    unpublished_route = UnicodeAttribute(hash_key=True)
    alert_id = UnicodeAttribute(range_key=True)


class PriceDropAlert(Model):
    class Meta(TableMeta):
        table_name = _settings.alerts_table

    user_id = UnicodeAttribute(hash_key=True)
    alert_id = UnicodeAttribute(range_key=True)
    listed_at = UnicodeAttribute()
    tracker_id = UnicodeAttribute()
    route_key = UnicodeAttribute()
    kind = UnicodeAttribute()
    price = UnicodeAttribute()
    previous_price = UnicodeAttribute(null=True)
    target_price = UnicodeAttribute(null=True)
    currency = UnicodeAttribute()
    observed_at = NumberAttribute()
    created_at = NumberAttribute()
    acked_at = NumberAttribute(null=True)
    offer_id = UnicodeAttribute(null=True)  # the cheapest offer at the source when the alert was made
    booking_url = UnicodeAttribute(null=True)  # where to book it, when the source gives booking links
    lowest_price = UnicodeAttribute(null=True)
    # The outbox: set (to the route key) until the alert's PriceDropDetected event is on the bus.
    unpublished_route = UnicodeAttribute(null=True)
    # Issue 15: the price's insight when the alert was made, and the trip (absent on older alerts).
    insight_level = UnicodeAttribute(null=True)
    typical_low = UnicodeAttribute(null=True)
    typical_high = UnicodeAttribute(null=True)
    insight_observations = NumberAttribute(null=True)
    insight_explanation = UnicodeAttribute(null=True)
    departure_date = UnicodeAttribute(null=True)
    return_date = UnicodeAttribute(null=True)
    cabin = UnicodeAttribute(null=True)
    max_stops = NumberAttribute(null=True)
    best_date = UnicodeAttribute(null=True)  # a flexible tracker's winning date

    newest_first = AlertsNewestFirst()
    unpublished = AlertsAwaitingPublication()


TRACKING_MODELS: tuple[type[Model], ...] = (TrackerRecord, TrackerCounter, WatchedRoute, PriceDropAlert)
# TrackerWatch items live in TrackersTable too (its table is TrackerRecord's).


def outbox_key(alert: Alert) -> str:
    return f"{alert.user_id}#{alert.id}"


@dataclass(frozen=True)
class RoutePollState:
    """What a poll needs of its watched route: how many trackers watch it (0: gone), the last price
    polled, and its outbox (`user_id`, `alert_id` of alerts not yet announced; None: not known, read
    the outbox index)."""

    watchers: int
    last_price: Decimal | None
    outbox: tuple[tuple[str, str], ...] | None


@dataclass(frozen=True)
class TrackerCheck:
    """One evaluation to apply: the tracker as read, what was seen, the memory after it, the alert."""

    tracker: StoredTracker
    seen: PricePoint
    last_alerted_price: Decimal | None
    alert: Alert | None
    window_prices: tuple[DatePrice, ...] | None = None  # a flexible tracker's window after it


@dataclass(frozen=True)
class RouteSchedule:
    """The route's next poll, when it was polled and at what price, and outbox entries to add."""

    next_poll_at: float
    polled_at: float | None = None
    price: Decimal | None = None
    outbox_add: tuple[str, ...] = ()
    outbox_kept: bool = False


# A transaction holds at most 100 items: a tracker with an alert is two, the route one more.
_CHECKS_PER_TRANSACTION = 49


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _text(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _tracker_of(record: TrackerRecord) -> StoredTracker:
    return StoredTracker(
        id=record.tracker_id,
        user_id=record.user_id,
        query=FareQuery.from_key(record.route_key),  # the whole trip (return date, cabin, stops)
        target_price=_decimal(record.target_price),
        notify_on_any_drop=bool(record.notify_on_any_drop),
        current_price=_decimal(record.current_price),
        lowest_price=_decimal(record.lowest_price),
        last_alerted_price=_decimal(record.last_alerted_price),
        last_checked_at=float(record.last_checked_at) if record.last_checked_at is not None else None,
        created_at=float(record.created_at),
        updated_at=float(record.updated_at),
        released_at=float(record.released_at) if record.released_at is not None else None,
        version=int(record.version or 0),
        notify=tuple(c for c in record.notify.split(",") if c) if record.notify is not None else None,
        flex_days=int(record.flex_days or 0),
        watched_dates=tuple(
            date.fromisoformat(day) for day in (record.watched_dates or "").split(",") if day
        ),
        window_prices=window.loads(record.window_prices),
    )


def _record_of(tracker: StoredTracker) -> TrackerRecord:
    query = tracker.query
    record = TrackerRecord(
        tracker.user_id,
        tracker.id,
        route_key=query.cache_key,
        origin=query.origin,
        destination=query.destination,
        departure_date=query.departure_date.isoformat(),
        adults=query.adults,
        currency=query.currency,
        target_price=_text(tracker.target_price),
        notify_on_any_drop=tracker.notify_on_any_drop,
        current_price=_text(tracker.current_price),
        lowest_price=_text(tracker.lowest_price),
        last_alerted_price=_text(tracker.last_alerted_price),
        last_checked_at=tracker.last_checked_at,
        created_at=tracker.created_at,
        updated_at=tracker.updated_at,
        released_at=tracker.released_at,
        notify=",".join(tracker.notify) if tracker.notify is not None else None,
    )
    if tracker.flex_days:
        record.flex_days = tracker.flex_days
        record.watched_dates = ",".join(day.isoformat() for day in tracker.dates)
        record.window_prices = window.dumps(tracker.window_prices)
        best = tracker.best
        record.best_date = best.departure_date.isoformat() if best is not None else None
    if tracker.version:
        # The version read: PynamoDB makes every write of this record conditional on it (and bumps it).
        record.version = tracker.version
    return record


def _alert_of(item: PriceDropAlert) -> Alert:
    return Alert(
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
        insight_level=item.insight_level,
        typical_low=_decimal(item.typical_low),
        typical_high=_decimal(item.typical_high),
        insight_observations=int(item.insight_observations)
        if item.insight_observations is not None
        else None,
        insight_explanation=item.insight_explanation,
        departure_date=item.departure_date,
        return_date=item.return_date,
        cabin=item.cabin,
        max_stops=int(item.max_stops) if item.max_stops is not None else None,
        best_date=item.best_date,
        offer_id=item.offer_id,
        booking_url=item.booking_url,
        lowest_price=_decimal(item.lowest_price),
    )


def _alert_item(alert: Alert) -> PriceDropAlert:
    return PriceDropAlert(
        alert.user_id,
        alert.id,
        listed_at=f"{sortable_utc(alert.observed_at)}#{alert.id}",
        tracker_id=alert.tracker_id,
        route_key=alert.route_key,
        kind=alert.kind,
        price=str(alert.price),
        previous_price=_text(alert.previous_price),
        target_price=_text(alert.target_price),
        currency=alert.currency,
        observed_at=alert.observed_at,
        created_at=alert.created_at,
        acked_at=alert.acked_at,
        offer_id=alert.offer_id,
        booking_url=alert.booking_url,
        lowest_price=_text(alert.lowest_price),
        # In the outbox until its event is on the bus, keyed by the route whose poll made it.
        unpublished_route=alert.outbox_route or alert.route_key,
        insight_level=alert.insight_level,
        typical_low=_text(alert.typical_low),
        typical_high=_text(alert.typical_high),
        insight_observations=alert.insight_observations,
        insight_explanation=alert.insight_explanation,
        departure_date=alert.departure_date,
        return_date=alert.return_date,
        cabin=alert.cabin,
        max_stops=alert.max_stops,
        best_date=alert.best_date,
    )


def _check_update(check: TrackerCheck) -> tuple[TrackerMemoryRecord, list[Any], Any]:
    """The conditional UpdateItem of one evaluation (see `TrackingStore.record_check`)."""
    tracker, seen = check.tracker, check.seen
    memory = TrackerMemoryRecord(tracker.user_id, tracker.id)
    lowest = seen.amount if tracker.lowest_price is None else min(tracker.lowest_price, seen.amount)
    actions: list[Any] = [
        TrackerMemoryRecord.current_price.set(str(seen.amount)),
        TrackerMemoryRecord.lowest_price.set(str(lowest)),
        TrackerMemoryRecord.last_checked_at.set(seen.fetched_at),
    ]
    if check.last_alerted_price is not None:
        actions.append(TrackerMemoryRecord.last_alerted_price.set(str(check.last_alerted_price)))
    condition = TrackerMemoryRecord.tracker_id.exists() & (
        TrackerMemoryRecord.notify_on_any_drop == tracker.notify_on_any_drop
    )
    if check.window_prices is not None:
        # A flexible tracker's window after this check (`seen` is its cheapest date): written on
        # condition that the window is still the one read, so two dates polled at once never lose
        # each other's price.
        best = window.cheapest(check.window_prices)
        actions.append(TrackerMemoryRecord.window_prices.set(window.dumps(check.window_prices)))
        if best is not None:
            actions.append(TrackerMemoryRecord.best_date.set(best.departure_date.isoformat()))
        condition &= TrackerMemoryRecord.window_prices == window.dumps(tracker.window_prices)
    condition &= (
        TrackerMemoryRecord.target_price.does_not_exist()
        if tracker.target_price is None
        else TrackerMemoryRecord.target_price == str(tracker.target_price)
    )
    condition &= (
        TrackerMemoryRecord.last_checked_at.does_not_exist()
        if tracker.last_checked_at is None
        else TrackerMemoryRecord.last_checked_at == tracker.last_checked_at
    )
    return memory, actions, condition


def _schedule_actions(schedule: RouteSchedule) -> list[Any]:
    actions: list[Any] = [WatchedRoute.next_poll_at.set(schedule.next_poll_at)]
    if schedule.polled_at is not None:
        actions.append(WatchedRoute.last_polled_at.set(schedule.polled_at))
    if schedule.price is not None:
        actions.append(WatchedRoute.last_price.set(str(schedule.price)))
    if schedule.outbox_add:
        actions.append(WatchedRoute.outbox.add(set(schedule.outbox_add)))
    if schedule.outbox_kept:
        actions.append(WatchedRoute.outbox_kept.set(True))
    return actions


def _watch_id(tracker_id: str, day: date) -> str:
    return f"{WATCH_PREFIX}{tracker_id}#{day.isoformat()}"


def _watches(tracker: StoredTracker, days: Iterable[date]) -> list[TrackerWatch]:
    """The watch items of `days` (the tracker's own date is its record, never a watch item)."""
    own = tracker.query.departure_date
    return [
        TrackerWatch(tracker.user_id, _watch_id(tracker.id, day), route_key=tracker.key_on(day))
        for day in days
        if day != own
    ]


def _watching(query: FareQuery, next_poll_at: float) -> list[Any]:
    """The actions that count one more tracker on a watched route (created if new, scheduled)."""
    return [
        WatchedRoute.active_count.add(1),
        WatchedRoute.origin.set(query.origin),
        WatchedRoute.destination.set(query.destination),
        WatchedRoute.departure_date.set(query.departure_date.isoformat()),
        WatchedRoute.adults.set(query.adults),
        WatchedRoute.currency.set(query.currency),
        WatchedRoute.shard.set(ROUTE_SHARD),
        WatchedRoute.next_poll_at.set(WatchedRoute.next_poll_at | next_poll_at),  # if_not_exists
    ]


class TrackingStore:
    """Trackers, counters and watched routes; every change of a tracker's existence is one transaction."""

    def __init__(self) -> None:
        self._connection = Connection(region=_settings.aws_region, host=_settings.aws_endpoint_url)

    # -- trackers -------------------------------------------------------------------------------

    def create(
        self,
        tracker: StoredTracker,
        *,
        limit: int,
        next_poll_at: float,
        poll_now: Mapping[str, float] | None = None,
    ) -> StoredTracker:
        """Put the tracker, count it for its user (Conflict past `limit`) and on each watched route of
        its dates (one transaction: at most 2 + 2 * 7 items for a ±3-day window). A route new to the
        index is scheduled at `next_poll_at`, or at `poll_now[route key]` (dates not priced yet)."""
        record = _record_of(tracker)
        counter = TrackerCounter(tracker.user_id, COUNTER_ID)
        # A route this creates (or one whose outbox set is kept already) keeps its outbox on the route
        # from the start; an older route keeps reading the outbox index until its next poll.
        keeps_outbox = self._outbox_kept_or_new(tracker.route_key)
        watches = _watches(tracker, tracker.dates)
        due = poll_now or {}

        @retried_on_transaction_conflict
        def write() -> None:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.update(
                    counter,
                    actions=[TrackerCounter.active_count.add(1)],
                    condition=TrackerCounter.active_count.does_not_exist()
                    | (TrackerCounter.active_count < limit),
                )
                transaction.save(record, condition=TrackerRecord.tracker_id.does_not_exist())
                for watch in watches:
                    transaction.save(watch)
                for day in tracker.dates:
                    query = tracker.query.departing_on(day)
                    actions = _watching(query, due.get(query.cache_key, next_poll_at))
                    if keeps_outbox and query.cache_key == tracker.route_key:
                        actions.append(WatchedRoute.outbox_kept.set(True))
                    transaction.update(WatchedRoute(query.cache_key), actions=actions)

        try:
            write()
        except TransactWriteError as error:
            # The tracker id is new, so the only condition that can fail is the user's counter
            # (PynamoDB sends puts before updates, so it is not the first reason).
            if "ConditionalCheckFailed" in cancellation_codes(error):
                raise Conflict(
                    f"You already track {limit} flights; delete one first.", code="tracker_limit_reached"
                ) from None
            raise
        return _tracker_of(record)

    def _outbox_kept_or_new(self, route_key: str) -> bool:
        try:
            return bool(WatchedRoute.get(route_key, consistent_read=True).outbox_kept)
        except DoesNotExist:
            return True

    def get(self, user_id: str, tracker_id: str) -> StoredTracker | None:
        record = self._record(user_id, tracker_id)
        return _tracker_of(record) if record is not None else None

    def _record(self, user_id: str, tracker_id: str) -> TrackerRecord | None:
        if not tracker_id.startswith(TRACKER_PREFIX) or len(tracker_id) > 100:
            return None
        try:
            return TrackerRecord.get(user_id, tracker_id, consistent_read=True)
        except DoesNotExist:
            return None

    def of_user(self, user_id: str) -> list[StoredTracker]:
        records = TrackerRecord.query(
            user_id, TrackerRecord.tracker_id.startswith(TRACKER_PREFIX), consistent_read=True
        )
        return [_tracker_of(record) for record in records]

    def of_route(self, route_key: str) -> list[StoredTracker]:
        """The trackers watching the route: those of its date, and flexible ones whose window has it
        (found through their watch item, then read in one BatchGetItem)."""
        trackers: list[StoredTracker] = []
        flexible: list[tuple[str, str]] = []
        for record in TrackerRecord.by_route.query(route_key):
            if record.tracker_id.startswith(WATCH_PREFIX):
                flexible.append((record.user_id, record.tracker_id[len(WATCH_PREFIX) :].split("#")[0]))
            else:
                trackers.append(_tracker_of(record))
        if flexible:
            trackers.extend(_tracker_of(record) for record in TrackerRecord.batch_get(flexible))
        return trackers

    def delete(self, tracker: StoredTracker) -> bool:
        """Delete the tracker (at the version read) and its watch items, and uncount it for its user and
        on every watched route it was counted on; False if it was already gone."""
        counter = TrackerCounter(tracker.user_id, COUNTER_ID)

        @retried_on_transaction_conflict
        def write(current: StoredTracker) -> None:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.delete(_record_of(current), condition=TrackerRecord.tracker_id.exists())
                for watch in _watches(current, current.dates):
                    transaction.delete(watch)
                if current.released_at is None:  # a released tracker was uncounted already
                    transaction.update(counter, actions=[TrackerCounter.active_count.add(-1)])
                for key in current.route_keys:
                    transaction.update(WatchedRoute(key), actions=[WatchedRoute.active_count.add(-1)])

        for _ in range(TRANSACTION_ATTEMPTS):
            try:
                write(tracker)
                break
            except TransactWriteError as error:
                codes = cancellation_codes(error)
                if not codes or codes[0] != "ConditionalCheckFailed":  # deletes go first: the tracker
                    raise
                current = self.get(tracker.user_id, tracker.id)
                if current is None:
                    return False
                tracker = current  # changed under us (a poll): delete the newer version
        else:
            raise Conflict("The tracker keeps changing; try again.", code="version_conflict")
        for key in tracker.route_keys:
            self._unschedule_if_unwatched(key)
        return True

    def release_departed(self, user_id: str, departed: Callable[[StoredTracker], bool], *, now: float) -> int:
        """Stop counting the user's departed trackers toward their limit; answers how many were released.

        A departed tracker is expired but stays listed until its owner deletes it, so the counter is
        only corrected when it matters: when a create hits the limit. Each release is one transaction
        (tracker marked at the version read, counter -1), so a concurrent release or delete of the
        same tracker cannot uncount it twice.
        """
        counter = TrackerCounter(user_id, COUNTER_ID)
        released = 0
        for tracker in self.of_user(user_id):
            if tracker.released_at is not None or not departed(tracker):
                continue
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.update(
                        _record_of(tracker),
                        actions=[TrackerRecord.released_at.set(now)],
                        condition=TrackerRecord.released_at.does_not_exist(),
                    )
                    transaction.update(counter, actions=[TrackerCounter.active_count.add(-1)])
                released += 1
            except TransactWriteError as error:
                codes = cancellation_codes(error)
                if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                    continue  # released, deleted or changed concurrently: the next create looks again
                raise
        return released

    def update_settings(
        self,
        tracker: StoredTracker,
        *,
        target_price: Decimal | None,
        notify_on_any_drop: bool,
        now: float,
        notify: tuple[str, ...] | None = None,
        reshaped: StoredTracker | None = None,
        poll_now: Mapping[str, float] | None = None,
    ) -> StoredTracker:
        """Conditional on the version read (VersionAttribute): Conflict `version_conflict` if it moved.

        `reshaped`: the tracker with its new flexible window (flex_days, watched_dates, window_prices,
        current/lowest price): its watch items and route counts follow in the same transaction (dates
        left are uncounted, dates joined counted, and scheduled at `poll_now[key]` when new there)."""
        record = _record_of(tracker)
        actions: list[Any] = [
            TrackerRecord.notify_on_any_drop.set(notify_on_any_drop),
            TrackerRecord.updated_at.set(now),
        ]
        if notify is not None:
            actions.append(TrackerRecord.notify.set(",".join(notify)))
        if target_price is None:
            actions.append(TrackerRecord.target_price.remove())
        else:
            actions.append(TrackerRecord.target_price.set(str(target_price)))
        if target_price != tracker.target_price:
            # A new target starts its own "alert once" cycle.
            actions.append(TrackerRecord.last_alerted_price.remove())
        if reshaped is not None:
            return self._reshape(tracker, record, reshaped, actions, now=now, poll_now=poll_now or {})
        if not update_unless_condition_failed(record, actions=actions):
            raise version_conflict()
        return _tracker_of(record)

    def _reshape(
        self,
        tracker: StoredTracker,
        record: TrackerRecord,
        reshaped: StoredTracker,
        actions: list[Any],
        *,
        now: float,
        poll_now: Mapping[str, float],
    ) -> StoredTracker:
        """A settings change that moves the window: one transaction (at most 1 + 4 * 7 items)."""
        before, after = set(tracker.dates), set(reshaped.dates)
        best = reshaped.best
        actions = [
            *actions,
            TrackerRecord.flex_days.set(reshaped.flex_days),
            TrackerRecord.watched_dates.set(",".join(day.isoformat() for day in reshaped.dates)),
            TrackerRecord.window_prices.set(window.dumps(reshaped.window_prices)),
            TrackerRecord.best_date.set(best.departure_date.isoformat())
            if best is not None
            else TrackerRecord.best_date.remove(),
            TrackerRecord.current_price.set(str(reshaped.current_price))
            if reshaped.current_price is not None
            else TrackerRecord.current_price.remove(),
        ]
        if reshaped.lowest_price is not None:
            actions.append(TrackerRecord.lowest_price.set(str(reshaped.lowest_price)))
        joined = sorted(after - before)
        left = sorted(before - after)

        @retried_on_transaction_conflict
        def write() -> None:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.update(record, actions=actions, condition=TrackerRecord.tracker_id.exists())
                for watch in _watches(tracker, left):
                    transaction.delete(watch)
                for watch in _watches(tracker, joined):
                    transaction.save(watch)
                for day in left:
                    transaction.update(
                        WatchedRoute(tracker.key_on(day)), actions=[WatchedRoute.active_count.add(-1)]
                    )
                for day in joined:
                    query = tracker.query.departing_on(day)
                    transaction.update(
                        WatchedRoute(query.cache_key),
                        actions=_watching(query, poll_now.get(query.cache_key, now)),
                    )

        try:
            write()
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancellation_codes(error):
                raise version_conflict() from None
            raise
        for day in left:
            self._unschedule_if_unwatched(tracker.key_on(day))
        current = self.get(tracker.user_id, tracker.id)
        if current is None:
            raise NotFound("No such tracked flight.")
        return current

    def record_check(
        self,
        tracker: StoredTracker,
        *,
        seen: PricePoint,
        last_alerted_price: Decimal | None,
        alert: Alert | None,
        window_prices: tuple[DatePrice, ...] | None = None,
    ) -> bool:
        """Apply one evaluation: the tracker's memory and its alert, atomically, without moving the
        version its owner must send with PATCH.

        Conditional on the settings the evaluation used and the last check it read; False when it
        did not apply: the alert exists already (a re-run), or the tracker moved on or went away.
        An alert is added to the outbox of the route whose poll raised it, in the same transaction. A
        flexible tracker's evaluation also gives its window's prices after it (`seen` is then its
        cheapest date); see `_check_update`.
        """
        check = TrackerCheck(tracker, seen, last_alerted_price, alert, window_prices)
        memory, actions, condition = _check_update(check)
        if alert is None:
            return update_unless_condition_failed(memory, actions=actions, condition=condition)
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.save(_alert_item(alert), condition=PriceDropAlert.alert_id.does_not_exist())
                transaction.update(memory, actions=actions, condition=condition)
                transaction.update(
                    WatchedRoute(alert.outbox_route or alert.route_key),
                    actions=[WatchedRoute.outbox.add({outbox_key(alert)})],
                )
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancellation_codes(error):
                return False
            raise
        return True

    def record_checks(
        self, route_key: str, checks: Sequence[TrackerCheck], *, schedule: RouteSchedule | None = None
    ) -> int:
        """Apply a route's evaluations and its schedule in TransactWriteItems of up to 49 trackers
        (one call for a usual route) instead of a write per tracker; how many checks applied, in order.

        All or nothing per transaction: when a condition fails (a tracker moved, an alert exists)
        nothing of that transaction applies and no later one is tried; the caller applies the checks
        from the returned count on one by one (`record_check`), then the schedule (`schedule_route`),
        which goes with the last transaction. All applied: `len(checks)`, schedule (if any) included.
        """
        chunks = [
            checks[start : start + _CHECKS_PER_TRANSACTION]
            for start in range(0, len(checks), _CHECKS_PER_TRANSACTION)
        ] or [[]]
        applied = 0
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    outbox: list[str] = []
                    for check in chunk:
                        memory, actions, condition = _check_update(check)
                        if check.alert is not None:
                            transaction.save(
                                _alert_item(check.alert), condition=PriceDropAlert.alert_id.does_not_exist()
                            )
                            outbox.append(outbox_key(check.alert))
                        transaction.update(memory, actions=actions, condition=condition)
                    route = _schedule_actions(schedule) if last and schedule is not None else []
                    if outbox:
                        route.append(WatchedRoute.outbox.add(set(outbox)))
                    if route:
                        transaction.update(
                            WatchedRoute(route_key), actions=route, condition=WatchedRoute.route_key.exists()
                        )
            except TransactWriteError as error:
                if "ConditionalCheckFailed" in cancellation_codes(error):
                    return applied
                raise
            applied += len(chunk)
        return applied

    def delete_all_of(self, user_id: str) -> None:
        for tracker in self.of_user(user_id):
            self.delete(tracker)
        TrackerCounter(user_id, COUNTER_ID).delete()  # absent is fine: DeleteItem is idempotent

    # -- watched routes -------------------------------------------------------------------------

    def watched_count(self, route_key: str) -> int:
        """How many trackers watch the route (0 when it is gone)."""
        try:
            return int(WatchedRoute.get(route_key, consistent_read=True).active_count or 0)
        except DoesNotExist:
            return 0

    def route_state(self, route_key: str) -> tuple[int, Decimal | None]:
        """How many trackers watch the route (0 when it is gone) and the last price polled (one read)."""
        try:
            route = WatchedRoute.get(route_key, consistent_read=True)
        except DoesNotExist:
            return 0, None
        return int(route.active_count or 0), _decimal(route.last_price)

    def poll_state(
        self, route_key: str, *, fare_item: str | None = None
    ) -> tuple[RoutePollState, CachedFares | None]:
        """The route's poll state and, when `fare_item` names a CacheTable key, that fare cache entry
        (None: absent), read together: one TransactGetItems (consistent), or one GetItem without it."""
        if fare_item is None:
            try:
                return _poll_state_of(WatchedRoute.get(route_key, consistent_read=True)), None
            except DoesNotExist:
                return RoutePollState(0, None, ()), None
        with TransactGet(connection=self._connection) as transaction:
            route_future = transaction.get(WatchedRoute, route_key)
            entry_future = transaction.get(FareCacheEntry, fare_item)
        try:
            state = _poll_state_of(route_future.get())
        except DoesNotExist:
            state = RoutePollState(0, None, ())
        try:
            entry = entry_of(entry_future.get())
        except DoesNotExist:
            entry = None
        return state, entry

    def schedule_route(self, route_key: str, schedule: RouteSchedule) -> None:
        """`schedule`, with the outbox fields of `RouteSchedule`; never recreates a route that is gone."""
        update_unless_condition_failed(
            WatchedRoute(route_key),
            actions=_schedule_actions(schedule),
            condition=WatchedRoute.route_key.exists(),
        )

    def remove_from_outbox(self, route_key: str, keys: Sequence[str]) -> None:
        """Take announced (or vanished) alerts out of the route's outbox; a gone route stays gone."""
        if keys:
            update_unless_condition_failed(
                WatchedRoute(route_key),
                actions=[WatchedRoute.outbox.delete(set(keys))],
                condition=WatchedRoute.route_key.exists(),
            )

    def scheduled_routes(self, *, due_by: float | None = None) -> list[DueRoute]:
        """Watched routes in the dispatcher's index (those due by `due_by`, if given), with what the
        budget's choice and the poller statistics need."""
        condition = WatchedRoute.next_poll_at <= due_by if due_by is not None else None
        routes = WatchedRoute.by_due.query(
            ROUTE_SHARD, condition, filter_condition=WatchedRoute.active_count > 0
        )
        return [
            DueRoute(
                route_key=route.route_key,
                departure=FareQuery.from_key(route.route_key).departure_date,
                trackers=int(route.active_count or 0),
                last_polled_at=float(route.last_polled_at) if route.last_polled_at is not None else None,
                next_poll_at=float(route.next_poll_at or 0),
            )
            for route in routes
        ]

    def due_routes(self, now: float) -> Iterator[str]:
        """Keys of watched routes whose next poll is due, oldest due first; unwatched ones filtered out."""
        due = WatchedRoute.by_due.query(
            ROUTE_SHARD, WatchedRoute.next_poll_at <= now, filter_condition=WatchedRoute.active_count > 0
        )
        return (route.route_key for route in due)

    def all_watched(self) -> list[WatchedCount]:
        routes = WatchedRoute.by_due.query(ROUTE_SHARD, filter_condition=WatchedRoute.active_count > 0)
        return [WatchedCount(route.route_key, int(route.active_count or 0)) for route in routes]

    def schedule(
        self,
        route_key: str,
        next_poll_at: float,
        *,
        polled_at: float | None = None,
        price: Decimal | None = None,
    ) -> None:
        """Move the next poll on (and say when it was polled, at what price); never recreates a route
        that is gone."""
        actions: list[Any] = [WatchedRoute.next_poll_at.set(next_poll_at)]
        if polled_at is not None:
            actions.append(WatchedRoute.last_polled_at.set(polled_at))
        if price is not None:
            actions.append(WatchedRoute.last_price.set(str(price)))
        update_unless_condition_failed(
            WatchedRoute(route_key), actions=actions, condition=WatchedRoute.route_key.exists()
        )

    def unschedule(self, route_key: str) -> None:
        """Take the route out of the dispatcher's index (departed, or no trackers left)."""
        update_unless_condition_failed(
            WatchedRoute(route_key),
            actions=[WatchedRoute.shard.remove(), WatchedRoute.next_poll_at.remove()],
            condition=WatchedRoute.route_key.exists(),
        )

    def _unschedule_if_unwatched(self, route_key: str) -> None:
        # A create racing with this adds 1 first, so the condition fails and the route stays indexed.
        update_unless_condition_failed(
            WatchedRoute(route_key),
            actions=[WatchedRoute.shard.remove()],
            condition=WatchedRoute.active_count <= 0,
        )


def _poll_state_of(route: WatchedRoute) -> RoutePollState:
    outbox = None
    if route.outbox_kept:
        pairs = (key.rsplit("#", 1) for key in route.outbox or ())
        outbox = tuple(sorted((pair[0], pair[1]) for pair in pairs if len(pair) == 2))
    return RoutePollState(int(route.active_count or 0), _decimal(route.last_price), outbox)


def version_conflict() -> Conflict:
    return Conflict(
        "The tracker changed since you read it; read it again and retry.", code="version_conflict"
    )


class AlertStore:
    """PriceDropAlert items of AlertsTable."""

    def _item(self, user_id: str, alert_id: str) -> PriceDropAlert | None:
        if not _ALERT_ID.fullmatch(alert_id):
            return None
        try:
            return PriceDropAlert.get(user_id, alert_id, consistent_read=True)
        except DoesNotExist:
            return None

    def acknowledge(self, user_id: str, alert_id: str, *, now: float) -> Alert:
        item = self._item(user_id, alert_id)
        if item is None:
            raise NotFound("No such alert.")
        if item.acked_at is None and not update_unless_condition_failed(
            item,
            actions=[PriceDropAlert.acked_at.set(now)],
            condition=PriceDropAlert.acked_at.does_not_exist(),
        ):
            item.refresh(consistent_read=True)  # acknowledged concurrently: same answer
        return _alert_of(item)

    def page(
        self, user_id: str, *, limit: int, cursor: str | None, unacked_only: bool
    ) -> tuple[list[Alert], str | None]:
        """Newest first, `limit` a page; the filter runs in DynamoDB, so pages are read until full."""
        start_key = _decode_alert_cursor(cursor, user_id) if cursor is not None else None
        condition = PriceDropAlert.acked_at.does_not_exist() if unacked_only else None
        with start_key_checked(start_key):
            page, last = first_page(
                PriceDropAlert.newest_first.query(
                    user_id,
                    scan_index_forward=False,
                    filter_condition=condition,
                    last_evaluated_key=start_key,
                    page_size=limit + 1,
                ),
                limit,
            )
        next_cursor = (
            encode_cursor({"alert_id": last.alert_id, "listed_at": last.listed_at})
            if last is not None
            else None
        )
        return [_alert_of(item) for item in page], next_cursor

    def unpublished_of_route(self, route_key: str) -> list[Alert]:
        """The route's alerts whose event is not on the bus yet (the index is eventually consistent:
        an alert written a moment ago may be missing, which is why the worker adds those it made)."""
        return [_alert_of(item) for item in PriceDropAlert.unpublished.query(route_key)]

    def outbox_alerts(self, keys: Sequence[tuple[str, str]]) -> tuple[list[Alert], list[str]]:
        """The alerts of a route's outbox still awaiting publication (one BatchGetItem per 100), and
        the outbox entries that are not (published meanwhile, or deleted with their account)."""
        waiting: list[Alert] = []
        found: set[str] = set()
        for item in PriceDropAlert.batch_get(list(keys), consistent_read=True):
            if item.unpublished_route is not None:
                waiting.append(_alert_of(item))
                found.add(f"{item.user_id}#{item.alert_id}")
        gone = [f"{user_id}#{alert_id}" for user_id, alert_id in keys if f"{user_id}#{alert_id}" not in found]
        return sorted(waiting, key=lambda alert: alert.id), gone

    def mark_published(self, alerts: Sequence[Alert]) -> None:
        """Take the alerts out of the outbox, and out of their route's outbox set: one transaction
        for up to 10 alerts of one route (what a poll publishes at a time), else one write each; an
        alert deleted meanwhile stays deleted."""
        routes = {alert.route_key for alert in alerts}
        if len(routes) == 1 and 0 < len(alerts) <= 10:
            try:
                with TransactWrite(
                    connection=Connection(region=_settings.aws_region, host=_settings.aws_endpoint_url)
                ) as transaction:
                    for alert in alerts:
                        transaction.update(
                            PriceDropAlert(alert.user_id, alert.id),
                            actions=[PriceDropAlert.unpublished_route.remove()],
                            condition=PriceDropAlert.alert_id.exists(),
                        )
                    transaction.update(
                        WatchedRoute(alerts[0].route_key),
                        actions=[WatchedRoute.outbox.delete({outbox_key(alert) for alert in alerts})],
                        condition=WatchedRoute.route_key.exists(),
                    )
                return
            except TransactWriteError as error:
                if "ConditionalCheckFailed" not in cancellation_codes(error):
                    raise
        for alert in alerts:
            update_unless_condition_failed(
                PriceDropAlert(alert.user_id, alert.id),
                actions=[PriceDropAlert.unpublished_route.remove()],
                condition=PriceDropAlert.alert_id.exists(),
            )
        for route_key in routes:
            keys = {outbox_key(alert) for alert in alerts if alert.route_key == route_key}
            update_unless_condition_failed(
                WatchedRoute(route_key),
                actions=[WatchedRoute.outbox.delete(keys)],
                condition=WatchedRoute.route_key.exists(),
            )

    def delete_all_of(self, user_id: str) -> None:
        with PriceDropAlert.batch_write() as batch:
            for alert in PriceDropAlert.query(user_id):
                batch.delete(alert)


def _decode_alert_cursor(cursor: str, user_id: str) -> dict[str, Any]:
    key = decode_cursor(cursor, ("alert_id", "listed_at"))
    alert_id, listed = key["alert_id"], key["listed_at"]
    if not _ALERT_ID.fullmatch(alert_id) or not listed.endswith(f"#{alert_id}") or len(listed) > 100:
        raise invalid_cursor()
    return {"user_id": {"S": user_id}, "alert_id": {"S": alert_id}, "listed_at": {"S": listed}}
