"""The embedded AWS gets template.yaml's tables, secrets and queues; the local stack runs on top of it.

Everything here talks to real sockets on free loopback ports: moto's server, the local stack
in-process, and `python -m farewatch_local` as a subprocess.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from werkzeug.wrappers import Request, Response

from fare_sim.server import PortInUse, start
from farewatch_local.aws import EmbeddedAws, provision
from farewatch_local.stack import LocalStack, StackConfig
from farewatch_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def moto_server() -> Iterator[EmbeddedAws]:
    aws = EmbeddedAws("127.0.0.1", 0)
    aws.start()
    yield aws
    aws.stop()


@pytest.fixture
def aws_url(moto_server: EmbeddedAws) -> str:
    requests.post(f"{moto_server.url}/moto-api/reset", timeout=5).raise_for_status()
    return moto_server.url


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="farewatch-local",
        aws_secret_access_key="farewatch-local",
    )


# -- provisioning --------------------------------------------------------------------------------


def test_every_table_of_the_template_is_created_with_its_key_schema(aws_url):
    template = load_template(TEMPLATE)

    provision(template, aws_url)

    dynamodb = client("dynamodb", aws_url)
    assert set(dynamodb.list_tables()["TableNames"]) == {table.name for table in template.tables}
    for table in template.tables:
        described = dynamodb.describe_table(TableName=table.name)["Table"]
        assert [(key["AttributeName"], key["KeyType"]) for key in described["KeySchema"]] == [
            (key.name, key.key_type) for key in table.key_schema
        ]
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_the_cache_table_has_ttl_on_its_purge_attribute(aws_url):
    provision(load_template(TEMPLATE), aws_url)

    ttl = client("dynamodb", aws_url).describe_time_to_live(TableName="CacheTable")["TimeToLiveDescription"]

    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "purge_at"}


def test_the_amadeus_secret_is_created_with_the_template_placeholder(aws_url):
    provision(load_template(TEMPLATE), aws_url)

    secret = client("secretsmanager", aws_url).get_secret_value(SecretId="AmadeusCredentials")
    assert json.loads(secret["SecretString"]) == {"client_id": "", "client_secret": ""}


def test_provisioning_twice_leaves_the_resources_as_they_are(aws_url):
    provision(load_template(TEMPLATE), aws_url)
    client("dynamodb", aws_url).put_item(TableName="CacheTable", Item={"pk": {"S": "fares#kept"}})
    operator_value = json.dumps({"client_id": "set-by-operator", "client_secret": "s"})
    client("secretsmanager", aws_url).put_secret_value(
        SecretId="AmadeusCredentials", SecretString=operator_value
    )

    provision(load_template(TEMPLATE), aws_url)

    item = client("dynamodb", aws_url).get_item(TableName="CacheTable", Key={"pk": {"S": "fares#kept"}})
    assert "Item" in item
    secret = client("secretsmanager", aws_url).get_secret_value(SecretId="AmadeusCredentials")
    assert json.loads(secret["SecretString"])["client_id"] == "set-by-operator"


def test_a_generated_secret_is_made_by_secrets_manager_with_the_templates_rules(aws_url):
    provision(load_template(TEMPLATE), aws_url)

    key = client("secretsmanager", aws_url).get_secret_value(SecretId="JwtSigningKey")["SecretString"]

    assert len(key) == 64 and key.isalnum()  # PasswordLength 64, ExcludePunctuation


def test_queues_are_created_dead_letter_queue_first_with_their_redrive_policy(aws_url, tmp_path):
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent(
            """
            Resources:
              RefreshQueue:
                Type: AWS::SQS::Queue
                Properties:
                  VisibilityTimeout: 180
                  RedrivePolicy: {deadLetterTargetArn: !GetAtt RefreshDeadLetters.Arn, maxReceiveCount: 3}
              RefreshDeadLetters:
                Type: AWS::SQS::Queue
            """
        )
    )

    provision(load_template(tmp_path / "template.yaml"), aws_url)

    sqs = client("sqs", aws_url)
    url = sqs.get_queue_url(QueueName="RefreshQueue")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "180"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":RefreshDeadLetters")
    assert int(redrive["maxReceiveCount"]) == 3


def test_the_embedded_aws_refuses_a_port_that_is_taken():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()

        with pytest.raises(PortInUse, match=r"the embedded AWS cannot listen .* already in use"):
            EmbeddedAws("127.0.0.1", taken.getsockname()[1]).start()


# -- the local stack on top of it ----------------------------------------------------------------

STACK_HANDLER = '''
"""Answers /ping, and /tables with what the embedded AWS holds (so its environment must be set)."""
import http.client
import json
import os

import boto3


def lambda_handler(event, context):
    if event["resource"] == "/tables":
        tables = boto3.client("dynamodb").list_tables()["TableNames"]
        stage, fares = os.environ["FAREWATCH_STAGE"], os.environ["AMADEUS_BASE_URL"]
        body = {"tables": tables, "stage": stage, "fares": fares}
    else:
        body = {"data": "pong", "headers": event["multiValueHeaders"]}
    return {"statusCode": 200, "body": json.dumps(body)}
'''

STACK_TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: local}
  AmadeusBaseUrl: {Type: String, Default: "https://test.api.amadeus.com"}
Globals:
  Function:
    Environment:
      Variables:
        FAREWATCH_STAGE: !Ref Stage
        AMADEUS_BASE_URL: !Ref AmadeusBaseUrl
        STATS_TABLE: !Ref StatsTable
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: !Ref Stage}
  StatsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  ProbeFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: probe/
      Handler: stack_probe_api.handler.lambda_handler
      Events:
        Ping: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /ping, Method: get}}
        Tables: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /tables, Method: get}}
"""


