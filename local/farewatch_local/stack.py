"""The local stack `make dev` runs: the services that reproduce template.yaml on a laptop, in order.

Owns the configuration (FAREWATCH_* / AMADEUS_* / DUFFEL_* variables), the data folder (the embedded
AWS's saved state, the endpoints file other commands find the stack by, and a lock so that two stacks
never share it), the start order (fare API, embedded AWS, function processes, poller, gateway) and
stopping in reverse, each function's environment, and the start-up banner. `LocalStack` works the same
in-process (tests start it on port 0 everywhere, with no data folder) as under `python -m farewatch_local`.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import logging
import os
import shlex
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

from fare_sim.server import start
from farewatch_local.aws import LOCAL_KEY, SNAPSHOT_SECONDS, EmbeddedAws, client, provision
from farewatch_local.functions import FunctionPools
from farewatch_local.gateway import GatewayRequestHandler, LocalGateway, print_line
from farewatch_local.mail import LocalMailbox
from farewatch_local.poller import Poller
from farewatch_local.template import REGION, Template, load_template

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CLIENT_ID = "farewatch-local"
DEFAULT_CLIENT_SECRET = "farewatch-local-secret"  # noqa: S105 - the simulator's well-known local credential
DEFAULT_DUFFEL_TOKEN = "duffel_test_farewatch-local"  # noqa: S105 - the Duffel simulator's local token
DEFAULT_IGNAV_KEY = "ignav-farewatch-local"  # the Ignav simulator's local key, not a real one
# What the user exports under these prefixes beats the template.
USER_PREFIXES = ("AMADEUS_", "DUFFEL_", "IGNAV_", "FAREWATCH_")
# Local values that beat the template but not the user: no CloudWatch here, and the metrics lines
# Powertools would print for every request would drown the request log.
LOCAL_DEFAULTS = {"POWERTOOLS_METRICS_DISABLED": "true"}
# Webhooks: a receiver on this laptop may be plain http on loopback (never in AWS), and the retries of a
# failing receiver come after 2 s, 5 s, 10 s, ... rather than 1 min, 5 min, ... (export either to change).
LOCAL_DEFAULTS |= {
    "WEBHOOK_ALLOW_HTTP_LOOPBACK": "true",
    "WEBHOOK_RETRY_DELAYS_SECONDS": "2,5,10,30,60,120,240,480",
}
LOCAL_MAIL_SENDER = "alerts@farewatch.local"
MAIL_FOLDER = "mail"
# Locally the schedule ticks every 30 s and fares stay fresh 60 s, so that a price change upstream
# reaches an alert within about a minute (deployed: rate(30 minutes) and 600 s).
DEFAULT_POLL_INTERVAL_SECONDS = 30
LOCAL_FARE_CACHE_SECONDS = "60"
# Locally a forced refresh always reaches the simulator, so that a pinned price shows at once (the
# README's walk-through pins one, then refreshes); deployed, one per trip per 60 s fleet-wide.
LOCAL_FORCE_REFRESH_MIN_SECONDS = "0"
# Every local client is 127.0.0.1 (tests, the web page, curl): the per-IP limit is relaxed with it.
LOCAL_ANONYMOUS_REFRESHES_PER_MINUTE = "100000"
STATE_FILE, ENDPOINTS_FILE, LOCK_FILE = "aws-state.pickle", "stack.json", "lock"


class StackError(Exception):
    """The local stack cannot start; the message is the one line to show the user."""


class RunningServer(Protocol):
    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class FareApi:
    """What differs between the fare sources: the prefix of their variables (AMADEUS_BASE_URL,
    AMADEUS_CLIENT_ID...), the template's base-URL parameter, the credentials secret an operator fills,
    and the credentials' names (the secret's keys, the simulator's arguments) with their local defaults."""

    title: str
    prefix: str
    url_parameter: str
    secret: str
    credentials: Mapping[str, str] = field(repr=False)


