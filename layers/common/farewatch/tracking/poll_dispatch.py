"""The dispatcher's side of a poll cycle (SPEC §4): which watched routes are due, and their poll-queue
messages, ten per SendMessageBatch.

`PollDispatcher` needs only the tracking store, the clock and the daily search budget: the scheduled
dispatcher builds it without the worker's fare service, event bus or booking links (issue 18: its cold
start pays for none of them). The worker's side is farewatch.tracking.poll_cycle, whose `PollCycle`
carries a dispatcher of its own, so an in-process cycle (tests, the bench) runs both sides.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools import Logger

from farewatch.clock import Clock, ManualClock, utc_datetime
from farewatch.fare_query import FareQuery
from farewatch.tracking import poll_policy
from farewatch.tracking.poll_policy import is_departed

if TYPE_CHECKING:
    from farewatch.store.tracking import TrackingStore

logger = Logger(child=True)

# SQS SendMessageBatch takes at most 10 entries per call.
SQS_BATCH_LIMIT = 10


@dataclass(frozen=True)
class QueueEntry:
    """One SendMessageBatch entry: `entry_id` is unique within its batch, `body` names the route."""

    entry_id: str
    route_key: str

    @property
    def body(self) -> str:
        return json.dumps({"route_key": self.route_key})


def route_key_of(body: str) -> str:
    """The route key carried by a poll-queue message body (what QueueEntry.body writes)."""
    document = json.loads(body)
    route_key = document.get("route_key") if isinstance(document, dict) else None
    if not isinstance(route_key, str) or not route_key:
        raise ValueError("poll message has no route_key")
    return route_key


def query_of_route_key(route_key: str) -> FareQuery:
    """The trip a watched-route key stands for (`JFK#LAX#2026-12-01#1#USD[#return=…][#cabin=…][#stops=…]`)."""
    return FareQuery.from_key(route_key)


class PollBudget(Protocol):
    def take(self, day: date, *, limit: int) -> bool: ...

    def count(self, day: date, searches: int) -> None: ...

    def used(self, day: date) -> int: ...


class PollQueue(Protocol):
    def send_batch(self, entries: Sequence[QueueEntry]) -> list[str]:
        """Send up to 10 entries; answer the entry ids the queue did not accept."""


@dataclass(frozen=True)
class DispatchReport:
    routes_enqueued: int
    batches: int
    failed_routes: tuple[str, ...] = ()


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class PollDispatcher:
    def __init__(
        self,
        *,
        trackers: TrackingStore,
        clock: Clock,
        daily_search_budget: int = 0,
        budget: PollBudget | None = None,
    ) -> None:
        self._trackers = trackers
        self._clock = clock
        self._budget_limit = daily_search_budget
        self._budget = budget

    def due_routes(self, *, ahead: float = 0.0, limit: int | None = None) -> Iterator[str]:
        """Keys of watched routes to poll by now + `ahead`: tracked, not departed, oldest due first.

        Listing a route does not claim it (its refresh moves `next_poll_at` on); the one write is
        taking a departed route out of the due index.
        """
        at = self._clock.now() + ahead
        that_day = ManualClock(at)
        listed = 0
        for route_key in self._trackers.due_routes(at):
            if limit is not None and listed >= limit:
                return
            if is_departed(query_of_route_key(route_key), that_day):
                self._trackers.unschedule(route_key)  # its trackers are expired: never poll it again
                continue
            listed += 1
            yield route_key

    def dispatch(self, queue: PollQueue, *, ahead: float = 0.0) -> DispatchReport:
        """Enqueue every due watched route, ten per SendMessageBatch.

        Entries a batch rejects are retried once in their own call; what still fails is logged and left
        for the next scheduled cycle (the route stays due, so nothing is lost for long).
        """
        enqueued, batches, failed = 0, 0, []
        for chunk in _chunks(self._routes_to_dispatch(ahead), SQS_BATCH_LIMIT):
            entries = [QueueEntry(str(index), route_key) for index, route_key in enumerate(chunk)]
            batches += 1
            rejected = set(queue.send_batch(entries))
            if rejected:
                rejected = set(queue.send_batch([entry for entry in entries if entry.entry_id in rejected]))
            lost = [entry.route_key for entry in entries if entry.entry_id in rejected]
            if lost:
                logger.error(
                    "Poll queue rejected routes twice; they wait for the next cycle", extra={"routes": lost}
                )
            failed.extend(lost)
            enqueued += len(entries) - len(lost)
        return DispatchReport(routes_enqueued=enqueued, batches=batches, failed_routes=tuple(failed))

    def _routes_to_dispatch(self, ahead: float) -> Iterator[str]:
        """The due routes; when a daily search budget is set and binds, only the most valuable ones
        it has room for (`poll_policy.choose`); the others stay due for a later cycle."""
        if not self._budget_limit or self._budget is None:
            yield from self.due_routes(ahead=ahead)
            return
        due = set(self.due_routes(ahead=ahead))
        now = self._clock.now()
        today = utc_datetime(now).date()
        remaining = max(0, self._budget_limit - self._budget.used(today))
        candidates = [
            route for route in self._trackers.scheduled_routes(due_by=now + ahead) if route.route_key in due
        ]
        chosen = poll_policy.choose(candidates, remaining=remaining, now=now, today=today)
        if len(chosen) < len(candidates):
            logger.info(
                "The daily search budget binds: serving the most valuable due routes",
                extra={"due": len(candidates), "served": len(chosen), "budget_left": remaining},
            )
        yield from (route.route_key for route in chosen)
