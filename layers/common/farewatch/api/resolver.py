"""The resolver every API function uses: the request gate, one JSON rendering and the one error mapping.

Domain errors are raised deep in the logic and become `{"error": {code, message, details}}` here,
as do Powertools' own validation errors and unknown routes. No traceback ever reaches a response.

What a request must get past before its route runs, in the order a client hears about it:
1. a route that serves its path whole and its method (404 `not_found`, 405 `method_not_allowed`);
2. no body on GET, HEAD or DELETE (400 `unexpected_body`);
3. only the query parameters the route declares, each at most once (400 `unknown_parameter`,
   `repeated_parameter`): a typo is an error, not a silently different request;
4. who is calling, when the route's OpenAPI `security` asks for it (401, or 403 for a missing role):
   a caller who may not use a route learns nothing about its inputs;
5. a body, when the route declares one: JSON by media type, size and syntax (415, 413, 400);
6. Powertools' validation of the declared types (400 in the envelope, with our error codes).
Steps 1-5 run in the slot Powertools gives its request validation, which comes before any middleware.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.shared.json_encoder import Encoder
from pydantic import BaseModel, Field

from farewatch.api.access import BEARER_SCHEME, PRINCIPAL_KEY, Authenticate
from farewatch.api.body import read_json_object
from farewatch.errors import FarewatchError, Forbidden, InvalidRequest, NotFound
from farewatch.store.outage import is_storage_unavailable
from farewatch.validation import INVALID_PARAMETER, Problem, field_name, invalid_request, problem_of

logger = Logger(child=True)

JSON = "application/json"
_MAX_NAME_CHARS = 100
_BODILESS_METHODS = frozenset({"GET", "HEAD", "DELETE"})


def render_json(document: Any) -> str:
    """The one JSON rendering of every answer, success or error: compact, as Powertools writes it."""
    return json.dumps(document, separators=(",", ":"), cls=Encoder)


class ErrorDetail(BaseModel):
    field: str | None = None
    issue: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable snake_case error code.")
    message: str = Field(description="A human sentence.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorEnvelope(BaseModel):
    error: ErrorBody


_STATUS_TEXT = {
    200: "Success",
    201: "Created",
    202: "Accepted",
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


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"error": {"code": code, "message": message, "details": list(details or [])}}
    return Response(status_code=status, content_type=JSON, body=render_json(body), headers=headers or {})


class RequestGate(OpenAPIRequestValidationMiddleware):
    """Steps 1-5 of the module docstring, then Powertools' own validation (step 6)."""

    def __init__(self, *, authenticate: Authenticate | None, max_body_bytes: int) -> None:
        super().__init__()
        self._authenticate = authenticate
        self._max_body_bytes = max_body_bytes

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response:
        event = app.current_event
        method = event.http_method.upper()
        route = app.context.get("_route")  # set by Powertools for the matched route
        if route is not None and not route.rule.fullmatch(event.path):
            # Powertools anchors its patterns with `$`, which also matches before a final newline:
            # it would serve GET /tracked-flights/%0A as the list.
            raise NotFound("No such route.")
        if method in _BODILESS_METHODS and event.body:
            # RFC 9110 gives a GET or DELETE body no meaning: refused, not ignored, so that a client
            # who thinks it filtered or confirmed something learns that it did not.
            raise InvalidRequest(
                "This method takes no body; send the request without one.", code="unexpected_body"
            )
        if route is None or method not in allowed_methods(app):
            return next_middleware(app)  # no route of ours takes it: the 404/405 says so, whatever the query
        _only_declared_query_parameters(app, {field.alias for field in route.dependant.query_params})
        self._check_access(app, route.security or [])
        return super().handler(app, next_middleware)

    def _check_access(self, app: Any, requirements: list[dict[str, list[str]]]) -> None:
        if not requirements:
            return
        if self._authenticate is None:  # a secured route on a resolver that cannot sign anyone in
            raise RuntimeError("this resolver has secured routes but no authenticate")
        headers = app.current_event.headers or {}
        authorization = next(
            (value for name, value in headers.items() if name.lower() == "authorization"), None
        )
        caller = self._authenticate(authorization)
        roles = {role for requirement in requirements for role in requirement.get(BEARER_SCHEME, [])}
        if roles and caller.role not in roles:
            raise Forbidden(f"This needs the {' or '.join(sorted(roles))} role.")
        app.append_context(**{PRINCIPAL_KEY: caller})

    def _get_body(self, app: Any) -> dict[str, Any]:
        # Powertools reads bodies leniently (form data, NaN, a name given twice); ours are strict.
        event = app.current_event
        return read_json_object(
            event.headers, event.body, event.is_base64_encoded, max_bytes=self._max_body_bytes
        )


