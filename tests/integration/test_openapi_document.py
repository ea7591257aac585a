"""The one OpenAPI document: generated from every function's routes, shipped with the price function,
and served by it with nothing but its own code and the layer on its path (as in AWS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tools.openapi_document import DOCUMENT, api_functions, generate

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_document_is_what_the_routes_generate_today() -> None:
    # Given the routes as they are in the code, When the document is generated,
    # Then it is the one the price function ships (else: run `make openapi`)
    assert DOCUMENT.read_text(encoding="utf-8") == generate()


def test_every_api_function_of_the_template_contributes_its_routes() -> None:
    modules = [module for _, module in api_functions()]
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))

    assert modules == ["price_api.handler", "users_api.handler", "web_site.handler"]
    assert {"/flights/price", "/auth/login", "/tracked-flights/{id}", "/stats/routes"} <= set(
        document["paths"]
    )
    # The web app's pages and files are no API operations: WebFunction contributes none.
    assert not {"/", "/trackers/{tracker_id}", "/inbox", "/assets/{name}"} & set(document["paths"])


def test_every_query_and_path_parameter_has_a_type() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    untyped = [
        (path, method, parameter["name"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if "type" not in parameter["schema"] and "anyOf" not in parameter["schema"]
    ]

    assert untyped == []
    limit = next(
        parameter
        for parameter in document["paths"]["/flights/search"]["get"]["parameters"]
        if parameter["name"] == "limit"
    )
    # An empty value counts as absent (README), and the document says so.
    number, empty = limit["schema"]["anyOf"]
    assert (number["type"], number["minimum"], number["maximum"]) == ("integer", 1, 50)
    assert empty == {"type": "string", "maxLength": 0}


def test_the_price_function_serves_the_document_with_only_its_own_code_and_the_layer() -> None:
    # Given a process that sees what the price function sees in AWS: its CodeUri and the layer
    script = (
        "import json, price_api.handler as h;"
        "from tests.support.events import FakeLambdaContext, api_event;"
        "r = h.lambda_handler(api_event('GET', '/openapi.json'), FakeLambdaContext());"
        "import sys; paths = json.loads(r['body'])['paths'];"
        "print(r['statusCode'], '/airports' in paths, '/auth/login' in paths, 'users_api' in sys.modules)"
    )
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "layers" / "common"), str(ROOT / "functions" / "price"), str(ROOT)]
        ),
        "TOKEN_PREFETCH": "false",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }

    # When it is asked for /openapi.json
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=ROOT, timeout=60
    )

    # Then it answers the whole API's document without importing the users function
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["200", "True", "True", "False"]
