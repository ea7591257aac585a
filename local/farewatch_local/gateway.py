"""The local API Gateway: template.yaml's Api events served over HTTP, each request run in-process.

Owns routing (resource paths with {param} and {proxy+}, literal segments first, as API Gateway
chooses), building the REST (v1) proxy event API Gateway sends, mapping the handler's proxy result
back to HTTP (502 for a failing or malformed function, like API Gateway), the answer for paths and
methods no route serves, local-only control routes, the one-line request log, and the HTTP server.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from farewatch_local.aws import bind_listener, url_for
from farewatch_local.runtime import FunctionRuntimes, FunctionTimedOut
from farewatch_local.template import ACCOUNT_ID, ApiSpec, FunctionSpec, Template

logger = logging.getLogger(__name__)

LocalRoute = Callable[[Request], Response]
"""A local-only control route (e.g. POST /__local/poll): takes the request, returns the response."""

# API Gateway stops waiting for the integration after 29 s and answers 504.
INTEGRATION_TIMEOUT_SECONDS = 29.0
# Where our HTTP server keeps the request headers as received (WSGI upper-cases their names).
RAW_HEADERS_ENVIRON_KEY = "farewatch_local.raw_headers"

_PROXY_RESULT_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
# Framing headers are the server's business; API Gateway recomputes them too.
_FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------------------------------
# Routes.


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    resource: str  # the template path, e.g. /tracked-flights/{id}
    pattern: re.Pattern[str]
    rank: tuple[int, ...]  # lower is more specific
    function: FunctionSpec | None = None
    api: ApiSpec | None = None
    local_handler: LocalRoute | None = None


_PATH_VARIABLE = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


def compile_resource(resource: str) -> tuple[re.Pattern[str], tuple[int, ...]]:
    """A regex for a resource path and its rank: literal segments beat {param}, which beats {proxy+}."""
    parts, rank = [], []
    for segment in resource.strip("/").split("/") if resource != "/" else []:
        variable = _PATH_VARIABLE.match(segment)
        if variable is None:
            parts.append(re.escape(segment))
            rank.append(0)
        elif variable.group(2):
            parts.append(f"(?P<{_group(variable.group(1))}>.+)")
            rank.append(2)
        else:
            parts.append(f"(?P<{_group(variable.group(1))}>[^/]+)")
            rank.append(1)
    return re.compile("/" + "/".join(parts)), tuple(rank)


def _group(name: str) -> str:
    # Regex group names must be identifiers; the event uses the template's name (see path_parameters).
    return "p_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _parameter_names(resource: str) -> dict[str, str]:
    names = {}
    for segment in resource.strip("/").split("/"):
        variable = _PATH_VARIABLE.match(segment)
        if variable:
            names[_group(variable.group(1))] = variable.group(1)
    return names


# --------------------------------------------------------------------------------------------------
# The REST (v1) proxy event.


def received_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Request headers with their names as the client sent them, in order, duplicates kept."""
    raw = environ.get(RAW_HEADERS_ENVIRON_KEY)
    if raw is not None:
        return list(raw)
    # Another WSGI server (or a test client): names survive only upper-cased in the environ.
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        headers.append((name.replace("_", "-").title(), str(value)))
    return headers


def _request_time(moment: datetime) -> str:
    # API Gateway's CLF format, English month names whatever the locale.
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def _trace_id(epoch_seconds: int) -> str:
    return f"Root=1-{epoch_seconds:08x}-{uuid.uuid4().hex[:24]}"


def build_proxy_event(
    request: Request,
    route: Route,
    path_parameters: Mapping[str, str] | None,
    *,
    stage: str,
    rest_api_id: str,
    request_id: str,
    now: datetime | None = None,
    binary_media_types: Sequence[str] = (),
) -> dict[str, Any]:
    """The event API Gateway (REST API, Lambda proxy integration) sends for this request."""
    moment = now or datetime.now(UTC)
    epoch_ms = int(moment.timestamp() * 1000)
    source_ip = request.remote_addr or "127.0.0.1"

    headers = received_headers(request.environ)
    names = {name.lower() for name, _ in headers}
    forwarded_for = next(
        (value for name, value in reversed(headers) if name.lower() == "x-forwarded-for"), None
    )
    headers = [(name, value) for name, value in headers if name.lower() != "x-forwarded-for"]
    headers.append(("X-Forwarded-For", f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip))
    host_header = request.host or "localhost"
    if "x-forwarded-port" not in names:
        headers.append(("X-Forwarded-Port", host_header.rsplit(":", 1)[1] if ":" in host_header else "80"))
    if "x-forwarded-proto" not in names:
        headers.append(("X-Forwarded-Proto", request.scheme))
    if "x-amzn-trace-id" not in names:
        headers.append(("X-Amzn-Trace-Id", _trace_id(epoch_ms // 1000)))
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)

    query_pairs = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)

    body, is_base64 = _event_body(request, binary_media_types)
    domain_name = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    user_agent = next((value for name, value in reversed(headers) if name.lower() == "user-agent"), None)
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": _resource_id(route.resource),
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:12]).decode(),
            "requestTime": _request_time(moment),
            "path": f"/{stage}{request.path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": stage,
            "domainPrefix": domain_name.split(".", 1)[0],
            "requestTimeEpoch": epoch_ms,
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "domainName": domain_name,
            "deploymentId": "local0",
            "apiId": rest_api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _event_body(request: Request, binary_media_types: Sequence[str]) -> tuple[str | None, bool]:
    data = request.get_data(cache=True)
    if not data:
        return None, False
    content_type = (request.mimetype or "").lower()
    binary = any(fnmatch.fnmatch(content_type, pattern.lower()) for pattern in binary_media_types)
    if not binary:
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(data).decode("ascii"), True


