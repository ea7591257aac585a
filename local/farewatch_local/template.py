"""template.yaml as the local stack sees it: the one description of the system, read into a typed model.

Owns the YAML loading (CloudFormation short-form tags), the intrinsic functions resolved the way a
deployment of the stack named `farewatch-local` in us-east-1 would resolve them, SAM Globals, and the
specs the embedded AWS (tables, secrets, queues) and the local gateway (functions, routes) are built from.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "farewatch-local"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
STACK_ID = (
    f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/"
    + "0" * 8
    + "-0000-4000-8000-"
    + "0" * 12
)
AVAILABILITY_ZONES = [f"{REGION}a", f"{REGION}b", f"{REGION}c"]

# The API SAM creates when an Api event names no RestApiId, and its stage.
IMPLICIT_API_ID = "ServerlessRestApi"
IMPLICIT_API_STAGE = "Prod"

# SAM defaults when neither Globals nor the function say otherwise.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_SQS_BATCH_SIZE = 10

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


class TemplateError(Exception):
    """template.yaml says something the local stack cannot run; the message says what and where."""


# --------------------------------------------------------------------------------------------------
# YAML: short-form tags become the long form (`!Ref X` -> {"Ref": "X"}, `!Sub s` -> {"Fn::Sub": s}).


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation's short-form intrinsic tags."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


# CloudFormation reads 2024-12-01 as a string, not a date.
def _timestamp_as_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(cast(yaml.ScalarNode, node)))


CloudFormationLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_string)


def read_template_document(path: Path) -> dict[str, Any]:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506  # nosec B506  # a SafeLoader subclass
    except OSError as error:
        raise TemplateError(f"cannot read {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise TemplateError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources section")
    return document


# --------------------------------------------------------------------------------------------------
# The model.


@dataclass(frozen=True)
class ApiEvent:
    """An `Api` event: API Gateway REST routes `method path` of `rest_api_id` to the function."""

    name: str
    path: str
    method: str  # upper case; "ANY" matches every method
    rest_api_id: str  # logical id of the AWS::Serverless::Api (or the implicit ServerlessRestApi)


@dataclass(frozen=True)
class ScheduleEvent:
    """A `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler) event."""

    name: str
    expression: str  # "rate(30 minutes)" or "cron(...)"
    enabled: bool
    input: str | None  # the JSON the function receives instead of the scheduled-event envelope
    kind: str = "Schedule"
    timezone: str | None = None

    @property
    def rate_seconds(self) -> int | None:
        """The period of a `rate(...)` expression, None for `cron(...)`."""
        return rate_expression_seconds(self.expression)


@dataclass(frozen=True)
class SqsEvent:
    """An `SQS` event: the queue's messages reach the function in batches, like Lambda's poller."""

    name: str
    queue: str  # logical id of the AWS::SQS::Queue
    batch_size: int = DEFAULT_SQS_BATCH_SIZE
    function_response_types: tuple[str, ...] = ()
    maximum_batching_window_seconds: int = 0
    maximum_concurrency: int | None = None
    enabled: bool = True

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


FunctionEvent = ApiEvent | ScheduleEvent | SqsEvent


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # physical function name (FunctionName, else the logical id)
    code_uri: Path
    handler: str  # "module.path.func"
    runtime: str | None
    environment: Mapping[str, str]
    timeout: int
    memory: int
    layers: tuple[Path, ...] = ()  # local layer content directories, importable like /opt/python
    events: tuple[FunctionEvent, ...] = ()

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def handler_function(self) -> str:
        return self.handler.rsplit(".", 1)[1]

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
    type: str  # S | N | B


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
    billing_mode: str = "PROVISIONED"
    stream_view_type: str | None = None

    @property
    def hash_key(self) -> str:
        return next(key.name for key in self.key_schema if key.key_type == "HASH")

    @property
    def range_key(self) -> str | None:
        return next((key.name for key in self.key_schema if key.key_type == "RANGE"), None)

    @property
    def arn(self) -> str:
        return arn("dynamodb", f"table/{self.name}")


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str
    secret_string: str | None = field(default=None, repr=False)  # never printed
    description: str | None = None

    @property
    def arn(self) -> str:
        return arn("secretsmanager", f"secret:{self.name}")


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    visibility_timeout: int = 30
    message_retention_seconds: int | None = None
    delay_seconds: int | None = None
    receive_wait_seconds: int | None = None
    fifo: bool = False
    content_based_deduplication: bool = False
    dead_letter_queue: str | None = None  # logical id of the redrive target
    max_receive_count: int | None = None

    @property
    def arn(self) -> str:
        return arn("sqs", self.name)


@dataclass(frozen=True)
class GatewayResponseSpec:
    response_type: str  # e.g. MISSING_AUTHENTICATION_TOKEN, DEFAULT_4XX
    status_code: int | None
    headers: Mapping[str, str]
    templates: Mapping[str, str]


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    stage_name: str
    gateway_responses: Mapping[str, GatewayResponseSpec] = field(default_factory=dict)
    binary_media_types: tuple[str, ...] = ()

    @property
    def api_id(self) -> str:
        return api_id(self.logical_id)


@dataclass(frozen=True)
class LayerSpec:
    logical_id: str
    content_uri: Path  # the directory that is on sys.path (ContentUri, or its python/ folder)


@dataclass(frozen=True)
class Template:
    path: Path
    parameters: Mapping[str, str] = field(repr=False)  # NoEcho values included: never print them
    functions: list[FunctionSpec]
    tables: list[TableSpec]
    secrets: list[SecretSpec]
    queues: list[QueueSpec]
    layers: list[LayerSpec]
    apis: Mapping[str, ApiSpec]
    resources: Mapping[str, Any] = field(repr=False)
    _resolver: _Resolver = field(repr=False, compare=False)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def api(self) -> ApiSpec:
        """The REST API the routes belong to (Farewatch has exactly one)."""
        if len(self.apis) != 1:
            raise TemplateError(f"expected one REST API, found {len(self.apis)}: {', '.join(self.apis)}")
        return next(iter(self.apis.values()))

    def function(self, logical_id: str) -> FunctionSpec:
        return _by_logical_id(self.functions, logical_id, "function")

    def table(self, logical_id: str) -> TableSpec:
        return _by_logical_id(self.tables, logical_id, "table")

    def secret(self, logical_id: str) -> SecretSpec:
        return _by_logical_id(self.secrets, logical_id, "secret")

    def queue(self, logical_id: str) -> QueueSpec:
        return _by_logical_id(self.queues, logical_id, "queue")

    @property
    def routes(self) -> list[tuple[FunctionSpec, ApiEvent]]:
        return [(function, event) for function in self.functions for event in function.api_events]

    @property
    def schedules(self) -> list[tuple[FunctionSpec, ScheduleEvent]]:
        return [(function, event) for function in self.functions for event in function.schedule_events]

    @property
    def queue_subscriptions(self) -> list[tuple[FunctionSpec, SqsEvent]]:
        return [(function, event) for function in self.functions for event in function.sqs_events]

    def resolve(self, value: Any, where: str = "template") -> Any:
        """Resolve the intrinsic functions in a raw fragment of the template, e.g. a resource's Properties."""
        return self._resolver.resolve(value, where)


def _by_logical_id(specs: list[Any], logical_id: str, kind: str) -> Any:
    for spec in specs:
        if spec.logical_id == logical_id:
            return spec
    raise KeyError(f"template.yaml has no {kind} {logical_id!r}")


def arn(service: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def api_id(logical_id: str) -> str:
    """A stable, well-formed (10 lowercase alphanumerics) REST API id for an API's logical id."""
    return (re.sub(r"[^a-z0-9]", "", logical_id.lower()) + "0000000000")[:10]


_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_RATE_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_expression_seconds(expression: str) -> int | None:
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _RATE_UNIT_SECONDS[match.group(2).rstrip("s")]


# --------------------------------------------------------------------------------------------------
# Intrinsic functions.


class _NoValue:
    """AWS::NoValue: the property is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

PSEUDO_PARAMETERS: dict[str, Any] = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": STACK_ID,
    "AWS::URLSuffix": URL_SUFFIX,
    "AWS::Partition": PARTITION,
    "AWS::NotificationARNs": [],
    "AWS::NoValue": NO_VALUE,
}

# The property that names each resource type; without it the local physical name is the logical id.
_NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::Serverless::SimpleTable": "TableName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
}

_TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::Serverless::SimpleTable")
_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
_API_TYPES = ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi")


@dataclass(frozen=True)
class _Parameter:
    name: str
    type: str
    value: str | None  # None: no default and no override


class _Resolver:
    """Evaluates Ref, Fn::* and Conditions against the parameters and the local physical names."""

    def __init__(self, document: Mapping[str, Any], parameters: Mapping[str, _Parameter]) -> None:
        self._resources: Mapping[str, Any] = document.get("Resources") or {}
        self._mappings: Mapping[str, Any] = document.get("Mappings") or {}
        self._condition_definitions: Mapping[str, Any] = document.get("Conditions") or {}
        self._parameters = parameters
        self._conditions: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._in_progress: set[str] = set()
        self._implicit = self._implicit_resources()

    # -- entry points ------------------------------------------------------------------------------

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            intrinsic = _intrinsic_name(value)
            if intrinsic is not None:
                return self._intrinsic(intrinsic, value[intrinsic], where)
            resolved_map = {key: self.resolve(item, f"{where}.{key}") for key, item in value.items()}
            return {key: item for key, item in resolved_map.items() if item is not NO_VALUE}
        if isinstance(value, list):
            resolved_list = [self.resolve(item, f"{where}[{index}]") for index, item in enumerate(value)]
            return [item for item in resolved_list if item is not NO_VALUE]
        return value

    def resolve_string(self, value: Any, where: str) -> str:
        return scalar_to_string(self.resolve(value, where), where)

    def condition(self, name: str, where: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        if name not in self._condition_definitions:
            raise TemplateError(f"{where}: unknown condition {name!r}")
        key = f"Condition:{name}"
        if key in self._in_progress:
            raise TemplateError(f"{where}: condition {name!r} depends on itself")
        self._in_progress.add(key)
        try:
            result = self.resolve(self._condition_definitions[name], f"Conditions.{name}")
        finally:
            self._in_progress.discard(key)
        if not isinstance(result, bool):
            raise TemplateError(f"Conditions.{name} does not evaluate to true or false")
        self._conditions[name] = result
        return result

    def is_included(self, logical_id: str) -> bool:
        """False when the resource has a Condition that is false (CloudFormation would not create it)."""
        condition = (self._resources.get(logical_id) or {}).get("Condition")
        return condition is None or self.condition(str(condition), f"Resources.{logical_id}.Condition")

    def resource_type(self, logical_id: str) -> str | None:
        resource = self._resources.get(logical_id)
        if isinstance(resource, dict):
            return cast(str | None, resource.get("Type"))
        return self._implicit.get(logical_id)

    def physical_name(self, logical_id: str) -> str:
        if logical_id in self._names:
            return self._names[logical_id]
        resource = self._resources.get(logical_id)
        if resource is None:
            if logical_id in self._implicit:
                return logical_id
            raise TemplateError(f"no resource named {logical_id!r}")
        name_property = _NAME_PROPERTIES.get(str(resource.get("Type")))
        raw_name = (resource.get("Properties") or {}).get(name_property) if name_property else None
        name = logical_id
        if raw_name is not None:
            if logical_id in self._in_progress:
                raise TemplateError(f"the name of {logical_id} refers to itself")
            self._in_progress.add(logical_id)
            try:
                name = self.resolve_string(raw_name, f"Resources.{logical_id}.Properties.{name_property}")
            finally:
                self._in_progress.discard(logical_id)
        elif resource.get("Type") == "AWS::SQS::Queue" and _truthy(
            (resource.get("Properties") or {}).get("FifoQueue")
        ):
            name = f"{logical_id}.fifo"
        self._names[logical_id] = name
        return name

    # -- intrinsic functions -----------------------------------------------------------------------

    def _intrinsic(self, name: str, argument: Any, where: str) -> Any:
        handler = self._INTRINSICS.get(name)
        if handler is None:
            raise TemplateError(f"{where}: {name} is not supported by the local stack")
        return handler(self, argument, f"{where}.{name}")

    def _ref(self, argument: Any, where: str) -> Any:
        if not isinstance(argument, str):
            raise TemplateError(f"{where}: Ref takes a name, got {argument!r}")
        if argument in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[argument]
        if argument in self._parameters:
            return self._parameter_value(argument, where)
        return self._resource_ref(argument, where)

    def _parameter_value(self, name: str, where: str) -> Any:
        parameter = self._parameters[name]
        if parameter.type.startswith("AWS::SSM::Parameter::Value"):
            raise TemplateError(
                f"{where}: parameter {name} comes from SSM in AWS; pass a local value in parameter_overrides"
            )
        if parameter.value is None:
            raise TemplateError(f"{where}: parameter {name} has no default; pass it in parameter_overrides")
        if parameter.type == "CommaDelimitedList" or parameter.type.startswith("List<"):
            return [item.strip() for item in parameter.value.split(",")] if parameter.value else []
        return parameter.value

    def _resource_ref(self, logical_id: str, where: str) -> str:
        resource_type = self.resource_type(logical_id)
        if resource_type is None:
            raise TemplateError(f"{where}: Ref to unknown parameter or resource {logical_id!r}")
        name = self.physical_name(logical_id)
        if resource_type in _LAYER_TYPES:
            return arn("lambda", f"layer:{name}:1")
        if resource_type in _API_TYPES:
            return api_id(logical_id)
        if resource_type == "AWS::SNS::Topic":
            return arn("sns", name)
        # Tables, functions, roles, rules, buses: the name. Secrets and queues: the name too, which
        # Secrets Manager and SQS (moto) accept wherever they take an ARN or a queue URL.
        return name

    def _get_att(self, argument: Any, where: str) -> str:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::GetAtt takes [LogicalId, Attribute], got {argument!r}")
        logical_id = str(argument[0])
        attribute = self.resolve_string(argument[1], where)
        resource_type = self.resource_type(logical_id)
        if resource_type is None:
            raise TemplateError(f"{where}: Fn::GetAtt on unknown resource {logical_id!r}")
        name = self.physical_name(logical_id)
        value = _attribute(resource_type, logical_id, name, attribute)
        if value is None:
            raise TemplateError(
                f"{where}: the local stack cannot resolve {logical_id}.{attribute} ({resource_type})"
            )
        return value

    _SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")

    def _sub(self, argument: Any, where: str) -> str:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, list):
            if len(argument) != 2 or not isinstance(argument[1], dict):
                raise TemplateError(f"{where}: Fn::Sub takes a string or [string, {{variables}}]")
            text, variables = argument[0], argument[1]
        else:
            text = argument
        if not isinstance(text, str):
            raise TemplateError(f"{where}: Fn::Sub needs a string, got {text!r}")

        def substitute(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            expression = expression.strip()
            if expression in variables:
                return self.resolve_string(variables[expression], f"{where}.{expression}")
            if expression in PSEUDO_PARAMETERS or expression in self._parameters:
                return scalar_to_string(self._ref(expression, where), where)
            if "." in expression:
                logical_id, attribute = expression.split(".", 1)
                if self.resource_type(logical_id) is not None:
                    return self._get_att([logical_id, attribute], where)
            return scalar_to_string(self._ref(expression, where), where)

        return self._SUB_VARIABLE.sub(substitute, text)

    def _join(self, argument: Any, where: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::Join takes [delimiter, [values]]")
        delimiter = self.resolve_string(argument[0], where)
        values = self.resolve(argument[1], where)
        if not isinstance(values, list):
            raise TemplateError(f"{where}: Fn::Join needs a list of values")
        return delimiter.join(scalar_to_string(value, where) for value in values)

    def _select(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::Select takes [index, [values]]")
        index = int(self.resolve_string(argument[0], where))
        values = self.resolve(argument[1], where)
        if not isinstance(values, list) or not 0 <= index < len(values):
            raise TemplateError(f"{where}: Fn::Select index {index} is out of range")
        return values[index]

    def _split(self, argument: Any, where: str) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::Split takes [delimiter, string]")
        delimiter = self.resolve_string(argument[0], where)
        return self.resolve_string(argument[1], where).split(delimiter)

    def _find_in_map(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            raise TemplateError(f"{where}: Fn::FindInMap takes [map, top-level key, second-level key]")
        map_name, top, second = (self.resolve_string(part, where) for part in argument[:3])
        try:
            return self.resolve(self._mappings[map_name][top][second], where)
        except (KeyError, TypeError):
            if len(argument) == 4 and isinstance(argument[3], dict) and "DefaultValue" in argument[3]:
                return self.resolve(argument[3]["DefaultValue"], where)
            raise TemplateError(f"{where}: Mappings has no {map_name}.{top}.{second}") from None

    def _if(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise TemplateError(f"{where}: Fn::If takes [condition, value if true, value if false]")
        chosen = argument[1] if self.condition(str(argument[0]), where) else argument[2]
        return self.resolve(chosen, where)

    def _equals(self, argument: Any, where: str) -> bool:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::Equals takes [value, value]")
        left, right = (self.resolve(value, where) for value in argument)
        if isinstance(left, list | dict) or isinstance(right, list | dict):
            return bool(left == right)
        return scalar_to_string(left, where) == scalar_to_string(right, where)

    def _boolean_list(self, argument: Any, where: str) -> list[bool]:
        if not isinstance(argument, list):
            raise TemplateError(f"{where}: expected a list of conditions")
        values = [self.resolve(value, where) for value in argument]
        if not all(isinstance(value, bool) for value in values):
            raise TemplateError(f"{where}: every operand must be a condition")
        return cast(list[bool], values)

    def _not(self, argument: Any, where: str) -> bool:
        values = self._boolean_list(argument, where)
        if len(values) != 1:
            raise TemplateError(f"{where}: Fn::Not takes exactly one condition")
        return not values[0]

    def _and(self, argument: Any, where: str) -> bool:
        return all(self._boolean_list(argument, where))

    def _or(self, argument: Any, where: str) -> bool:
        return any(self._boolean_list(argument, where))

    def _condition_ref(self, argument: Any, where: str) -> bool:
        return self.condition(str(argument), where)

    def _base64(self, argument: Any, where: str) -> str:
        return base64.b64encode(self.resolve_string(argument, where).encode()).decode()

    def _get_azs(self, argument: Any, where: str) -> list[str]:
        return list(AVAILABILITY_ZONES)

    def _length(self, argument: Any, where: str) -> int:
        values = self.resolve(argument, where)
        if not isinstance(values, list):
            raise TemplateError(f"{where}: Fn::Length needs a list")
        return len(values)

    def _to_json_string(self, argument: Any, where: str) -> str:
        return json.dumps(self.resolve(argument, where), separators=(",", ":"))

    def _import_value(self, argument: Any, where: str) -> Any:
        raise TemplateError(
            f"{where}: Fn::ImportValue reads another stack's export, which does not exist locally"
        )

    _INTRINSICS: dict[str, Callable[[_Resolver, Any, str], Any]] = {
        "Ref": _ref,
        "Condition": _condition_ref,
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::Join": _join,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::FindInMap": _find_in_map,
        "Fn::If": _if,
        "Fn::Equals": _equals,
        "Fn::Not": _not,
        "Fn::And": _and,
        "Fn::Or": _or,
        "Fn::Base64": _base64,
        "Fn::GetAZs": _get_azs,
        "Fn::Length": _length,
        "Fn::ToJsonString": _to_json_string,
        "Fn::ImportValue": _import_value,
    }

    # -- resources SAM creates without declaring them ----------------------------------------------

    def _implicit_resources(self) -> dict[str, str]:
        implicit: dict[str, str] = {}
        for logical_id, resource in self._resources.items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
                continue
            properties = resource.get("Properties") or {}
            if "Role" not in properties:
                implicit[f"{logical_id}Role"] = "AWS::IAM::Role"
            for event in (properties.get("Events") or {}).values():
                if (
                    isinstance(event, dict)
                    and event.get("Type") == "Api"
                    and "RestApiId" not in (event.get("Properties") or {})
                ):
                    implicit[IMPLICIT_API_ID] = "AWS::Serverless::Api"
        return implicit


def _intrinsic_name(value: Mapping[str, Any]) -> str | None:
    if len(value) != 1:
        return None
    key = next(iter(value))
    if key in ("Ref", "Condition") or (isinstance(key, str) and key.startswith("Fn::")):
        return str(key)
    return None


def _attribute(resource_type: str, logical_id: str, name: str, attribute: str) -> str | None:
    """Fn::GetAtt for the resource types Farewatch uses, with well-formed local ARNs."""
    if resource_type in _TABLE_TYPES:
        return {
            "Arn": arn("dynamodb", f"table/{name}"),
            "StreamArn": arn("dynamodb", f"table/{name}/stream/1970-01-01T00:00:00.000"),
        }.get(attribute)
    if resource_type == "AWS::SQS::Queue":
        return {
            "Arn": arn("sqs", name),
            "QueueName": name,
            "QueueUrl": f"https://sqs.{REGION}.{URL_SUFFIX}/{ACCOUNT_ID}/{name}",
        }.get(attribute)
    if resource_type in _FUNCTION_TYPES:
        return {"Arn": arn("lambda", f"function:{name}")}.get(attribute)
    if resource_type == "AWS::SecretsManager::Secret":
        return {
            "Id": arn("secretsmanager", f"secret:{name}"),
            "Arn": arn("secretsmanager", f"secret:{name}"),
        }.get(attribute)
    if resource_type == "AWS::SNS::Topic":
        return {"TopicArn": arn("sns", name), "TopicName": name}.get(attribute)
    if resource_type == "AWS::Events::EventBus":
        return {"Arn": arn("events", f"event-bus/{name}"), "Name": name}.get(attribute)
    if resource_type == "AWS::Events::Rule":
        return {"Arn": arn("events", f"rule/{name}")}.get(attribute)
    if resource_type == "AWS::Scheduler::Schedule":
        return {"Arn": arn("scheduler", f"schedule/default/{name}")}.get(attribute)
    if resource_type == "AWS::IAM::Role":
        return {
            "Arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{name}",
            "RoleId": f"AROA{logical_id.upper()[:17]}",
        }.get(attribute)
    if resource_type == "AWS::Logs::LogGroup":
        return {"Arn": arn("logs", f"log-group:{name}:*")}.get(attribute)
    if resource_type in _API_TYPES:
        return {"RootResourceId": "root000000"}.get(attribute)
    return None


def scalar_to_string(value: Any, where: str) -> str:
    """CloudFormation's view of a scalar as a string: booleans lower case, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"{where}: expected a string, got {value!r}")


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


# --------------------------------------------------------------------------------------------------
# Parameters and Globals.


def _read_parameters(document: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, _Parameter]:
    declared: Mapping[str, Any] = document.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"parameter_overrides names parameters the template does not declare: {unknown}")
    parameters: dict[str, _Parameter] = {}
    for name, declaration in declared.items():
        declaration = declaration or {}
        parameter_type = str(declaration.get("Type", "String"))
        if name in overrides:
            value: str | None = str(overrides[name])
            _validate_parameter(name, declaration, cast(str, value))
        elif "Default" in declaration:
            value = scalar_to_string(declaration["Default"], f"Parameters.{name}.Default")
        else:
            value = None
        parameters[name] = _Parameter(name, parameter_type, value)
    return parameters


def _validate_parameter(name: str, declaration: Mapping[str, Any], value: str) -> None:
    where = f"parameter {name}"
    allowed = declaration.get("AllowedValues")
    if allowed is not None and value not in [scalar_to_string(item, where) for item in allowed]:
        raise TemplateError(f"{where} must be one of {allowed}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), value):
        raise TemplateError(f"{where} must match {pattern}")
    if "MinLength" in declaration and len(value) < int(declaration["MinLength"]):
        raise TemplateError(f"{where} is shorter than {declaration['MinLength']} characters")
    if "MaxLength" in declaration and len(value) > int(declaration["MaxLength"]):
        raise TemplateError(f"{where} is longer than {declaration['MaxLength']} characters")
    if declaration.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"{where} must be a number") from None
        if "MinValue" in declaration and number < float(declaration["MinValue"]):
            raise TemplateError(f"{where} must be at least {declaration['MinValue']}")
        if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
            raise TemplateError(f"{where} must be at most {declaration['MaxValue']}")


def merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rule: maps merge key by key, lists are concatenated (globals first), scalars override."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        if _intrinsic_name(global_value) or _intrinsic_name(local_value):
            return local_value
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return [*global_value, *local_value]
    return local_value


_GLOBALS_SECTIONS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::Api": "Api",
    "AWS::Serverless::SimpleTable": "SimpleTable",
    "AWS::Serverless::LayerVersion": "LayerVersion",
}


def _properties_with_globals(document: Mapping[str, Any], resource: Mapping[str, Any]) -> dict[str, Any]:
    properties = dict(resource.get("Properties") or {})
    section = _GLOBALS_SECTIONS.get(str(resource.get("Type")))
    global_properties = ((document.get("Globals") or {}).get(section) or {}) if section else {}
    return cast(dict[str, Any], merge_globals(global_properties, properties))


# --------------------------------------------------------------------------------------------------
# Building the model.


def load_template(path: str | Path, parameter_overrides: Mapping[str, str] | None = None) -> Template:
    """Read template.yaml (or any SAM template) into the model the local stack runs."""
    template_path = Path(path).resolve()
    document = read_template_document(template_path)
    parameters = _read_parameters(document, parameter_overrides or {})
    resolver = _Resolver(document, parameters)
    builder = _ModelBuilder(template_path, document, resolver)
    functions, apis = builder.functions(), builder.apis()
    for function in functions:
        for event in function.api_events:
            if event.rest_api_id not in apis:
                raise TemplateError(
                    f"{function.logical_id} event {event.name} names RestApiId {event.rest_api_id!r}, "
                    "which is not an AWS::Serverless::Api of this template"
                )
    return Template(
        path=template_path,
        parameters={
            name: parameter.value for name, parameter in parameters.items() if parameter.value is not None
        },
        functions=functions,
        tables=builder.tables(),
        secrets=builder.secrets(),
        queues=builder.queues(),
        layers=builder.layers(),
        apis=apis,
        resources=document["Resources"],
        _resolver=resolver,
    )


class _ModelBuilder:
    def __init__(self, path: Path, document: Mapping[str, Any], resolver: _Resolver) -> None:
        self._root = path.parent
        self._document = document
        self._resolver = resolver
        self._resources: Mapping[str, Any] = document["Resources"]

    def _of_type(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self._resources.items():
            if not isinstance(resource, dict):
                raise TemplateError(f"Resources.{logical_id} is not a mapping")
            if resource.get("Type") in types and self._resolver.is_included(logical_id):
                yield logical_id, _properties_with_globals(self._document, resource)

    def _resolve(self, value: Any, where: str) -> Any:
        return self._resolver.resolve(value, where)

    def _string(self, value: Any, where: str) -> str:
        return self._resolver.resolve_string(value, where)

    def _int(self, value: Any, where: str, default: int) -> int:
        if value is None:
            return default
        try:
            return int(float(self._string(value, where)))
        except ValueError:
            raise TemplateError(f"{where} must be a number") from None

    def _bool(self, value: Any, where: str, default: bool) -> bool:
        if value is None:
            return default
        return _truthy(self._resolve(value, where))

    # -- layers and functions ----------------------------------------------------------------------

    def layers(self) -> list[LayerSpec]:
        layers = []
        for logical_id, properties in self._of_type(*_LAYER_TYPES):
            content = properties.get("ContentUri", properties.get("Content"))
            if not isinstance(content, str):
                continue  # a layer in S3 cannot be put on sys.path locally
            directory = (self._root / content).resolve()
            python_folder = directory / "python"
            layers.append(LayerSpec(logical_id, python_folder if python_folder.is_dir() else directory))
        return layers

    def functions(self) -> list[FunctionSpec]:
        layers = {layer.logical_id: layer.content_uri for layer in self.layers()}
        functions = []
        for logical_id, properties in self._of_type("AWS::Serverless::Function"):
            where = f"Resources.{logical_id}.Properties"
            code_uri = properties.get("CodeUri")
            if not isinstance(code_uri, str):
                raise TemplateError(f"{where}.CodeUri must be a local folder to run {logical_id} locally")
            handler = self._string(properties.get("Handler"), f"{where}.Handler")
            if "." not in handler:
                raise TemplateError(f"{where}.Handler must be module.function, got {handler!r}")
            environment = self._resolve(
                (properties.get("Environment") or {}).get("Variables") or {}, f"{where}.Environment.Variables"
            )
            functions.append(
                FunctionSpec(
                    logical_id=logical_id,
                    name=self._resolver.physical_name(logical_id),
                    code_uri=(self._root / code_uri).resolve(),
                    handler=handler,
                    runtime=None
                    if "Runtime" not in properties
                    else self._string(properties["Runtime"], where),
                    environment={
                        name: scalar_to_string(value, f"{where}.Environment.Variables.{name}")
                        for name, value in environment.items()
                    },
                    timeout=self._int(properties.get("Timeout"), f"{where}.Timeout", DEFAULT_TIMEOUT_SECONDS),
                    memory=self._int(properties.get("MemorySize"), f"{where}.MemorySize", DEFAULT_MEMORY_MB),
                    layers=tuple(
                        layers[layer["Ref"]]
                        for layer in properties.get("Layers") or []
                        if isinstance(layer, dict) and layer.get("Ref") in layers
                    ),
                    events=tuple(self._events(logical_id, properties.get("Events") or {})),
                )
            )
        return functions

    def _events(self, function_id: str, events: Mapping[str, Any]) -> Iterator[FunctionEvent]:
        for name, event in events.items():
            where = f"Resources.{function_id}.Properties.Events.{name}"
            event_type = event.get("Type")
            properties = event.get("Properties") or {}
            if event_type == "Api":
                yield self._api_event(name, properties, where)
            elif event_type in ("Schedule", "ScheduleV2"):
                yield self._schedule_event(name, event_type, properties, where)
            elif event_type == "SQS":
                yield self._sqs_event(name, properties, where)
            # Other event sources (SNS, S3, EventBridgeRule...) have no local delivery yet.

    def _api_event(self, name: str, properties: Mapping[str, Any], where: str) -> ApiEvent:
        rest_api = properties.get("RestApiId")
        if rest_api is None:
            rest_api_id = IMPLICIT_API_ID
        elif isinstance(rest_api, dict) and isinstance(rest_api.get("Ref"), str):
            rest_api_id = rest_api["Ref"]
        else:
            raise TemplateError(f"{where}.RestApiId must be !Ref to an API of this template")
        path = self._string(properties.get("Path"), f"{where}.Path")
        if not path.startswith("/"):
            raise TemplateError(f"{where}.Path must start with /")
        method = self._string(properties.get("Method"), f"{where}.Method").upper()
        return ApiEvent(name=name, path=path, method=method, rest_api_id=rest_api_id)

    def _schedule_event(
        self, name: str, kind: str, properties: Mapping[str, Any], where: str
    ) -> ScheduleEvent:
        expression_key = "Schedule" if kind == "Schedule" else "ScheduleExpression"
        expression = self._string(properties.get(expression_key), f"{where}.{expression_key}")
        if "State" in properties:
            enabled = self._string(properties["State"], f"{where}.State").upper() == "ENABLED"
        else:
            enabled = self._bool(properties.get("Enabled"), f"{where}.Enabled", True)
        raw_input = properties.get("Input")
        event_input = None if raw_input is None else self._resolve(raw_input, f"{where}.Input")
        if event_input is not None and not isinstance(event_input, str):
            event_input = json.dumps(event_input)
        timezone = properties.get("ScheduleExpressionTimezone")
        return ScheduleEvent(
            name=name,
            expression=expression,
            enabled=enabled,
            input=event_input,
            kind=kind,
            timezone=None
            if timezone is None
            else self._string(timezone, f"{where}.ScheduleExpressionTimezone"),
        )

    def _sqs_event(self, name: str, properties: Mapping[str, Any], where: str) -> SqsEvent:
        queue = self._queue_logical_id(properties.get("Queue"), f"{where}.Queue")
        scaling = properties.get("ScalingConfig") or {}
        concurrency = scaling.get("MaximumConcurrency")
        return SqsEvent(
            name=name,
            queue=queue,
            batch_size=self._int(properties.get("BatchSize"), f"{where}.BatchSize", DEFAULT_SQS_BATCH_SIZE),
            function_response_types=tuple(
                self._string(value, f"{where}.FunctionResponseTypes")
                for value in properties.get("FunctionResponseTypes") or []
            ),
            maximum_batching_window_seconds=self._int(
                properties.get("MaximumBatchingWindowInSeconds"), f"{where}.MaximumBatchingWindowInSeconds", 0
            ),
            maximum_concurrency=None
            if concurrency is None
            else self._int(concurrency, f"{where}.ScalingConfig.MaximumConcurrency", 0),
            enabled=self._bool(properties.get("Enabled"), f"{where}.Enabled", True),
        )

    def _queue_logical_id(self, reference: Any, where: str) -> str:
        """The queue a `!GetAtt Queue.Arn` (or any expression resolving to its ARN) points at."""
        if isinstance(reference, dict) and "Fn::GetAtt" in reference:
            target = reference["Fn::GetAtt"]
            logical_id = str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
            if self._resolver.resource_type(logical_id) == "AWS::SQS::Queue":
                return logical_id
        queue_arn = self._string(reference, where)
        for logical_id, _ in self._of_type("AWS::SQS::Queue"):
            if queue_arn in (arn("sqs", self._resolver.physical_name(logical_id)), logical_id):
                return logical_id
        raise TemplateError(f"{where} must point at a queue of this template (e.g. !GetAtt Queue.Arn)")

    # -- tables ------------------------------------------------------------------------------------

    def tables(self) -> list[TableSpec]:
        tables = []
        for logical_id, properties in self._of_type(*_TABLE_TYPES):
            where = f"Resources.{logical_id}.Properties"
            name = self._resolver.physical_name(logical_id)
            if self._resolver.resource_type(logical_id) == "AWS::Serverless::SimpleTable":
                tables.append(self._simple_table(logical_id, name, properties, where))
                continue
            resolved = self._resolve(properties, where)
            ttl = resolved.get("TimeToLiveSpecification") or {}
            stream = resolved.get("StreamSpecification") or {}
            tables.append(
                TableSpec(
                    logical_id=logical_id,
                    name=name,
                    attribute_definitions=tuple(
                        AttributeDefinition(str(item["AttributeName"]), str(item["AttributeType"]))
                        for item in resolved.get("AttributeDefinitions") or []
                    ),
                    key_schema=_key_schema(resolved.get("KeySchema"), f"{where}.KeySchema"),
                    global_secondary_indexes=_indexes(
                        resolved.get("GlobalSecondaryIndexes"), f"{where}.GlobalSecondaryIndexes"
                    ),
                    local_secondary_indexes=_indexes(
                        resolved.get("LocalSecondaryIndexes"), f"{where}.LocalSecondaryIndexes"
                    ),
                    ttl_attribute=str(ttl["AttributeName"]) if _truthy(ttl.get("Enabled", False)) else None,
                    billing_mode=str(resolved.get("BillingMode", "PROVISIONED")),
                    stream_view_type=stream.get("StreamViewType"),
                )
            )
        return tables

    def _simple_table(
        self, logical_id: str, name: str, properties: Mapping[str, Any], where: str
    ) -> TableSpec:
        primary_key = self._resolve(properties.get("PrimaryKey") or {}, f"{where}.PrimaryKey")
        key_name = str(primary_key.get("Name", "id"))
        key_type = {"String": "S", "Number": "N", "Binary": "B"}.get(str(primary_key.get("Type", "String")))
        if key_type is None:
            raise TemplateError(f"{where}.PrimaryKey.Type must be String, Number or Binary")
        return TableSpec(
            logical_id=logical_id,
            name=name,
            attribute_definitions=(AttributeDefinition(key_name, key_type),),
            key_schema=(KeyElement(key_name, "HASH"),),
            billing_mode="PROVISIONED" if properties.get("ProvisionedThroughput") else "PAY_PER_REQUEST",
        )

    # -- secrets -----------------------------------------------------------------------------------

    def secrets(self) -> list[SecretSpec]:
        specs = []
        for logical_id, properties in self._of_type("AWS::SecretsManager::Secret"):
            where = f"Resources.{logical_id}.Properties"
            if "SecretString" in properties and "GenerateSecretString" in properties:
                raise TemplateError(f"{where} sets both SecretString and GenerateSecretString")
            secret_string: str | None = None
            if "SecretString" in properties:
                secret_string = self._string(properties["SecretString"], f"{where}.SecretString")
            elif "GenerateSecretString" in properties:
                options = self._resolve(properties["GenerateSecretString"], f"{where}.GenerateSecretString")
                secret_string = generate_secret_string(options, f"{where}.GenerateSecretString")
            description = properties.get("Description")
            specs.append(
                SecretSpec(
                    logical_id=logical_id,
                    name=self._resolver.physical_name(logical_id),
                    secret_string=secret_string,
                    description=None
                    if description is None
                    else self._string(description, f"{where}.Description"),
                )
            )
        return specs

    # -- queues ------------------------------------------------------------------------------------

    def queues(self) -> list[QueueSpec]:
        declared = list(self._of_type("AWS::SQS::Queue"))
        by_arn = {
            arn("sqs", self._resolver.physical_name(logical_id)): logical_id for logical_id, _ in declared
        }
        specs = []
        for logical_id, properties in declared:
            where = f"Resources.{logical_id}.Properties"
            dead_letter_queue, max_receive_count = None, None
            redrive = self._resolve(properties.get("RedrivePolicy"), f"{where}.RedrivePolicy")
            if isinstance(redrive, str):
                redrive = json.loads(redrive)
            if redrive:
                target = str(redrive.get("deadLetterTargetArn", ""))
                if target not in by_arn:
                    raise TemplateError(
                        f"{where}.RedrivePolicy.deadLetterTargetArn is not a queue of this template"
                    )
                dead_letter_queue = by_arn[target]
                max_receive_count = self._int(
                    redrive.get("maxReceiveCount"), f"{where}.RedrivePolicy.maxReceiveCount", 10
                )

            def optional_int(
                key: str, properties: Mapping[str, Any] = properties, where: str = where
            ) -> int | None:
                return None if key not in properties else self._int(properties[key], f"{where}.{key}", 0)

            specs.append(
                QueueSpec(
                    logical_id=logical_id,
                    name=self._resolver.physical_name(logical_id),
                    visibility_timeout=self._int(
                        properties.get("VisibilityTimeout"), f"{where}.VisibilityTimeout", 30
                    ),
                    message_retention_seconds=optional_int("MessageRetentionPeriod"),
                    delay_seconds=optional_int("DelaySeconds"),
                    receive_wait_seconds=optional_int("ReceiveMessageWaitTimeSeconds"),
                    fifo=self._bool(properties.get("FifoQueue"), f"{where}.FifoQueue", False),
                    content_based_deduplication=self._bool(
                        properties.get("ContentBasedDeduplication"),
                        f"{where}.ContentBasedDeduplication",
                        False,
                    ),
                    dead_letter_queue=dead_letter_queue,
                    max_receive_count=max_receive_count,
                )
            )
        return specs

    # -- the REST API ------------------------------------------------------------------------------

    def apis(self) -> dict[str, ApiSpec]:
        apis: dict[str, ApiSpec] = {}
        for logical_id, properties in self._of_type("AWS::Serverless::Api"):
            where = f"Resources.{logical_id}.Properties"
            apis[logical_id] = ApiSpec(
                logical_id=logical_id,
                stage_name=self._string(properties.get("StageName"), f"{where}.StageName"),
                gateway_responses=self._gateway_responses(properties.get("GatewayResponses") or {}, where),
                binary_media_types=tuple(
                    self._string(value, f"{where}.BinaryMediaTypes")
                    for value in properties.get("BinaryMediaTypes") or []
                ),
            )
        if self._resolver.resource_type(IMPLICIT_API_ID) and IMPLICIT_API_ID not in apis:
            apis[IMPLICIT_API_ID] = ApiSpec(logical_id=IMPLICIT_API_ID, stage_name=IMPLICIT_API_STAGE)
        return apis

    def _gateway_responses(self, responses: Mapping[str, Any], where: str) -> dict[str, GatewayResponseSpec]:
        specs = {}
        for response_type, raw in responses.items():
            resolved = self._resolve(raw or {}, f"{where}.GatewayResponses.{response_type}")
            status = resolved.get("StatusCode")
            specs[response_type] = GatewayResponseSpec(
                response_type=response_type,
                status_code=None if status is None else int(status),
                headers={
                    str(key): str(value)
                    for key, value in (
                        (resolved.get("ResponseParameters") or {}).get("Headers") or {}
                    ).items()
                },
                templates={
                    str(key): str(value) for key, value in (resolved.get("ResponseTemplates") or {}).items()
                },
            )
        return specs


def _key_schema(raw: Any, where: str) -> tuple[KeyElement, ...]:
    if not raw:
        raise TemplateError(f"{where} is required")
    return tuple(KeyElement(str(item["AttributeName"]), str(item["KeyType"])) for item in raw)


def _indexes(raw: Any, where: str) -> tuple[IndexSpec, ...]:
    return tuple(
        IndexSpec(
            name=str(index["IndexName"]),
            key_schema=_key_schema(index.get("KeySchema"), f"{where}.KeySchema"),
            projection=dict(index.get("Projection") or {"ProjectionType": "ALL"}),
        )
        for index in raw or []
    )


def generate_secret_string(options: Mapping[str, Any], where: str = "GenerateSecretString") -> str:
    """What Secrets Manager's GenerateSecretString produces, with a cryptographically random password."""
    length = int(options.get("PasswordLength", 32))
    excluded = set(str(options.get("ExcludeCharacters", "")))
    groups = []
    if not _truthy(options.get("ExcludeLowercase", False)):
        groups.append(string.ascii_lowercase)
    if not _truthy(options.get("ExcludeUppercase", False)):
        groups.append(string.ascii_uppercase)
    if not _truthy(options.get("ExcludeNumbers", False)):
        groups.append(string.digits)
    if not _truthy(options.get("ExcludePunctuation", False)):
        groups.append(PUNCTUATION)
    if _truthy(options.get("IncludeSpace", False)):
        groups.append(" ")
    groups = ["".join(char for char in group if char not in excluded) for group in groups]
    groups = [group for group in groups if group]
    alphabet = "".join(groups)
    if not alphabet:
        raise TemplateError(f"{where} excludes every character")
    require_each = _truthy(options.get("RequireEachIncludedType", True))
    if length < 1 or (require_each and length < len(groups)):
        raise TemplateError(f"{where}.PasswordLength {length} is too short")
    characters = [secrets.choice(group) for group in groups] if require_each else []
    characters += [secrets.choice(alphabet) for _ in range(length - len(characters))]
    secrets.SystemRandom().shuffle(characters)
    password = "".join(characters)

    template_text = options.get("SecretStringTemplate")
    key = options.get("GenerateStringKey")
    if (template_text is None) != (key is None):
        raise TemplateError(f"{where} needs both SecretStringTemplate and GenerateStringKey, or neither")
    if template_text is None:
        return password
    try:
        document = json.loads(str(template_text))
    except json.JSONDecodeError:
        raise TemplateError(f"{where}.SecretStringTemplate is not JSON") from None
    if not isinstance(document, dict):
        raise TemplateError(f"{where}.SecretStringTemplate must be a JSON object")
    document[str(key)] = password
    return json.dumps(document)
