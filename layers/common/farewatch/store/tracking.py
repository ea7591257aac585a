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

WatchedRoutesTable (route_key)           one item per fare query with trackers (`JFK#LAX#2026-12-01#1#USD`)
                                         WatchedRoute: active_count (ADD ±1 in the tracker's transaction),
                                         origin/destination/departure_date/adults/currency, next_poll_at.
  index by_due (shard, next_poll_at)     The dispatcher: Query shard = "all", next_poll_at <= now, filter
                                         active_count > 0. One constant shard is enough for thousands of
                                         routes (a Query pages through them); more shards can come later.

AlertsTable (user_id, alert_id)          no TTL (alerts are kept until the account goes)
  alert_id = sha256(tracker#fetched_at#kind)[:24]
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

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, QueryError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from farewatch.errors import Conflict, InvalidRequest, NotFound
from farewatch.settings import get_settings
from farewatch.store.leases import is_conditional_failure
from farewatch.store.models import TableMeta

_settings = get_settings()

COUNTER_ID = "#active"
ROUTE_SHARD = "all"
TRACKER_PREFIX = "trk_"
_TRANSACTION_ATTEMPTS = 5
_MAX_CURSOR_CHARS = 512
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

    by_route = TrackersByRoute()


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
    # The outbox: set (to the route key) until the alert's PriceDropDetected event is on the bus.
    unpublished_route = UnicodeAttribute(null=True)

    newest_first = AlertsNewestFirst()
    unpublished = AlertsAwaitingPublication()


TRACKING_MODELS: tuple[type[Model], ...] = (TrackerRecord, TrackerCounter, WatchedRoute, PriceDropAlert)


@dataclass(frozen=True)
class RouteFields:
    """What the watched-route item says about its fare query (written on every create)."""

    origin: str
    destination: str
    departure_date: str
    adults: int
    currency: str


def _cancellation_codes(error: TransactWriteError) -> list[str | None]:
    return [reason.code if reason is not None else None for reason in error.cancellation_reasons]


class TrackingStore:
    """Trackers, counters and watched routes; every change of a tracker's existence is one transaction."""

    def __init__(self) -> None:
        self._connection = Connection(region=_settings.aws_region, host=_settings.aws_endpoint_url)

    # -- trackers -------------------------------------------------------------------------------

    def create(self, tracker: TrackerRecord, route: RouteFields, *, limit: int, next_poll_at: float) -> None:
        """Put the tracker, count it for its user (Conflict past `limit`) and for its watched route."""
        counter = TrackerCounter(tracker.user_id, COUNTER_ID)
        watched = WatchedRoute(tracker.route_key)
        for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.update(
                        counter,
                        actions=[TrackerCounter.active_count.add(1)],
                        condition=TrackerCounter.active_count.does_not_exist()
                        | (TrackerCounter.active_count < limit),
                    )
                    transaction.save(tracker, condition=TrackerRecord.tracker_id.does_not_exist())
                    transaction.update(
                        watched,
                        actions=[
                            WatchedRoute.active_count.add(1),
                            WatchedRoute.origin.set(route.origin),
                            WatchedRoute.destination.set(route.destination),
                            WatchedRoute.departure_date.set(route.departure_date),
                            WatchedRoute.adults.set(route.adults),
                            WatchedRoute.currency.set(route.currency),
                            WatchedRoute.shard.set(ROUTE_SHARD),
                            WatchedRoute.next_poll_at.set(
                                WatchedRoute.next_poll_at | next_poll_at  # if_not_exists
                            ),
                        ],
                    )
                return
            except TransactWriteError as error:
                codes = _cancellation_codes(error)
                # The tracker id is new, so the only condition that can fail is the user's counter
                # (PynamoDB sends puts before updates, so it is not the first reason).
                if "ConditionalCheckFailed" in codes:
                    raise Conflict(
                        f"You already track {limit} flights; delete one first.",
                        code="tracker_limit_reached",
                    ) from None
                if "TransactionConflict" in codes and attempt < _TRANSACTION_ATTEMPTS:
                    continue
                raise

    def get(self, user_id: str, tracker_id: str) -> TrackerRecord | None:
        if not tracker_id.startswith(TRACKER_PREFIX) or len(tracker_id) > 100:
            return None
        try:
            return TrackerRecord.get(user_id, tracker_id, consistent_read=True)
        except DoesNotExist:
            return None

    def of_user(self, user_id: str) -> list[TrackerRecord]:
        return list(
            TrackerRecord.query(
                user_id,
                TrackerRecord.tracker_id.startswith(TRACKER_PREFIX),
                consistent_read=True,
            )
        )

    def of_route(self, route_key: str) -> list[TrackerRecord]:
        return list(TrackerRecord.by_route.query(route_key))

    def delete(self, tracker: TrackerRecord) -> bool:
        """Delete the tracker (at the version read) and uncount it; False if it was already gone."""
        counter = TrackerCounter(tracker.user_id, COUNTER_ID)
        watched = WatchedRoute(tracker.route_key)
        for attempt in range(1, _TRANSACTION_ATTEMPTS + 1):
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.delete(tracker, condition=TrackerRecord.tracker_id.exists())
                    if tracker.released_at is None:  # a released tracker was uncounted already
                        transaction.update(counter, actions=[TrackerCounter.active_count.add(-1)])
                    transaction.update(watched, actions=[WatchedRoute.active_count.add(-1)])
                break
            except TransactWriteError as error:
                codes = _cancellation_codes(error)
                if codes and codes[0] == "ConditionalCheckFailed":  # deletes go first: the tracker
                    current = self.get(tracker.user_id, tracker.tracker_id)
                    if current is None:
                        return False
                    if attempt < _TRANSACTION_ATTEMPTS:
                        tracker = current  # changed under us (a poll): delete the newer version
                        continue
                if "TransactionConflict" in codes and attempt < _TRANSACTION_ATTEMPTS:
                    continue
                raise
        self._unschedule_if_unwatched(tracker.route_key)
        return True

    def release_departed(self, user_id: str, departed: Callable[[TrackerRecord], bool], *, now: float) -> int:
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
                        tracker,
                        actions=[TrackerRecord.released_at.set(now)],
                        condition=TrackerRecord.released_at.does_not_exist(),
                    )
                    transaction.update(counter, actions=[TrackerCounter.active_count.add(-1)])
                released += 1
            except TransactWriteError as error:
                codes = _cancellation_codes(error)
                if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                    continue  # released, deleted or changed concurrently: the next create looks again
                raise
        return released

    def update_settings(
        self, tracker: TrackerRecord, *, target_price: str | None, notify_on_any_drop: bool, now: float
    ) -> None:
        """Conditional on the version read (VersionAttribute): Conflict `version_conflict` if it moved."""
        actions: list[Any] = [
            TrackerRecord.notify_on_any_drop.set(notify_on_any_drop),
            TrackerRecord.updated_at.set(now),
        ]
        if target_price is None:
            actions.append(TrackerRecord.target_price.remove())
        else:
            actions.append(TrackerRecord.target_price.set(target_price))
        if target_price != tracker.target_price:
            # A new target starts its own "alert once" cycle.
            actions.append(TrackerRecord.last_alerted_price.remove())
        try:
            tracker.update(actions=actions)
        except UpdateError as error:
            if is_conditional_failure(error):
                raise version_conflict() from None
            raise

    def record_check(
        self, tracker: TrackerRecord, actions: Sequence[Any], alert: PriceDropAlert | None
    ) -> bool:
        """Apply one evaluation: tracker update (at its version) and its alert, atomically.

        False when it did not apply: the alert exists already (a re-run) or the tracker moved on.
        """
        try:
            if alert is None:
                tracker.update(actions=list(actions))
                return True
            with TransactWrite(connection=self._connection) as transaction:
                transaction.save(alert, condition=PriceDropAlert.alert_id.does_not_exist())
                transaction.update(tracker, actions=list(actions))
            return True
        except UpdateError as error:
            if is_conditional_failure(error):
                return False
            raise
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in _cancellation_codes(error):
                return False
            raise

    def delete_all_of(self, user_id: str) -> None:
        for tracker in self.of_user(user_id):
            self.delete(tracker)
        TrackerCounter(user_id, COUNTER_ID).delete()  # absent is fine: DeleteItem is idempotent

    # -- watched routes -------------------------------------------------------------------------

    def watched_route(self, route_key: str) -> WatchedRoute | None:
        try:
            return WatchedRoute.get(route_key, consistent_read=True)
        except DoesNotExist:
            return None

    def due_routes(self, now: float) -> Iterator[WatchedRoute]:
        """Watched routes whose next poll is due, oldest due first; unwatched ones filtered out."""
        return WatchedRoute.by_due.query(
            ROUTE_SHARD,
            WatchedRoute.next_poll_at <= now,
            filter_condition=WatchedRoute.active_count > 0,
        )

    def all_watched(self) -> Iterator[WatchedRoute]:
        return WatchedRoute.by_due.query(ROUTE_SHARD, filter_condition=WatchedRoute.active_count > 0)

    def schedule(self, route_key: str, next_poll_at: float) -> None:
        """Move the next poll on; never recreates a route that is gone."""
        try:
            WatchedRoute(route_key).update(
                actions=[WatchedRoute.next_poll_at.set(next_poll_at)],
                condition=WatchedRoute.route_key.exists(),
            )
        except UpdateError as error:
            if not is_conditional_failure(error):
                raise

    def unschedule(self, route_key: str) -> None:
        """Take the route out of the dispatcher's index (departed, or no trackers left)."""
        try:
            WatchedRoute(route_key).update(
                actions=[WatchedRoute.shard.remove(), WatchedRoute.next_poll_at.remove()],
                condition=WatchedRoute.route_key.exists(),
            )
        except UpdateError as error:
            if not is_conditional_failure(error):
                raise

    def _unschedule_if_unwatched(self, route_key: str) -> None:
        # A create racing with this adds 1 first, so the condition fails and the route stays indexed.
        try:
            WatchedRoute(route_key).update(
                actions=[WatchedRoute.shard.remove()],
                condition=WatchedRoute.active_count <= 0,
            )
        except UpdateError as error:
            if not is_conditional_failure(error):
                raise


def version_conflict() -> Conflict:
    return Conflict(
        "The tracker changed since you read it; read it again and retry.", code="version_conflict"
    )


class AlertStore:
    """PriceDropAlert items of AlertsTable."""

    def get(self, user_id: str, alert_id: str) -> PriceDropAlert | None:
        if not _ALERT_ID.fullmatch(alert_id):
            return None
        try:
            return PriceDropAlert.get(user_id, alert_id, consistent_read=True)
        except DoesNotExist:
            return None

    def acknowledge(self, user_id: str, alert_id: str, *, now: float) -> PriceDropAlert:
        alert = self.get(user_id, alert_id)
        if alert is None:
            raise NotFound("No such alert.")
        if alert.acked_at is None:
            try:
                alert.update(
                    actions=[PriceDropAlert.acked_at.set(now)],
                    condition=PriceDropAlert.acked_at.does_not_exist(),
                )
            except UpdateError as error:
                if not is_conditional_failure(error):
                    raise
                alert.refresh(consistent_read=True)  # acknowledged concurrently: same answer
        return alert

    def page(
        self, user_id: str, *, limit: int, cursor: str | None, unacked_only: bool
    ) -> tuple[list[PriceDropAlert], str | None]:
        """Newest first, `limit` a page; the filter runs in DynamoDB, so pages are read until full."""
        start_key = _decode_alert_cursor(cursor, user_id) if cursor is not None else None
        condition = PriceDropAlert.acked_at.does_not_exist() if unacked_only else None
        try:
            results = PriceDropAlert.newest_first.query(
                user_id,
                scan_index_forward=False,
                filter_condition=condition,
                last_evaluated_key=start_key,
                page_size=limit + 1,
            )
            found: list[PriceDropAlert] = []
            for alert in results:
                found.append(alert)
                if len(found) > limit:
                    break
        except QueryError as error:
            if start_key is not None and getattr(error, "cause_response_code", None) == "ValidationException":
                raise _invalid_cursor() from None
            raise
        page = found[:limit]
        next_cursor = _encode_alert_cursor(page[-1]) if len(found) > limit else None
        return page, next_cursor

    def unpublished_of_route(self, route_key: str) -> list[PriceDropAlert]:
        """The route's alerts whose event is not on the bus yet (the index is eventually consistent:
        an alert written a moment ago may be missing, which is why the worker adds those it made)."""
        return list(PriceDropAlert.unpublished.query(route_key))

    def mark_published(self, alerts: Sequence[tuple[str, str]]) -> None:
        """Take (user_id, alert_id) pairs out of the outbox; an alert deleted meanwhile stays deleted."""
        for user_id, alert_id in alerts:
            try:
                PriceDropAlert(user_id, alert_id).update(
                    actions=[PriceDropAlert.unpublished_route.remove()],
                    condition=PriceDropAlert.alert_id.exists(),
                )
            except UpdateError as error:
                if not is_conditional_failure(error):
                    raise

    def delete_all_of(self, user_id: str) -> None:
        with PriceDropAlert.batch_write() as batch:
            for alert in PriceDropAlert.query(user_id):
                batch.delete(alert)


def _encode_alert_cursor(last: PriceDropAlert) -> str:
    raw = json.dumps({"alert_id": last.alert_id, "listed_at": last.listed_at}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_alert_cursor(cursor: str, user_id: str) -> dict[str, Any]:
    if not cursor or len(cursor) > _MAX_CURSOR_CHARS:
        raise _invalid_cursor()
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
    except (binascii.Error, ValueError):
        raise _invalid_cursor() from None
    if not isinstance(key, dict) or set(key) != {"alert_id", "listed_at"}:
        raise _invalid_cursor()
    alert_id, listed = key["alert_id"], key["listed_at"]
    if not isinstance(alert_id, str) or not isinstance(listed, str) or not _ALERT_ID.fullmatch(alert_id):
        raise _invalid_cursor()
    if not listed.endswith(f"#{alert_id}") or len(listed) > 100:
        raise _invalid_cursor()
    return {"user_id": {"S": user_id}, "alert_id": {"S": alert_id}, "listed_at": {"S": listed}}


def _invalid_cursor() -> InvalidRequest:
    return InvalidRequest(
        "The cursor is not one this API issued; start again without it.",
        code="invalid_cursor",
        details=[{"field": "cursor", "issue": "not a cursor from a previous page"}],
    )
