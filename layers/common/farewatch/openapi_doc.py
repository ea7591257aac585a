"""One OpenAPI document for the whole API, although its routes are served by several functions.

The price function serves it: its own resolver's schema merged with the users routes' schema (the
users routes are a Router in this package, so the price function can describe them without
serving them).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

TITLE = "Farewatch API"
VERSION = "1.0.0"
DESCRIPTION = "Cheapest fares from a shared cache, accounts, and price tracking with drop alerts."


def security_schemes() -> dict[str, Any]:
    return {"bearerAuth": HTTPBearer(bearerFormat="JWT", description="Access token from POST /auth/login.")}


@lru_cache(maxsize=1)
def merged_document(price_app: APIGatewayRestResolver) -> str:
    from farewatch.api import create_resolver
    from farewatch.tracking_routes import router as tracking_router
    from farewatch.users_routes import router as users_router

    users_app = create_resolver()
    for router in (users_router, tracking_router):
        # include_router points the router's request state at users_app. The router may be serving
        # requests in this process (the local stack runs every function in one), so point it back.
        serving_resolver = getattr(router, "api_resolver", None)
        try:
            users_app.include_router(router)
        finally:
            if serving_resolver is not None:
                router.api_resolver = serving_resolver
    merge = OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes=security_schemes(),
        on_conflict="error",
    )
    for app in (price_app, users_app):
        schema = app.get_openapi_schema(title=TITLE, version=VERSION, security_schemes=security_schemes())
        merge.add_schema(schema.model_dump(by_alias=True, exclude_none=True))
    return json.dumps(_as_answered(json.loads(merge.get_openapi_json_schema())))


# Powertools documents a 422 on every route when validation is on; our resolver answers validation
# errors as a 400 in the error envelope instead (farewatch.api), so the 422 and its schemas go.
_UNANSWERED_STATUS = "422"
_UNANSWERED_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _as_answered(document: dict[str, Any]) -> dict[str, Any]:
    """The merged document, describing the responses our routes really give."""
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


@lru_cache(maxsize=1)
def swagger_page(document: str) -> str:
    """Swagger UI over the merged document, with the UI's assets that Powertools bundles inlined."""
    from pathlib import Path

    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(generate_swagger_html.__code__.co_filename).parent
    script = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    # A spec that contains "</script>" must not end the page's script element early.
    return generate_swagger_html(document.replace("</", "<\\/"), script, style, "", None)
