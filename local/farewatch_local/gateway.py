"""The local API Gateway: template.yaml's Api events over HTTP, each request run by its function's pool.

Owns routing (werkzeug's router: literal segments beat {param}, which beats {proxy+}, as API Gateway
chooses; a method a resource lacks is API Gateway's MISSING_AUTHENTICATION_TOKEN), the REST (v1) proxy
event, mapping the proxy result back to HTTP, the answers API Gateway gives itself (in the template's
GatewayResponses where it declares them), local-only control routes, the one-line request log, and an
HTTP server that names no software and answers its own errors (414 for an over-long URL) in JSON.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from fare_sim.server import QuietRequestHandler
from farewatch_local.functions import FunctionError, FunctionPools
from farewatch_local.template import ACCOUNT_ID, ApiSpec, FunctionSpec, Template

logger = logging.getLogger(__name__)

LocalRoute = Callable[[Request], Response]
INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway stops waiting for the integration and answers 504
MAX_URL_LENGTH = 8192  # API Gateway's limit on the URL of a REST API request
RAW_HEADERS_ENVIRON_KEY = "farewatch_local.raw_headers"  # header names as received (WSGI upper-cases them)
_PROXY_RESULT_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
_FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}
_IDENTITY_NONE: tuple[str, ...] = ("cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller")
_IDENTITY_NONE += (
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
)
_IDENTITY_NONE += ("userArn", "user")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# API Gateway's own answers: (default status, default body, the DEFAULT_* type they fall back to).
_GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": (403, {"message": "Missing Authentication Token"}),
    "INTEGRATION_FAILURE": (502, {"message": "Internal server error"}),
    "INTEGRATION_TIMEOUT": (504, {"message": "Endpoint request timed out"}),
}


def error_envelope(status: int, code: str, message: str) -> Response:
    body = {"error": {"code": code, "message": message, "details": []}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def received_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Request headers with their names as the client sent them, in order, duplicates kept."""
    if RAW_HEADERS_ENVIRON_KEY in environ:
        return list(environ[RAW_HEADERS_ENVIRON_KEY])
    # Another WSGI server (or a test client): names survive only upper-cased in the environ.
    return [
        (key.removeprefix("HTTP_").replace("_", "-").title(), str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_") or (key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value)
    ]


def build_proxy_event(
    request: Request, resource: str, path_parameters: Mapping[str, str], api: ApiSpec, request_id: str
) -> dict[str, Any]:
    """The event API Gateway (REST API, Lambda proxy integration) sends for this request."""
    moment = datetime.now(UTC)
    source_ip = request.remote_addr or "127.0.0.1"
    headers = received_headers(request.environ)
    names = {name.lower() for name, _ in headers}
    forwarded = [value for name, value in headers if name.lower() == "x-forwarded-for"]
    headers = [(name, value) for name, value in headers if name.lower() != "x-forwarded-for"]
    headers.append(("X-Forwarded-For", f"{forwarded[-1]}, {source_ip}" if forwarded else source_ip))
    host = request.host or "localhost"
    if "x-forwarded-port" not in names:
        headers.append(("X-Forwarded-Port", host.rsplit(":", 1)[1] if ":" in host else "80"))
    if "x-forwarded-proto" not in names:
        headers.append(("X-Forwarded-Proto", request.scheme))
    if "x-amzn-trace-id" not in names:
        headers.append(("X-Amzn-Trace-Id", f"Root=1-{int(moment.timestamp()):08x}-{uuid.uuid4().hex[:24]}"))
    query = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    user_agent = next((value for name, value in reversed(headers) if name.lower() == "user-agent"), None)
    body, is_base64 = _event_body(request)
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": dict(headers),
        "multiValueHeaders": _multi(headers),
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": _multi(query) or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6],
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:12]).decode(),
            "requestTime": f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000",
            "path": f"/{api.stage_name}{request.path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": api.stage_name,
            "domainPrefix": domain.split(".", 1)[0],
            "requestTimeEpoch": int(moment.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                **dict.fromkeys(_IDENTITY_NONE),
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "domainName": domain,
            "deploymentId": "local0",
            "apiId": api.api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _event_body(request: Request) -> tuple[str | None, bool]:
    """The body as text, or base64 when it is not UTF-8 (the template declares no BinaryMediaTypes)."""
    data = request.get_data(cache=True)
    if not data:
        return None, False
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), True


