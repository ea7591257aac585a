"""One OpenAPI document for the whole API, although its routes are served by several functions.

Each function describes only its own routes (its resolver). The document is merged from them at
build time with Powertools' OpenAPIMerge (`make openapi`, tools/openapi_document.py) and shipped with
the price function, which serves it: in AWS a function carries only its own code and the layer, so it
could not import the others' routes. A test fails when the shipped document is not what the routes
of today generate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

from farewatch.api.access import security_schemes

TITLE = "Farewatch API"
VERSION = "1.0.0"
DESCRIPTION = "Cheapest fares from a shared cache, accounts, and price tracking with drop alerts."

# Powertools documents a 422 on every route when validation is on; our resolver answers validation
# errors as a 400 in the error envelope instead (farewatch.api.resolver), so the 422 and its schemas go.
_UNANSWERED_STATUS = "422"
_UNANSWERED_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def merged_document(apps: Iterable[APIGatewayRestResolver]) -> dict[str, Any]:
    """The document of every function's resolver, merged, describing the responses really given."""
    merge = OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes=security_schemes(),
        on_conflict="error",
    )
    for app in apps:
        schema = app.get_openapi_schema(title=TITLE, version=VERSION, security_schemes=security_schemes())
        merge.add_schema(schema.model_dump(by_alias=True, exclude_none=True))
    return _as_answered(json.loads(merge.get_openapi_json_schema()))


def render_document(document: dict[str, Any]) -> str:
    """The document as it is stored: stable key order and indentation, so a diff shows what moved."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _as_answered(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            responses.pop(_UNANSWERED_STATUS, None)
            for status, response in responses.items():
                if status == "204":
                    response.pop("content", None)  # no body, whatever the route's return type
    schemas = document.get("components", {}).get("schemas", {})
    text = json.dumps(document.get("paths", {}))
    for name in _UNANSWERED_SCHEMAS:
        if f'"#/components/schemas/{name}"' not in text:
            schemas.pop(name, None)
    return document


@lru_cache(maxsize=4)
def stored_document(path: Path) -> str:
    """The shipped document, compact (read once per container)."""
    return json.dumps(json.loads(path.read_text(encoding="utf-8")), separators=(",", ":"))


@lru_cache(maxsize=4)
def swagger_page(document: str) -> str:
    """Swagger UI over the document, with the UI's assets that Powertools bundles inlined."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(generate_swagger_html.__code__.co_filename).parent
    script = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    # A spec that contains "</script>" must not end the page's script element early.
    return generate_swagger_html(document.replace("</", "<\\/"), script, style, "", None)
