"""What a cold start does not load (issue 18): modules that a function's typical first request never
uses wait for the request that does. Each check is a fresh interpreter, as a Lambda cold start is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(script: str, modules: list[str], *, code_uri: str) -> dict[str, bool]:
    probe = f"{script}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {modules!r}}}))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={
            "PYTHONPATH": f"{ROOT / code_uri}:{ROOT / 'layers' / 'common'}",
            "TOKEN_PREFETCH": "false",  # importing a handler must not call a fare API here
            "AWS_DEFAULT_REGION": "us-east-1",
        },
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_given_a_fresh_users_function_when_its_handler_is_imported_then_mail_and_webhook_libraries_wait():
    loaded = _loaded_after(
        "import users_api.handler",
        [
            "email_validator",
            "requests",
            "standardwebhooks",
            "aws_lambda_powertools.event_handler.openapi.models",
        ],
        code_uri="functions/users",
    )

    assert loaded == dict.fromkeys(loaded, False)


def test_given_a_fresh_price_function_when_its_handler_is_imported_then_openapi_models_wait():
    loaded = _loaded_after(
        "import price_api.handler",
        ["aws_lambda_powertools.event_handler.openapi.models"],
        code_uri="functions/price",
    )

    assert loaded == dict.fromkeys(loaded, False)


def test_given_the_amadeus_source_when_it_is_built_then_the_other_sources_are_not_imported():
    loaded = _loaded_after(
        "from farewatch import composition\n"
        "from farewatch.clock import SystemClock\n"
        "from farewatch.settings import get_settings\n"
        "source = composition.build_fare_source(get_settings(), SystemClock())\n"
        "assert source.name == 'amadeus', source.name",
        ["farewatch.fares.amadeus", "farewatch.fares.duffel", "farewatch.fares.ignav"],
        code_uri="functions/price",
    )

    assert loaded == {
        "farewatch.fares.amadeus": True,
        "farewatch.fares.duffel": False,
        "farewatch.fares.ignav": False,
    }


# The worker's side of the poll cycle: its fare service (sources, cache, memory tier), booking links
# and the cycle itself. The dispatcher lists due routes and enqueues them: it needs none of these.
WORKER_SIDE = [
    "farewatch.tracking.poll_cycle",
    "farewatch.tracking.service",
    "farewatch.pricing",
    "farewatch.fare_memory",
    "farewatch.fares",
    "farewatch.fares.amadeus",
    "farewatch.booking",
    "farewatch.insight",
]


_DISPATCHER_TICK = """
import json, sys
import poller_jobs.dispatcher as dispatcher
worker_side = json.loads(sys.argv[1])
at_init = {name: name in sys.modules for name in worker_side}

import boto3
from moto import mock_aws
from farewatch_local.aws import provision
from farewatch_local.template import load_template
from tests.support.events import FakeLambdaContext

with mock_aws():
    provision(load_template(sys.argv[2]), endpoint_url=None)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="PollQueue")["QueueUrl"]
    from farewatch.store.tracking import ROUTE_SHARD, WatchedRoute

    route = "JFK#LAX#2099-01-10#1#USD"
    WatchedRoute(route, active_count=1, shard=ROUTE_SHARD, next_poll_at=0).save()
    answer = dispatcher.lambda_handler({"detail-type": "Scheduled Event"}, FakeLambdaContext())
    assert answer == {"routes_enqueued": 1, "batches": 1}, answer
    sent = sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]
    assert json.loads(sent) == {"route_key": route}, sent
after_tick = {name: name in sys.modules for name in worker_side}
print("PROBE", json.dumps({"at_init": at_init, "after_tick": after_tick}))
"""


def test_given_a_fresh_dispatcher_when_it_starts_and_handles_a_tick_then_the_worker_side_is_never_loaded():
    paths = [ROOT, ROOT / "functions" / "poller", ROOT / "layers" / "common", ROOT / "local"]
    result = subprocess.run(
        [sys.executable, "-c", _DISPATCHER_TICK, json.dumps(WORKER_SIDE), str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={
            **TEST_ENVIRONMENT,
            "PYTHONPATH": ":".join(str(path) for path in paths),
            "POLL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/PollQueue",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    probe = next(line for line in result.stdout.splitlines() if line.startswith("PROBE "))
    loaded = json.loads(probe.removeprefix("PROBE "))

    assert loaded["at_init"] == dict.fromkeys(WORKER_SIDE, False)
    assert loaded["after_tick"] == dict.fromkeys(WORKER_SIDE, False)