class MalformedProxyResult(Exception):
    """The handler returned something API Gateway would reject (it answers 502)."""


def proxy_result_to_response(result: Any) -> Response:
    """The HTTP response API Gateway makes of a Lambda proxy result."""
    if not isinstance(result, dict) or set(result) - _PROXY_RESULT_KEYS:
        raise MalformedProxyResult(f"the result is not a proxy result object: {str(result)[:80]}")
    status, body, is_base64 = (
        result.get("statusCode"),
        result.get("body"),
        result.get("isBase64Encoded", False),
    )
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResult(f"statusCode {status!r} is not an HTTP status")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResult(f"body is a {type(body).__name__}, not a string")
    if not isinstance(is_base64, bool):
        raise MalformedProxyResult("isBase64Encoded is not a boolean")
    try:
        payload = base64.b64decode(body or "", validate=True) if is_base64 else (body or "").encode()
    except (binascii.Error, ValueError):
        raise MalformedProxyResult("body is not base64 although isBase64Encoded is true") from None
    multi, single = result.get("multiValueHeaders") or {}, result.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        raise MalformedProxyResult("headers and multiValueHeaders must be objects")
    merged = [(name, value) for name, values in multi.items() for value in _list(name, values)]
    taken = {name.lower() for name in multi}
    merged += [(name, value) for name, value in single.items() if name.lower() not in taken]
    response = Response(payload, status=status)
    response.headers.clear()
    for name, value in merged:
        if name.lower() not in _FRAMING_HEADERS:
            response.headers.add(name, _header_value(name, value))
    response.headers.setdefault("Content-Type", "application/json")
    return response


