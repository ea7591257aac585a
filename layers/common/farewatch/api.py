"""HTTP plumbing shared by every function: the resolver, the success envelope and the one error mapping.

Domain errors are raised deep in the logic and become `{"error": {code, message, details}}` here,
as do Powertools' own validation errors and unknown routes. No traceback ever reaches a response.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from farewatch.errors import FarewatchError, InvalidRequest, NotFound
from farewatch.store.outage import is_storage_unavailable

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


def error_responses(*statuses: int, success: int | None = 200) -> dict[int, Any]:
    """OpenAPI `responses` of a route: its success status and the error statuses it can answer.

    Powertools documents the return model only when a route passes no `responses`, so the success
    entry is listed here too (Powertools fills its schema from the return annotation). A 204 has no
    body; `success=None` leaves the success entry to the caller (e.g. one with several media types).
    """
    responses: dict[int, Any] = {}
    if success == 204:
        responses[204] = {"description": "Done; no content", "content": {}}
    elif success is not None:
        responses[success] = {"description": _STATUS_TEXT.get(success, "Success")}
    for status in statuses:
        responses[status] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {JSON: {"model": ErrorEnvelope}},
        }
    return responses


_STATUS_TEXT = {
    200: "Success",
    201: "Created",
    400: "Invalid request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
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


_MAX_NAME_CHARS = 100


def _sent_query(app: APIGatewayRestResolver) -> dict[str, list[str]]:
    # REST (v1) events carry every value of a repeated parameter here; queryStringParameters keeps one.
    return dict(app.current_event.multi_value_query_string_parameters or {})


def _repeated_query_parameters(app: APIGatewayRestResolver) -> list[str]:
    return sorted(name[:_MAX_NAME_CHARS] for name, values in _sent_query(app).items() if len(values) > 1)


def _repeated_error(names: list[str]) -> InvalidRequest:
    return InvalidRequest(
        "Give each query parameter at most once.",
        code="repeated_parameter",
        details=[{"field": name, "issue": "is given more than once"} for name in names],
    )


def _declared_query_parameters_only(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Unknown query parameters are a 400, like unknown body fields: a typo (`nocahce=1`) is an error,
    not a silently different request. A repeated one is a 400 too: which value counts is not guessed."""
    if app.current_event.http_method.upper() not in _allowed_methods(app):
        return next_middleware(app)  # no route of ours takes it: the 404/405 says so, whatever the query
    route = app.context.get("_route")  # set by Powertools for the matched route
    declared = {field.alias for field in route.dependant.query_params} if route is not None else set()
    sent = _sent_query(app)
    unknown = sorted(name[:_MAX_NAME_CHARS] for name in sent if name not in declared)
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        raise InvalidRequest(
            f"Unknown query parameter; this route accepts: {accepted}.",
            code="unknown_parameter",
            details=[{"field": name, "issue": "is not a parameter of this route"} for name in unknown],
        )
    repeated = _repeated_query_parameters(app)
    if repeated:
        raise _repeated_error(repeated)
    return next_middleware(app)


def _whole_path_matched(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Powertools anchors its route patterns with `$`, which also matches before a final newline: it
    would serve GET /tracked-flights/%0A as the list. A route serves only a path it matches whole."""
    route = app.context.get("_route")  # set by Powertools for the matched route
    if route is not None and not route.rule.fullmatch(app.current_event.path):
        raise NotFound("No such route.")
    return next_middleware(app)


_BODILESS_METHODS = frozenset({"GET", "HEAD", "DELETE"})


def _no_body_where_none_is_read(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """A body on GET or DELETE has no meaning here (RFC 9110 gives it none): it is refused, not ignored,
    so that a client who thinks it filtered or confirmed something learns that it did not."""
    if app.current_event.http_method.upper() in _BODILESS_METHODS and app.current_event.body:
        raise InvalidRequest(
            "This method takes no body; send the request without one.", code="unexpected_body"
        )
    return next_middleware(app)


def _allowed_methods(app: APIGatewayRestResolver) -> list[str]:
    """The methods this function serves on the requested path (Powertools keeps its routes privately)."""
    path = app.current_event.path
    routes = [*app._static_routes, *app._dynamic_routes]
    return sorted({route.method.upper() for route in routes if route.rule.fullmatch(path)})


def create_resolver(**kwargs: Any) -> APIGatewayRestResolver:
    """A REST resolver with validation on and every error answered in the envelope."""
    app = APIGatewayRestResolver(enable_validation=True, **kwargs)
    app.use(middlewares=[_whole_path_matched, _no_body_where_none_is_read, _declared_query_parameters_only])

    @app.exception_handler(FarewatchError)
    def _domain_error(error: FarewatchError) -> Response:
        if error.status >= 500:
            logger.warning(
                "Request failed upstream", extra={"error_code": error.code, "status": error.status}
            )
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        repeated = _repeated_query_parameters(app)
        if repeated:  # Powertools saw a list where it wanted one string: say what really went wrong
            return _domain_error(_repeated_error(repeated))
        code, details = _validation_details(error)
        return error_response(400, code, "The request is not valid.", details)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        # The template routes every other method of a known resource here (Method: ANY), so that a
        # wrong method is a 405 with Allow, as HTTP says, and not API Gateway's 403/404.
        allowed = _allowed_methods(app)
        if allowed:
            return error_response(
                405,
                "method_not_allowed",
                f"This path does not accept {app.current_event.http_method.upper()[:16]}.",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(404, "not_found", "No such route.")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        if is_storage_unavailable(error):
            logger.warning("DynamoDB declined a request after retries", extra={"error": type(error).__name__})
            return error_response(
                503,
                "storage_unavailable",
                "Farewatch's storage is busy; try again in a moment.",
                headers={"Retry-After": "1"},
            )
        logger.exception("Unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")

    return app
