"""template.yaml as the local stack reads it: the one description of the system, in a typed model.

cfn-lint's decoder reads the YAML (short-form tags, duplicate keys, line numbers). Only what template.yaml
contains is resolved, the way a deployment named `farewatch-local` in us-east-1 would resolve it: Ref,
Fn::GetAtt (a queue's Arn or QueueName), Fn::Sub (its string form), Fn::If, Fn::Equals and Fn::Not, the
resources' Condition, the Function Globals, and parameters with their defaults and constraints. Any other
intrinsic, resource type, event type, event property or parameter constraint is a TemplateError naming it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

REGION, ACCOUNT_ID, STACK_NAME = "us-east-1", "123456789012", "farewatch-local"
PSEUDO_PARAMETERS = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID}
PSEUDO_PARAMETERS |= {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
# What exists in AWS only: nothing of it to run or provision locally. Who may send to a queue
# (EventBridge always may, locally), and SES's feedback: no mail bounces here.
NOT_EMULATED = {"AWS::IAM::Role", "AWS::Logs::LogGroup", "AWS::ApiGateway::Account", "AWS::CloudWatch::Alarm"}
NOT_EMULATED |= {"AWS::SQS::QueuePolicy", "AWS::SES::ConfigurationSetEventDestination"}
_FUNCTION, _LAYER, _API = "AWS::Serverless::Function", "AWS::Serverless::LayerVersion", "AWS::Serverless::Api"
_TABLE, _QUEUE, _SECRET = "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SecretsManager::Secret"
_RULE, _MAIL_SET, _MAIL_IDENTITY = (
    "AWS::Events::Rule",
    "AWS::SES::ConfigurationSet",
    "AWS::SES::EmailIdentity",
)
_RUNS = {_FUNCTION, _LAYER, _API, _TABLE, _QUEUE, _SECRET, _RULE, _MAIL_SET, _MAIL_IDENTITY}
# Properties that would change what runs locally and template.yaml does not set: every resource is
# named by its logical id, API bodies are text or base64, pools are sized by MaximumConcurrency.
_REFUSED_PROPERTIES = {"FunctionName", "TableName", "QueueName", "Name", "BinaryMediaTypes"}
_REFUSED_PROPERTIES |= {"ReservedConcurrentExecutions", "DelaySeconds", "FifoQueue"}
_EVENT_PROPERTIES = {
    "Api": {"RestApiId", "Path", "Method"},
    "Schedule": {"Schedule", "Description"},
    "SQS": {"Queue", "BatchSize", "FunctionResponseTypes", "ScalingConfig"},
}
_PARAMETER_KEYS = {
    "Type",
    "Default",
    "Description",
    "AllowedValues",
    "AllowedPattern",
    "MinValue",
    "MaxValue",
}


class TemplateError(Exception):
    """template.yaml says something the local stack cannot run; the message says what and where."""


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def api_id(logical_id: str) -> str:
    """A stable, well-formed (10 lowercase alphanumerics) REST API id."""
    return (re.sub(r"[^a-z0-9]", "", logical_id.lower()) + "0" * 10)[:10]


@dataclass(frozen=True)
class ApiEvent:
    name: str
    path: str
    method: str  # upper case; ANY matches every method
    rest_api_id: str  # logical id of the AWS::Serverless::Api


@dataclass(frozen=True)
class ScheduleEvent:
    name: str
    expression: str  # rate(...) or cron(...)


@dataclass(frozen=True)
class SqsEvent:
    name: str
    queue: str  # logical id of the AWS::SQS::Queue
    batch_size: int = 10
    function_response_types: tuple[str, ...] = ()
    maximum_concurrency: int | None = None

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    code_uri: Path
    handler: str  # module.path.function
    environment: Mapping[str, str]
    timeout: int = 3
    memory: int = 128
    layers: tuple[Path, ...] = ()  # folders importable like /opt/python
    events: tuple[ApiEvent | ScheduleEvent | SqsEvent, ...] = ()
    parameter_variables: frozenset[str] = frozenset()  # set from a parameter: a person may export them

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def arn(self) -> str:
        return arn("lambda", f"function:{self.name}")

    @property
    def api_events(self) -> list[ApiEvent]:
        return [event for event in self.events if isinstance(event, ApiEvent)]

    @property
    def schedule_events(self) -> list[ScheduleEvent]:
        return [event for event in self.events if isinstance(event, ScheduleEvent)]

    @property
    def sqs_events(self) -> list[SqsEvent]:
        return [event for event in self.events if isinstance(event, SqsEvent)]


@dataclass(frozen=True)
class AttributeDefinition:
    name: str
    type: str


@dataclass(frozen=True)
class KeyElement:
    name: str
    key_type: str  # HASH | RANGE


@dataclass(frozen=True)
class IndexSpec:
    name: str
    key_schema: tuple[KeyElement, ...]
    projection: Mapping[str, Any]


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    attribute_definitions: tuple[AttributeDefinition, ...]
    key_schema: tuple[KeyElement, ...]
    global_secondary_indexes: tuple[IndexSpec, ...] = ()
    local_secondary_indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None

    @property
    def hash_key(self) -> str:
        return next(key.name for key in self.key_schema if key.key_type == "HASH")

    @property
    def range_key(self) -> str | None:
        return next((key.name for key in self.key_schema if key.key_type == "RANGE"), None)


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str
    secret_string: str | None = field(default=None, repr=False)
    generate: Mapping[str, Any] | None = None  # GenerateSecretString: Secrets Manager makes the value
    description: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    visibility_timeout: int = 30
    attributes: Mapping[str, str] = field(default_factory=dict)  # the other CreateQueue attributes
    dead_letter_queue: str | None = None  # logical id of the redrive target
    max_receive_count: int | None = None

    @property
    def arn(self) -> str:
        return arn("sqs", self.name)


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule on the default bus whose targets are queues of this template."""

    logical_id: str
    name: str
    pattern: Mapping[str, Any]
    queues: tuple[str, ...]  # logical ids of the target queues


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    stage_name: str
    # GatewayResponses: response type -> (status code or None, application/json body or None)
    gateway_responses: Mapping[str, tuple[int | None, str | None]] = field(default_factory=dict)
    # MinimumCompressionSize: answers of at least this many bytes are compressed; None: none are.
    minimum_compression_size: int | None = None

    @property
    def api_id(self) -> str:
        return api_id(self.logical_id)