def compress(request: Request, response: Response, minimum_size: int | None) -> Response:
    """As API Gateway does with MinimumCompressionSize: gzip an answer of at least `minimum_size` bytes
    for a client whose Accept-Encoding takes gzip, unless the function encoded it itself."""
    if minimum_size is None or "Content-Encoding" in response.headers:
        return response
    payload = response.get_data()
    if request.accept_encodings.quality("gzip") <= 0 or len(payload) < minimum_size:
        return response
    response.set_data(gzip.compress(payload, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.headers.add("Vary", "Accept-Encoding")
    return response


def _list(name: str, values: Any) -> list[Any]:
    if not isinstance(values, list):
        raise MalformedProxyResult(f"multiValueHeaders[{name!r}] is not a list")
    return values


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyResult(f"header {name!r} has a {type(value).__name__} value")


def _safe_for_log(text: str) -> str:
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)


_stdout_lock = threading.Lock()


def print_line(line: str) -> None:
    """One line on stdout, whole, however many threads print."""
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class LocalGateway:
    """A WSGI app: the template's Api events, plus local-only control routes (never deployed)."""

    def __init__(
        self,
        template: Template,
        functions: FunctionPools,
        *,
        local_routes: Mapping[tuple[str, str], LocalRoute] | None = None,
        request_log: Callable[[str], None] = print_line,
    ) -> None:
        self.functions = functions
        self._request_log = request_log
        self._api = template.api if template.apis else None
        # resource -> {method or ANY: the function or the local route serving it}
        self._targets: dict[str, dict[str, FunctionSpec | LocalRoute]] = {}
        for function, event in template.routes:
            self._targets.setdefault(event.path, {})[event.method] = function
        self._local = set()
        for (method, path), handler in (local_routes or {}).items():
            self._targets.setdefault(path, {})[method.upper()] = handler
            self._local.add(path)
        # {name} is werkzeug's <name>, {name+} its <path:name>: its router ranks them as API Gateway does.
        rules = [
            Rule(
                re.sub(r"\{(\w+)(\+?)\}", lambda m: f"<{'path:' if m[2] else ''}{m[1]}>", resource),
                endpoint=resource,
            )
            for resource in self._targets
        ]
        self._map = Map(rules, merge_slashes=False, strict_slashes=False)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        try:
            response, served_by = self.handle(request)
        except Exception:  # a bug in the gateway itself; never a traceback in the response
            logger.exception("the local gateway failed on %s %s", request.method, _safe_for_log(request.path))
            response, served_by = self._own("INTEGRATION_FAILURE"), ""
        query = request.query_string.decode("latin-1")
        target = _safe_for_log(request.path + (f"?{query}" if query else ""))
        elapsed = (time.perf_counter() - started) * 1000
        self._request_log(f"{request.method} {target} {response.status_code} {elapsed:.1f}ms{served_by}")
        return response(environ, start_response)

    def handle(self, request: Request) -> tuple[Response, str]:
        try:
            resource, arguments = self._map.bind_to_environ(request.environ).match()
        except HTTPException:
            return self._own("MISSING_AUTHENTICATION_TOKEN"), ""
        methods = self._targets[resource]
        target = methods.get(request.method) or methods.get("ANY")
        if target is None and resource in self._local:
            allowed = ", ".join(sorted(methods))
            response = error_envelope(405, "method_not_allowed", f"{request.path} accepts {allowed}.")
            response.headers["Allow"] = allowed
            return response, ""
        if target is None:
            return self._own("MISSING_AUTHENTICATION_TOKEN"), ""
        if not isinstance(target, FunctionSpec):
            return target(request), ""
        return self._invoke(target, request, resource, arguments)

    def _invoke(
        self, function: FunctionSpec, request: Request, resource: str, path_parameters: Mapping[str, str]
    ) -> tuple[Response, str]:
        assert self._api is not None
        request_id = str(uuid.uuid4())
        event = build_proxy_event(request, resource, path_parameters, self._api, request_id)
        name = function.logical_id
        try:
            result = self.functions.invoke(name, event, within=INTEGRATION_TIMEOUT_SECONDS)
            response = compress(request, proxy_result_to_response(result), self._api.minimum_compression_size)
        except FunctionError as failure:
            logger.error("%s on %s %s", failure, request.method, _safe_for_log(request.path))
            timed_out = failure.kind == "Timeout" and function.timeout > INTEGRATION_TIMEOUT_SECONDS
            response = self._own("INTEGRATION_TIMEOUT" if timed_out else "INTEGRATION_FAILURE")
        except MalformedProxyResult as malformed:
            logger.error("%s returned a malformed Lambda proxy result: %s", name, malformed)
            response = self._own("INTEGRATION_FAILURE")
        response.headers["x-amzn-RequestId"] = request_id
        return response, f" {getattr(self.functions[name].served_by, 'name', name)}"

    def _own(self, response_type: str) -> Response:
        """API Gateway's own answer of that type: the template's gateway response if it declares one
        (or the DEFAULT_4XX/5XX it falls back to), else API Gateway's default."""
        status, body = _GATEWAY_RESPONSES[response_type]
        declared = self._api.gateway_responses if self._api else {}
        fallback = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        custom_status, custom_body = declared.get(response_type) or declared.get(fallback) or (None, None)
        text = custom_body if custom_body is not None else json.dumps(body)
        return Response(text, status=custom_status or status, content_type="application/json")


class GatewayRequestHandler(QuietRequestHandler):
    """werkzeug's handler: header names kept as received, no Server header, its own errors in JSON."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[RAW_HEADERS_ENVIRON_KEY] = list(self.headers.items())
        return environ

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if len(self.path) > MAX_URL_LENGTH:
            self.send_error(414)
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        codes = {414: ("uri_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters.")}
        error, text = codes.get(code, ("bad_request", "The request is not valid HTTP."))
        body = json.dumps({"error": {"code": error, "message": text, "details": []}}).encode()
        self.close_connection = True
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200:
            self.wfile.write(body)
