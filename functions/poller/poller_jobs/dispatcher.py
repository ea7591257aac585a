"""Scheduled dispatcher: every PollSchedule tick, enqueues the due watched routes to the poll queue.

An event whose `detail.poll_now` is true (the local stack's `POST /__local/poll`) pulls the next
cycle forward: it enqueues every route due within the longest poll interval (a day), i.e. every
watched route.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch import composition, messaging
from farewatch.settings import get_settings
from farewatch.tracking.poll_policy import STEPS

LONGEST_INTERVAL = STEPS[-1]

logger = Logger()
metrics = Metrics()


def _poll_now(event: Any) -> bool:
    detail = event.get("detail") if isinstance(event, dict) else None
    return isinstance(detail, dict) and detail.get("poll_now") is True


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    settings = get_settings()
    ahead = max(settings.watched_route_poll_seconds, LONGEST_INTERVAL) if _poll_now(event) else 0
    report = composition.poll_dispatcher().dispatch(messaging.poll_queue(settings), ahead=ahead)
    metrics.add_metric(name="RoutesEnqueued", unit=MetricUnit.Count, value=report.routes_enqueued)
    metrics.add_metric(name="RoutesNotEnqueued", unit=MetricUnit.Count, value=len(report.failed_routes))
    return {"routes_enqueued": report.routes_enqueued, "batches": report.batches}