FARE_APIS = {
    "amadeus": FareApi(
        "Amadeus",
        "AMADEUS",
        "AmadeusBaseUrl",
        "AmadeusCredentials",
        {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET},
    ),
    "duffel": FareApi(
        "Duffel", "DUFFEL", "DuffelBaseUrl", "DuffelCredentials", {"access_token": DEFAULT_DUFFEL_TOKEN}
    ),
    "ignav": FareApi("Ignav", "IGNAV", "IgnavBaseUrl", "IgnavCredentials", {"api_key": DEFAULT_IGNAV_KEY}),
}
FARE_SOURCES = tuple(FARE_APIS)
# (source, host, port, the simulator's arguments: the credentials, and Ignav's price_per_traveller)
SimulatorStarter = Callable[[str, str, int, Mapping[str, Any]], RunningServer]


def start_simulator(source: str, host: str, port: int, arguments: Mapping[str, Any]) -> RunningServer:
    simulator = importlib.import_module(f"{source}_sim.app").Simulator(**arguments)
    return start(simulator, host, port, service=f"the {FARE_APIS[source].title} simulator")


@dataclass(frozen=True)
class StackConfig:
    host: str = "127.0.0.1"
    api_port: int = 8080
    simulator_port: int = 8081
    aws_port: int = 4566
    template_path: Path = REPO_ROOT / "template.yaml"
    fare_source: str = "amadeus"
    fare_api_url: str | None = None  # an external API of that source instead of its simulator
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)  # over the local defaults
    ignav_price_per_traveller: bool = False  # the simulator answers as the functions read (one setting)
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)  # as sam deploy takes them
    exported: Mapping[str, str] = field(default_factory=dict, repr=False)  # the user's environment
    warm_up: bool = True  # start one instance of every function at start (SPEC §3: the token at start)
    data_dir: Path | None = None  # where the embedded AWS is kept across restarts; None: nowhere
    reset: bool = False  # forget what the data folder holds before starting

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, *, reset: bool = False) -> StackConfig:
        environ = os.environ if environ is None else environ
        fare_source = (environ.get("FAREWATCH_FARE_SOURCE") or "amadeus").strip().lower()
        if fare_source not in FARE_APIS:
            raise StackError(
                f"FAREWATCH_FARE_SOURCE must be one of {', '.join(FARE_SOURCES)}, got {fare_source!r}"
            )
        prefix = FARE_APIS[fare_source].prefix
        names = {key: f"{prefix}_{key.upper()}" for key in FARE_APIS[fare_source].credentials}
        credentials = {key: environ[name] for key, name in names.items() if environ.get(name)}
        base_url = environ.get(f"{prefix}_BASE_URL")
        if base_url and len(credentials) < len(names):
            raise StackError(
                f"{prefix}_BASE_URL points at an external fare API: set {' and '.join(names.values())} "
                "too (or unset it to use the simulator)"
            )
        per_traveller = (environ.get("IGNAV_PRICE_PER_TRAVELLER") or "false").strip().lower()
        if per_traveller not in ("true", "false"):
            raise StackError(f"IGNAV_PRICE_PER_TRAVELLER must be true or false, got {per_traveller!r}")
        overrides = {}
        for pair in shlex.split(environ.get("FAREWATCH_PARAMETER_OVERRIDES", "")):
            name, separator, value = pair.partition("=")
            if not separator or not name:
                raise StackError(f"FAREWATCH_PARAMETER_OVERRIDES takes Name=value pairs, got {pair!r}")
            overrides[name] = value
        return cls(
            host=environ.get("FAREWATCH_HOST") or "127.0.0.1",
            api_port=_port(environ, "FAREWATCH_PORT", 8080),
            simulator_port=_port(environ, "FAREWATCH_SIM_PORT", 8081),
            aws_port=_port(environ, "FAREWATCH_AWS_PORT", 4566),
            template_path=Path(environ.get("FAREWATCH_TEMPLATE") or REPO_ROOT / "template.yaml").resolve(),
            fare_source=fare_source,
            fare_api_url=base_url.rstrip("/") if base_url else None,
            credentials=credentials,
            ignav_price_per_traveller=per_traveller == "true",
            parameter_overrides=overrides,
            exported=dict(environ),
            data_dir=Path(environ.get("FAREWATCH_DATA_DIR") or REPO_ROOT / ".farewatch").resolve(),
            reset=reset,
        )

    @property
    def fare_api(self) -> FareApi:
        return FARE_APIS[self.fare_source]

    @property
    def fare_api_credentials(self) -> dict[str, str]:
        """The fare API's credentials: the given ones over the simulator's local defaults."""
        return {**self.fare_api.credentials, **self.credentials}

    def setting(self, name: str, default: int | None) -> int | None:
        """A whole-number local setting the user exported (FAREWATCH_POLL_INTERVAL_SECONDS, ...)."""
        raw = self.exported.get(name) or ""
        if raw and not raw.isdigit():
            raise StackError(f"{name} must be a whole number, got {raw!r}")
        return int(raw) if raw else default


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise StackError(f"{name} must be a port number from 0 to 65535, got {raw!r}")
    return int(raw)


