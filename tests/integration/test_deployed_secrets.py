"""A deployed stack's fare API credentials: template.yaml creates the AmadeusCredentials secret with a
placeholder, the functions answer 503 upstream_not_configured until the operator sets it with one
put-secret-value (README "Deploy to AWS"), and the next value is the one they use."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import amadeus_sim.app
from fare_sim.server import start
from tests.support.events import FakeLambdaContext, api_event


@pytest.fixture
def simulator() -> Iterator[Any]:
    server = start(amadeus_sim.app.Simulator(rate_limit_tps=0), port=0)
    yield server
    server.stop()


@pytest.fixture
def deployed_price_api(aws: None, simulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The price function as in AWS: credentials only in the secret, none in the environment."""
    from farewatch import composition as wiring  # issue 11 renamed farewatch.wiring
    from farewatch import settings

    monkeypatch.setenv("FAREWATCH_FARE_SOURCE", "amadeus")
    monkeypatch.setenv("AMADEUS_BASE_URL", simulator.url)
    monkeypatch.setenv("AMADEUS_SECRET_ID", "AmadeusCredentials")
    monkeypatch.delenv("AMADEUS_CLIENT_ID", raising=False)
    monkeypatch.delenv("AMADEUS_CLIENT_SECRET", raising=False)

    def clear() -> None:
        settings.get_settings.cache_clear()
        wiring.fare_service.cache_clear()
        wiring._secrets.cache_clear()  # what the 5-minute cache of a running function would hold

    clear()
    yield importlib.import_module("price_api.handler"), clear
    clear()


def price(handler: Any) -> tuple[int, dict[str, Any]]:
    date = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    event = api_event("GET", "/flights/price", {"origin": "JFK", "destination": "LAX", "date": date})
    response = handler.lambda_handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def put_secret_value(value: dict[str, str]) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId="AmadeusCredentials", SecretString=json.dumps(value)
    )


def test_the_placeholder_secret_answers_not_configured(deployed_price_api):
    handler, _ = deployed_price_api

    status, body = price(handler)

    assert (status, body["error"]["code"]) == (503, "upstream_not_configured")


def test_credentials_set_with_put_secret_value_are_used(deployed_price_api, simulator):
    handler, clear = deployed_price_api
    put_secret_value({"client_id": "farewatch-local", "client_secret": "farewatch-local-secret"})
    clear()

    status, body = price(handler)

    assert status == 200 and body["meta"]["source"] == "amadeus", body