def _resource_id(resource: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6]


# --------------------------------------------------------------------------------------------------
# The proxy result.


class MalformedProxyResult(Exception):
    """The handler returned something API Gateway would reject (it answers 502)."""


def proxy_result_to_response(result: Any) -> Response:
    """The HTTP response API Gateway makes of a Lambda proxy result."""
    if not isinstance(result, dict):
        raise MalformedProxyResult(f"the result is a {type(result).__name__}, not an object")
    unknown = set(result) - _PROXY_RESULT_KEYS
    if unknown:
        raise MalformedProxyResult(f"unexpected keys {sorted(unknown)}")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResult(f"statusCode {status!r} is not an HTTP status")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResult(f"body is a {type(body).__name__}, not a string")
    is_base64 = result.get("isBase64Encoded", False)
    if not isinstance(is_base64, bool):
        raise MalformedProxyResult("isBase64Encoded is not a boolean")
    payload = b""
    if body:
        try:
            payload = base64.b64decode(body, validate=True) if is_base64 else body.encode("utf-8")
        except (binascii.Error, ValueError):
            raise MalformedProxyResult("body is not valid base64 although isBase64Encoded is true") from None

    response = Response(status=status)
    response.headers.clear()
    for name, value in _result_headers(result):
        if name.lower() not in _FRAMING_HEADERS:
            response.headers.add(name, value)
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    response.set_data(payload)
    return response


def _result_headers(result: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """headers and multiValueHeaders merged; for a name in both, multiValueHeaders' values win."""
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        raise MalformedProxyResult("headers and multiValueHeaders must be objects")
    merged: list[tuple[str, str]] = []
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedProxyResult(f"multiValueHeaders[{name!r}] is not a list")
        merged.extend((str(name), _header_value(name, value)) for value in values)
    taken = {str(name).lower() for name in multi}
    merged.extend(
        (str(name), _header_value(name, value))
        for name, value in single.items()
        if str(name).lower() not in taken
    )
    return merged


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyResult(f"header {name!r} has a {type(value).__name__} value")


# --------------------------------------------------------------------------------------------------
# Answers the gateway gives itself.


def _json_response(status: int, document: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(document), status=status, headers=dict(headers or {}), content_type="application/json"
    )


def no_route_response(method: str, path: str, allowed_methods: Sequence[str]) -> Response:
    """A request no route serves: 404 for an unknown path, 405 (with Allow) for a local-only path.

    AWS answers an unknown path, and a method a resource lacks, with 403 MissingAuthenticationToken,
    which the template's GatewayResponses turn into this same 404 envelope.
    """
    if not allowed_methods:
        # The template's MISSING_AUTHENTICATION_TOKEN body: the path is not echoed back.
        return _json_response(
            404, {"error": {"code": "not_found", "message": "No such route.", "details": []}}
        )
    allowed = ", ".join(sorted(allowed_methods))
    return _json_response(
        405,
        {
            "error": {
                "code": "method_not_allowed",
                "message": f"{path} does not accept {method}; it accepts {allowed}.",
                "details": [],
            }
        },
        headers={"Allow": allowed},
    )


def integration_failure_response(request_id: str) -> Response:
    """API Gateway's answer when the function failed or returned a malformed result."""
    return _json_response(
        502,
        {"message": "Internal server error"},
        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": "InternalServerErrorException"},
    )


def integration_timeout_response(request_id: str) -> Response:
    return _json_response(
        504, {"message": "Endpoint request timed out"}, headers={"x-amzn-RequestId": request_id}
    )


# --------------------------------------------------------------------------------------------------
# The gateway.


def _safe_for_log(text: str) -> str:
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)


_stdout_lock = threading.Lock()


