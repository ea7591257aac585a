"""The local stack `make dev` runs: the services that reproduce template.yaml on a laptop, in order.

Owns the configuration read from FAREWATCH_* / AMADEUS_* / DUFFEL_* variables, the start order (fare API,
embedded AWS, process environment, provisioning, functions, extensions, gateway), stopping in reverse,
the environment the handlers see, and the start-up banner. `LocalStack` works the same in-process
(tests start it on port 0 everywhere) as under `python -m farewatch_local`.

Adding a service (the scheduler, the SQS poller): write a class with `name`, `start()`, `stop()` and
`describe()` (banner lines), and a factory `(stack: LocalStack) -> Service`; list the factory in
EXTENSIONS below (or pass `extensions=` to LocalStack). Factories run after the embedded AWS is
provisioned, the environment is set and the gateway exists, but before the gateway serves: a factory
can read `stack.template` (e.g. `template.schedules`, `template.queue_subscriptions`), invoke
functions through `stack.functions`, reach moto at `stack.aws_url`, and register a local-only route
with `stack.gateway.add_local_route("POST", "/__local/poll", handler)`. Its start() runs in that order
and its stop() runs before those of the services started earlier.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from farewatch_local.aws import LOCAL_CREDENTIALS, MotoHandle, ensure_can_listen, provision, start_moto
from farewatch_local.gateway import LocalGateway, ServerHandle, serve
from farewatch_local.poller import poller_service
from farewatch_local.runtime import FunctionRuntimes
from farewatch_local.template import REGION, Template, TemplateError, load_template, read_template_document

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
DEFAULT_CLIENT_ID = "farewatch-local"
DEFAULT_CLIENT_SECRET = "farewatch-local-secret"  # noqa: S105 - the simulator's well-known local credential
DEFAULT_DUFFEL_TOKEN = "duffel_test_farewatch-local"  # noqa: S105 - the Duffel simulator's local token
# FAREWATCH_FARE_SOURCE picks the fare API the functions call (and which simulator starts).
FARE_SOURCES = ("amadeus", "duffel")
LOCAL_AWS_KEY = "farewatch-local"

# What the user exported under these prefixes beats the template's function environment.
USER_PREFIXES = ("AMADEUS_", "DUFFEL_", "FAREWATCH_")
# Local values that beat the template but not the user: no CloudWatch here, and the metrics lines
# Powertools would print for every request would drown the request log.
LOCAL_DEFAULTS = {"POWERTOOLS_METRICS_DISABLED": "true"}
# Settings a developer's shell may hold that would send the handlers' AWS calls elsewhere than the
# embedded AWS, or with real credentials: unset while the stack runs (with AWS_ENDPOINT_URL_<SERVICE>).
AWS_VARIABLES_UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


class StackError(Exception):
    """The local stack cannot start; the message is the one line to show the user."""


class Service(Protocol):
    """A part of the local stack with a lifetime: started in order, stopped in reverse."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def describe(self) -> list[str]:
        """Lines for the start-up banner, e.g. "Scheduler    PollerFunction every 60 s"."""
        ...


ServiceFactory = Callable[["LocalStack"], Service]

# Services built from the template after the gateway exists (see the module docstring).
EXTENSIONS: tuple[ServiceFactory, ...] = (poller_service,)


class RunningServer(Protocol):
    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


SimulatorStarter = Callable[[str, int, str, str], RunningServer]
"""(host, port, client_id, client_secret) -> the running Amadeus simulator."""


def start_amadeus_simulator(host: str, port: int, client_id: str, client_secret: str) -> RunningServer:
    try:
        from amadeus_sim.app import Simulator
        from amadeus_sim.server import start
    except ImportError as error:
        raise StackError(
            f"the Amadeus simulator (local/amadeus_sim) cannot be imported ({error}); "
            "or point AMADEUS_BASE_URL, AMADEUS_CLIENT_ID and AMADEUS_CLIENT_SECRET at a fare API"
        ) from None
    handle: RunningServer = start(Simulator(client_id=client_id, client_secret=client_secret), host, port)
    return handle


DuffelSimulatorStarter = Callable[[str, int, str], RunningServer]
"""(host, port, access_token) -> the running Duffel simulator."""


