"""The poller's entry points into tracking: which watched routes are due, and one route's refresh.

Contract for the poller (dispatcher + worker):
- `due_routes(now, limit=None) -> Iterator[str]` yields watched-route keys
  (`JFK#LAX#2026-12-01#1#USD`, the FareQuery.cache_key) with at least one tracker, a departure date
  not before today at the origin, and `next_poll_at <= now`, oldest due first, at most `limit`.
  Listing a route does not claim it (the refresh below moves its `next_poll_at` on); the one write
  is taking a departed route out of the due index (UpdateItem on WatchedRoutesTable).
- `refresh_watched_route(route_key, *, now) -> RouteRefresh(upstream_call, alerts, unpublished)` gets
  the route's fares through the shared cache (`FareService.fares(query, count_search=False)`: a fresh
  entry means no upstream call), evaluates every active tracker of the route, writes alerts
  idempotently and schedules the next poll. A route that is gone, unwatched or departed makes no
  upstream call and creates nothing. Upstream failures raise farewatch.errors.UpstreamError (the
  worker reports the record as failed and SQS redelivers it); a redelivery never duplicates an alert.
  `alerts` are only the alerts created by this call; `unpublished` are every alert of the route still
  in the outbox (these and any left by an earlier attempt): publish one PriceDropDetected event each,
  then `mark_published` them.
- `evaluate_route(route_key, observation, now) -> RouteEvaluation`: the evaluation step alone, for a
  caller that already holds a price (PricePoint(amount, currency, fetched_at)).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from farewatch import composition
from farewatch.clock import ManualClock
from farewatch.store.tracking import AlertStore, TrackingStore
from farewatch.tracking.service import Alert, PricePoint, RouteEvaluation, is_departed, query_of_route_key


@dataclass(frozen=True)
class RouteRefresh:
    upstream_call: bool
    alerts: list[Alert] = field(default_factory=list)
    unpublished: list[Alert] = field(default_factory=list)


def due_routes(now: float, limit: int | None = None) -> Iterator[str]:
    """Keys of watched routes to poll now: tracked, not departed, next_poll_at <= now (see above)."""
    store = TrackingStore()
    today_clock = ManualClock(now)
    listed = 0
    for route in store.due_routes(now):
        if limit is not None and listed >= limit:
            return
        if is_departed(query_of_route_key(route.route_key), today_clock):
            store.unschedule(route.route_key)  # departed: its trackers are expired, never poll it again
            continue
        listed += 1
        yield route.route_key


def refresh_watched_route(route_key: str, *, now: float) -> RouteRefresh:
    """Fares through the shared cache, every tracker of the route evaluated, the next poll scheduled."""
    service = composition.tracking_service()
    store = TrackingStore()
    # Read first: alerts an earlier attempt wrote but could not announce, whatever happens below.
    waiting = [Alert.of(item) for item in AlertStore().unpublished_of_route(route_key)]
    route = store.watched_route(route_key)
    if route is None or int(route.active_count or 0) <= 0:
        return RouteRefresh(upstream_call=False, unpublished=waiting)
    query = query_of_route_key(route_key)
    if is_departed(query, ManualClock(now)):
        store.unschedule(route_key)
        return RouteRefresh(upstream_call=False, unpublished=waiting)
    result = service.fares.fares(query, count_search=False)
    upstream_call = not result.cached
    offer = result.cheapest
    alerts: list[Alert] = []
    if offer is not None:
        evaluation = service.evaluate_route(
            route_key, PricePoint(offer.price, offer.currency, result.fetched_at), now
        )
        alerts = evaluation.alerts
    store.schedule(route_key, now + service.poll_interval_seconds)
    known = {alert.id for alert in waiting}
    return RouteRefresh(
        upstream_call=upstream_call,
        alerts=alerts,
        unpublished=waiting + [alert for alert in alerts if alert.id not in known],
    )


def mark_published(alerts: Sequence[Alert]) -> None:
    """Take alerts out of the outbox once their PriceDropDetected events are on the bus."""
    AlertStore().mark_published([(alert.user_id, alert.id) for alert in alerts])


def evaluate_route(route_key: str, observation: PricePoint, now: float) -> RouteEvaluation:
    """Rules applied to every tracker of the route; idempotent per observation (see TrackingService)."""
    return composition.tracking_service().evaluate_route(route_key, observation, now)
