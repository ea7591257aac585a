"""template.yaml as the local stack reads it: the one description of the system, in a typed model.

cfn-lint's decoder reads the YAML (short-form tags, duplicate keys, line numbers). Only what the local
stack uses is resolved, the way a deployment named `farewatch-local` in us-east-1 would resolve it:
Ref, Fn::GetAtt, Fn::Sub, Fn::If and the condition functions, SAM Globals and parameters with their
defaults. Any other intrinsic, resource type or event type is a TemplateError that names it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "farewatch-local"
IMPLICIT_API = "ServerlessRestApi"  # what SAM creates for Api events without a RestApiId
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
# Resource types that exist in AWS only: nothing of them to run or provision locally.
NOT_EMULATED = {
    "AWS::IAM::Role",
    "AWS::Logs::LogGroup",
    "AWS::ApiGateway::Account",
    "AWS::Lambda::Permission",
    "AWS::CloudWatch::Alarm",
}
_NAME_PROPERTY = {
    "AWS::Serverless::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SecretsManager::Secret": "Name",
}
_EMULATED = {*_NAME_PROPERTY, "AWS::Serverless::Api", "AWS::Serverless::LayerVersion"}
_NO_VALUE = object()  # AWS::NoValue: the property disappears


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
    enabled: bool
    input: str | None  # JSON the function gets instead of the Scheduled Event envelope


@dataclass(frozen=True)
class SqsEvent:
    name: str
    queue: str  # logical id of the AWS::SQS::Queue
    batch_size: int = 10
    function_response_types: tuple[str, ...] = ()
    maximum_concurrency: int | None = None
    enabled: bool = True

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
    reserved_concurrency: int | None = None
    # Variables whose value is a template parameter: the ones a person may set locally by exporting them.
    parameter_variables: frozenset[str] = frozenset()

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

    @property
    def message_retention_seconds(self) -> int | None:
        retention = self.attributes.get("MessageRetentionPeriod")
        return None if retention is None else int(retention)


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    stage_name: str
    binary_media_types: tuple[str, ...] = ()
    # GatewayResponses: response type -> (status code or None, application/json body or None)
    gateway_responses: Mapping[str, tuple[int | None, str | None]] = field(default_factory=dict)

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

    @property
    def api(self) -> ApiSpec:
        if len(self.apis) != 1:
            raise TemplateError(f"expected one REST API, found {len(self.apis)}: {', '.join(self.apis)}")
        return next(iter(self.apis.values()))

    def function(self, logical_id: str) -> FunctionSpec:
        return _find(self.functions, logical_id)

    def table(self, logical_id: str) -> TableSpec:
        return _find(self.tables, logical_id)

    def secret(self, logical_id: str) -> SecretSpec:
        return _find(self.secrets, logical_id)

    def queue(self, logical_id: str) -> QueueSpec:
        return _find(self.queues, logical_id)

    @property
    def routes(self) -> list[tuple[FunctionSpec, ApiEvent]]:
        return [(function, event) for function in self.functions for event in function.api_events]

    @property
    def schedules(self) -> list[tuple[FunctionSpec, ScheduleEvent]]:
        return [(function, event) for function in self.functions for event in function.schedule_events]

    @property
    def queue_subscriptions(self) -> list[tuple[FunctionSpec, SqsEvent]]:
        return [(function, event) for function in self.functions for event in function.sqs_events]


def _find(specs: list[Any], logical_id: str) -> Any:
    found = next((spec for spec in specs if spec.logical_id == logical_id), None)
    if found is None:
        raise KeyError(f"template.yaml has no resource {logical_id!r} of that kind")
    return found


# --------------------------------------------------------------------------------------------------
# Resolving intrinsic functions.


class _Resolver:
    def __init__(self, document: Mapping[str, Any], parameters: Mapping[str, str | None]) -> None:
        self.resources: Mapping[str, Any] = document.get("Resources") or {}
        self._condition_definitions: Mapping[str, Any] = document.get("Conditions") or {}
        self._conditions: dict[str, bool | None] = {}
        self.parameters = parameters

    def __call__(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key in ("Ref", "Condition") or key.startswith("Fn::"):
                    function = self._FUNCTIONS.get(key)
                    if function is None:
                        supported = ", ".join(self._FUNCTIONS)
                        raise TemplateError(f"{where}: {key} is not supported locally (only {supported})")
                    return function(self, argument, f"{where}.{key}")
            resolved = {key: self(item, f"{where}.{key}") for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not _NO_VALUE}
        if isinstance(value, list):
            items = (self(item, f"{where}[{index}]") for index, item in enumerate(value))
            return [item for item in items if item is not _NO_VALUE]
        return value

    def text(self, value: Any, where: str) -> str:
        value = self(value, where)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float | dt.date):
            return str(value)
        raise TemplateError(f"{where}: expected a string, got {value!r}")

    def number(self, value: Any, where: str, default: int) -> int:
        if value is None:
            return default
        try:
            return int(float(self.text(value, where)))
        except ValueError:
            raise TemplateError(f"{where} must be a number") from None

    def flag(self, value: Any, where: str, default: bool) -> bool:
        return default if value is None else self.text(value, where).lower() == "true"

    def condition(self, name: str, where: str) -> bool:
        if name not in self._condition_definitions:
            raise TemplateError(f"{where}: no condition named {name!r}")
        if name not in self._conditions:
            self._conditions[name] = None  # being evaluated: a condition that reaches itself is a cycle
            value = self(self._condition_definitions[name], f"Conditions.{name}")
            if not isinstance(value, bool):
                raise TemplateError(f"Conditions.{name} does not evaluate to true or false")
            self._conditions[name] = value
        value = self._conditions[name]
        if value is None:
            raise TemplateError(f"Conditions.{name} depends on itself")
        return value

    def included(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(str(condition), f"Resources.{logical_id}.Condition")

    def type_of(self, logical_id: str, where: str) -> str:
        if logical_id == IMPLICIT_API:
            return "AWS::Serverless::Api"
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict):
            raise TemplateError(f"{where}: no parameter or resource named {logical_id!r}")
        return str(resource.get("Type"))

    def name_of(self, logical_id: str, where: str) -> str:
        """The physical name: the resource's name property if it sets one, else its logical id."""
        name_property = _NAME_PROPERTY.get(self.type_of(logical_id, where))
        raw = (self.resources.get(logical_id, {}).get("Properties") or {}).get(name_property or "")
        return (
            logical_id
            if raw is None
            else self.text(raw, f"Resources.{logical_id}.Properties.{name_property}")
        )

    def _ref(self, name: Any, where: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            value = self.parameters[name]
            if value is None:
                raise TemplateError(f"{where}: parameter {name} has no Default; pass it as an override")
            return value
        kind = self.type_of(str(name), where)
        if kind == "AWS::Serverless::Api":
            return api_id(str(name))
        if kind == "AWS::Serverless::LayerVersion":
            return arn("lambda", f"layer:{name}:1")
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{self.name_of(str(name), where)}"
        # Tables, functions, secrets (whose ARN suffix moto makes up): the name, accepted wherever an
        # ARN would be.
        return self.name_of(str(name), where)

    def _get_att(self, argument: Any, where: str) -> str:
        logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
        kind, name = self.type_of(logical_id, where), self.name_of(logical_id, where)
        attributes = {
            "AWS::SQS::Queue": {"Arn": arn("sqs", name), "QueueName": name},
            "AWS::DynamoDB::Table": {"Arn": arn("dynamodb", f"table/{name}")},
            "AWS::Serverless::Function": {"Arn": arn("lambda", f"function:{name}")},
        }.get(kind, {})
        if attribute not in attributes:
            raise TemplateError(f"{where}: {logical_id}.{attribute} ({kind}) is not supported locally")
        return attributes[attribute]

    def _sub(self, argument: Any, where: str) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return self.text(variables[name], f"{where}.{name}")
            if "." in name and name not in PSEUDO_PARAMETERS:
                return self._get_att(name, where)
            return self.text({"Ref": name}, where)

        return re.sub(r"\$\{([^}]*)\}", substitute, str(text))

    def _if(self, argument: Any, where: str) -> Any:
        name, if_true, if_false = argument
        return self(if_true if self.condition(str(name), where) else if_false, where)

    def _booleans(self, argument: Any, where: str) -> list[bool]:
        values = [self(item, where) for item in argument]
        if not all(isinstance(value, bool) for value in values):
            raise TemplateError(f"{where}: every operand must be a condition")
        return values

    _FUNCTIONS: dict[str, Callable[[_Resolver, Any, str], Any]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::If": _if,
        "Fn::Equals": lambda self, argument, where: (
            self.text(argument[0], where) == self.text(argument[1], where)
        ),
        "Fn::Not": lambda self, argument, where: not self._booleans(argument, where)[0],
        "Fn::And": lambda self, argument, where: all(self._booleans(argument, where)),
        "Fn::Or": lambda self, argument, where: any(self._booleans(argument, where)),
        "Condition": lambda self, argument, where: self.condition(str(argument), where),
    }


# --------------------------------------------------------------------------------------------------
# Reading the document.


def _parameters(
    document: Mapping[str, Any], overrides: Mapping[str, str], defaults: Mapping[str, str]
) -> dict[str, str | None]:
    declared: Mapping[str, Any] = document.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"the template declares no parameters named {', '.join(unknown)}")
    overrides = {**{name: value for name, value in defaults.items() if name in declared}, **overrides}
    values: dict[str, str | None] = {}
    for name, declaration in declared.items():
        value = overrides.get(name, declaration.get("Default"))
        values[name] = None if value is None else str(value)
        if name in overrides:
            _check_parameter(name, declaration, str(value))
    return values