def start_duffel_simulator(host: str, port: int, access_token: str) -> RunningServer:
    try:
        from amadeus_sim.server import start
        from duffel_sim.app import Simulator
    except ImportError as error:
        raise StackError(
            f"the Duffel simulator (local/duffel_sim) cannot be imported ({error}); "
            "or point DUFFEL_BASE_URL and DUFFEL_ACCESS_TOKEN at Duffel"
        ) from None
    handle: RunningServer = start(Simulator(access_token=access_token), host, port)
    return handle


# --------------------------------------------------------------------------------------------------
# Configuration.


@dataclass(frozen=True)
class StackConfig:
    host: str = "127.0.0.1"
    api_port: int = 8080
    simulator_port: int = 8081
    aws_port: int = 4566
    template_path: Path = DEFAULT_TEMPLATE
    # An Amadeus-compatible host to use instead of starting the simulator.
    amadeus_base_url: str | None = None
    amadeus_client_id: str = DEFAULT_CLIENT_ID
    amadeus_client_secret: str = field(default=DEFAULT_CLIENT_SECRET, repr=False)
    # Which fare API the functions call; "duffel" starts the Duffel simulator instead of Amadeus's.
    fare_source: str = "amadeus"
    # A Duffel-compatible host (e.g. https://api.duffel.com) to use instead of the Duffel simulator.
    duffel_base_url: str | None = None
    duffel_access_token: str = field(default=DEFAULT_DUFFEL_TOKEN, repr=False)
    # Template parameters, as `sam deploy --parameter-overrides` takes them.
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    # AMADEUS_* / FAREWATCH_* (and LOCAL_DEFAULTS names) the user exported: they beat the template.
    exported: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Run every function's init at start, as the token fetch at "local start" in SPEC §3 wants.
    warm_up: bool = True

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        environ = os.environ if environ is None else environ
        base_url = environ.get("AMADEUS_BASE_URL") or None
        client_id = environ.get("AMADEUS_CLIENT_ID") or None
        client_secret = environ.get("AMADEUS_CLIENT_SECRET") or None
        if base_url and not (client_id and client_secret):
            raise StackError(
                "AMADEUS_BASE_URL points at an external fare API: set AMADEUS_CLIENT_ID and "
                "AMADEUS_CLIENT_SECRET too (or unset it to use the simulator)"
            )
        fare_source = (environ.get("FAREWATCH_FARE_SOURCE") or "amadeus").strip().lower()
        if fare_source not in FARE_SOURCES:
            raise StackError(
                f"FAREWATCH_FARE_SOURCE must be one of {', '.join(FARE_SOURCES)}, got {fare_source!r}"
            )
        duffel_url = environ.get("DUFFEL_BASE_URL") or None
        duffel_token = environ.get("DUFFEL_ACCESS_TOKEN") or None
        if fare_source == "duffel" and duffel_url and not duffel_token:
            raise StackError(
                "DUFFEL_BASE_URL points at an external fare API: set DUFFEL_ACCESS_TOKEN too "
                "(or unset it to use the simulator)"
            )
        return cls(
            host=environ.get("FAREWATCH_HOST") or "127.0.0.1",
            api_port=_port(environ, "FAREWATCH_PORT", 8080),
            simulator_port=_port(environ, "FAREWATCH_SIM_PORT", 8081),
            aws_port=_port(environ, "FAREWATCH_AWS_PORT", 4566),
            template_path=Path(environ.get("FAREWATCH_TEMPLATE") or DEFAULT_TEMPLATE).resolve(),
            amadeus_base_url=base_url.rstrip("/") if base_url else None,
            amadeus_client_id=client_id or DEFAULT_CLIENT_ID,
            amadeus_client_secret=client_secret or DEFAULT_CLIENT_SECRET,
            fare_source=fare_source,
            duffel_base_url=duffel_url.rstrip("/") if duffel_url else None,
            duffel_access_token=duffel_token or DEFAULT_DUFFEL_TOKEN,
            parameter_overrides=_parameter_overrides(environ.get("FAREWATCH_PARAMETER_OVERRIDES", "")),
            exported={
                name: value
                for name, value in environ.items()
                if name.startswith(USER_PREFIXES) or name in LOCAL_DEFAULTS
            },
        )


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise StackError(f"{name} must be a port number from 0 to 65535, got {raw!r}")
    return int(raw)


