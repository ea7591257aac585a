"""Poll-queue worker: refreshes each queued watched route and announces its new price-drop alerts.

Powertools' batch processor reports the records that failed in `batchItemFailures`, so SQS retries
only those (and moves them to the dead-letter queue after three receives). The response also carries
the batch's totals under `polled`, which the event source mapping ignores and the local stack's
`POST /__local/poll` adds up.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch import messaging, poller
from farewatch.clock import SystemClock
from farewatch.settings import get_settings
from farewatch.tracking import poll as tracking

logger = Logger()
metrics = Metrics()
clock = SystemClock()
processor = BatchProcessor(event_type=EventType.SQS)
# The routes this invocation finished; process_partial_response keeps only the failures.
completed: list[poller.RouteWork] = []


def _refresh(route_key: str, now: float) -> poller.RefreshOutcome:
    return tracking.refresh_watched_route(route_key, now=now)


def poll_route(record: SQSRecord) -> poller.RouteWork:
    route_key = poller.route_key_of(record.body)
    settings = get_settings()
    work = poller.work_one(
        route_key,
        clock.now(),
        refresh=_refresh,
        publish=messaging.event_bus(settings).publish,
        mark_published=tracking.mark_published,
        event_bus=settings.event_bus_name,
    )
    metrics.add_metric(name="RoutesPolled", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="UpstreamCalls", unit=MetricUnit.Count, value=int(work.upstream_call))
    metrics.add_metric(name="AlertsCreated", unit=MetricUnit.Count, value=work.alerts_created)
    completed.append(work)
    return work


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    completed.clear()
    response = process_partial_response(
        event=event, record_handler=poll_route, processor=processor, context=context
    )
    return {**response, "polled": poller.CycleSummary.of(completed).as_dict()}
