"""What template.yaml must be to deploy on a fresh AWS account, twice, and keep its data: rules checked on
the CloudFormation that the SAM CLI's own translator makes of it (the template `sam deploy` submits).

Runs in .venv-sam, beside the SAM CLI (`make template-check`): the translation is samcli's
SamTemplateValidator, the code path of `sam validate`, with the aws-sam-translator version the CLI pins,
so what is checked is what a deploy sends. Each rule returns the problems it finds as sentences; an empty
list means the template keeps the rule. tests/template/test_deployable.py holds the template to every
rule and proves each rule fails on a template that breaks it.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from samcli.cli.types import CfnParameterOverridesType
from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
REGION = "us-east-1"

Template = dict[str, Any]
Rule = Callable[[Template], list[str]]

# Tables whose loss loses nothing a user stored. Every other table is user data and must survive any
# stack operation: a table added later is protected unless it is listed here, with the reason.
NOT_USER_DATA = {
    "CacheTable": "fares, tokens and leases, all fetched again on the next miss",
    "PriceHistoryTable": "prices the service observed, expiring by TTL",
    "SearchStatsTable": "search counts per day, expiring by TTL",
    "IdempotencyTable": "records that stop a second delivery of one alert, expiring by TTL",
}
# Of those, the ones that must expire by TTL, and the ones that must not pay for point-in-time recovery.
EXPIRING_TABLES = ("PriceHistoryTable", "SearchStatsTable")
CACHE_TABLES = ("CacheTable", "IdempotencyTable")

# Lambda's guide for SQS event sources: visibility >= 6 x function timeout, maxReceiveCount >= 5.
VISIBILITY_TIMES_TIMEOUT = 6
MIN_RECEIVE_COUNT = 5
# The worker that watches its deadline, and the settings it reads.
POLL_WORKER = "PollWorkerFunction"
ROUTE_RESERVE = "POLL_ROUTE_RESERVE_SECONDS"
UPSTREAM_BUDGET = "UPSTREAM_BUDGET_SECONDS"

SAM_DEFAULT_TIMEOUT = 3  # seconds, when neither the function nor Globals sets Timeout
SQS_DEFAULT_VISIBILITY = 30


# --------------------------------------------------------------------------------------------------
# Reading and translating.


def load_sam_document(path: Path = TEMPLATE) -> Template:
    """template.yaml as the SAM CLI reads it (short-form tags in their long form)."""
    return yaml_parse(path.read_text(encoding="utf-8"))


class _NoManagedPolicyLookups:
    """The translator asks IAM for managed policies named without an ARN; a template check never calls
    AWS, so such a template fails here with this message instead of waiting on the network."""

    def load(self) -> dict[str, str]:
        raise AssertionError("a function names a managed policy without its ARN; use the full ARN")


def translate(document: Template, parameter_overrides: dict[str, str] | None = None) -> Template:
    """The CloudFormation that `sam deploy` would submit for this SAM document."""
    validator = SamTemplateValidator(
        copy.deepcopy(document),
        _NoManagedPolicyLookups(),  # type: ignore[arg-type]
        region=REGION,
        parameter_overrides=dict(parameter_overrides or {}),
    )
    return yaml_parse(validator.get_translated_template_if_valid())


def samconfig_environments(path: Path = SAMCONFIG) -> dict[str, dict[str, str]]:
    """Each samconfig.toml environment's deploy parameter_overrides, parsed as the SAM CLI parses them."""
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    environments = {}
    for name, commands in config.items():
        if not isinstance(commands, dict):
            continue  # `version`
        raw = commands.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        environments[name] = CfnParameterOverridesType().convert(raw, None, None) if raw else {}
    return environments


# --------------------------------------------------------------------------------------------------
# Looking around a translated template.