def _only_declared_query_parameters(app: Any, declared: set[str]) -> None:
    # REST (v1) events carry every value of a repeated parameter here; queryStringParameters keeps one.
    sent: dict[str, list[str]] = dict(app.current_event.multi_value_query_string_parameters or {})
    unknown = sorted(name[:_MAX_NAME_CHARS] for name in sent if name not in declared)
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        raise InvalidRequest(
            f"Unknown query parameter; this route accepts: {accepted}.",
            code="unknown_parameter",
            details=[{"field": name, "issue": "is not a parameter of this route"} for name in unknown],
        )
    repeated = sorted(name[:_MAX_NAME_CHARS] for name, values in sent.items() if len(values) > 1)
    if repeated:
        raise InvalidRequest(
            "Give each query parameter at most once.",
            code="repeated_parameter",
            details=[{"field": name, "issue": "is given more than once"} for name in repeated],
        )


def allowed_methods(app: Any) -> list[str]:
    """The methods this function serves on the requested path (Powertools keeps its routes privately)."""
    path = app.current_event.path
    routes = [*app._static_routes, *app._dynamic_routes]
    return sorted({route.method.upper() for route in routes if route.rule.fullmatch(path)})


def validation_problem(error: dict[str, Any]) -> Problem:
    """A Powertools validation error as our Problem: its field, and `invalid_body` for body fields."""
    location = [part for part in error.get("loc", ()) if part != ""]
    where, inside = (str(location[0]), location[1:]) if location else ("request", [])
    if where == "body":
        return problem_of(
            error, field=field_name(inside, fallback="body"), default="invalid_body", missing="invalid_body"
        )
    return problem_of(
        error,
        field=field_name(inside, fallback=where),
        default=INVALID_PARAMETER,
        missing="missing_parameter",
    )


# Every answer: no MIME sniffing. Answers that carry tokens or secrets: never stored by any cache.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff"}
NO_STORE = {"Cache-Control": "no-store"}


class FarewatchResolver(APIGatewayRestResolver):
    """Powertools' REST resolver that adds SECURITY_HEADERS to every answer it gives, errors included."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        result: dict[str, Any] = super().resolve(event, context)
        if isinstance(result.get("multiValueHeaders"), dict):
            for name, value in SECURITY_HEADERS.items():
                result["multiValueHeaders"].setdefault(name, [value])
        else:
            headers = result.setdefault("headers", {})
            for name, value in SECURITY_HEADERS.items():
                headers.setdefault(name, value)
        return result


def create_resolver(
    *, authenticate: Authenticate | None = None, max_body_bytes: int | None = None, **kwargs: Any
) -> FarewatchResolver:
    """A REST resolver with validation on, the request gate in front of it, and every error answered
    in the envelope. `authenticate` reads the Authorization header of routes that declare `security`;
    bodies may be `max_body_bytes` long (default: Settings)."""
    from farewatch.settings import get_settings

    app = FarewatchResolver(enable_validation=True, serializer=render_json, **kwargs)
    app._request_validation_middleware = RequestGate(  # the slot Powertools runs before any middleware
        authenticate=authenticate,
        max_body_bytes=max_body_bytes if max_body_bytes is not None else get_settings().max_body_bytes,
    )

    @app.exception_handler(FarewatchError)
    def _domain_error(error: FarewatchError) -> Response:
        if error.status >= 500:
            logger.warning(
                "Request failed upstream", extra={"error_code": error.code, "status": error.status}
            )
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        problems = [validation_problem(problem) for problem in error.errors()]
        in_body = bool(problems) and all(problem.code == "invalid_body" for problem in problems)
        return _domain_error(
            invalid_request(problems, message="The body has invalid fields." if in_body else None)
        )

    @app.not_found
    def _not_found(_: Exception) -> Response:
        # The template routes every other method of a known resource here (Method: ANY), so that a
        # wrong method is a 405 with Allow, as HTTP says, and not API Gateway's 403/404.
        allowed = allowed_methods(app)
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
