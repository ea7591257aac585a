"""Poll-queue worker: refreshes each queued watched route and announces its new price-drop alerts.

Powertools' batch processor reports the records that failed in `batchItemFailures`, so SQS retries
only those (and moves them to the dead-letter queue after three receives). The response also carries
the batch's totals under `polled`, read from the processor's own results, which the event source
mapping ignores and the local stack's `POST /__local/poll` adds up.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch import composition
from farewatch.tracking.poll_cycle import CycleSummary, RouteWork, route_key_of

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def poll_route(record: SQSRecord) -> RouteWork:
    work = composition.poll_cycle().poll_route(route_key_of(record.body))
    metrics.add_metric(name="RoutesPolled", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="UpstreamCalls", unit=MetricUnit.Count, value=int(work.upstream_call))
    metrics.add_metric(name="AlertsCreated", unit=MetricUnit.Count, value=work.alerts_created)
    return work


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with processor(records=event.get("Records") or [], handler=poll_route, lambda_context=context):
        outcomes = processor.process()
    done = [result for status, result, _ in outcomes if status == "success"]
    return {**processor.response(), "polled": CycleSummary.of(done).as_dict()}