def print_request_line(line: str) -> None:
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class LocalGateway:
    """A WSGI app: the template's Api events, plus local-only control routes, dispatched in-process."""

    def __init__(
        self,
        template: Template,
        functions: FunctionRuntimes | None = None,
        *,
        request_log: Callable[[str], None] = print_request_line,
    ) -> None:
        self.template = template
        self.functions = functions if functions is not None else FunctionRuntimes(template)
        self._request_log = request_log
        self._routes_lock = threading.Lock()
        routes = []
        for function, event in template.routes:
            pattern, rank = compile_resource(event.path)
            routes.append(
                Route(
                    method=event.method,
                    resource=event.path,
                    pattern=pattern,
                    rank=rank,
                    function=function,
                    api=template.apis[event.rest_api_id],
                )
            )
        self._routes: tuple[Route, ...] = tuple(routes)

    @property
    def routes(self) -> tuple[Route, ...]:
        return self._routes

    def add_local_route(self, method: str, path: str, handler: LocalRoute) -> None:
        """Serve a local-only control route (never deployed), e.g. POST /__local/poll."""
        method = method.upper()
        pattern, rank = compile_resource(path)
        with self._routes_lock:
            if any(route.resource == path and route.method in (method, "ANY") for route in self._routes):
                raise ValueError(f"{method} {path} is already routed")
            route = Route(method=method, resource=path, pattern=pattern, rank=rank, local_handler=handler)
            self._routes = (*self._routes, route)  # readers see the old or the new tuple, never half

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        try:
            response = self.handle(request)
        except Exception:  # a bug in the gateway itself; never a traceback in the response
            logger.exception("local gateway failed on %s %s", request.method, _safe_for_log(request.path))
            response = integration_failure_response(str(uuid.uuid4()))
        elapsed_ms = (time.perf_counter() - started) * 1000
        query = request.query_string.decode("latin-1")
        target = _safe_for_log(request.path + (f"?{query}" if query else ""))
        self._request_log(f"{request.method} {target} {response.status_code} {elapsed_ms:.1f}ms")
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path
        matches = [(route, match) for route in self._routes if (match := route.pattern.fullmatch(path))]
        if not matches:
            return no_route_response(request.method, path, ())
        best = min(matches, key=lambda found: (found[0].rank, found[0].resource))[0].resource
        on_resource = [(route, match) for route, match in matches if route.resource == best]
        chosen = next(((r, m) for r, m in on_resource if r.method == request.method), None) or next(
            ((r, m) for r, m in on_resource if r.method == "ANY"), None
        )
        if chosen is None:
            # API Gateway answers a method a template resource lacks like an unknown path (403
            # MISSING_AUTHENTICATION_TOKEN, which the template maps to our 404); that is why the template
            # routes every other method (ANY) to the function, which answers 405. Local-only routes,
            # which API Gateway never serves, answer 405 here.
            local_methods = [route.method for route, _ in on_resource if route.local_handler is not None]
            return no_route_response(request.method, path, local_methods)
        route, match = chosen
        if route.local_handler is not None:
            return route.local_handler(request)
        names = _parameter_names(route.resource)
        path_parameters = {names[group]: value for group, value in match.groupdict().items()}
        return self._invoke(route, request, path_parameters)

    def _invoke(self, route: Route, request: Request, path_parameters: Mapping[str, str]) -> Response:
        assert route.function is not None and route.api is not None
        request_id = str(uuid.uuid4())
        event = build_proxy_event(
            request,
            route,
            path_parameters,
            stage=route.api.stage_name,
            rest_api_id=route.api.api_id,
            request_id=request_id,
            binary_media_types=route.api.binary_media_types,
        )
        function = route.function.logical_id
        started = time.monotonic()
        try:
            result = self.functions.invoke(function, event)
        except FunctionTimedOut as timeout:
            logger.error("%s: Task timed out: %s", function, timeout)
            return integration_failure_response(request_id)
        except Exception:
            logger.exception("%s failed on %s %s", function, request.method, _safe_for_log(request.path))
            return integration_failure_response(request_id)
        if time.monotonic() - started > INTEGRATION_TIMEOUT_SECONDS:
            logger.error(
                "%s answered after API Gateway's %.0f s limit", function, INTEGRATION_TIMEOUT_SECONDS
            )
            return integration_timeout_response(request_id)
        try:
            response = proxy_result_to_response(result)
        except MalformedProxyResult as malformed:
            logger.error("%s returned a malformed Lambda proxy result: %s", function, malformed)
            return integration_failure_response(request_id)
        response.headers["x-amzn-RequestId"] = request_id
        return response


# --------------------------------------------------------------------------------------------------
# The HTTP server.


class GatewayRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, keeping header names as received and leaving request logging to the gateway."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[RAW_HEADERS_ENVIRON_KEY] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class ServerHandle:
    host: str
    port: int
    _server: BaseWSGIServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return url_for(self.host, self.port)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


def serve(app: Callable[..., Any], host: str, port: int, *, service: str = "API gateway") -> ServerHandle:
    """Serve a WSGI app on host:port (0 picks a free port), threaded, from a background thread.

    The socket is bound here so that a taken port is a PortInUse error, not werkzeug's exit(1).
    """
    listener = bind_listener(service, host, port)
    try:
        listener.listen(128)
        bound_port = int(listener.getsockname()[1])
        server = make_server(
            host, bound_port, app, threaded=True, request_handler=GatewayRequestHandler, fd=listener.fileno()
        )
    finally:
        listener.close()  # the server holds its own duplicate of the socket
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"farewatch-local {service}",
        daemon=True,
    )
    thread.start()
    return ServerHandle(host=host, port=bound_port, _server=server, _thread=thread)
