"""HTTP plumbing shared by every function: the resolver, the success envelope and the one error mapping.

Domain errors are raised deep in the logic and become `{"error": {code, message, details}}` here,
as do Powertools' own validation errors and unknown routes. No traceback ever reaches a response.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from farewatch.errors import FarewatchError

logger = Logger(child=True)

JSON = "application/json"


class ErrorDetail(BaseModel):
    field: str | None = None
    issue: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable snake_case error code.")
    message: str = Field(description="A human sentence.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_responses(*statuses: int) -> dict[int, Any]:
    """OpenAPI `responses` entries for the error statuses a route can answer."""
    return {
        status: {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {JSON: {"model": ErrorEnvelope}},
        }
        for status in statuses
    }


_STATUS_TEXT = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    429: "Too many requests",
    502: "The fare source failed",
    503: "The fare source is unavailable",
    504: "The fare source timed out",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(status_code=status, content_type=JSON, body=json.dumps(body), headers=headers or {})


def _validation_details(error: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    details = []
    code = "invalid_parameter"
    for problem in error.errors():
        location = [str(part) for part in problem.get("loc", ())]
        field = location[-1] if location else None
        if problem.get("type") == "missing":
            code = "missing_parameter" if "body" not in location else "invalid_body"
            issue = "is required"
        else:
            issue = str(problem.get("msg", "is invalid"))
        details.append({"field": field, "issue": issue})
    return code, details


def create_resolver(**kwargs: Any) -> APIGatewayRestResolver:
    """A REST resolver with validation on and every error answered in the envelope."""
    app = APIGatewayRestResolver(enable_validation=True, **kwargs)

    @app.exception_handler(FarewatchError)
    def _domain_error(error: FarewatchError) -> Response:
        if error.status >= 500:
            logger.warning(
                "Request failed upstream", extra={"error_code": error.code, "status": error.status}
            )
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        code, details = _validation_details(error)
        return error_response(400, code, "The request is not valid.", details)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return error_response(404, "not_found", "No such route.")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("Unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")

    return app
