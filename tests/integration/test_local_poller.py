"""The local stack's poller: Schedule events, SQS deliveries with Lambda's batch semantics, and
POST /__local/poll, on a small template of its own (a dispatcher and a worker that fails on "bad")."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from werkzeug.wrappers import Request, Response

from fare_sim.server import start
from farewatch_local.stack import LocalStack, StackConfig

JOBS_HANDLER = '''
"""A dispatcher that enqueues five jobs on each Scheduled Event, and a worker failing on "bad"."""
import json
import os

import boto3

BODIES = ["r1", "r2", "r3", "r4", "bad"]


def dispatch(event, context):
    assert event["detail-type"] == "Scheduled Event"
    sqs = boto3.client("sqs")
    for body in BODIES:
        sqs.send_message(QueueUrl=os.environ["JOBS_QUEUE"], MessageBody=body)
    return {"sent": len(BODIES)}


def work(event, context):
    records = event["Records"]
    with open(os.environ["BATCH_LOG"], "a") as log:
        log.write(json.dumps([record["body"] for record in records]) + "\\n")
    drops = [
        {"Source": "farewatch", "DetailType": "PriceDropDetected", "Detail": json.dumps({"id": r["body"]})}
        for r in records
        if r["body"] == "r1"
    ]
    if drops:
        boto3.client("events").put_events(Entries=drops)
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["body"] == "bad"]}
'''

TEMPLATE = """
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {{StageName: local}}
  DispatchFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: jobs/
      Handler: local_poll_jobs.handler.dispatch
      Environment:
        Variables:
          JOBS_QUEUE: !Ref JobsQueue
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(30 minutes)
  WorkFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: jobs/
      Handler: local_poll_jobs.handler.work
      Environment:
        Variables:
          BATCH_LOG: "{batch_log}"
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt JobsQueue.Arn
            BatchSize: 3
            FunctionResponseTypes: [ReportBatchItemFailures]
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 300
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDeadLetterQueue.Arn
        maxReceiveCount: 2
  JobsDeadLetterQueue:
    Type: AWS::SQS::Queue
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    package = tmp_path / "jobs" / "local_poll_jobs"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(JOBS_HANDLER)
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(batch_log=tmp_path / "batches.log"))
    return tmp_path


def stub_simulator(source: str, host: str, port: int, arguments: Any) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(json.dumps({"path": Request(environ).path}))(environ, start_response)

    return start(app, host, port, service="the stub simulator")


@pytest.fixture
def running(project: Path) -> Iterator[LocalStack]:
    config = StackConfig(
        api_port=0,
        simulator_port=0,
        aws_port=0,
        template_path=project / "template.yaml",
        warm_up=False,
        # A failed message stays invisible for the rest of the cycle however slow the machine is (the
        # redelivery after the visibility timeout has its own test below, with 1 s).
        exported={"FAREWATCH_POLL_INTERVAL_SECONDS": "0", "FAREWATCH_SQS_VISIBILITY_SECONDS": "60"},
    )
    with LocalStack(config, start_simulator=stub_simulator) as stack:
        yield stack
        # The embedded AWS is one per process: leave no queue behind for the next stack.
        requests.post(f"{stack.aws_url}/moto-api/reset", timeout=10)


def queue_depth(stack: LocalStack, name: str) -> tuple[int, int]:
    sqs = boto3.client("sqs", endpoint_url=stack.aws_url, region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(found["ApproximateNumberOfMessages"]), int(found["ApproximateNumberOfMessagesNotVisible"])


def batches(project: Path) -> list[list[str]]:
    log = project / "batches.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_local_poll_runs_one_cycle_and_answers_the_workers_totals(running: LocalStack, project: Path) -> None:
    answer = requests.post(f"{running.api_url}/__local/poll", timeout=30)

    assert answer.status_code == 200
    # The four that succeeded; no fare API was asked; r1 announced one price drop on the bus.
    assert answer.json() == {"data": {"routes_polled": 4, "upstream_calls": 0, "alerts_created": 1}}
    delivered = batches(project)
    assert all(len(batch) <= 3 for batch in delivered)  # BatchSize from the template
    assert sorted(body for batch in delivered for body in batch) == ["bad", "r1", "r2", "r3", "r4"]
    assert queue_depth(running, "JobsQueue") == (0, 1)  # only the failed message, in flight


def test_a_failed_message_comes_back_then_lands_in_the_dead_letter_queue(project: Path) -> None:
    config = StackConfig(
        api_port=0,
        simulator_port=0,
        aws_port=0,
        template_path=project / "template.yaml",
        warm_up=False,
        # No tick during the test: only the retry checks between ticks deliver.
        exported={"FAREWATCH_POLL_INTERVAL_SECONDS": "3600", "FAREWATCH_SQS_VISIBILITY_SECONDS": "1"},
    )
    with LocalStack(config, start_simulator=stub_simulator) as stack:
        sqs = boto3.client("sqs", endpoint_url=stack.aws_url, region_name="us-east-1")
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="JobsQueue")["QueueUrl"], MessageBody="bad")
        deadline = time.monotonic() + 20
        while queue_depth(stack, "JobsDeadLetterQueue")[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.3)
        depths = queue_depth(stack, "JobsDeadLetterQueue"), queue_depth(stack, "JobsQueue")
        requests.post(f"{stack.aws_url}/moto-api/reset", timeout=10)

    assert depths == ((1, 0), (0, 0))
    assert batches(project) == [["bad"], ["bad"]]  # received twice (maxReceiveCount 2), then moved


def test_the_banner_names_the_local_interval_and_the_poll_route(running: LocalStack) -> None:
    banner = running.banner()

    assert "DispatchFunction only on POST /__local/poll" in banner
    assert "JobsQueue -> WorkFunction (batches of 3, up to 2 at a time)" in banner


def test_the_schedule_fires_the_dispatcher_on_the_local_interval(project: Path) -> None:
    config = StackConfig(
        api_port=0,
        simulator_port=0,
        aws_port=0,
        template_path=project / "template.yaml",
        warm_up=False,
        exported={"FAREWATCH_POLL_INTERVAL_SECONDS": "1"},
    )
    lines: list[str] = []
    with LocalStack(config, start_simulator=stub_simulator) as stack:
        stack._poller._announce = lines.append  # type: ignore[union-attr]
        deadline = time.monotonic() + 15
        while (
            not any(line.startswith("poll cycle (schedule)") for line in lines)
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        banner = stack.banner()
        requests.post(f"{stack.aws_url}/moto-api/reset", timeout=10)

    assert "DispatchFunction every 1 s locally" in banner
    assert sorted(body for batch in batches(project) for body in batch)[:1] == ["bad"]
    assert any(
        line.startswith("poll cycle (schedule): 4 routes polled, 0 upstream calls, 1 alerts")
        for line in lines
    )
