"""The local API Gateway builds the REST proxy events API Gateway sends and answers the way it does;
each function runs in its own processes (a pool of two here), one event at a time per process."""

from __future__ import annotations

import base64
import json
import re
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from fare_sim.server import start
from farewatch_local.functions import FunctionPools
from farewatch_local.gateway import RAW_HEADERS_ENVIRON_KEY, GatewayRequestHandler, LocalGateway
from farewatch_local.template import load_template
from tests.support.parallel import side_by_side

PROBE_HANDLER = '''
"""A handler that shows the gateway what it received, and misbehaves on request."""
import base64
import json
import os
import threading
import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()
running = 0
most_running = 0
_count_lock = threading.Lock()


@app.get("/resolver/<name>")
def greet(name):
    return {"name": name, "q": app.current_event.get_query_string_value("q")}


def lambda_handler(event, context):
    global running, most_running
    resource = event["resource"]
    if resource == "/boom":
        raise RuntimeError("the database password is hunter2")
    if resource == "/malformed":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if resource == "/binary":
        body = base64.b64encode(b"\\x89PNG\\x00\\xff").decode()
        headers = {"Content-Type": "image/png"}
        return {"statusCode": 200, "headers": headers, "body": body, "isBase64Encoded": True}
    if resource == "/cookies":
        return {
            "statusCode": 201,
            "headers": {"X-Single": "one", "Set-Cookie": "ignored=1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        }
    if resource.startswith("/resolver"):
        return app.resolve(event, context)
    if resource == "/slow":
        with _count_lock:
            running += 1
            most_running = max(most_running, running)
        time.sleep(float((event["queryStringParameters"] or {}).get("seconds", "0.05")))
        with _count_lock:
            running -= 1
    if resource == "/forever":
        time.sleep(60)
    seen = {
        "event": event,
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
        "most_running": most_running,
        "pid": os.getpid(),
        "log_name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
    }
    return {"statusCode": 200, "body": json.dumps(seen)}
'''

PROBE_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: test
      MinimumCompressionSize: 1024
      GatewayResponses:
        MISSING_AUTHENTICATION_TOKEN:
          StatusCode: "404"
          ResponseTemplates:
            application/json: '{"error": {"code": "not_found", "message": "No such route.", "details": []}}'
        DEFAULT_5XX:
          ResponseTemplates:
            application/json: '{"error": {"code": "gateway_error", "message": "Retry.", "details": []}}'
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: probe/
      Handler: gateway_probe_api.handler.lambda_handler
      Timeout: 1
      Events:
        Other: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /other, Method: get}}
        Forever: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /forever, Method: get}}
  ProbeFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: probe/
      Handler: gateway_probe_api.handler.lambda_handler
      Events:
        Echo: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /echo, Method: any}}
        Items: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /items, Method: get}}
        Item: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/items/{item_id}", Method: get}}
        Special: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /items/special, Method: get}}
        Files: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/files/{proxy+}", Method: get}}
        Boom: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /boom, Method: get}}
        Malformed: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /malformed, Method: get}}
        Binary: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /binary, Method: get}}
        Cookies: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /cookies, Method: get}}
        Resolver: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/resolver/{name}", Method: get}}
        Slow: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /slow, Method: get}}