def compose_environment(
    template: Template, function_id: str, exported: Mapping[str, str], stack_owned: Mapping[str, str]
) -> dict[str, str]:
    """One function's environment, lowest precedence first: its template environment, LOCAL_DEFAULTS,
    what the user exported (under AMADEUS_*/DUFFEL_*/FAREWATCH_*, or a variable the template takes from
    a parameter, as long as the function has it), then what only the stack can know."""
    function = template.function(function_id)
    environment = {**function.environment, **LOCAL_DEFAULTS}
    for name, value in exported.items():
        if (
            name in LOCAL_DEFAULTS
            or name in function.parameter_variables
            or (name.startswith(USER_PREFIXES) and name in function.environment)
        ):
            environment[name] = value
    return {**environment, **stack_owned}


class LocalStack:
    """template.yaml on this machine: start() brings every service up in order, stop() takes them down."""

    def __init__(
        self, config: StackConfig | None = None, *, start_simulator: SimulatorStarter = start_simulator
    ) -> None:
        self.config = config if config is not None else StackConfig.from_environ()
        self.services: list[Any] = []  # what started, in start order; each has stop()
        self.template: Template | None = None
        self.functions: FunctionPools | None = None
        self._start_simulator = start_simulator
        self._fare_api_server: RunningServer | None = None
        self._aws: EmbeddedAws | None = None
        self._poller: Poller | None = None
        self._api: RunningServer | None = None
        self.mailbox: LocalMailbox | None = None
        self.warm_up_failures: list[str] = []

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        if self.services:
            raise RuntimeError("the local stack is already running")
        try:
            self._start()
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
                logger.exception("%s did not stop cleanly", type(service).__name__)

    def _run(self, service: Any) -> Any:
        self.services.append(service)
        return service

    def _start(self) -> None:
        config, fare_api = self.config, self.config.fare_api
        state_file = None
        if config.data_dir is not None:
            self._run(_DataFolder(config.data_dir, reset=config.reset))
            state_file = config.data_dir / STATE_FILE
        credentials = config.fare_api_credentials
        if config.fare_api_url is None:
            arguments: dict[str, Any] = dict(credentials)
            if config.fare_source == "ignav":
                arguments["price_per_traveller"] = config.ignav_price_per_traveller
            try:
                self._fare_api_server = self._run(
                    self._start_simulator(config.fare_source, config.host, config.simulator_port, arguments)
                )
            except ImportError as error:
                raise StackError(
                    f"the {fare_api.title} simulator cannot be imported ({error}); "
                    "or point the fare API variables elsewhere"
                ) from None
        self.template = template = load_template(
            config.template_path, config.parameter_overrides, defaults=self._local_parameters()
        )
        self._aws = aws = self._run(EmbeddedAws(config.host, config.aws_port, state_file))
        aws.start()
        provision(template, aws.url)
        # Do what an operator does after a deploy: put the fare API's credentials into its secret, which
        # the template creates with a placeholder. The stack's own function processes take them from the
        # environment; `sam local` containers read the secret, as in AWS.
        if any(secret.logical_id == fare_api.secret for secret in template.secrets):
            client("secretsmanager", aws.url).put_secret_value(
                SecretId=template.secret(fare_api.secret).name, SecretString=json.dumps(credentials)
            )
        if config.data_dir is not None:
            mail_folder = config.data_dir / MAIL_FOLDER
        else:
            mail_folder = Path(self._run(_TemporaryFolder()).name)
        self.mailbox = self._run(LocalMailbox(mail_folder))
        self.mailbox.start()
        # The API's port is chosen now, so that the links the notifier mails point at it.
        api_port = config.api_port or _free_port(config.host)
        stack_owned = {
            "AWS_ENDPOINT_URL": aws.url,
            "FAREWATCH_AWS_ENDPOINT": aws.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": LOCAL_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_KEY,
            "FAREWATCH_FARE_SOURCE": config.fare_source,
            "FAREWATCH_PUBLIC_URL": f"http://{_url_host(config.host)}:{api_port}",
            # Most routes record no metric; Powertools would warn so once in every new instance.
            "PYTHONWARNINGS": "ignore:No application metrics to publish:UserWarning",
            f"{fare_api.prefix}_BASE_URL": self.fare_api_url,
            **{f"{fare_api.prefix}_{key.upper()}": value for key, value in credentials.items()},
        }
        if config.fare_source == "ignav":
            stack_owned["IGNAV_PRICE_PER_TRAVELLER"] = str(config.ignav_price_per_traveller).lower()
        self.functions = functions = self._run(
            FunctionPools(
                template,
                {
                    f.logical_id: compose_environment(template, f.logical_id, config.exported, stack_owned)
                    for f in template.functions
                },
                api_instances=config.setting("FAREWATCH_FUNCTION_INSTANCES", 2) or 1,
                announce=print_line,
            )
        )
        if config.warm_up:
            self.warm_up_failures = functions.warm_up()
        self._poller = self._run(
            Poller(
                template,
                functions,
                aws.url,
                interval=config.setting("FAREWATCH_POLL_INTERVAL_SECONDS", DEFAULT_POLL_INTERVAL_SECONDS)
                or 0,
                visibility=config.setting("FAREWATCH_SQS_VISIBILITY_SECONDS", None),
                upstream_calls=self._upstream_calls,
                announce=print_line,
            )
        )
        self._poller.start()
        self.mailbox.deliver_pending = self._poller.deliver_pending
        gateway = LocalGateway(
            template,
            functions,
            local_routes={
                ("POST", "/__local/poll"): self._poller.poll_route,
                ("GET", "/__local/mail"): self.mailbox.route,
            },
        )
        serving = {"service": "the API gateway", "request_handler": GatewayRequestHandler}
        self._api = self._run(start(gateway, config.host, api_port, **serving))  # type: ignore[arg-type]
        if config.data_dir is not None:
            endpoints = {"pid": os.getpid(), **self.urls, "started_at": time.time()}
            (config.data_dir / ENDPOINTS_FILE).write_text(json.dumps(endpoints, indent=2) + "\n")

    def _local_parameters(self) -> dict[str, str]:
        """Parameters of a local deployment (the user's FAREWATCH_PARAMETER_OVERRIDES beat them)."""
        config = self.config
        local = {
            "FareSource": config.fare_source,
            "FareCacheTtlSeconds": LOCAL_FARE_CACHE_SECONDS,
            "ForceRefreshMinSeconds": LOCAL_FORCE_REFRESH_MIN_SECONDS,
            "AnonymousRefreshesPerIpPerMinute": LOCAL_ANONYMOUS_REFRESHES_PER_MINUTE,
            "MailSender": LOCAL_MAIL_SENDER,
            config.fare_api.url_parameter: self.fare_api_url,
        }
        if config.fare_source == "ignav":
            local["IgnavPricePerTraveller"] = str(config.ignav_price_per_traveller).lower()
        return local

    def _upstream_calls(self) -> int | None:
        """Searches the simulator served so far (for the poll cycle's line); None with an external API."""
        if self._fare_api_server is None:
            return None
        try:
            stats = requests.get(f"{self.fare_api_url}/__sim/stats", timeout=2).json()
            return int(stats["search_requests"]) - int(stats.get("rate_limited", 0))
        except (requests.RequestException, ValueError, KeyError, TypeError):
            return None

    # -- what is running ---------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return _running(self._api, "the API gateway").url

    @property
    def fare_api_url(self) -> str:
        """The fare API the functions call, whichever source it is (simulator or external)."""
        return self.config.fare_api_url or _running(self._fare_api_server, "the fare API").url.rstrip("/")

    amadeus_url = fare_api_url  # named for the first source; kept for its callers

    @property
    def aws_url(self) -> str:
        return _running(self._aws, "the embedded AWS").url

    @property
    def urls(self) -> dict[str, str]:
        return {"api": self.api_url, "amadeus": self.fare_api_url, "aws": self.aws_url}

    def banner(self) -> str:
        """What `make dev` prints once started: where everything is, and what to try first."""
        template, config, aws = _running(self.template, "the template"), self.config, self._aws
        functions, poller, mailbox = self.functions, self._poller, self.mailbox
        assert aws is not None and functions is not None and poller is not None and mailbox is not None
        simulated = "simulator" if self._fare_api_server is not None else "external"
        rows = [
            ("API", self.api_url),
            (config.fare_api.title, f"{self.fare_api_url}  ({simulated})"),
            ("AWS (moto)", self.aws_url),
        ]
        if config.data_dir is not None:
            saved_at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(aws.restored_from or 0))
            kept = f"restored as saved at {saved_at}" if aws.restored_from else "empty at start"
            every = f"saved every {SNAPSHOT_SECONDS:.0f} s and at stop; make dev-reset starts empty"
            rows.append(("Data", f"{_display(config.data_dir)} ({kept}; {every})"))
        pools = ", ".join(f"{name} x{pool.size}" for name, pool in functions.items())
        rows.append(("Functions", f"{pools} (one process per instance)"))
        if ttl := template.parameters.get("FareCacheTtlSeconds"):
            rows.append(("Fare cache", f"{ttl} s (FareCacheTtlSeconds; 600 s deployed by default)"))
        rows += poller.describe()
        rows.append(
            ("Mail", f"GET {self.api_url}/__local/mail, and .eml files in {_display(mailbox.folder)}")
        )
        for label, specs in (("Tables", template.tables), ("Secrets", template.secrets)):
            rows.append((label, ", ".join(spec.name for spec in specs) or "-"))
        rows.append(("Queues", ", ".join(queue.name for queue in template.queues) or "-"))
        routes = Counter(function.logical_id for function, _ in template.routes)
        rows.append(("Routes", ", ".join(f"{count} to {name}" for name, count in routes.items()) or "-"))
        plain = (e.path for _, e in template.routes if e.method in ("GET", "ANY") and "{" not in e.path)
        if sample := next(plain, None):
            rows.append(("Try", f"curl {self.api_url}{sample}"))
        title = f"Farewatch local stack: {_display(template.path)} (stage {template.api.stage_name})"
        return "\n".join(
            [title, *(f"  {label:<13}{text}" for label, text in rows), "Ctrl-C stops everything."]
        )


class _TemporaryFolder(tempfile.TemporaryDirectory[str]):
    """The mail folder of a stack that keeps no data folder; removed at stop."""

    def stop(self) -> None:
        self.cleanup()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104  # nosec B104: a listening address, not a bind
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class _DataFolder:
    """The data folder for this stack's lifetime: created, locked against a second stack, emptied on reset."""

    def __init__(self, folder: Path, *, reset: bool) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._file = (folder / LOCK_FILE).open("w")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            pid = _endpoints(folder).get("pid", "unknown")
            raise StackError(
                f"another local stack (pid {pid}) is running with {folder}; stop it first"
            ) from None
        if reset:
            for name in (STATE_FILE, ENDPOINTS_FILE):
                (folder / name).unlink(missing_ok=True)
            print_line(f"make dev-reset: {_display(folder)} emptied, the local stack starts with no data")

    def stop(self) -> None:
        (self.folder / ENDPOINTS_FILE).unlink(missing_ok=True)
        self._file.close()  # releases the lock


def _endpoints(folder: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((folder / ENDPOINTS_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def _running(part: Any, what: str) -> Any:
    if part is None:
        raise RuntimeError(f"{what} is not running; call LocalStack.start() first")
    return part


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