def _parameter_overrides(raw: str) -> dict[str, str]:
    overrides = {}
    for pair in shlex.split(raw):
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise StackError(f"FAREWATCH_PARAMETER_OVERRIDES takes Name=value pairs, got {pair!r}")
        overrides[name] = value
    return overrides


def compose_environment(
    template: Template, exported: Mapping[str, str], stack_owned: Mapping[str, str]
) -> dict[str, str]:
    """The process environment every handler sees, lowest precedence first:

    the functions' template environment (their union: they share one process, so two functions
    giving one variable different values is an error), then LOCAL_DEFAULTS, then what the user
    exported under AMADEUS_* / FAREWATCH_*, then what only the stack can know (AWS endpoint,
    dummy credentials, the fare API URL).
    """
    environment: dict[str, str] = {}
    owners: dict[str, str] = {}
    for function in template.functions:
        for name, value in function.environment.items():
            if name in environment and environment[name] != value:
                raise StackError(
                    f"{owners[name]} and {function.logical_id} set {name} to different values; "
                    "the local stack runs every function in one process, so they must agree"
                )
            environment[name] = value
            owners.setdefault(name, function.logical_id)
    environment.update(LOCAL_DEFAULTS)
    environment.update(
        {name: value for name, value in exported.items() if name in environment or name in LOCAL_DEFAULTS}
    )
    environment.update(stack_owned)
    return environment


# --------------------------------------------------------------------------------------------------
# Services.


class FareApiService:
    """The fare API the functions call (FAREWATCH_FARE_SOURCE): that source's simulator, or the
    external host the user named for it."""

    def __init__(
        self,
        config: StackConfig,
        start_simulator: SimulatorStarter,
        start_duffel: DuffelSimulatorStarter = start_duffel_simulator,
    ) -> None:
        self._config = config
        self._start_simulator = start_simulator
        self._start_duffel = start_duffel
        self._server: RunningServer | None = None
        self.name = "Duffel" if self.is_duffel else "Amadeus"

    @property
    def is_duffel(self) -> bool:
        return self._config.fare_source == "duffel"

    @property
    def _external_url(self) -> str | None:
        return self._config.duffel_base_url if self.is_duffel else self._config.amadeus_base_url

    @property
    def simulated(self) -> bool:
        return self._external_url is None

    @property
    def url(self) -> str:
        if self._external_url is not None:
            return self._external_url
        if self._server is None:
            raise RuntimeError(f"the {self.name} simulator is not running")
        return self._server.url.rstrip("/")

    def start(self) -> None:
        if not self.simulated:
            return
        host, port = self._config.host, self._config.simulator_port
        ensure_can_listen(f"the {self.name} simulator", host, port)
        try:
            if self.is_duffel:
                self._server = self._start_duffel(host, port, self._config.duffel_access_token)
            else:
                self._server = self._start_simulator(
                    host, port, self._config.amadeus_client_id, self._config.amadeus_client_secret
                )
        except SystemExit:  # a server library that exits when it cannot bind
            raise StackError(f"the {self.name} simulator could not start on {host}:{port}") from None

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def describe(self) -> list[str]:
        return [_banner_line(self.name, f"{self.url}  ({'simulator' if self.simulated else 'external'})")]


class EmbeddedAwsService:
    """moto's server: DynamoDB, Secrets Manager and SQS for the functions, at one endpoint."""

    name = "embedded AWS"

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._moto: MotoHandle | None = None

    @property
    def url(self) -> str:
        if self._moto is None:
            raise RuntimeError("the embedded AWS is not running")
        return self._moto.url

    def start(self) -> None:
        self._moto = start_moto(self._host, self._port)

    def stop(self) -> None:
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def describe(self) -> list[str]:
        return [_banner_line("AWS (moto)", self.url)]