"""

# Every key API Gateway puts in a REST (v1) proxy event, at the top and in requestContext.
EVENT_KEYS = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
    "body",
    "isBase64Encoded",
}
REQUEST_CONTEXT_KEYS = {
    "accountId",
    "apiId",
    "resourceId",
    "resourcePath",
    "httpMethod",
    "path",
    "stage",
    "requestId",
    "requestTime",
    "requestTimeEpoch",
    "identity",
    "protocol",
    "domainName",
    "domainPrefix",
    "extendedRequestId",
}


@dataclass
class Probe:
    gateway: LocalGateway
    client: Client
    request_log: list[str]

    def seen(self, path: str, **kwargs) -> dict:
        response = self.client.get(path, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)
        return json.loads(response.get_data(as_text=True))


def poll(request: Request) -> Response:
    return Response(json.dumps({"data": {"routes_polled": 0}}), content_type="application/json")


def probe_project(root: Path) -> Path:
    """The probe function's package and template under `root`; the template's path."""
    package = root / "probe" / "gateway_probe_api"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(textwrap.dedent(PROBE_HANDLER))
    (root / "template.yaml").write_text(PROBE_TEMPLATE)
    return root / "template.yaml"


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    request_log: list[str] = []
    template = load_template(probe_project(tmp_path_factory.mktemp("gateway")))
    functions = FunctionPools(template, api_instances=2, announce=request_log.append)
    gateway = LocalGateway(
        template, functions, local_routes={("POST", "/__local/poll"): poll}, request_log=request_log.append
    )
    yield Probe(gateway, Client(gateway), request_log)
    functions.stop()


def event_for(probe: Probe, path: str, **kwargs) -> dict:
    return probe.seen(path, **kwargs)["event"]


# -- the event -----------------------------------------------------------------------------------


def test_the_event_has_exactly_the_keys_api_gateway_sends(probe):
    event = event_for(probe, "/echo")

    assert set(event) == EVENT_KEYS
    assert set(event["requestContext"]) >= REQUEST_CONTEXT_KEYS
    assert {"sourceIp", "userAgent"} <= set(event["requestContext"]["identity"])


def test_powertools_reads_the_event_as_an_api_gateway_rest_event(probe):
    raw = event_for(probe, "/items/42", query_string="currency=EUR", headers={"User-Agent": "curl/8.5"})

    event = APIGatewayProxyEvent(raw)

    assert event.http_method == "GET"
    assert event.path == "/items/42"
    assert event.resource == "/items/{item_id}"
    assert event.path_parameters == {"item_id": "42"}
    assert event.get_query_string_value("currency") == "EUR"
    assert event.headers.get("user-agent") == "curl/8.5"
    assert raw["stageVariables"] is None
    assert event.body is None and event.is_base64_encoded is False
    context = event.request_context
    assert (context.stage, context.path, context.resource_path) == (
        "test",
        "/test/items/42",
        "/items/{item_id}",
    )
    assert context.account_id == "123456789012"
    assert context.identity.source_ip == "127.0.0.1"
    assert context.identity.user_agent == "curl/8.5"
    assert isinstance(context.request_time_epoch, int)
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context.request_time or "")


def test_repeated_query_parameters_keep_every_value_and_the_last_wins_the_single_map(probe):
    event = event_for(probe, "/echo", query_string="tag=cheap&tag=nonstop&empty=&city=New+York%21")

    assert event["queryStringParameters"] == {"tag": "nonstop", "empty": "", "city": "New York!"}
    assert event["multiValueQueryStringParameters"] == {
        "tag": ["cheap", "nonstop"],
        "empty": [""],
        "city": ["New York!"],
    }


def test_no_query_and_no_path_parameters_are_null_not_empty(probe):
    event = event_for(probe, "/echo")

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None


def test_repeated_headers_keep_every_value_and_their_casing(probe):
    received = [("Accept", "application/json"), ("x-Trace-TAG", "first"), ("x-Trace-TAG", "second")]

    event = event_for(probe, "/echo", environ_overrides={RAW_HEADERS_ENVIRON_KEY: received})

    assert event["headers"]["x-Trace-TAG"] == "second"
    assert event["multiValueHeaders"]["x-Trace-TAG"] == ["first", "second"]
    assert event["multiValueHeaders"]["Accept"] == ["application/json"]


def test_api_gateway_adds_its_forwarding_headers(probe):
    event = event_for(probe, "/echo", headers={"X-Forwarded-For": "203.0.113.9"})

    assert event["headers"]["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")


def test_a_text_body_is_passed_as_text(probe):
    response = probe.client.post("/echo", json={"origin": "JFK"})

    event = json.loads(response.get_data(as_text=True))["event"]
    assert event["httpMethod"] == "POST"
    assert json.loads(event["body"]) == {"origin": "JFK"}
    assert event["isBase64Encoded"] is False


def test_a_body_that_is_not_utf8_is_passed_base64_encoded(probe):
    payload = b"\xff\xfe\x00binary"

    response = probe.client.put("/echo", data=payload, content_type="application/octet-stream")

    event = json.loads(response.get_data(as_text=True))["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


# -- routing -------------------------------------------------------------------------------------


def test_a_literal_segment_wins_over_a_path_parameter(probe):
    assert event_for(probe, "/items/special")["resource"] == "/items/special"
    assert event_for(probe, "/items/other")["pathParameters"] == {"item_id": "other"}


def test_a_greedy_path_parameter_takes_the_rest_of_the_path(probe):
    event = event_for(probe, "/files/2026/11/fares.csv")

    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "2026/11/fares.csv"}


def test_an_unknown_path_is_a_404_in_the_error_envelope(probe):
    response = probe.client.get("/flights/nowhere")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"] == "No such route."  # as the template's gateway response


def test_a_method_a_template_path_lacks_is_the_404_api_gateway_gives(probe):
    # Without an ANY route, API Gateway answers MISSING_AUTHENTICATION_TOKEN: our template's 404.
    response = probe.client.delete("/items")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_powertools_resolves_routes_from_the_gateways_events(probe):
    response = probe.client.get("/resolver/ada", query_string="q=fares")

    assert response.status_code == 200
    assert response.json == {"name": "ada", "q": "fares"}


def test_a_local_route_is_served_next_to_the_template_routes(probe):
    assert probe.client.post("/__local/poll").json == {"data": {"routes_polled": 0}}
    refused = probe.client.get("/__local/poll")
    assert (refused.status_code, refused.headers["Allow"]) == (405, "POST")
    assert refused.json["error"]["code"] == "method_not_allowed"


# -- the function and its result -----------------------------------------------------------------


def test_the_handler_gets_a_lambda_context_for_its_function(probe):
    context = probe.seen("/echo")["context"]

    assert context["function_name"] == "ProbeFunction"
    assert context["memory_limit_in_mb"] == 256
    assert context["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:ProbeFunction"
    assert re.fullmatch(r"[0-9a-f-]{36}", context["aws_request_id"])
    assert 0 < context["remaining_ms"] <= 10_000


GATEWAY_ERROR = {"error": {"code": "gateway_error", "message": "Retry.", "details": []}}


def test_a_handler_that_raises_is_a_502_in_the_templates_gateway_response(probe, caplog):
    response = probe.client.get("/boom")

    assert response.status_code == 502
    assert response.json == GATEWAY_ERROR  # DEFAULT_5XX, as API Gateway answers a failed integration
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError: the database password is hunter2" in caplog.text  # the operator's log has it


def test_a_malformed_result_is_a_502(probe, caplog):
    response = probe.client.get("/malformed")

    assert response.status_code == 502
    assert response.json == GATEWAY_ERROR
    assert "body is a dict" in caplog.text


def test_a_function_past_its_timeout_is_stopped_and_its_next_request_gets_a_new_instance(probe, caplog):
    started = time.monotonic()
    response = probe.client.get("/forever")

    assert response.status_code == 502 and response.json == GATEWAY_ERROR
    assert time.monotonic() - started < 10  # OtherFunction's Timeout is 1 s
    assert "Task timed out after 1.00 seconds" in caplog.text
    assert probe.client.get("/other").status_code == 200


def test_a_base64_result_is_sent_as_bytes(probe):
    response = probe.client.get("/binary")

    assert response.headers["Content-Type"] == "image/png"
    assert response.get_data() == b"\x89PNG\x00\xff"


def test_answers_over_the_minimum_compression_size_are_gzipped_for_clients_that_accept_it(probe):
    import gzip

    compressed = probe.client.get("/echo", headers={"Accept-Encoding": "br, gzip;q=0.8"})
    plain = probe.client.get("/echo")
    refused = probe.client.get("/echo", headers={"Accept-Encoding": "gzip;q=0"})
    small = probe.client.get("/cookies", headers={"Accept-Encoding": "gzip"})

    assert (
        compressed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in compressed.headers["Vary"]
    )
    assert json.loads(gzip.decompress(compressed.get_data()))["event"]["path"] == "/echo"
    assert (
        "Content-Encoding" not in plain.headers and json.loads(plain.get_data())["event"]["path"] == "/echo"
    )
    assert "Content-Encoding" not in refused.headers
    assert "Content-Encoding" not in small.headers  # under 1024 bytes: not worth it


def test_single_and_multi_value_headers_are_merged_with_multi_values_winning(probe):
    response = probe.client.get("/cookies")

    assert response.status_code == 201
    assert response.headers["X-Single"] == "one"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers["Content-Type"] == "application/json"  # API Gateway's default


def test_each_instance_runs_one_request_at_a_time_and_the_pool_runs_two(probe):
    seen = side_by_side(*[lambda: probe.seen("/slow", query_string="seconds=0.3")] * 4)

    assert {answer["most_running"] for answer in seen} == {1}  # never two events in one process
    assert len({answer["pid"] for answer in seen}) == 2  # the pool's two instances both worked


def test_a_slow_function_does_not_hold_up_another_one(probe):
    def slow() -> float:
        started = time.monotonic()
        probe.seen("/slow", query_string="seconds=2")
        return time.monotonic() - started

    def other() -> float:
        time.sleep(0.3)  # let the slow requests take both ProbeFunction instances first
        started = time.monotonic()
        answer = probe.seen("/other")
        assert answer["log_name"] == answer["context"]["function_name"] == "OtherFunction"
        return time.monotonic() - started

    slow_one, slow_two, other_seconds = side_by_side(slow, slow, other)

    assert min(slow_one, slow_two) >= 2
    assert other_seconds < 1


def test_every_instance_was_a_cold_start_once_and_is_reused_warm(probe):
    probe.seen("/echo")
    pids = {probe.seen("/echo")["pid"] for _ in range(6)}

    cold_starts = [line for line in probe.request_log if "cold start" in line and "ProbeFunction#" in line]
    assert 1 <= len(pids) <= 2 and len(cold_starts) <= 2
    assert all(re.fullmatch(r"ProbeFunction#\d cold start: init \d+ ms", line) for line in cold_starts)


def test_each_request_is_logged_on_one_line(probe):
    probe.request_log.clear()

    probe.client.get("/items/7", query_string="currency=EUR")
    probe.client.get("/missing")

    lines = [line for line in probe.request_log if "cold start" not in line]
    assert re.fullmatch(r"GET /items/7\?currency=EUR 200 \d+\.\dms ProbeFunction#\d", lines[0])
    assert re.fullmatch(r"GET /missing 404 \d+\.\dms", lines[1])


# -- the HTTP server -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(probe: Probe) -> Iterator[str]:
    server = start(probe.gateway, port=0, service="the API gateway", request_handler=GatewayRequestHandler)
    yield server.url
    server.stop()


def test_no_response_names_the_server_software(served):
    for path in ("/echo", "/nowhere"):
        assert "Server" not in requests.get(f"{served}{path}", timeout=10).headers


def test_an_over_long_url_is_a_414_in_the_error_envelope(served):
    response = requests.get(f"{served}/echo?q={'x' * 9000}", timeout=10)

    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"
    assert "Server" not in response.headers


def test_a_url_of_the_longest_allowed_length_is_served(served):
    path = "/echo?q="
    assert requests.get(f"{served}{path}{'x' * (8192 - len(path))}", timeout=10).status_code == 200


def test_a_stop_lets_the_invocation_in_flight_finish_before_it_returns(tmp_path: Path) -> None:
    template = load_template(probe_project(tmp_path))
    functions = FunctionPools(template, api_instances=1, announce=lambda line: None)
    gateway = LocalGateway(template, functions, local_routes={}, request_log=lambda line: None)
    client = Client(gateway)
    client.get("/echo")  # warm: the instance exists and is idle

    def slow() -> tuple[int, float]:
        response = client.get("/slow", query_string="seconds=1")
        return response.status_code, time.monotonic()

    def stop() -> float:
        time.sleep(0.3)  # the slow request has the instance by now
        functions.stop()
        return time.monotonic()

    (status, answered_at), stopped_at = side_by_side(slow, stop)

    assert status == 200  # not cut off by the stop
    assert stopped_at >= answered_at  # the stop returned only once the invocation had
