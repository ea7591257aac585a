"""Bench: one poll cycle over 10,000 trackers on 1,000 watched routes (moto + the Amadeus simulator).

Seeds the trackers with the tracking store's models (ten per route, ten per user), makes half the routes'
cache entries stale, then runs the real dispatcher logic into an SQS queue on moto and the real worker
step on every queued route. Reports upstream calls (goal: one per stale route, none for fresh ones),
DynamoDB calls per route, and the wall time the cycle would take under Amadeus's 10 TPS with the
worker's concurrency cap.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

UPSTREAM_TPS = 10
TARGET_ROUTES = 1000  # the scale: 10,000 trackers on 1,000 watched routes
LOWERED_PRICE = 10.0  # below anything the simulator quotes: every stale route's price drops
WORKER_CONCURRENCY = 2  # PollWorkerFunction's ReservedConcurrentExecutions / MaximumConcurrency


def _route_queries(count: int) -> list[Any]:
    from farewatch.fare_query import FareQuery

    pairs = [("JFK", "LAX"), ("LHR", "CDG"), ("SFO", "NRT"), ("ORD", "MIA"), ("BOS", "SEA")]
    pairs += [(destination, origin) for origin, destination in pairs]
    today = dt.date.today()
    return [
        FareQuery(
            origin=pairs[index % len(pairs)][0],
            destination=pairs[index % len(pairs)][1],
            departure_date=today + dt.timedelta(days=150 + index // len(pairs)),
        )
        for index in range(count)
    ]


def seed_trackers(queries: list[Any], per_route: int) -> None:
    """Ten trackers per route and the route's watched-route item, written with the tracking store's
    models in batches: what creating them through the API leaves behind, minus 10,000 transactions
    (moto copies every table on each TransactWriteItems, so that path does not scale in-process).
    The current price comes through the shared fare cache, as the API's create does."""
    import uuid

    from aws_lambda_powertools import Metrics

    from farewatch.composition import fare_service
    from farewatch.settings import get_settings
    from farewatch.store.tracking import ROUTE_SHARD, TRACKER_PREFIX, TrackerRecord, WatchedRoute

    now = time.time()
    next_poll_at = now + get_settings().watched_route_poll_seconds
    with TrackerRecord.batch_write() as trackers, WatchedRoute.batch_write() as routes:
        for index, query in enumerate(queries):
            result = fare_service().fares(query)
            Metrics().clear_metrics()  # as each Lambda invocation's flush would; see the worker loop
            price = str(result.cheapest.price) if result.cheapest is not None else None
            date = query.departure_date.isoformat()
            fields = {
                "origin": query.origin,
                "destination": query.destination,
                "departure_date": date,
                "adults": query.adults,
                "currency": query.currency,
            }
            for tracker in range(per_route):
                trackers.save(
                    TrackerRecord(
                        f"bench-user-{(index * per_route + tracker) // 10}",
                        f"{TRACKER_PREFIX}{uuid.uuid4().hex}",
                        route_key=query.cache_key,
                        target_price=None,
                        notify_on_any_drop=True,
                        current_price=price,
                        lowest_price=price,
                        last_checked_at=result.fetched_at,
                        created_at=now,
                        updated_at=now,
                        version=1,
                        **fields,
                    )
                )
            routes.save(
                WatchedRoute(
                    query.cache_key,
                    active_count=per_route,
                    shard=ROUTE_SHARD,
                    next_poll_at=next_poll_at,
                    outbox_kept=True,  # as a create that makes the route leaves it (issue 18)
                    **fields,
                )
            )


def _skip_moto_transaction_snapshots() -> None:
    import copy

    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models.table import Table

    class _NoTableSnapshots:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    dynamodb_models.copy = _NoTableSnapshots  # type: ignore[assignment]


