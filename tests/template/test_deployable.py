"""template.yaml deploys on a fresh AWS account, twice, and keeps its data: checked on the CloudFormation the
SAM CLI's translator makes of it, for the template's defaults and each samconfig.toml environment; and each
rule is shown to fail on a copy of the template that brings back what it guards against."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.template.cloudformation import (
    NOT_USER_DATA,
    Template,
    load_sam_document,
    parameter_values_problems,
    problems,
    properties,
    resources,
    samconfig_environments,
    translate,
)

SAM = load_sam_document()
SAMCONFIG = samconfig_environments()
ENVIRONMENTS = {
    "template defaults": {},
    **{f"samconfig {name}": values for name, values in SAMCONFIG.items()},
}
USER_DATA_TABLES = {
    "UsersTable",
    "AuthTable",
    "TrackersTable",
    "WatchedRoutesTable",
    "AlertsTable",
    "WebhooksTable",
}


@pytest.fixture(scope="module")
def translated() -> dict[str, Template]:
    return {name: translate(SAM, values) for name, values in ENVIRONMENTS.items()}


@pytest.fixture(scope="module")
def cloudformation(translated: dict[str, Template]) -> Template:
    return translated["template defaults"]


# --------------------------------------------------------------------------------------------------
# The template as it is.


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_template_keeps_every_rule_in_each_environment(translated, environment):
    assert problems(translated[environment]) == []


ISSUE_15_LIMITS = {
    "ForceRefreshMinSeconds": ("FORCE_REFRESH_MIN_SECONDS", 60),
    "PollDailySearchBudget": ("POLL_DAILY_SEARCH_BUDGET", 0),
    "AnonymousRefreshesPerIpPerMinute": ("ANONYMOUS_REFRESHES_PER_IP_PER_MINUTE", 10),
}


@pytest.mark.parametrize("parameter", ISSUE_15_LIMITS)
def test_the_cost_limits_are_bounded_number_parameters_every_function_reads(cloudformation, parameter):
    variable, default = ISSUE_15_LIMITS[parameter]
    declared = SAM["Parameters"][parameter]

    assert (declared["Type"], declared["Default"]) == ("Number", default)
    assert declared["MinValue"] <= default <= declared["MaxValue"]
    functions = {
        name: resource
        for name, resource in resources(cloudformation, "AWS::Lambda::Function")
        if "Variables" in resource["Properties"].get("Environment", {})
    }
    assert functions
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        if "CACHE_TABLE" in variables:  # every farewatch function (the web function reads none of this)
            assert variables[variable] == {"Ref": parameter}, name


@pytest.mark.parametrize("environment", SAMCONFIG)
def test_samconfig_passes_only_parameter_values_cloudformation_accepts(environment):
    assert SAMCONFIG[environment], f"samconfig.toml [{environment}] sets no parameter_overrides"
    assert parameter_values_problems(SAM, SAMCONFIG[environment]) == []


def test_only_the_configured_stage_exists(cloudformation):
    stages = [properties(stage) for _, stage in resources(cloudformation, "AWS::ApiGateway::Stage")]
    deployments = [properties(d) for _, d in resources(cloudformation, "AWS::ApiGateway::Deployment")]

    assert [stage["StageName"] for stage in stages] == [{"Ref": "Stage"}]
    assert len(deployments) == 1 and "StageName" not in deployments[0]


def test_no_function_reserves_concurrency_and_the_worker_is_capped_by_its_queue(cloudformation):
    functions = dict(resources(cloudformation, "AWS::Lambda::Function"))
    mappings = [properties(m) for _, m in resources(cloudformation, "AWS::Lambda::EventSourceMapping")]

    assert len(functions) == 6  # price, users, web, the dispatcher, the worker and the notifier
    assert not any("ReservedConcurrentExecutions" in properties(f) for f in functions.values())
    assert {m["FunctionName"]["Ref"]: m["ScalingConfig"] for m in mappings} == {
        "PollWorkerFunction": {"MaximumConcurrency": 2},
        "NotifierFunction": {"MaximumConcurrency": 2},
    }


def test_price_drops_and_mail_feedback_reach_the_notifier_through_its_queue(cloudformation):
    rules = {
        logical_id: properties(rule)
        for logical_id, rule in resources(cloudformation, "AWS::Events::Rule")
        if logical_id in ("PriceDropRule", "MailFeedbackRule")  # SAM makes the schedule's rule too
    }
    assert len(rules) == 2
    (policy,) = (properties(p) for _, p in resources(cloudformation, "AWS::SQS::QueuePolicy"))
    (statement,) = policy["PolicyDocument"]["Statement"]

    assert rules["PriceDropRule"]["EventPattern"] == {
        "source": ["farewatch"],
        "detail-type": ["PriceDropDetected"],
    }
    assert rules["MailFeedbackRule"]["EventPattern"]["detail-type"] == [
        "Email Bounced",
        "Email Complaint Received",
    ]
    assert {rule["Targets"][0]["Arn"]["Fn::GetAtt"][0] for rule in rules.values()} == {"NotifyQueue"}
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": ["PriceDropRule", "Arn"]},
        {"Fn::GetAtt": ["MailFeedbackRule", "Arn"]},
    ]


def test_every_function_and_the_access_log_write_to_a_log_group_that_expires(cloudformation):
    functions = {logical_id for logical_id, _ in resources(cloudformation, "AWS::Lambda::Function")}
    groups = [properties(group) for _, group in resources(cloudformation, "AWS::Logs::LogGroup")]

    named = {group["LogGroupName"]["Fn::Sub"] for group in groups if "LogGroupName" in group}
    assert named == {f"/aws/lambda/${{{function}}}" for function in functions}
    assert len(groups) == len(functions) + 1  # and the API's access log
    assert all(group["RetentionInDays"] == {"Ref": "LogRetentionDays"} for group in groups)


def test_the_user_data_tables_are_retained_and_protected(cloudformation):
    tables = dict(resources(cloudformation, "AWS::DynamoDB::Table"))
    protected = {
        logical_id
        for logical_id, table in tables.items()
        if table.get("DeletionPolicy") == table.get("UpdateReplacePolicy") == "Retain"
        and properties(table).get("DeletionProtectionEnabled") is True
    }

    assert protected == USER_DATA_TABLES
    assert set(tables) == USER_DATA_TABLES | set(NOT_USER_DATA)


def test_no_secret_value_comes_from_a_parameter(cloudformation):
    secrets = {
        logical_id: properties(secret)
        for logical_id, secret in resources(cloudformation, "AWS::SecretsManager::Secret")
    }
    no_echo = [
        name for name, declaration in cloudformation["Parameters"].items() if declaration.get("NoEcho")
    ]

    assert no_echo == []
    assert secrets["AmadeusCredentials"]["SecretString"] == '{"client_id": "", "client_secret": ""}'
    assert secrets["DuffelCredentials"]["SecretString"] == '{"access_token": ""}'
    assert secrets["IgnavCredentials"]["SecretString"] == '{"api_key": ""}'
    assert (
        "SecretString" not in secrets["JwtSigningKey"] and "GenerateSecretString" in secrets["JwtSigningKey"]
    )


def test_the_layer_is_built_for_the_runtime_it_declares():
    layer = SAM["Resources"]["CommonLayer"]
    runtime = SAM["Globals"]["Function"]["Runtime"]
    # The layer's Makefile (BuildMethod: makefile, so it can leave out the runtime's boto3/botocore)
    # chooses its wheels for one Python version: the one the functions run on.
    makefile = (
        Path(__file__).resolve().parents[2] / layer["Properties"]["ContentUri"] / "Makefile"
    ).read_text()

    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
    assert f"--python-version {runtime.removeprefix('python')} " in makefile


# --------------------------------------------------------------------------------------------------
# The check fails on a template that reintroduces what it guards against.


def resource(document: Template, logical_id: str) -> dict[str, Any]:
    return document["Resources"][logical_id]


def props(document: Template, logical_id: str) -> dict[str, Any]:
    return resource(document, logical_id)["Properties"]


def worker_queue_event(document: Template) -> dict[str, Any]:
    return props(document, "PollWorkerFunction")["Events"]["PollQueue"]["Properties"]


def reserve_worker_concurrency(document: Template) -> None:
    props(document, "PollWorkerFunction")["ReservedConcurrentExecutions"] = 2


def uncap_the_worker(document: Template) -> None:
    del worker_queue_event(document)["ScalingConfig"]


def send_to_the_dlq_after_three_receives(document: Template) -> None:
    props(document, "PollQueue")["RedrivePolicy"]["maxReceiveCount"] = 3


def shorten_the_visibility_timeout(document: Template) -> None:
    props(document, "PollQueue")["VisibilityTimeout"] = 360


def give_the_worker_less_time_than_one_route(document: Template) -> None:
    props(document, "PollWorkerFunction")["Timeout"] = 20


def reserve_no_time_for_a_routes_writes(document: Template) -> None:
    props(document, "PollWorkerFunction")["Environment"]["Variables"]["POLL_ROUTE_RESERVE_SECONDS"] = "20"


def drop_the_openapi_version(document: Template) -> None:
    del props(document, "Api")["OpenApiVersion"]


def keep_worker_logs_forever(document: Template) -> None:
    del props(document, "PollWorkerFunctionLogGroup")["RetentionInDays"]


def let_lambda_create_the_users_log_group(document: Template) -> None:
    del document["Resources"]["UsersFunctionLogGroup"]


def keep_access_logs_forever(document: Template) -> None:
    del props(document, "ApiAccessLogGroup")["RetentionInDays"]


def delete_users_with_the_stack(document: Template) -> None:
    del resource(document, "UsersTable")["DeletionPolicy"]


def replace_trackers_on_update(document: Template) -> None:
    resource(document, "TrackersTable")["UpdateReplacePolicy"] = "Delete"


def unprotect_alerts(document: Template) -> None:
    props(document, "AlertsTable")["DeletionProtectionEnabled"] = False


def stop_backing_up_logins(document: Template) -> None:
    props(document, "AuthTable")["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False


def add_an_unprotected_table(document: Template) -> None:
    document["Resources"]["WebhooksTable"] = copy.deepcopy(resource(document, "CacheTable"))


def keep_price_history_forever(document: Template) -> None:
    del props(document, "PriceHistoryTable")["TimeToLiveSpecification"]


def back_up_the_cache(document: Template) -> None:
    props(document, "CacheTable")["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = True


def take_credentials_as_no_echo_parameters(document: Template) -> None:
    document["Parameters"]["DuffelAccessToken"] = {"Type": "String", "Default": "", "NoEcho": True}
    props(document, "DuffelCredentials")["SecretString"] = {
        "Fn::Sub": '{"access_token": "${DuffelAccessToken}"}'
    }


def fill_a_secret_from_a_plain_parameter(document: Template) -> None:
    props(document, "AmadeusCredentials")["SecretString"] = {
        "Fn::Join": ["", ['{"client_id": "', {"Ref": "AmadeusBaseUrl"}, '", "client_secret": ""}']]
    }


def own_the_account_settings_in_every_stack(document: Template) -> None:
    del resource(document, "ApiGatewayAccount")["Condition"]
    del resource(document, "ApiGatewayCloudWatchRole")["Condition"]


def depend_on_the_optional_account_settings(document: Template) -> None:
    resource(document, "Api")["DependsOn"] = "ApiGatewayAccount"


def create_the_stage_before_the_account_settings(document: Template) -> None:
    del resource(document, "Api")["Metadata"]["AfterApiGatewayAccount"]


def share_metrics_between_stages(document: Template) -> None:
    document["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] = "Farewatch"


def always_pay_for_detailed_metrics(document: Template) -> None:
    props(document, "Api")["MethodSettings"][0]["MetricsEnabled"] = True


def stop_compressing_answers(document: Template) -> None:
    del props(document, "Api")["MinimumCompressionSize"]


def compress_only_huge_answers(document: Template) -> None:
    props(document, "Api")["MinimumCompressionSize"] = 1_000_000


def move_the_functions_but_not_the_layer_to_a_new_runtime(document: Template) -> None:
    document["Globals"]["Function"]["Runtime"] = "python3.13"


MUTATIONS: list[tuple[Callable[[Template], None], str]] = [
    (reserve_worker_concurrency, "PollWorkerFunction reserves concurrency"),
    (uncap_the_worker, "sets no ScalingConfig.MaximumConcurrency"),
    (send_to_the_dlq_after_three_receives, "PollQueue's maxReceiveCount 3 is under 5"),
    (
        shorten_the_visibility_timeout,
        "PollQueue's visibility timeout 360 s is under 6 x PollWorkerFunction's timeout 120 s",
    ),
    (give_the_worker_less_time_than_one_route, "could never start a route"),
    (reserve_no_time_for_a_routes_writes, "leaves no time after the 20 s upstream budget"),
    (drop_the_openapi_version, "Api has 2 stages, not one"),
    (keep_worker_logs_forever, "log group PollWorkerFunctionLogGroup keeps its logs forever"),
    (let_lambda_create_the_users_log_group, "UsersFunction has no log group in the stack"),
    (keep_access_logs_forever, "log group ApiAccessLogGroup keeps its logs forever"),
    (delete_users_with_the_stack, "UsersTable holds user data but is deleted with the stack"),
    (replace_trackers_on_update, "TrackersTable holds user data but a replacing update deletes it"),
    (unprotect_alerts, "AlertsTable holds user data but has no deletion protection"),
    (stop_backing_up_logins, "AuthTable holds user data but has no point-in-time recovery"),
    (add_an_unprotected_table, "WebhooksTable holds user data but is deleted with the stack"),
    (keep_price_history_forever, "PriceHistoryTable never expires its rows"),
    (back_up_the_cache, "CacheTable is a cache but pays for point-in-time recovery"),
    (
        take_credentials_as_no_echo_parameters,
        "DuffelCredentials's value comes from parameter(s) DuffelAccessToken",
    ),
    (take_credentials_as_no_echo_parameters, "parameter DuffelAccessToken is NoEcho"),
    (
        fill_a_secret_from_a_plain_parameter,
        "AmadeusCredentials's value comes from parameter(s) AmadeusBaseUrl",
    ),
    (
        own_the_account_settings_in_every_stack,
        "ApiGatewayAccount sets API Gateway's account-wide settings in every stack",
    ),
    (depend_on_the_optional_account_settings, "Api DependsOn ApiGatewayAccount, which exists only when"),
    (create_the_stage_before_the_account_settings, "may be created before ApiGatewayAccount"),
    (share_metrics_between_stages, "metrics namespace 'Farewatch' does not include the stage"),
    (always_pay_for_detailed_metrics, "always pays for detailed (per-method) metrics"),
    (move_the_functions_but_not_the_layer_to_a_new_runtime, "PriceFunction runs python3.13, which layer"),
    (stop_compressing_answers, "Api compresses no answer (no MinimumCompressionSize)"),
    (compress_only_huge_answers, "Api compresses only answers over 1000000 bytes"),
]


@pytest.mark.parametrize(("mutate", "problem"), MUTATIONS, ids=[f"{m.__name__}" for m, _ in MUTATIONS])
def test_the_check_fails_on_a_template_that_reintroduces_the_problem(mutate, problem):
    document = copy.deepcopy(SAM)
    mutate(document)

    found = problems(translate(document))

    assert any(problem in line for line in found), found


def test_samconfig_values_the_template_would_refuse_are_reported():
    found = parameter_values_problems(
        SAM, {"Stage": "Prod-1", "LogRetentionDays": "45", "ManageApiGatewayAccount": "yes", "Region": "x"}
    )

    assert found == [
        "Stage=Prod-1 does not match [a-z0-9]+",
        f"LogRetentionDays=45 is not one of {SAM['Parameters']['LogRetentionDays']['AllowedValues']}",
        "ManageApiGatewayAccount=yes is not one of ['true', 'false']",
        "Region is not a parameter of the template",
    ]