@dataclass(frozen=True)
class Template:
    path: Path
    parameters: Mapping[str, str] = field(repr=False)  # NoEcho values included: never print them
    functions: list[FunctionSpec]
    tables: list[TableSpec]
    secrets: list[SecretSpec]
    queues: list[QueueSpec]
    apis: Mapping[str, ApiSpec]
    rules: list[RuleSpec] = field(default_factory=list)
    mail_configuration_sets: list[str] = field(default_factory=list)  # SES configuration set names
    mail_identities: list[str] = field(default_factory=list)  # SES identities (addresses) to verify

    @property
    def api(self) -> ApiSpec:
        if len(self.apis) != 1:
            raise TemplateError(f"expected one REST API, found {len(self.apis)}: {', '.join(self.apis)}")
        return next(iter(self.apis.values()))

    def _find(self, specs: list[Any], logical_id: str) -> Any:
        found = next((spec for spec in specs if spec.logical_id == logical_id), None)
        if found is None:
            raise KeyError(f"template.yaml has no resource {logical_id!r} of that kind")
        return found

    def function(self, logical_id: str) -> FunctionSpec:
        return self._find(self.functions, logical_id)

    def table(self, logical_id: str) -> TableSpec:
        return self._find(self.tables, logical_id)

    def secret(self, logical_id: str) -> SecretSpec:
        return self._find(self.secrets, logical_id)

    def queue(self, logical_id: str) -> QueueSpec:
        return self._find(self.queues, logical_id)

    @property
    def routes(self) -> list[tuple[FunctionSpec, ApiEvent]]:
        return [(function, event) for function in self.functions for event in function.api_events]

    @property
    def schedules(self) -> list[tuple[FunctionSpec, ScheduleEvent]]:
        return [(function, event) for function in self.functions for event in function.schedule_events]

    @property
    def queue_subscriptions(self) -> list[tuple[FunctionSpec, SqsEvent]]:
        return [(function, event) for function in self.functions for event in function.sqs_events]


