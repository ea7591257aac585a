"""The functions of template.yaml as in-process Lambda execution environments.

Owns importing each handler (its CodeUri and layers on sys.path, imported on first use and retried
after a failed init, like a Lambda cold start), the fake LambdaContext, and invoking a function.
Every event source goes through here: the gateway today, the scheduler and the SQS poller next.

One function is one execution environment: its invocations run one at a time, as in Lambda. The
handlers keep per-invocation state in module globals, so two requests running the same handler at once
in one process would see each other's events. Powertools goes further: every resolver keeps the request
it is resolving on `BaseRouter` itself, a class the resolvers of all API functions share, so two API
functions resolving at once would read each other's path, headers and body (a body lost, or one user's
token read for another's request). The functions with Api events therefore run one request at a time
between them; the others (scheduled, SQS) run concurrently with them and each other.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from farewatch_local.template import FunctionSpec, Template, TemplateError

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[Any, Any], Any]

_IMPORT_LOCK = threading.RLock()  # sys.path and sys.modules are process-wide


class FunctionTimedOut(Exception):
    """The invocation ran past the function's Timeout; Lambda would have stopped it."""


@dataclass
class LambdaContext:
    """The context object Lambda passes to a Python handler, with the same attribute names."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    tenant_id: str | None = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        if not self._deadline:
            self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_context(function: FunctionSpec, request_id: str | None = None) -> LambdaContext:
    return LambdaContext(
        function_name=function.name,
        memory_limit_in_mb=function.memory,
        invoked_function_arn=function.arn,
        aws_request_id=request_id or str(uuid.uuid4()),
        timeout_seconds=function.timeout,
    )


class FunctionRuntime:
    """One function: its handler, imported lazily, and a lock that makes it one execution environment."""

    def __init__(self, function: FunctionSpec, invocation_lock: threading.Lock | None = None) -> None:
        self.function = function
        self._handler: LambdaHandler | None = None
        # Shared between the API functions (see the module docstring), else the function's own.
        self._invocation_lock = invocation_lock if invocation_lock is not None else threading.Lock()

    @property
    def is_loaded(self) -> bool:
        return self._handler is not None

    def handler(self) -> LambdaHandler:
        """The handler callable; the first call imports its module (the function's init phase)."""
        if self._handler is None:
            with _IMPORT_LOCK:
                if self._handler is None:
                    self._handler = _import_handler(self.function)
        return self._handler

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        """Run the handler on one event, like a synchronous Lambda invoke; its exceptions propagate."""
        with self._invocation_lock:
            handler = self.handler()
            context = lambda_context(self.function, request_id)
            started = time.monotonic()
            result = handler(event, context)
            elapsed = time.monotonic() - started
        if elapsed > self.function.timeout:
            raise FunctionTimedOut(
                f"{self.function.logical_id} ran {elapsed:.1f} s, past its {self.function.timeout} s Timeout"
            )
        return result


class FunctionRuntimes:
    """The execution environments of every function of the template, by logical id."""

    def __init__(self, template: Template) -> None:
        _check_unique_handler_packages(template)
        api_lock = threading.Lock()  # Powertools' request state is one per process, not per resolver
        self._runtimes: Mapping[str, FunctionRuntime] = {
            function.logical_id: FunctionRuntime(function, api_lock if function.api_events else None)
            for function in template.functions
        }

    def __getitem__(self, logical_id: str) -> FunctionRuntime:
        return self._runtimes[logical_id]

    def __iter__(self) -> Iterator[FunctionRuntime]:
        return iter(self._runtimes.values())

    def invoke(self, logical_id: str, event: Any, request_id: str | None = None) -> Any:
        return self._runtimes[logical_id].invoke(event, request_id)

    def warm_up(self) -> list[str]:
        """Run every function's init now, as at a deployment's first invocations; returns those that failed.

        A failed init is logged with its traceback and retried on the function's next invocation.
        """
        failed = []
        for runtime in self:
            try:
                runtime.handler()
            except Exception:
                logger.exception(
                    "%s failed to initialise; its next invocation retries", runtime.function.logical_id
                )
                failed.append(runtime.function.logical_id)
        return failed


def _import_handler(function: FunctionSpec) -> LambdaHandler:
    for folder in (*function.layers, function.code_uri):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    module = importlib.import_module(function.handler_module)
    handler = getattr(module, function.handler_function, None)
    if not callable(handler):
        raise ImportError(f"{function.handler} (Handler of {function.logical_id}) is not a function")
    return handler


def _check_unique_handler_packages(template: Template) -> None:
    """All handlers share one sys.modules: two `app.py` in different CodeUris would shadow each other."""
    owners: dict[str, FunctionSpec] = {}
    for function in template.functions:
        package = function.handler_module.split(".")[0]
        owner = owners.setdefault(package, function)
        if owner.code_uri != function.code_uri:
            raise TemplateError(
                f"{owner.logical_id} and {function.logical_id} both have a handler package named {package!r} "
                "in different CodeUri folders; give each function a uniquely named handler module"
            )