@pytest.fixture(scope="module")
def stack_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-function template and its handler."""
    root = tmp_path_factory.mktemp("stack")
    package = root / "probe" / "stack_probe_api"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(STACK_HANDLER)
    (root / "template.yaml").write_text(STACK_TEMPLATE)
    return root


def stub_simulator(source: str, host: str, port: int, arguments):
    def app(environ, start_response):
        body = {"source": source, "client_id": arguments["client_id"], "path": Request(environ).path}
        return Response(json.dumps(body), content_type="application/json")(environ, start_response)

    return start(app, host, port, service="the stub simulator")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_stack_serves_the_template_on_free_ports_and_stops_cleanly(stack_project):
    config = StackConfig(
        api_port=0, simulator_port=0, aws_port=0, template_path=stack_project / "template.yaml"
    )
    before = dict(os.environ)

    with LocalStack(config, start_simulator=stub_simulator) as stack:
        urls = stack.urls
        answer = requests.get(f"{stack.api_url}/tables", timeout=10).json()
        simulator = requests.get(f"{stack.amadeus_url}/anything", timeout=5).json()

    assert "StatsTable" in answer["tables"]
    assert (answer["stage"], answer["fares"]) == ("local", urls["amadeus"])
    assert (simulator["source"], simulator["client_id"]) == ("amadeus", "farewatch-local")
    assert dict(os.environ) == before
    for url in urls.values():
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)


def test_the_stack_passes_header_names_as_the_client_sent_them(stack_project):
    config = StackConfig(
        api_port=0, simulator_port=0, aws_port=0, template_path=stack_project / "template.yaml"
    )

    with LocalStack(config, start_simulator=stub_simulator) as stack:
        connection = http.client.HTTPConnection(stack.api_url.removeprefix("http://"), timeout=10)
        connection.putrequest("GET", "/ping")
        connection.putheader("x-Fare-WATCH", "1")
        connection.putheader("x-Fare-WATCH", "2")
        connection.endheaders()
        seen = json.loads(connection.getresponse().read())
        connection.close()

    assert seen["headers"]["x-Fare-WATCH"] == ["1", "2"]


def test_a_taken_port_stops_what_already_started(stack_project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = StackConfig(
            api_port=taken.getsockname()[1],
            simulator_port=0,
            aws_port=0,
            template_path=stack_project / "template.yaml",
        )
        stack = LocalStack(config, start_simulator=stub_simulator)

        with pytest.raises(PortInUse, match="API gateway"):
            stack.start()

    assert stack.services == []


# -- python -m farewatch_local -------------------------------------------------------------------


def run_stack(stack_project: Path, **variables: str) -> subprocess.Popen[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "AMADEUS_"))
    }
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "local"), str(ROOT / "layers" / "common")])
    environment["FAREWATCH_DATA_DIR"] = str(stack_project / "data")
    environment["FAREWATCH_TEMPLATE"] = str(stack_project / "template.yaml")
    environment.update(variables)
    return subprocess.Popen(
        [sys.executable, "-m", "farewatch_local"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_command_prints_its_urls_logs_requests_and_exits_0_on_sigterm(stack_project):
    api_port = free_port()
    process = run_stack(
        stack_project,
        FAREWATCH_PORT=str(api_port),
        FAREWATCH_SIM_PORT=str(free_port()),
        FAREWATCH_AWS_PORT=str(free_port()),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                if requests.get(f"http://127.0.0.1:{api_port}/ping?from=test", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the stack did not answer within 30 s"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        process.kill()

    assert process.returncode == 0
    assert f"http://127.0.0.1:{api_port}" in stdout
    assert "StatsTable" in stdout
    assert f"curl http://127.0.0.1:{api_port}/ping" in stdout
    assert "GET /ping?from=test 200" in stdout
    assert stdout.rstrip().endswith(f"farewatch-local: stopped (data saved in {stack_project / 'data'})")
    assert "Traceback" not in stdout + stderr


def test_the_command_explains_a_taken_port_in_one_line_and_exits_1(stack_project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        process = run_stack(
            stack_project,
            FAREWATCH_PORT=str(port),
            FAREWATCH_SIM_PORT=str(free_port()),
            FAREWATCH_AWS_PORT=str(free_port()),
        )
        try:
            stdout, stderr = process.communicate(timeout=30)
        finally:
            process.kill()

    assert process.returncode == 1
    assert stderr.strip().splitlines() == [
        f"farewatch-local: the API gateway cannot listen on 127.0.0.1:{port}: the port is already in use"
    ]
    assert "Traceback" not in stdout


def test_no_local_server_names_its_software(aws_url):
    from amadeus_sim.app import Simulator

    simulator = start(Simulator(), port=0)
    try:
        answers = [
            requests.get(f"{aws_url}/moto-api/data.json", timeout=10),
            requests.get(simulator.url, timeout=10),
        ]
    finally:
        simulator.stop()

    assert [("Server" in answer.headers) for answer in answers] == [False, False]