def resources(template: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not types or resource.get("Type") in types:
            yield logical_id, resource


def properties(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")


def references(value: Any) -> set[str]:
    """Logical ids and parameters a fragment refers to (Ref, Fn::GetAtt, Fn::Sub); pseudo parameters aside."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                target = argument[0] if isinstance(argument, list) else str(argument).split(".", 1)[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
                names = {name.strip().split(".", 1)[0] for name in _SUB_NAME.findall(str(text))}
                found |= names - set(variables)
                found |= references(variables)
            else:
                found |= references(argument)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}


def depends_on(template: Template, source: str, target: str) -> bool:
    """Whether CloudFormation creates `target` before `source`: a path of DependsOn and references."""
    graph = {
        logical_id: references({key: value for key, value in resource.items() if key != "DependsOn"})
        | set(_depends_on_list(resource))
        for logical_id, resource in resources(template)
    }
    seen, todo = set(), [source]
    while todo:
        current = todo.pop()
        for neighbour in graph.get(current, set()):
            if neighbour == target:
                return True
            if neighbour not in seen:
                seen.add(neighbour)
                todo.append(neighbour)
    return False


def _depends_on_list(resource: dict[str, Any]) -> list[str]:
    value = resource.get("DependsOn") or []
    return [value] if isinstance(value, str) else list(value)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _function_of_mapping(mapping: dict[str, Any]) -> str | None:
    name = properties(mapping).get("FunctionName")
    refs = references(name)
    return next(iter(refs)) if len(refs) == 1 else None


def _queue_of_mapping(template: Template, mapping: dict[str, Any]) -> str | None:
    queues = {logical_id for logical_id, _ in resources(template, "AWS::SQS::Queue")}
    found = references(properties(mapping).get("EventSourceArn")) & queues
    return next(iter(found)) if found else None


def _environment(function: dict[str, Any]) -> dict[str, Any]:
    return (properties(function).get("Environment") or {}).get("Variables") or {}


# --------------------------------------------------------------------------------------------------
# The rules.


def no_reserved_concurrency(template: Template) -> list[str]:
    """New accounts may have a concurrency quota of 10, all of which Lambda keeps unreserved: any
    reservation fails the first deploy ("decreases account's UnreservedConcurrentExecution below its
    minimum value of [10]")."""
    return [
        f"{logical_id} reserves concurrency (ReservedConcurrentExecutions), which fails the first deploy "
        "on an account whose concurrency quota is 10; cap an SQS consumer with its MaximumConcurrency"
        for logical_id, function in resources(template, "AWS::Lambda::Function")
        if "ReservedConcurrentExecutions" in properties(function)
    ]


def queue_consumers_are_capped_and_patient(template: Template) -> list[str]:
    """Every SQS event source: capped by MaximumConcurrency, reporting partial failures, visibility at
    least 6 x the function timeout, a dead-letter queue after at least 5 receives."""
    problems = []
    functions = dict(resources(template, "AWS::Lambda::Function"))
    queues = dict(resources(template, "AWS::SQS::Queue"))
    for logical_id, mapping in resources(template, "AWS::Lambda::EventSourceMapping"):
        queue_id = _queue_of_mapping(template, mapping)
        if queue_id is None:
            continue  # not an SQS source
        settings = properties(mapping)
        function_id = _function_of_mapping(mapping)
        if not (settings.get("ScalingConfig") or {}).get("MaximumConcurrency"):
            problems.append(
                f"{logical_id} sets no ScalingConfig.MaximumConcurrency: nothing caps how many "
                f"{function_id} run at once"
            )
        if "ReportBatchItemFailures" not in (settings.get("FunctionResponseTypes") or []):
            problems.append(
                f"{logical_id} does not report batch item failures: one failed record retries its batch"
            )
        queue = properties(queues[queue_id])
        visibility = _number(queue.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY))
        timeout = _number(
            properties(functions.get(function_id or "", {})).get("Timeout", SAM_DEFAULT_TIMEOUT)
        )
        window = _number(settings.get("MaximumBatchingWindowInSeconds", 0)) or 0
        if visibility is None or timeout is None:
            problems.append(f"{queue_id}'s VisibilityTimeout or {function_id}'s Timeout is not a number")
        elif visibility < VISIBILITY_TIMES_TIMEOUT * timeout + window:
            problems.append(
                f"{queue_id}'s visibility timeout {visibility:g} s is under {VISIBILITY_TIMES_TIMEOUT} x "
                f"{function_id}'s timeout {timeout:g} s (+ batching window {window:g} s): a throttled batch "
                "comes back while it is still being worked on"
            )
        redrive = queue.get("RedrivePolicy")
        count = redrive.get("maxReceiveCount") if isinstance(redrive, dict) else None
        if redrive is None:
            problems.append(f"{queue_id} has no dead-letter queue (RedrivePolicy)")
        elif (_number(count) or 0) < MIN_RECEIVE_COUNT:
            problems.append(
                f"{queue_id}'s maxReceiveCount {count} is under {MIN_RECEIVE_COUNT}: throttled or "
                "handed-back messages reach the dead-letter queue without their tries"
            )
    return problems


def poll_worker_can_finish_its_routes(template: Template) -> list[str]:
    """The worker starts a route only while POLL_ROUTE_RESERVE_SECONDS remain; the reserve covers the
    upstream budget, and the timeout fits at least one whole route (else it could never start one)."""
    function = dict(resources(template, "AWS::Lambda::Function")).get(POLL_WORKER)
    if function is None:
        return [f"{POLL_WORKER} is missing"]
    environment = _environment(function)
    reserve, budget = _number(environment.get(ROUTE_RESERVE)), _number(environment.get(UPSTREAM_BUDGET))
    timeout = _number(properties(function).get("Timeout", SAM_DEFAULT_TIMEOUT))
    if reserve is None or budget is None:
        return [f"{POLL_WORKER} must set {ROUTE_RESERVE} and {UPSTREAM_BUDGET} (numbers of seconds)"]
    problems = []
    if reserve <= budget:
        problems.append(
            f"{POLL_WORKER}'s {ROUTE_RESERVE} {reserve:g} s leaves no time after the {budget:g} s upstream "
            "budget for the route's writes"
        )
    if timeout is None or timeout < reserve:
        problems.append(
            f"{POLL_WORKER}'s timeout {timeout} s is shorter than one route's reserve {reserve:g} s: "
            "it could never start a route"
        )
    return problems


def one_stage_per_api(template: Template) -> list[str]:
    """Each REST API has exactly one stage, the configured one, throttled and access-logged. Without
    OpenApiVersion SAM's deployment also creates a stage named "Stage" with none of that."""
    problems = []
    log_groups = {logical_id for logical_id, _ in resources(template, "AWS::Logs::LogGroup")}
    for api_id, _ in resources(template, "AWS::ApiGateway::RestApi"):
        stages = [
            (logical_id, stage)
            for logical_id, stage in resources(template, "AWS::ApiGateway::Stage")
            if references(properties(stage).get("RestApiId")) == {api_id}
        ]
        implicit = [
            f"{logical_id} (StageName {properties(deployment)['StageName']!r})"
            for logical_id, deployment in resources(template, "AWS::ApiGateway::Deployment")
            if references(properties(deployment).get("RestApiId")) == {api_id}
            and "StageName" in properties(deployment)
        ]
        if len(stages) + len(implicit) != 1:
            names = [logical_id for logical_id, _ in stages] + implicit
            problems.append(f"{api_id} has {len(names)} stages, not one: {', '.join(names) or 'none'}")
        for logical_id, stage in stages:
            settings = properties(stage)
            if settings.get("StageName") != {"Ref": "Stage"}:
                problems.append(f"{logical_id} is not the configured stage (StageName: !Ref Stage)")
            throttled = [
                method
                for method in settings.get("MethodSettings") or []
                if method.get("ResourcePath") == "/*"
                and method.get("HttpMethod") == "*"
                and "ThrottlingRateLimit" in method
                and "ThrottlingBurstLimit" in method
            ]
            if not throttled:
                problems.append(f"{logical_id} has no stage-wide throttling (MethodSettings /* *)")
            destination = (settings.get("AccessLogSetting") or {}).get("DestinationArn")
            if not references(destination) & log_groups:
                problems.append(f"{logical_id} writes no access log to a log group of the stack")
    return problems


def _names_function_log_group(name: Any, function_id: str) -> bool:
    """LogGroupName is /aws/lambda/<the function's name>, as !Sub or !Join."""
    if isinstance(name, dict) and "Fn::Sub" in name and isinstance(name["Fn::Sub"], str):
        return name["Fn::Sub"].strip() == f"/aws/lambda/${{{function_id}}}"
    if isinstance(name, dict) and "Fn::Join" in name:
        delimiter, parts = name["Fn::Join"]
        return delimiter == "" and parts == ["/aws/lambda/", {"Ref": function_id}]
    return False


def every_log_group_expires(template: Template) -> list[str]:
    """Every function logs to a log group of the stack, and every log group has a retention period
    (Lambda's own groups, /aws/lambda/<function name>, never expire)."""
    groups = dict(resources(template, "AWS::Logs::LogGroup"))
    problems = [
        f"log group {logical_id} keeps its logs forever (no RetentionInDays)"
        for logical_id, group in groups.items()
        if "RetentionInDays" not in properties(group)
    ]
    for function_id, function in resources(template, "AWS::Lambda::Function"):
        custom = (properties(function).get("LoggingConfig") or {}).get("LogGroup")
        if custom is not None and references(custom) & set(groups):
            continue
        if not any(
            _names_function_log_group(properties(group).get("LogGroupName"), function_id)
            for group in groups.values()
        ):
            problems.append(
                f"{function_id} has no log group in the stack: Lambda creates /aws/lambda/<name> itself, "
                "with no expiry"
            )
    return problems


def user_data_survives(template: Template) -> list[str]:
    """Tables of user data: Retain on delete and on replacement, deletion protection, point-in-time
    recovery. The others: history and statistics expire by TTL, the cache pays for no backups."""
    problems = []
    for logical_id, table in resources(template, "AWS::DynamoDB::Table"):
        settings = properties(table)
        recovery = _is_true(
            (settings.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        )
        if logical_id in NOT_USER_DATA:
            ttl = settings.get("TimeToLiveSpecification") or {}
            if logical_id in EXPIRING_TABLES and not (
                _is_true(ttl.get("Enabled")) and ttl.get("AttributeName")
            ):
                problems.append(f"{logical_id} never expires its rows (no TimeToLiveSpecification)")
            if logical_id in CACHE_TABLES and recovery:
                problems.append(f"{logical_id} is a cache but pays for point-in-time recovery")
            continue
        if table.get("DeletionPolicy") != "Retain":
            problems.append(
                f"{logical_id} holds user data but is deleted with the stack (DeletionPolicy is not Retain)"
            )
        if table.get("UpdateReplacePolicy") != "Retain":
            problems.append(
                f"{logical_id} holds user data but a replacing update deletes it "
                "(UpdateReplacePolicy is not Retain)"
            )
        if not _is_true(settings.get("DeletionProtectionEnabled")):
            problems.append(f"{logical_id} holds user data but has no deletion protection")
        if not recovery:
            problems.append(f"{logical_id} holds user data but has no point-in-time recovery")
    return problems


def no_secret_from_a_parameter(template: Template) -> list[str]:
    """Secret values are the operator's (put-secret-value). One that comes from a parameter is written
    again by every deploy with other values, and a NoEcho parameter is how a secret gets into one."""
    parameters = set(template.get("Parameters") or {})
    problems = [
        f"parameter {name} is NoEcho: a secret passed at deploy time, which the next deploy overwrites"
        for name, declaration in (template.get("Parameters") or {}).items()
        if _is_true((declaration or {}).get("NoEcho"))
    ]
    for logical_id, secret in resources(template, "AWS::SecretsManager::Secret"):
        settings = properties(secret)
        value = {
            "SecretString": settings.get("SecretString"),
            "SecretStringTemplate": (settings.get("GenerateSecretString") or {}).get("SecretStringTemplate"),
        }
        used = sorted(references(value) & parameters)
        if used:
            problems.append(
                f"{logical_id}'s value comes from parameter(s) {', '.join(used)}: a later deploy "
                "overwrites what the operator set"
            )
    return problems


def account_settings_are_opt_in(template: Template) -> list[str]:
    """AWS::ApiGateway::Account is one setting per account and region: only a stack that opts in owns it,
    every stage still waits for it when it is there, and no DependsOn names a resource a condition can
    leave out (CloudFormation rejects such a template)."""
    all_resources = dict(resources(template))
    problems = [
        f"{logical_id} sets API Gateway's account-wide settings in every stack (no Condition to opt in)"
        for logical_id, account in resources(template, "AWS::ApiGateway::Account")
        if "Condition" not in account
    ]
    for logical_id, resource in all_resources.items():
        for target in _depends_on_list(resource):
            condition = (all_resources.get(target) or {}).get("Condition")
            if target not in all_resources:
                problems.append(f"{logical_id} DependsOn {target}, which is not in the template")
            elif condition is not None and resource.get("Condition") != condition:
                problems.append(
                    f"{logical_id} DependsOn {target}, which exists only when {condition} holds: the "
                    "template does not deploy when it does not"
                )
    for stage_id, _ in resources(template, "AWS::ApiGateway::Stage"):
        for account_id, _ in resources(template, "AWS::ApiGateway::Account"):
            if not depends_on(template, stage_id, account_id):
                problems.append(
                    f"{stage_id} may be created before {account_id}: its access log needs the account's "
                    "CloudWatch role first"
                )
    return problems


def metrics_are_per_stage_and_on_request(template: Template) -> list[str]:
    """dev and prod never share a metric series; per-method API metrics (billed) only when asked for."""
    problems = []
    for logical_id, function in resources(template, "AWS::Lambda::Function"):
        namespace = _environment(function).get("POWERTOOLS_METRICS_NAMESPACE")
        if "Stage" not in references(namespace):
            problems.append(f"{logical_id}'s metrics namespace {namespace!r} does not include the stage")
    for logical_id, stage in resources(template, "AWS::ApiGateway::Stage"):
        for method in properties(stage).get("MethodSettings") or []:
            if method.get("MetricsEnabled") is True or str(method.get("MetricsEnabled")).lower() == "true":
                problems.append(f"{logical_id} always pays for detailed (per-method) metrics")
    return problems


def functions_run_what_their_layers_support(template: Template) -> list[str]:
    """A runtime move (python3.11 is deprecated on 2027-06-30) changes functions and layer together."""
    layers = dict(resources(template, "AWS::Lambda::LayerVersion"))
    problems = []
    for logical_id, function in resources(template, "AWS::Lambda::Function"):
        runtime = properties(function).get("Runtime")
        for layer_id in references(properties(function).get("Layers")) & set(layers):
            supported = properties(layers[layer_id]).get("CompatibleRuntimes") or []
            if runtime not in supported:
                problems.append(
                    f"{logical_id} runs {runtime}, which layer {layer_id} is not built for ({supported})"
                )
    return problems


# API Gateway's own limit on MinimumCompressionSize; above a few KiB the page's JSON would go uncompressed.
_MAX_COMPRESSION_SIZE = 10_485_760
_LARGEST_SENSIBLE_THRESHOLD = 8192


def answers_are_compressed(template: Template) -> list[str]:
    """The page's assets and the API's JSON leave API Gateway compressed (gzip/deflate when the client
    accepts it) once they are bigger than a small threshold."""
    problems = []
    for logical_id, api in resources(template, "AWS::ApiGateway::RestApi"):
        size = _number(properties(api).get("MinimumCompressionSize"))
        if size is None:
            problems.append(f"{logical_id} compresses no answer (no MinimumCompressionSize)")
        elif not 0 <= size <= _MAX_COMPRESSION_SIZE:
            problems.append(
                f"{logical_id}'s MinimumCompressionSize {size:.0f} is outside 0..{_MAX_COMPRESSION_SIZE}"
            )
        elif size > _LARGEST_SENSIBLE_THRESHOLD:
            problems.append(
                f"{logical_id} compresses only answers over {size:.0f} bytes: "
                "the page's JSON goes uncompressed"
            )
    return problems


RULES: tuple[Rule, ...] = (
    no_reserved_concurrency,
    queue_consumers_are_capped_and_patient,
    poll_worker_can_finish_its_routes,
    one_stage_per_api,
    every_log_group_expires,
    user_data_survives,
    no_secret_from_a_parameter,
    account_settings_are_opt_in,
    metrics_are_per_stage_and_on_request,
    functions_run_what_their_layers_support,
    answers_are_compressed,
)


def problems(template: Template) -> list[str]:
    """Every rule's problems with a translated template."""
    return [problem for rule in RULES for problem in rule(template)]


def parameter_values_problems(sam_document: Template, overrides: dict[str, str]) -> list[str]:
    """Overrides that CloudFormation would refuse: undeclared parameters, values outside what they allow."""
    declared = sam_document.get("Parameters") or {}
    found = []
    for name, value in overrides.items():
        declaration = declared.get(name)
        if declaration is None:
            found.append(f"{name} is not a parameter of the template")
            continue
        allowed = declaration.get("AllowedValues")
        if allowed is not None and value not in [str(item) for item in allowed]:
            found.append(f"{name}={value} is not one of {allowed}")
        if declaration.get("Type") == "Number":
            number = _number(value)
            if number is None:
                found.append(f"{name}={value} is not a number")
            elif ("MinValue" in declaration and number < float(declaration["MinValue"])) or (
                "MaxValue" in declaration and number > float(declaration["MaxValue"])
            ):
                found.append(
                    f"{name}={value} is outside {declaration.get('MinValue')}..{declaration.get('MaxValue')}"
                )
        pattern = declaration.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), value):
            found.append(f"{name}={value} does not match {pattern}")
    return found
