"""The local stack plays the operator after a deploy: template.yaml creates the fare API's secret with a
placeholder, and `make dev` puts the local credentials in, so functions that read only the secret (as
under `sam local start-api --env-vars env.json`) can search."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import boto3
import pytest
import requests
from werkzeug.wrappers import Request, Response

from fare_sim.server import start as serve
from farewatch_local.stack import LocalStack, StackConfig


def stub_fare_api(source: str, host: str, port: int, arguments: Any) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(json.dumps({"path": Request(environ).path}))(environ, start_response)

    return serve(app, host, port, service="the stub fare API")


def stack_secret(stack: LocalStack, logical_id: str) -> dict[str, str]:
    secretsmanager = boto3.client(
        "secretsmanager",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="farewatch-local",
        aws_secret_access_key="farewatch-local",
    )
    return json.loads(secretsmanager.get_secret_value(SecretId=logical_id)["SecretString"])


@pytest.fixture
def started() -> Iterator[Any]:
    with ExitStack() as running:

        def start(**config: Any) -> LocalStack:
            stack = running.enter_context(
                LocalStack(
                    StackConfig(api_port=0, simulator_port=0, aws_port=0, warm_up=False, **config),
                    start_simulator=stub_fare_api,
                )
            )
            # The embedded AWS is one per process: leave no resource behind for the next stack.
            running.callback(requests.post, f"{stack.aws_url}/moto-api/reset", timeout=10)
            return stack

        yield start


def test_the_amadeus_secret_holds_the_local_credentials(started):
    stack = started(
        credentials={"client_id": "local-id", "client_secret": "local-secret"},
        exported={"FAREWATCH_POLL_INTERVAL_SECONDS": "0"},
    )

    assert stack_secret(stack, "AmadeusCredentials") == {
        "client_id": "local-id",
        "client_secret": "local-secret",
    }
    assert stack_secret(stack, "DuffelCredentials") == {"access_token": ""}


def test_the_duffel_secret_holds_the_local_token_when_duffel_answers(started):
    stack = started(
        fare_source="duffel",
        credentials={"access_token": "duffel_test_local"},
        exported={"FAREWATCH_POLL_INTERVAL_SECONDS": "0"},
    )

    assert stack_secret(stack, "DuffelCredentials") == {"access_token": "duffel_test_local"}
