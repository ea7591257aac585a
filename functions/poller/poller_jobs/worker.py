"""Poll-queue worker: refreshes each queued watched route and announces its new price-drop alerts.

Powertools' batch processor reports the records that failed in `batchItemFailures`, so SQS retries
only those (and moves them to the dead-letter queue after five receives). A route is started only
while `POLL_ROUTE_RESERVE_SECONDS` of the invocation remain (the Lambda context's clock): an
invocation that times out reports nothing, so its whole batch would come back, finished routes
included; instead the routes it cannot finish are handed back as failures without being started.
The response is exactly what the event source mapping reads: `{"batchItemFailures": [...]}`; what a
batch did is in its metrics (RoutesPolled, UpstreamCalls, AlertsCreated, RoutesHandedBack).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch import composition
from farewatch.settings import get_settings
from farewatch.tracking.poll_cycle import RouteWork, route_key_of

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


class RouteNotStarted(Exception):
    """Too little of the invocation is left to finish this route: SQS gives it to a later one."""


def poll_route(record: SQSRecord, lambda_context: LambdaContext) -> RouteWork:
    reserve_ms = get_settings().poll_route_reserve_seconds * 1000
    remaining_ms = lambda_context.get_remaining_time_in_millis()
    if remaining_ms < reserve_ms:
        raise RouteNotStarted(f"{remaining_ms} ms left of the invocation, {reserve_ms:.0f} ms needed")
    work = composition.poll_cycle().poll_route(route_key_of(record.body))
    metrics.add_metric(name="RoutesPolled", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="UpstreamCalls", unit=MetricUnit.Count, value=int(work.upstream_call))
    metrics.add_metric(name="AlertsCreated", unit=MetricUnit.Count, value=work.alerts_created)
    return work


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    try:
        with processor(records=event.get("Records") or [], handler=poll_route, lambda_context=context):
            processor.process()
    finally:
        composition.poll_cycle().flush_counts()  # the batch's searches, for GET /stats/poller
    handed_back = sum(1 for _, error, _ in processor.exceptions if isinstance(error, RouteNotStarted))
    if handed_back:
        logger.warning(
            "Routes handed back unstarted: the invocation ran short", extra={"routes": handed_back}
        )
        metrics.add_metric(name="RoutesHandedBack", unit=MetricUnit.Count, value=handed_back)
    return processor.response()
