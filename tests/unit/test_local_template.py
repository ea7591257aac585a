"""The local stack reads template.yaml into the model it runs: tables, secrets, queues, routes, env."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from farewatch_local.stack import compose_environment
from farewatch_local.template import (
    ScheduleEvent,
    SqsEvent,
    TemplateError,
    load_template,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def write_template(tmp_path: Path, *parts: str) -> Path:
    """template.yaml from parts, each dedented on its own (function_resources() parts are pre-indented)."""
    path = tmp_path / "template.yaml"
    body = "".join(part if part.startswith("  Worker:") else textwrap.dedent(part) for part in parts)
    path.write_text('AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\n' + body)
    return path


def function_resources(events: str = "", environment: str = "") -> str:
    """A function resource for inline templates (its code is never imported by these tests)."""
    return textwrap.indent(
        textwrap.dedent(
            """\
            Worker:
              Type: AWS::Serverless::Function
              Properties:
                CodeUri: worker/
                Handler: worker_jobs.handler.lambda_handler
            """
        )
        + textwrap.indent(textwrap.dedent(environment), "    ")
        + textwrap.indent(textwrap.dedent(events), "    "),
        "  ",
    )


# -- template.yaml -------------------------------------------------------------------------------


def test_tables_come_from_the_template_with_their_keys_and_ttl():
    template = load_template(TEMPLATE)

    tables = {table.logical_id: table for table in template.tables}

    assert set(tables) >= {"CacheTable", "PriceHistoryTable", "SearchStatsTable"}
    cache = tables["CacheTable"]
    assert cache.name == "CacheTable"
    assert (cache.hash_key, cache.range_key) == ("pk", None)
    assert cache.ttl_attribute == "purge_at"
    history = tables["PriceHistoryTable"]
    assert (history.hash_key, history.range_key) == ("series", "observed_at")
    assert {(a.name, a.type) for a in history.attribute_definitions} == {
        ("series", "S"),
        ("observed_at", "S"),
    }
    assert history.ttl_attribute == "purge_at"


def test_the_amadeus_secret_starts_as_the_placeholder_an_operator_replaces():
    template = load_template(TEMPLATE)

    secret = template.secret("AmadeusCredentials")

    assert secret.name == "AmadeusCredentials"
    assert json.loads(secret.secret_string or "") == {"client_id": "", "client_secret": ""}


def test_the_price_function_serves_the_public_flight_routes_of_the_stage():
    template = load_template(TEMPLATE)

    price = template.function("PriceFunction")

    assert price.handler == "price_api.handler.lambda_handler"
    assert price.code_uri == ROOT / "functions" / "price"
    assert price.layers == (ROOT / "layers" / "common",)
    assert (price.timeout, price.memory) == (30, 512)
    routes = {(event.method, event.path) for event in price.api_events}
    assert ("GET", "/flights/ping") in routes and ("GET", "/flights/price") in routes
    assert {event.rest_api_id for event in price.api_events} == {"Api"}
    assert template.api.stage_name == "dev"


def test_the_function_environment_is_resolved_to_strings():
    template = load_template(TEMPLATE)

    environment = template.function("PriceFunction").environment

    assert environment["CACHE_TABLE"] == "CacheTable"
    assert environment["AMADEUS_SECRET_ID"] == "AmadeusCredentials"
    assert environment["FARE_CACHE_TTL_SECONDS"] == "600"
    assert environment["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert all(isinstance(value, str) for value in environment.values())


def test_parameter_overrides_flow_into_the_environment():
    template = load_template(TEMPLATE, {"LogLevel": "DEBUG", "FareCacheTtlSeconds": "60"})

    environment = template.function("PriceFunction").environment

    assert environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert environment["FARE_CACHE_TTL_SECONDS"] == "60"
    assert template.parameters["LogLevel"] == "DEBUG"


@pytest.mark.parametrize(
    "overrides",
    [{"LogLevel": "LOUD"}, {"FareCacheTtlSeconds": "5"}, {"Stage": "Not-Allowed"}, {"NoSuchParameter": "1"}],
)
def test_overrides_the_template_would_reject_are_refused(overrides):
    with pytest.raises(TemplateError):
        load_template(TEMPLATE, overrides)


# -- intrinsic functions -------------------------------------------------------------------------


def test_sub_resolves_parameters_resources_attributes_and_pseudo_parameters(tmp_path):
    path = write_template(
        tmp_path,
        """
        Parameters:
          Stage: {Type: String, Default: dev}
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties: {StageName: !Ref Stage}
          Jobs:
            Type: AWS::SQS::Queue
        """,
        function_resources(
            environment="""\
            Environment:
              Variables:
                NAMESPACE: !Sub Farewatch/${Stage}
                URL: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
                WHERE: !Sub "${AWS::Partition}:${AWS::AccountId}"
                QUEUE_ARN: !GetAtt Jobs.Arn
                QUEUE_NAME: !GetAtt Jobs.QueueName
                QUEUE_ARN_IN_SUB: !Sub "${Jobs.Arn}/x"
            """
        ),
    )

    environment = load_template(path).function("Worker").environment

    assert environment["NAMESPACE"] == "Farewatch/dev"
    assert environment["URL"] == "https://api0000000.execute-api.us-east-1.amazonaws.com/dev"
    assert environment["WHERE"] == "aws:123456789012"
    assert environment["QUEUE_ARN"] == "arn:aws:sqs:us-east-1:123456789012:Jobs"
    assert environment["QUEUE_NAME"] == "Jobs"
    assert environment["QUEUE_ARN_IN_SUB"] == "arn:aws:sqs:us-east-1:123456789012:Jobs/x"


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ('!Sub ["${X}", {X: a}]', r"X\.Fn::Sub: only the string form of Fn::Sub is supported locally"),
        ("!GetAtt Worker.Arn", r"X\.Fn::GetAtt: Worker\.Arn \(AWS::Serverless::Function\) is not supported"),
        ("!Sub '${AWS::StackName}'", r"no parameter or resource named 'AWS::StackName'"),
        ("!Ref AWS::NoValue", r"no parameter or resource named 'AWS::NoValue'"),
        ("!Join [-, [a, b]]", r"X: Fn::Join is not supported locally"),
    ],
)
def test_forms_of_the_intrinsics_template_yaml_does_not_use_are_refused_by_name(tmp_path, variable, message):
    path = write_template(
        tmp_path,
        "Resources:\n",
        function_resources(environment=f"Environment: {{Variables: {{X: {variable}}}}}\n"),
    )

    with pytest.raises(TemplateError, match=message):
        load_template(path)


def test_conditions_select_values_and_drop_resources(tmp_path):
    path = write_template(
        tmp_path,
        """
        Parameters:
          Stage: {Type: String, Default: dev}
          Sender: {Type: String, Default: ""}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          HasSender: !Not [!Equals [!Ref Sender, ""]]
        Resources:
          ProdOnlyTable:
            Type: AWS::DynamoDB::Table
            Condition: IsProd
            DeletionPolicy: Retain
            Properties:
              AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
              KeySchema: [{AttributeName: pk, KeyType: HASH}]
          SenderIdentity:
            Type: AWS::SES::EmailIdentity
            Condition: HasSender
            Properties: {EmailIdentity: !Ref Sender}
          ApiGatewayAccount:
            Type: AWS::ApiGateway::Account
            Condition: IsProd
            Properties: {CloudWatchRoleArn: !Join [":", [not, resolved, locally]]}
          WorkerLogs:
            Type: AWS::Logs::LogGroup
            Properties: {LogGroupName: !Sub "/aws/lambda/${Worker}", RetentionInDays: 30}
        """,
        function_resources(
            environment="""\
            Environment:
              Variables:
                MODE: !If [IsProd, production, !Sub "local-${Stage}"]
                SENDING: !If [HasSender, "yes", "no"]
            """
        ),
    )

    template = load_template(path)

    assert template.tables == [] and template.mail_identities == []
    assert template.function("Worker").environment == {"MODE": "local-dev", "SENDING": "no"}
    with_sender = load_template(path, {"Sender": "a@example.com", "Stage": "prod"})
    assert with_sender.function("Worker").environment == {"MODE": "production", "SENDING": "yes"}
    assert with_sender.mail_identities == ["a@example.com"] and len(with_sender.tables) == 1


@pytest.mark.parametrize(
    "condition", ["!And [!Equals [a, a], !Equals [b, b]]", "!Or [!Equals [a, a]]", "!Condition Other"]
)
def test_condition_functions_template_yaml_does_not_use_are_refused_by_name(tmp_path, condition):
    path = write_template(
        tmp_path,
        f"Conditions:\n  Other: !Equals [a, a]\n  Combined: {condition}\nResources:\n",
        function_resources(environment="Environment: {Variables: {X: !If [Combined, a, b]}}\n"),
    )
    construct = condition.split()[0].removeprefix("!")

    with pytest.raises(
        TemplateError, match=rf"Conditions\.Combined: (Fn::)?{construct} is not supported locally"
    ):
        load_template(path)


def test_an_unsupported_intrinsic_is_a_clear_error(tmp_path):
    path = write_template(
        tmp_path,
        "Resources:\n",
        function_resources(environment="Environment: {Variables: {CIDR: !Cidr [10.0.0.0/16, 2, 8]}}\n"),
    )

    with pytest.raises(
        TemplateError, match=r"Worker\.Properties\.Environment\.Variables\.CIDR: Fn::Cidr is not supported"
    ):
        load_template(path)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (
            "Topic: {Type: AWS::SNS::Topic}",
            r"Resources\.Topic \(line \d+\): the local stack cannot run AWS::SNS::Topic",
        ),
        ("Key: {Type: AWS::KMS::Key, Properties: {}}", "cannot run AWS::KMS::Key"),
    ],
)
def test_a_resource_type_the_local_stack_cannot_run_is_named(tmp_path, resource, message):
    path = write_template(tmp_path, "Resources:\n  " + resource + "\n", function_resources())

    with pytest.raises(TemplateError, match=message):
        load_template(path)


def test_an_event_source_the_local_stack_cannot_deliver_is_named(tmp_path):
    path = write_template(
        tmp_path,
        "Resources:\n",
        function_resources(events="Events:\n  Upload: {Type: S3, Properties: {Bucket: b, Events: x}}\n"),
    )

    with pytest.raises(TemplateError, match=r"Events\.Upload: the local stack cannot deliver S3 events"):
        load_template(path)


def test_a_template_that_is_not_valid_yaml_names_the_line(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  A: {Type: AWS::SQS::Queue}\n  A: {Type: AWS::SQS::Queue}\n")

    with pytest.raises(TemplateError, match=r"line \d+: .*Duplicate"):
        load_template(path)


def test_ref_to_an_unknown_name_is_a_clear_error(tmp_path):
    path = write_template(
        tmp_path,
        "Resources:\n",
        function_resources(environment="Environment: {Variables: {X: !Ref Nowhere}}\n"),
    )

    with pytest.raises(TemplateError, match="Nowhere"):
        load_template(path)


def test_globals_merge_into_each_function(tmp_path):
    path = write_template(
        tmp_path,
        """
        Globals:
          Function:
            Timeout: 30
            MemorySize: 512
            Environment:
              Variables: {SHARED: global, OVERRIDDEN: global}
        Resources:
          Layer:
            Type: AWS::Serverless::LayerVersion
            Properties: {ContentUri: layer/}
        """,
        function_resources(
            environment="""\
            Timeout: 60
            Layers: [!Ref Layer]
            Environment:
              Variables: {OVERRIDDEN: function, OWN: function}
            """
        ),
    )

    worker = load_template(path).function("Worker")

    assert (worker.timeout, worker.memory) == (60, 512)
    assert worker.environment == {"SHARED": "global", "OVERRIDDEN": "function", "OWN": "function"}
    assert worker.layers == (tmp_path / "layer",)
    assert worker.code_uri == tmp_path / "worker"


# -- event sources and resources the next issues add ---------------------------------------------


def test_schedule_events_are_read_with_their_rate(tmp_path):
    path = write_template(
        tmp_path,
        """
        Parameters:
          PollMinutes: {Type: Number, Default: 30}
        Resources:
        """,
        function_resources(
            events="""\
            Events:
              Poll:
                Type: Schedule
                Properties:
                  Schedule: !Sub "rate(${PollMinutes} minutes)"
                  Description: Poll the due routes.
            """
        ),
    )

    events = load_template(path).function("Worker").schedule_events

    assert events == [ScheduleEvent("Poll", "rate(30 minutes)")]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            "{Type: Schedule, Properties: {Schedule: rate(1 hour), Input: '{}'}}",
            r"Events\.Poll\.Properties\.Input is not supported locally for Schedule events",
        ),
        (
            "{Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 hour)}}",
            r"Events\.Poll: the local stack cannot deliver ScheduleV2 events",
        ),
        (
            "{Type: Api, Properties: {Path: /x, Method: get}}",
            r"Events\.Poll\.RestApiId must be !Ref to an API of this template",
        ),
        (
            "{Type: SQS, Properties: {Queue: !GetAtt Jobs.Arn, Enabled: false}}",
            r"Events\.Poll\.Properties\.Enabled is not supported locally for SQS events",
        ),
    ],
)
def test_event_forms_template_yaml_does_not_use_are_refused_by_name(tmp_path, event, message):
    path = write_template(
        tmp_path,
        "Resources:\n  Jobs: {Type: AWS::SQS::Queue}\n",
        function_resources(events=f"Events:\n  Poll: {event}\n"),
    )

    with pytest.raises(TemplateError, match=message):
        load_template(path)


def test_sqs_events_and_queues_keep_their_batch_and_redrive_settings(tmp_path):
    path = write_template(
        tmp_path,
        """
        Resources:
          RefreshDeadLetters:
            Type: AWS::SQS::Queue
            Properties: {MessageRetentionPeriod: 1209600}
          RefreshQueue:
            Type: AWS::SQS::Queue
            Properties:
              VisibilityTimeout: 180
              RedrivePolicy:
                deadLetterTargetArn: !GetAtt RefreshDeadLetters.Arn
                maxReceiveCount: 3
        """,
        function_resources(
            events="""\
            Events:
              Refresh:
                Type: SQS
                Properties:
                  Queue: !GetAtt RefreshQueue.Arn
                  BatchSize: 10
                  FunctionResponseTypes: [ReportBatchItemFailures]
                  ScalingConfig: {MaximumConcurrency: 2}
            """,
            environment="Environment: {Variables: {QUEUE: !Ref RefreshQueue}}\n",
        ),
    )

    template = load_template(path)

    queue = template.queue("RefreshQueue")
    assert queue.name == "RefreshQueue"
    assert (queue.visibility_timeout, queue.dead_letter_queue, queue.max_receive_count) == (
        180,
        "RefreshDeadLetters",
        3,
    )
    assert template.queue("RefreshDeadLetters").attributes == {"MessageRetentionPeriod": "1209600"}
    queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/RefreshQueue"
    assert template.function("Worker").environment["QUEUE"] == queue_url  # Ref of a queue is its URL
    (event,) = template.function("Worker").sqs_events
    assert event == SqsEvent("Refresh", "RefreshQueue", 10, ("ReportBatchItemFailures",), 2)
    assert event.reports_batch_item_failures
    assert template.queue_subscriptions == [(template.function("Worker"), event)]


def test_a_generated_secret_keeps_its_rules_for_secrets_manager_to_apply(tmp_path):
    path = write_template(
        tmp_path,
        """
        Resources:
          JwtSigningKey:
            Type: AWS::SecretsManager::Secret
            Properties:
              GenerateSecretString: {PasswordLength: 48, ExcludePunctuation: true}
        """,
    )

    secret = load_template(path).secret("JwtSigningKey")

    assert secret.name == "JwtSigningKey"
    assert secret.generate == {"PasswordLength": 48, "ExcludePunctuation": True}
    assert secret.secret_string is None


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (
            "Resources:\n  Jobs: {Type: AWS::SQS::Queue, Properties: {QueueName: jobs}}\n",
            r"Resources\.Jobs\.Properties\.QueueName is not supported locally",
        ),
        ("Globals:\n  Api: {OpenApiVersion: 3.0.1}\nResources:\n", r"Globals\.Api is not supported locally"),
        (
            "Resources:\n  Api:\n    Type: AWS::Serverless::Api\n"
            "    Properties: {StageName: x, BinaryMediaTypes: [image/png]}\n",
            r"Resources\.Api\.Properties\.BinaryMediaTypes is not supported locally",
        ),
        (
            "Parameters:\n  Code: {Type: String, MinLength: 2}\nResources:\n",
            r"Parameters\.Code: MinLength is not supported locally",
        ),
        (
            "Parameters:\n  Ids: {Type: CommaDelimitedList}\nResources:\n",
            r"Parameters\.Ids: CommaDelimitedList is not supported locally",
        ),
    ],
)
def test_template_features_template_yaml_does_not_use_are_refused_by_name(tmp_path, part, message):
    path = write_template(tmp_path, part, function_resources())

    with pytest.raises(TemplateError, match=message):
        load_template(path)


# -- each function's environment ----------------------------------------------------------------


def two_functions(tmp_path: Path) -> Path:
    return write_template(
        tmp_path,
        """
        Parameters:
          CacheSeconds: {Type: Number, Default: 600}
        Globals:
          Function:
            Environment:
              Variables:
                FAREWATCH_STAGE: dev
                CACHE_TABLE: CacheTable
                FARE_CACHE_TTL_SECONDS: !Ref CacheSeconds
        Resources:
          PriceFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: price/
              Handler: price_api.handler.lambda_handler
              Environment: {Variables: {LIMIT: "10"}}
          UsersFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: users/
              Handler: users_api.handler.lambda_handler
              Environment: {Variables: {LIMIT: "20"}}
        """,
    )


def test_each_function_has_its_own_environment(tmp_path):
    template = load_template(two_functions(tmp_path))

    price, users = (
        compose_environment(template, name, {}, {}) for name in ("PriceFunction", "UsersFunction")
    )

    assert (price["LIMIT"], users["LIMIT"]) == ("10", "20")


def test_user_exports_beat_the_template_and_the_stack_has_the_last_word(tmp_path):
    template = load_template(two_functions(tmp_path))

    environment = compose_environment(
        template,
        "PriceFunction",
        exported={
            "FAREWATCH_STAGE": "mine",
            "FAREWATCH_AWS_ENDPOINT": "http://elsewhere",
            "FARE_CACHE_TTL_SECONDS": "30",  # a variable the template takes from a parameter
            "CACHE_TABLE": "SomeoneElsesTable",  # one the template fixes: not the user's to change
            "FAREWATCH_UNRELATED": "x",  # one the function does not have
        },
        stack_owned={"FAREWATCH_AWS_ENDPOINT": "http://127.0.0.1:4566"},
    )

    assert environment["FAREWATCH_STAGE"] == "mine"
    assert environment["FARE_CACHE_TTL_SECONDS"] == "30"
    assert environment["CACHE_TABLE"] == "CacheTable"
    assert "FAREWATCH_UNRELATED" not in environment
    assert environment["FAREWATCH_AWS_ENDPOINT"] == "http://127.0.0.1:4566"
    assert environment["POWERTOOLS_METRICS_DISABLED"] == "true"