class ProcessEnvironment:
    """Sets the handlers' environment for the stack's lifetime and restores the previous one on stop."""

    name = "process environment"

    def __init__(self, values: Mapping[str, str], unset: Sequence[str] = ()) -> None:
        self._values = dict(values)
        self._unset = [name for name in unset if name not in self._values]
        self._previous: dict[str, str | None] = {}

    def start(self) -> None:
        for name in [*self._values, *self._unset]:
            self._previous[name] = os.environ.get(name)
        for name in self._unset:
            os.environ.pop(name, None)
        os.environ.update(self._values)

    def stop(self) -> None:
        for name, value in self._previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._previous.clear()

    def describe(self) -> list[str]:
        return []


class GatewayService:
    """The local API Gateway's HTTP server."""

    name = "API gateway"

    def __init__(self, gateway: LocalGateway, host: str, port: int) -> None:
        self.gateway = gateway
        self._host, self._port = host, port
        self._server: ServerHandle | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the API gateway is not serving")
        return self._server.url

    def start(self) -> None:
        self._server = serve(self.gateway, self._host, self._port, service="the API gateway")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def describe(self) -> list[str]:
        return [_banner_line("API", self.url)]


def _banner_line(label: str, text: str) -> str:
    return f"  {label:<13}{text}"


# --------------------------------------------------------------------------------------------------
# The stack.