def poll_cycle(simulator: Any) -> dict[str, float]:
    import boto3
    from aws_lambda_powertools import Metrics

    from bench.dynamo_calls import DynamoCallCounter
    from farewatch import composition
    from farewatch.clock import ManualClock
    from farewatch.messaging import EventBus, PollQueue
    from farewatch.settings import get_settings
    from farewatch.store.models import FareCacheEntry
    from farewatch.store.poll_budget import PollBudgetStore
    from farewatch.store.tracking import AlertStore, TrackingStore
    from farewatch.tracking.poll_cycle import CycleSummary, PollCycle, route_key_of

    # Every tracker check is a TransactWriteItems, and moto snapshots each table a transaction
    # touches (a deep copy, to roll back on failure): quadratic at 10,000 trackers. The bench's
    # transactions do not fail, so the snapshot is skipped; what DynamoDB is asked is unchanged.
    _skip_moto_transaction_snapshots()
    routes = int(os.environ.get("BENCH_POLL_ROUTES", "1000"))
    per_route = int(os.environ.get("BENCH_POLL_TRACKERS_PER_ROUTE", "10"))
    queries = _route_queries(routes)
    seeding_started = time.perf_counter()
    seed_trackers(queries, per_route)
    seeding_seconds = time.perf_counter() - seeding_started

    # Half the routes' cache entries expire. On one stale route in ten the price also falls, so each
    # of its trackers (any-drop) raises an alert: few enough, as moto copies every table on each
    # alert's TransactWriteItems.
    stale = [query.cache_key for query in queries[::2]]
    for index, query in enumerate(queries[::2]):
        FareCacheEntry(f"fares#{query.cache_key}").delete()
        if index % 10 == 0:
            simulator.pin_price(query.origin, query.destination, query.departure_date, LOWERED_PRICE)

    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="bench-poll")["QueueUrl"]
    counter = DynamoCallCounter()
    published: list[dict[str, Any]] = []
    before = simulator.stats()

    class RecordingEvents:  # EventBridge's PutEvents, kept in a list
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            published.extend(Entries)
            return {"FailedEntryCount": 0, "Entries": []}

    poll_interval = get_settings().watched_route_poll_seconds
    # The seeding's search counts are written now, not by a batch flush in the middle of the poll.
    composition._run_shutdown_flushes()
    # The cycle's time starts now and moves only when the poller waits (its pacing): a fleet of workers
    # polls 1,000 routes in about 90 s, while this one in-process thread on moto takes far longer than the
    # 600 s a seeded entry stays fresh, and would find the fresh half stale by the end.
    clock = ManualClock(start=time.time())
    # The poller's own fare service, as composition.poll_cycle builds it: no memory tier.
    poller_fares = composition.build_fare_service(get_settings(), clock, memory_tier=False)
    cycle = PollCycle(
        trackers=TrackingStore(),
        alerts=AlertStore(),
        fares=poller_fares,
        insight=poller_fares.insight,
        daily_search_budget=get_settings().poll_daily_search_budget,
        budget=PollBudgetStore(),
        events=EventBus(RecordingEvents()),
        clock=clock,
        poll_interval_seconds=poll_interval,
    )

    with counter.installed():
        # Everything scheduled within one poll interval: every watched route (what POST /__local/poll does).
        report = cycle.dispatch(PollQueue(queue_url, sqs), ahead=poll_interval)
        dispatch_calls = counter.total
        counter.reset()
        worker_started = time.perf_counter()
        works = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                works.append(cycle.poll_route(route_key_of(message["Body"])))
            cycle.flush_counts()  # as the worker does at the end of each invocation
            # A Lambda invocation flushes its metrics when it ends; here nothing does, and Powertools
            # prints a full set (100 values) even with metrics disabled, so each batch drops its own.
            Metrics().clear_metrics()
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        worker_seconds = time.perf_counter() - worker_started
        worker_calls = dict(counter.calls)

    searches = simulator.stats()["search_requests"] - before["search_requests"]
    summary = CycleSummary.of(works)
    polled = max(summary.routes_polled, 1)
    rate_bound = summary.upstream_calls / UPSTREAM_TPS
    compute_bound = worker_seconds / WORKER_CONCURRENCY
    print(f"6) Poll cycle: {routes * per_route} trackers on {routes} watched routes, {len(stale)} stale")
    print(f"   seeding (batch writes, in-process moto): {seeding_seconds:.1f} s")
    print(
        f"   dispatcher: {report.routes_enqueued} routes in {report.batches} SQS batches, "
        f"{dispatch_calls} DynamoDB calls"
    )
    print(
        f"   routes polled: {summary.routes_polled}   alerts: {summary.alerts_created} "
        f"(events published: {len(published)})"
    )
    print(
        f"   upstream searches: {searches} (worker-reported upstream calls: {summary.upstream_calls}; "
        f"goal: {len(stale)} stale, 0 for the {routes - len(stale)} fresh)"
    )
    print(f"   DynamoDB calls per route (worker): {sum(worker_calls.values()) / polled:.1f}  {worker_calls}")
    print(f"   worker time, one thread here: {worker_seconds:.1f} s")
    if routes != TARGET_ROUTES:
        print(
            f"   scaled to {TARGET_ROUTES * per_route} trackers on {TARGET_ROUTES} routes: "
            f"{summary.upstream_calls / polled * TARGET_ROUTES:.0f} upstream calls, wall time "
            f"max({summary.upstream_calls / polled * TARGET_ROUTES / UPSTREAM_TPS:.0f} s rate bound, "
            f"{worker_seconds / polled * TARGET_ROUTES / WORKER_CONCURRENCY:.0f} s compute bound)"
        )
    print(
        f"   simulated wall time at {UPSTREAM_TPS} TPS with {WORKER_CONCURRENCY} workers: "
        f"{max(rate_bound, compute_bound):.0f} s (rate bound {rate_bound:.0f} s, "
        f"compute bound {compute_bound:.0f} s, in-process moto)\n"
    )
    return {
        "poll_dynamodb_calls_per_route": round(sum(worker_calls.values()) / polled, 2),
        "poll_dispatch_dynamodb_calls": dispatch_calls,
        "poll_routes_polled": summary.routes_polled,
        "poll_alerts_created": summary.alerts_created,
        "poll_events_published": len(published),
        "poll_upstream_searches": searches,
    }
