"""Notifier: one SQS record per alert event, account mail, webhook retry or SES feedback.

Powertools' batch processor reports failed records in `batchItemFailures`, so SQS gives back only
those (the dead-letter queue takes one after five receives); each (alert, channel) is delivered once
through Powertools idempotency, so a record that comes back repeats only the channel that failed.
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

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def notify(record: SQSRecord) -> str:
    outcome = composition.notifier().handle(record.body, message_id=record.message_id)
    logger.info("Notified", extra={"outcome": outcome, "message_id": record.message_id})
    metrics.add_metric(name="NotificationsHandled", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    composition.powertools_once().config.register_lambda_context(context)
    with processor(records=event.get("Records") or [], handler=notify):
        processor.process()
    return processor.response()