class LocalStack:
    """template.yaml on this machine: start() brings every service up in order, stop() takes them down."""

    def __init__(
        self,
        config: StackConfig | None = None,
        *,
        start_simulator: SimulatorStarter = start_amadeus_simulator,
        start_duffel: DuffelSimulatorStarter = start_duffel_simulator,
        extensions: Sequence[ServiceFactory] | None = None,
    ) -> None:
        self.config = config if config is not None else StackConfig.from_environ()
        self.services: list[Service] = []  # the started ones, in start order
        self.template: Template | None = None
        self.functions: FunctionRuntimes | None = None
        self.gateway: LocalGateway | None = None
        self._start_simulator = start_simulator
        self._start_duffel = start_duffel
        self._extensions = tuple(EXTENSIONS if extensions is None else extensions)
        self._fare_api: FareApiService | None = None
        self._aws: EmbeddedAwsService | None = None
        self._api: GatewayService | None = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        if self.services:
            raise RuntimeError("the local stack is already running")
        try:
            self._start_services()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every started service, last started first; safe to call twice."""
        while self.services:
            service = self.services.pop()
            try:
                service.stop()
            except Exception:
                logger.exception("%s did not stop cleanly", service.name)

    def _run(self, service: Any) -> Any:
        service.start()
        self.services.append(service)
        return service

    def _start_services(self) -> None:
        config = self.config
        self._fare_api = self._run(FareApiService(config, self._start_simulator, self._start_duffel))
        self.template = load_template(config.template_path, self._parameter_overrides(self._fare_api.url))
        self._aws = self._run(EmbeddedAwsService(config.host, config.aws_port))
        stack_owned = {
            "AWS_ENDPOINT_URL": self.aws_url,
            "FAREWATCH_AWS_ENDPOINT": self.aws_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": LOCAL_AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_AWS_KEY,
            "FAREWATCH_FARE_SOURCE": config.fare_source,
            **self._fare_api_environment(),
        }
        # Before any handler import: PynamoDB models and boto3 clients read these at import.
        self._run(
            ProcessEnvironment(
                compose_environment(self.template, config.exported, stack_owned),
                unset=[
                    *AWS_VARIABLES_UNSET,
                    *(name for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")),
                ],
            )
        )
        provision(self.template, self.aws_url)
        self._set_fare_api_secret(self.template)
        self.functions = FunctionRuntimes(self.template)
        self.gateway = LocalGateway(self.template, self.functions)
        for build_service in self._extensions:
            self._run(build_service(self))
        if config.warm_up:
            self.functions.warm_up()
        self._api = self._run(GatewayService(self.gateway, config.host, config.api_port))

    def _fare_api_environment(self) -> dict[str, str]:
        """Where the chosen fare API is and its credentials; the other source's variables are left alone."""
        config = self.config
        if config.fare_source == "duffel":
            return {"DUFFEL_BASE_URL": self.fare_api_url, "DUFFEL_ACCESS_TOKEN": config.duffel_access_token}
        return {
            "AMADEUS_BASE_URL": self.fare_api_url,
            "AMADEUS_CLIENT_ID": config.amadeus_client_id,
            "AMADEUS_CLIENT_SECRET": config.amadeus_client_secret,
        }

    def _set_fare_api_secret(self, template: Template) -> None:
        """Do what an operator does after a deploy: put the fare API's credentials into its secret, which
        the template creates with a placeholder. The in-process functions take them from the environment;
        `sam local` containers read the secret, as in AWS."""
        import boto3

        config = self.config
        if config.fare_source == "duffel":
            logical_id, value = "DuffelCredentials", {"access_token": config.duffel_access_token}
        else:
            logical_id = "AmadeusCredentials"
            value = {"client_id": config.amadeus_client_id, "client_secret": config.amadeus_client_secret}
        if not any(secret.logical_id == logical_id for secret in template.secrets):
            return
        secretsmanager = boto3.client(
            "secretsmanager", endpoint_url=self.aws_url, region_name=REGION, **LOCAL_CREDENTIALS
        )
        secretsmanager.put_secret_value(
            SecretId=template.secret(logical_id).name, SecretString=json.dumps(value)
        )

    def _parameter_overrides(self, fare_api_url: str) -> dict[str, str]:
        """Deploy-time parameters of a local deployment: the fare API, then the user's."""
        declared = set(read_template_document(self.config.template_path).get("Parameters") or {})
        local = {"FareSource": self.config.fare_source}
        if self.config.fare_source == "duffel":
            local.update(DuffelBaseUrl=fare_api_url)
        else:
            local.update(AmadeusBaseUrl=fare_api_url)
        unknown = sorted(set(self.config.parameter_overrides) - declared)
        if unknown:
            raise TemplateError(f"FAREWATCH_PARAMETER_OVERRIDES names undeclared parameters: {unknown}")
        overrides = {name: value for name, value in local.items() if name in declared}
        overrides.update(self.config.parameter_overrides)
        return overrides

    # -- what is running ---------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return _running(self._api, "the API gateway").url

    @property
    def fare_api_url(self) -> str:
        """The fare API the functions call, whichever source it is (simulator or external)."""
        return _running(self._fare_api, "the fare API").url

    @property
    def amadeus_url(self) -> str:
        """The fare API's URL; named for the first source, kept for the callers that use it."""
        return self.fare_api_url

    @property
    def aws_url(self) -> str:
        return _running(self._aws, "the embedded AWS").url

    @property
    def urls(self) -> dict[str, str]:
        return {"api": self.api_url, "amadeus": self.amadeus_url, "aws": self.aws_url}

    def banner(self) -> str:
        template = _running(self.template, "the template")
        stages = ", ".join(sorted({api.stage_name for api in template.apis.values()}))
        lines = [
            f"Farewatch local stack: {_display_path(template.path)}"
            + (f" (stage {stages})" if stages else "")
        ]
        core: list[Any] = [self._api, self._fare_api, self._aws]
        for service in [*core, *(service for service in self.services if service not in core)]:
            if service is not None:
                lines.extend(service.describe())
        lines.append(_banner_line("Tables", ", ".join(table.name for table in template.tables) or "-"))
        lines.append(_banner_line("Secrets", ", ".join(secret.name for secret in template.secrets) or "-"))
        lines.append(_banner_line("Queues", ", ".join(queue.name for queue in template.queues) or "-"))
        lines.append(_banner_line("Routes", _routes_summary(template)))
        sample = next(
            (
                event.path
                for _, event in template.routes
                if event.method in ("GET", "ANY") and "{" not in event.path
            ),
            None,
        )
        if sample is not None:
            lines.append(_banner_line("Try", f"curl {self.api_url}{sample}"))
        lines.append("Ctrl-C stops everything.")
        return "\n".join(lines)


def _running(part: Any, what: str) -> Any:
    if part is None:
        raise RuntimeError(f"{what} is not running; call LocalStack.start() first")
    return part


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _routes_summary(template: Template) -> str:
    per_function: dict[str, int] = {}
    for function, _ in template.routes:
        per_function[function.logical_id] = per_function.get(function.logical_id, 0) + 1
    return ", ".join(f"{count} to {name}" for name, count in per_function.items()) or "-"