def _check_parameter(name: str, declaration: Mapping[str, Any], value: str) -> None:
    allowed = declaration.get("AllowedValues")
    problems = [
        allowed is not None and value not in [str(choice) for choice in allowed],
        "AllowedPattern" in declaration and not re.fullmatch(str(declaration["AllowedPattern"]), value),
        "MinLength" in declaration and len(value) < int(declaration["MinLength"]),
        "MaxLength" in declaration and len(value) > int(declaration["MaxLength"]),
    ]
    if declaration.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"parameter {name} must be a number, got {value!r}") from None
        problems += [
            "MinValue" in declaration and number < float(declaration["MinValue"]),
            "MaxValue" in declaration and number > float(declaration["MaxValue"]),
        ]
    if any(problems):
        raise TemplateError(
            f"parameter {name} does not accept {value!r} (see its declaration in the template)"
        )


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's rule: maps merge key by key, lists add up (globals first), anything else is overridden."""
    intrinsic = isinstance(local_value, dict) and any(
        key == "Ref" or key.startswith("Fn::") for key in local_value
    )
    if isinstance(global_value, dict) and isinstance(local_value, dict) and not intrinsic:
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return [*global_value, *local_value]
    return local_value


def load_template(
    path: str | Path,
    parameter_overrides: Mapping[str, str] | None = None,
    *,
    defaults: Mapping[str, str] | None = None,
) -> Template:
    """Read template.yaml (or any SAM template of the same kind) into the model the local stack runs.

    `parameter_overrides` must name declared parameters; `defaults` apply to those declared only.
    """
    path = Path(path).resolve()
    try:
        document, problems = decode_str(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TemplateError(f"cannot read {path}: {error.strerror}") from None
    if problems or not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        reasons = "; ".join(f"line {p.linenumber}: {p.message}" for p in problems) or "no Resources section"
        raise TemplateError(f"{path} cannot be read: {reasons}")
    parameters = _parameters(document, parameter_overrides or {}, defaults or {})
    resolve = _Resolver(document, parameters)
    globals_ = document.get("Globals") or {}
    resources: dict[str, tuple[str, dict[str, Any]]] = {}
    for logical_id, resource in document["Resources"].items():
        kind = str(resource.get("Type"))
        if kind not in _EMULATED | NOT_EMULATED:
            line = getattr(resource, "start_mark", None)
            at = f" (line {line.line + 1})" if line else ""
            raise TemplateError(f"Resources.{logical_id}{at}: the local stack cannot run {kind}")
        if kind in _EMULATED and resolve.included(logical_id):
            section = {"AWS::Serverless::Function": "Function", "AWS::Serverless::Api": "Api"}.get(kind, "")
            properties = _merge_globals(globals_.get(section) or {}, resource.get("Properties") or {})
            resources[logical_id] = (kind, properties)

    def of_type(kind: str) -> list[tuple[str, dict[str, Any], str]]:
        return [
            (lid, props, f"Resources.{lid}.Properties") for lid, (k, props) in resources.items() if k == kind
        ]

    root = path.parent
    layers = {}
    for logical_id, properties, where in of_type("AWS::Serverless::LayerVersion"):
        folder = (root / resolve.text(properties.get("ContentUri"), f"{where}.ContentUri")).resolve()
        layers[logical_id] = folder / "python" if (folder / "python").is_dir() else folder
    queues = [_queue(resolve, *item) for item in of_type("AWS::SQS::Queue")]
    functions = [
        _function(resolve, root, layers, queues, *item) for item in of_type("AWS::Serverless::Function")
    ]
    apis = {
        logical_id: ApiSpec(
            logical_id,
            resolve.text(properties.get("StageName"), f"{where}.StageName"),
            tuple(resolve(properties.get("BinaryMediaTypes") or [], f"{where}.BinaryMediaTypes")),
            {
                kind: (
                    None if "StatusCode" not in spec else int(resolve.text(spec["StatusCode"], where)),
                    (resolve(spec.get("ResponseTemplates") or {}, where)).get("application/json"),
                )
                for kind, spec in (properties.get("GatewayResponses") or {}).items()
            },
        )
        for logical_id, properties, where in of_type("AWS::Serverless::Api")
    }
    if any(event.rest_api_id == IMPLICIT_API for function in functions for event in function.api_events):
        apis.setdefault(IMPLICIT_API, ApiSpec(IMPLICIT_API, "Prod"))
    for function in functions:
        for event in function.api_events:
            if event.rest_api_id not in apis:
                raise TemplateError(
                    f"{function.logical_id}.{event.name}: RestApiId {event.rest_api_id} is no API"
                )
    return Template(
        path=path,
        parameters={name: value for name, value in parameters.items() if value is not None},
        functions=functions,
        tables=[_table(resolve, *item) for item in of_type("AWS::DynamoDB::Table")],
        secrets=[
            SecretSpec(
                logical_id,
                resolve.name_of(logical_id, where),
                None if "SecretString" not in properties else resolve.text(properties["SecretString"], where),
                resolve(properties["GenerateSecretString"], where)
                if "GenerateSecretString" in properties
                else None,
                None if "Description" not in properties else resolve.text(properties["Description"], where),
            )
            for logical_id, properties, where in of_type("AWS::SecretsManager::Secret")
        ],
        queues=queues,
        apis=apis,
    )


def _function(
    resolve: _Resolver,
    root: Path,
    layers: Mapping[str, Path],
    queues: list[QueueSpec],
    logical_id: str,
    properties: dict[str, Any],
    where: str,
) -> FunctionSpec:
    code_uri = properties.get("CodeUri")
    if not isinstance(code_uri, str):
        raise TemplateError(f"{where}.CodeUri must be a local folder to run {logical_id} locally")
    handler = resolve.text(properties.get("Handler"), f"{where}.Handler")
    raw_environment = (properties.get("Environment") or {}).get("Variables") or {}
    at = f"{where}.Environment.Variables"
    environment = {
        name: resolve.text(value, f"{at}.{name}") for name, value in resolve(raw_environment, at).items()
    }
    layer_arns = [resolve.text(layer, f"{where}.Layers") for layer in properties.get("Layers") or []]
    events: list[ApiEvent | ScheduleEvent | SqsEvent] = []
    for name, event in (properties.get("Events") or {}).items():
        kind, spec, at = event.get("Type"), event.get("Properties") or {}, f"{where}.Events.{name}"
        if kind == "Api":
            rest_api = spec.get("RestApiId", {"Ref": IMPLICIT_API})
            if not isinstance(rest_api, dict) or "Ref" not in rest_api:
                raise TemplateError(f"{at}.RestApiId must be !Ref to an API of this template")
            path = resolve.text(spec.get("Path"), f"{at}.Path")
            events.append(
                ApiEvent(name, path, resolve.text(spec.get("Method"), at).upper(), str(rest_api["Ref"]))
            )
        elif kind in ("Schedule", "ScheduleV2"):
            expression = spec.get("Schedule" if kind == "Schedule" else "ScheduleExpression")
            state = resolve.text(spec.get("State", "ENABLED"), at).upper() == "ENABLED"
            raw_input = spec.get("Input")
            events.append(
                ScheduleEvent(
                    name,
                    resolve.text(expression, f"{at}.Schedule"),
                    state and resolve.flag(spec.get("Enabled"), f"{at}.Enabled", True),
                    None if raw_input is None else resolve.text(raw_input, f"{at}.Input"),
                )
            )
        elif kind == "SQS":
            queue_arn = resolve.text(spec.get("Queue"), f"{at}.Queue")
            queue = next((queue for queue in queues if queue.arn == queue_arn), None)
            if queue is None:
                raise TemplateError(f"{at}.Queue must be the Arn of a queue of this template")
            concurrency = (spec.get("ScalingConfig") or {}).get("MaximumConcurrency")
            events.append(
                SqsEvent(
                    name,
                    queue.logical_id,
                    resolve.number(spec.get("BatchSize"), f"{at}.BatchSize", 10),
                    tuple(resolve(spec.get("FunctionResponseTypes") or [], at)),
                    None if concurrency is None else resolve.number(concurrency, at, 0),
                    resolve.flag(spec.get("Enabled"), f"{at}.Enabled", True),
                )
            )
        else:
            raise TemplateError(f"{at}: the local stack cannot deliver {kind} events")
    reserved = properties.get("ReservedConcurrentExecutions")
    return FunctionSpec(
        logical_id=logical_id,
        name=resolve.name_of(logical_id, where),
        code_uri=(root / code_uri).resolve(),
        handler=handler,
        environment=environment,
        timeout=resolve.number(properties.get("Timeout"), f"{where}.Timeout", 3),
        memory=resolve.number(properties.get("MemorySize"), f"{where}.MemorySize", 128),
        layers=tuple(
            folder
            for layer_id, folder in layers.items()
            if arn("lambda", f"layer:{layer_id}:1") in layer_arns
        ),
        events=tuple(events),
        reserved_concurrency=None if reserved is None else resolve.number(reserved, where, 0),
        parameter_variables=frozenset(
            name
            for name, value in raw_environment.items()
            if isinstance(value, dict) and value.get("Ref") in resolve.parameters
        ),
    )


def _table(resolve: _Resolver, logical_id: str, properties: dict[str, Any], where: str) -> TableSpec:
    spec = resolve(
        {
            key: properties.get(key)
            for key in (
                "AttributeDefinitions",
                "KeySchema",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "TimeToLiveSpecification",
            )
        },
        where,
    )

    def keys(raw: Any) -> tuple[KeyElement, ...]:
        return tuple(KeyElement(str(key["AttributeName"]), str(key["KeyType"])) for key in raw or [])

    def indexes(raw: Any) -> tuple[IndexSpec, ...]:
        return tuple(
            IndexSpec(
                str(index["IndexName"]),
                keys(index["KeySchema"]),
                dict(index.get("Projection") or {"ProjectionType": "ALL"}),
            )
            for index in raw or []
        )

    ttl = spec.get("TimeToLiveSpecification") or {}
    return TableSpec(
        logical_id=logical_id,
        name=resolve.name_of(logical_id, where),
        attribute_definitions=tuple(
            AttributeDefinition(str(item["AttributeName"]), str(item["AttributeType"]))
            for item in spec.get("AttributeDefinitions") or []
        ),
        key_schema=keys(spec.get("KeySchema")),
        global_secondary_indexes=indexes(spec.get("GlobalSecondaryIndexes")),
        local_secondary_indexes=indexes(spec.get("LocalSecondaryIndexes")),
        ttl_attribute=str(ttl["AttributeName"]) if str(ttl.get("Enabled", "")).lower() == "true" else None,
    )


def _queue(resolve: _Resolver, logical_id: str, properties: dict[str, Any], where: str) -> QueueSpec:
    attributes: dict[str, str] = {
        key: resolve.text(properties[key], f"{where}.{key}")
        for key in (
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "FifoQueue",
            "ContentBasedDeduplication",
        )
        if key in properties
    }
    redrive = resolve(properties.get("RedrivePolicy") or {}, f"{where}.RedrivePolicy")
    target = str(redrive.get("deadLetterTargetArn", ""))
    dead_letter_queue = next(
        (
            lid
            for lid, resource in resolve.resources.items()
            if resource.get("Type") == "AWS::SQS::Queue" and arn("sqs", resolve.name_of(lid, where)) == target
        ),
        None,
    )
    if redrive and dead_letter_queue is None:
        raise TemplateError(f"{where}.RedrivePolicy.deadLetterTargetArn is not a queue of this template")
    return QueueSpec(
        logical_id=logical_id,
        name=resolve.name_of(logical_id, where),
        visibility_timeout=resolve.number(
            properties.get("VisibilityTimeout"), f"{where}.VisibilityTimeout", 30
        ),
        attributes=attributes,
        dead_letter_queue=dead_letter_queue,
        max_receive_count=resolve.number(redrive.get("maxReceiveCount"), where, 10) if redrive else None,
    )
