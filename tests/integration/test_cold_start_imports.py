"""What a cold start does not load (issue 18): modules that a function's typical first request never
uses wait for the request that does. Each check is a fresh interpreter, as a Lambda cold start is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