class _Resolver:
    """Evaluates the intrinsic functions template.yaml uses; `where` names the place in errors."""

    def __init__(self, document: Mapping[str, Any], parameters: Mapping[str, str | None]) -> None:
        self.resources: Mapping[str, Any] = document.get("Resources") or {}
        self.conditions: Mapping[str, Any] = document.get("Conditions") or {}
        self.parameters = parameters

    def __call__(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            key = next(iter(value), None)
            if (
                len(value) == 1
                and isinstance(key, str)
                and (key in ("Ref", "Condition") or key.startswith("Fn::"))
            ):
                if key not in self._FUNCTIONS:
                    supported = ", ".join(self._FUNCTIONS)
                    raise TemplateError(f"{where}: {key} is not supported locally (only {supported})")
                return self._FUNCTIONS[key](self, value[key], f"{where}.{key}")
            return {key: self(item, f"{where}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [self(item, f"{where}[{index}]") for index, item in enumerate(value)]
        return value

    def text(self, value: Any, where: str) -> str:
        value = self(value, where)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float | dt.date):
            return str(value)
        raise TemplateError(f"{where}: expected a string, got {value!r}")

    def number(self, value: Any, where: str, default: int) -> int:
        try:
            return default if value is None else int(float(self.text(value, where)))
        except ValueError:
            raise TemplateError(f"{where} must be a number") from None

    def condition(self, name: str, where: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"{where}: no condition named {name!r}")
        if not isinstance(value := self(self.conditions[name], f"Conditions.{name}"), bool):
            raise TemplateError(f"Conditions.{name} does not evaluate to true or false")
        return value

    def type_of(self, logical_id: str, where: str) -> str:
        if not isinstance(resource := self.resources.get(logical_id), dict):
            raise TemplateError(f"{where}: no parameter or resource named {logical_id!r}")
        return str(resource.get("Type"))

    def _ref(self, name: str, where: str) -> Any:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            if (value := self.parameters[name]) is None:
                raise TemplateError(f"{where}: parameter {name} has no Default; pass it as an override")
            return value
        kind = self.type_of(name, where)
        if kind == _QUEUE:
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
        # Tables, functions, secrets (whose ARN suffix moto makes up): the name, taken wherever an ARN is.
        return {_API: api_id(name), _LAYER: arn("lambda", f"layer:{name}:1")}.get(kind, name)

    def _get_att(self, argument: Any, where: str) -> str:
        logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
        if (kind := self.type_of(logical_id, where)) != _QUEUE or attribute not in ("Arn", "QueueName"):
            raise TemplateError(f"{where}: {logical_id}.{attribute} ({kind}) is not supported locally")
        return arn("sqs", logical_id) if attribute == "Arn" else logical_id

    def _sub(self, argument: Any, where: str) -> str:
        if not isinstance(argument, str):
            raise TemplateError(f"{where}: only the string form of Fn::Sub is supported locally")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            return self.text({"Fn::GetAtt": name} if "." in name else {"Ref": name}, where)

        return re.sub(r"\$\{([^}]*)\}", substitute, argument)

    _FUNCTIONS = {
        "Ref": lambda self, name, where: self._ref(str(name), where),
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::If": lambda self, arg, where: self(
            arg[1] if self.condition(str(arg[0]), where) else arg[2], where
        ),
        "Fn::Equals": lambda self, arg, where: self.text(arg[0], where) == self.text(arg[1], where),
        "Fn::Not": lambda self, arg, where: not self(arg[0], where),
    }


def _parameters(
    document: Mapping[str, Any], overrides: Mapping[str, str], defaults: Mapping[str, str]
) -> dict[str, str | None]:
    """Every declared parameter's value (None: no Default), the overrides checked as CloudFormation would."""
    declared: Mapping[str, Any] = document.get("Parameters") or {}
    for name, spec in declared.items():
        if unknown := sorted(set(spec) - _PARAMETER_KEYS) or sorted(
            {spec.get("Type")} - {"String", "Number"}
        ):
            raise TemplateError(f"Parameters.{name}: {', '.join(map(str, unknown))} is not supported locally")
    if unknown := sorted(set(overrides) - set(declared)):
        raise TemplateError(f"the template declares no parameters named {', '.join(unknown)}")
    given = {**{name: value for name, value in defaults.items() if name in declared}, **overrides}
    values = {
        name: None if "Default" not in spec else str(spec["Default"]) for name, spec in declared.items()
    }
    for name, value in given.items():
        spec, values[name] = declared[name], value
        number = float(value) if re.fullmatch(r"-?\d+(\.\d+)?", value) else None
        if (
            ("AllowedValues" in spec and value not in [str(choice) for choice in spec["AllowedValues"]])
            or ("AllowedPattern" in spec and not re.fullmatch(str(spec["AllowedPattern"]), value))
            or (spec["Type"] == "Number" and number is None)
            or (
                number is not None
                and not float(spec.get("MinValue", number)) <= number <= float(spec.get("MaxValue", number))
            )
        ):
            raise TemplateError(
                f"parameter {name} does not accept {value!r} (see its declaration in the template)"
            )
    return values


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's rule: maps merge key by key, lists add up (globals first), anything else is overridden."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        return {**global_value, **{k: _merge_globals(global_value.get(k), v) for k, v in local_value.items()}}
    if isinstance(global_value, list) and isinstance(local_value, list):
        return [*global_value, *local_value]
    return local_value


def load_template(
    path: str | Path,
    parameter_overrides: Mapping[str, str] | None = None,
    *,
    defaults: Mapping[str, str] | None = None,
) -> Template:
    """Read template.yaml into the model the local stack runs.
    `parameter_overrides` must name declared parameters; `defaults` apply to the declared ones only."""
    path = Path(path).resolve()
    try:
        document, problems = decode_str(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TemplateError(f"cannot read {path}: {error.strerror}") from None
    if problems or not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        reasons = "; ".join(f"line {p.linenumber}: {p.message}" for p in problems) or "no Resources section"
        raise TemplateError(f"{path} cannot be read: {reasons}")
    parameters = _parameters(document, parameter_overrides or {}, defaults or {})
    resolve, root = _Resolver(document, parameters), path.parent
    if other := sorted(set(document.get("Globals") or {}) - {"Function"}):
        raise TemplateError(f"Globals.{other[0]} is not supported locally (only Globals.Function)")
    by_type: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
    for logical_id, resource in document["Resources"].items():
        kind, where = str(resource.get("Type")), f"Resources.{logical_id}"
        if kind not in _RUNS | NOT_EMULATED:
            line = getattr(resource, "start_mark", None)
            at = f" (line {line.line + 1})" if line else ""
            raise TemplateError(f"{where}{at}: the local stack cannot run {kind}")
        condition = resource.get("Condition")
        if kind in NOT_EMULATED or not (condition is None or resolve.condition(str(condition), where)):
            continue
        properties = resource.get("Properties") or {}
        if kind == _FUNCTION:
            properties = _merge_globals((document.get("Globals") or {}).get("Function") or {}, properties)
        if refused := sorted(_REFUSED_PROPERTIES & set(properties)):
            raise TemplateError(f"{where}.Properties.{refused[0]} is not supported locally")
        by_type.setdefault(kind, []).append((logical_id, properties, f"{where}.Properties"))
    layers = {}
    for logical_id, properties, where in by_type.get(_LAYER, []):
        folder = (root / resolve.text(properties.get("ContentUri"), f"{where}.ContentUri")).resolve()
        layers[logical_id] = folder / "python" if (folder / "python").is_dir() else folder
    queues = [_queue(resolve, *item) for item in by_type.get(_QUEUE, [])]
    functions = [_function(resolve, root, layers, *item) for item in by_type.get(_FUNCTION, [])]
    apis = {}
    for logical_id, properties, where in by_type.get(_API, []):
        responses = {
            kind: (
                None if "StatusCode" not in spec else int(resolve.text(spec["StatusCode"], where)),
                resolve(spec.get("ResponseTemplates") or {}, where).get("application/json"),
            )
            for kind, spec in (properties.get("GatewayResponses") or {}).items()
        }
        compression = properties.get("MinimumCompressionSize")
        stage = resolve.text(properties.get("StageName"), where)
        size = None if compression is None else resolve.number(compression, where, 0)
        apis[logical_id] = ApiSpec(logical_id, stage, responses, size)
    for function, event in ((f, e) for f in functions for e in f.api_events):
        if event.rest_api_id not in apis:
            raise TemplateError(
                f"{function.logical_id}.{event.name}: RestApiId {event.rest_api_id} is no API"
            )
    secrets = [
        SecretSpec(
            logical_id,
            logical_id,
            *(
                resolve(properties.get(key), where)
                for key in ("SecretString", "GenerateSecretString", "Description")
            ),
        )
        for logical_id, properties, where in by_type.get(_SECRET, [])
    ]
    tables = [_table(resolve, *item) for item in by_type.get(_TABLE, [])]
    rules = [_rule(resolve, *item) for item in by_type.get(_RULE, [])]
    mail_sets = [logical_id for logical_id, _, _ in by_type.get(_MAIL_SET, [])]
    identities = [
        resolve.text(properties.get("EmailIdentity"), f"{where}.EmailIdentity")
        for _, properties, where in by_type.get(_MAIL_IDENTITY, [])
    ]
    defined = {name: value for name, value in parameters.items() if value is not None}
    return Template(path, defined, functions, tables, secrets, queues, apis, rules, mail_sets, identities)


def _queue_of(resolve: _Resolver, queue_arn: Any, where: str) -> str:
    """The logical id of the template's queue with this Arn."""
    queue_arn = resolve.text(queue_arn, where)
    queues = [lid for lid, resource in resolve.resources.items() if resource.get("Type") == _QUEUE]
    if (queue := next((lid for lid in queues if arn("sqs", lid) == queue_arn), None)) is None:
        raise TemplateError(f"{where} must be the Arn of a queue of this template")
    return queue


def _rule(resolve: _Resolver, logical_id: str, properties: dict[str, Any], where: str) -> RuleSpec:
    bus = resolve.text(properties.get("EventBusName", "default"), f"{where}.EventBusName")
    if bus != "default":
        raise TemplateError(f"{where}.EventBusName: only the default bus runs locally, not {bus!r}")
    targets = [
        _queue_of(resolve, target.get("Arn"), f"{where}.Targets[{number}].Arn")
        for number, target in enumerate(properties.get("Targets") or [])
    ]
    pattern = resolve(properties.get("EventPattern") or {}, f"{where}.EventPattern")
    return RuleSpec(logical_id, logical_id, pattern, tuple(targets))


def _function(
    resolve: _Resolver,
    root: Path,
    layers: Mapping[str, Path],
    logical_id: str,
    properties: dict[str, Any],
    where: str,
) -> FunctionSpec:
    if not isinstance(code_uri := properties.get("CodeUri"), str):
        raise TemplateError(f"{where}.CodeUri must be a local folder to run {logical_id} locally")
    raw_environment = (properties.get("Environment") or {}).get("Variables") or {}
    at = f"{where}.Environment.Variables"
    environment = {name: resolve.text(value, f"{at}.{name}") for name, value in raw_environment.items()}
    layer_arns = [resolve.text(layer, f"{where}.Layers") for layer in properties.get("Layers") or []]
    events: list[ApiEvent | ScheduleEvent | SqsEvent] = []
    for name, event in (properties.get("Events") or {}).items():
        kind, spec, at = event.get("Type"), event.get("Properties") or {}, f"{where}.Events.{name}"
        if kind not in _EVENT_PROPERTIES:
            raise TemplateError(f"{at}: the local stack cannot deliver {kind} events")
        if unknown := sorted(set(spec) - _EVENT_PROPERTIES[kind]):
            raise TemplateError(f"{at}.Properties.{unknown[0]} is not supported locally for {kind} events")
        if kind == "Api":
            if not isinstance(rest_api := spec.get("RestApiId"), dict) or "Ref" not in rest_api:
                raise TemplateError(f"{at}.RestApiId must be !Ref to an API of this template")
            method = resolve.text(spec.get("Method"), f"{at}.Method").upper()
            events.append(
                ApiEvent(name, resolve.text(spec.get("Path"), f"{at}.Path"), method, str(rest_api["Ref"]))
            )
        elif kind == "Schedule":
            events.append(ScheduleEvent(name, resolve.text(spec.get("Schedule"), f"{at}.Schedule")))
        else:
            concurrency = (spec.get("ScalingConfig") or {}).get("MaximumConcurrency")
            events.append(
                SqsEvent(
                    name,
                    _queue_of(resolve, spec.get("Queue"), f"{at}.Queue"),
                    resolve.number(spec.get("BatchSize"), f"{at}.BatchSize", 10),
                    tuple(resolve(spec.get("FunctionResponseTypes") or [], at)),
                    None if concurrency is None else resolve.number(concurrency, at, 0),
                )
            )
    from_parameters = (name for name, value in raw_environment.items() if isinstance(value, dict))
    return FunctionSpec(
        logical_id,
        logical_id,
        (root / code_uri).resolve(),
        resolve.text(properties.get("Handler"), f"{where}.Handler"),
        environment,
        resolve.number(properties.get("Timeout"), f"{where}.Timeout", 3),
        resolve.number(properties.get("MemorySize"), f"{where}.MemorySize", 128),
        tuple(folder for layer, folder in layers.items() if arn("lambda", f"layer:{layer}:1") in layer_arns),
        tuple(events),
        frozenset(name for name in from_parameters if raw_environment[name].get("Ref") in resolve.parameters),
    )


def _table(resolve: _Resolver, logical_id: str, properties: dict[str, Any], where: str) -> TableSpec:
    names = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
    spec = resolve(
        {key: properties[key] for key in (*names, "TimeToLiveSpecification") if key in properties}, where
    )

    def keys(raw: Any) -> tuple[KeyElement, ...]:
        return tuple(KeyElement(str(key["AttributeName"]), str(key["KeyType"])) for key in raw or [])

    def indexes(raw: Any) -> tuple[IndexSpec, ...]:
        return tuple(IndexSpec(str(i["IndexName"]), keys(i["KeySchema"]), i["Projection"]) for i in raw or [])

    attributes = [
        (str(a["AttributeName"]), str(a["AttributeType"])) for a in spec.get("AttributeDefinitions") or []
    ]
    ttl = spec.get("TimeToLiveSpecification") or {}
    return TableSpec(
        logical_id,
        logical_id,
        tuple(AttributeDefinition(*attribute) for attribute in attributes),
        keys(spec.get("KeySchema")),
        indexes(spec.get("GlobalSecondaryIndexes")),
        indexes(spec.get("LocalSecondaryIndexes")),
        str(ttl["AttributeName"]) if str(ttl.get("Enabled", "")).lower() == "true" else None,
    )


def _queue(resolve: _Resolver, logical_id: str, properties: dict[str, Any], where: str) -> QueueSpec:
    attributes = {}
    if "MessageRetentionPeriod" in properties:
        attributes["MessageRetentionPeriod"] = resolve.text(properties["MessageRetentionPeriod"], where)
    redrive = resolve(properties.get("RedrivePolicy") or {}, f"{where}.RedrivePolicy")
    at = f"{where}.RedrivePolicy.deadLetterTargetArn"
    return QueueSpec(
        logical_id,
        logical_id,
        resolve.number(properties.get("VisibilityTimeout"), f"{where}.VisibilityTimeout", 30),
        attributes,
        _queue_of(resolve, redrive["deadLetterTargetArn"], at) if redrive else None,
        resolve.number(redrive.get("maxReceiveCount"), where, 10) if redrive else None,
    )
