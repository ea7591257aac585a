"""The functions of template.yaml as pools of Lambda-like execution environments, one process each.

An invocation takes an idle instance of its function, or starts a new one (a cold start, logged with
its init time) while the pool is below its size, or waits for one to be free. Each instance handles one
event at a time and is reused warm, so requests to different functions never wait for each other, and
each process has its function's own environment, module state and log name. An instance that runs
past its function's Timeout is killed, as Lambda does, and the next invocation starts a new one.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from farewatch_local.template import FunctionSpec, Template

logger = logging.getLogger(__name__)

RUNTIME_DIR = Path(__file__).resolve().parents[1]  # what /var/runtime is to Lambda: where `instance` lives
INIT_TIMEOUT_SECONDS = 30.0  # Lambda gives init 10 s; a laptop's first import of a cold cache is slower
STOP_WAIT_SECONDS = 10.0  # how long a stop waits for invocations in flight to finish


class FunctionError(Exception):
    """The invocation failed: the handler raised, its init failed or it timed out (`kind` says which)."""

    def __init__(self, function: str, kind: str, message: str) -> None:
        super().__init__(f"{function}: {kind}: {message}")
        self.kind = kind


def lambda_environment(function: FunctionSpec, variables: Mapping[str, str]) -> dict[str, str]:
    """What Lambda's runtime sets, plus the function's own variables (which cannot override it)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONUNBUFFERED": "1",
        **variables,
        "PYTHONPATH": os.pathsep.join(
            str(path) for path in (function.code_uri, *function.layers, RUNTIME_DIR)
        ),
        "LAMBDA_TASK_ROOT": str(function.code_uri),
        "_HANDLER": function.handler,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
    }


class _Instance:
    def __init__(self, function: FunctionSpec, environment: Mapping[str, str], number: int) -> None:
        ours, theirs = socket.socketpair()
        self.number = number
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603  # our own interpreter and module
            [sys.executable, "-m", "farewatch_local.instance", str(theirs.fileno())],
            env={**environment, "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{number}"},
            cwd=function.code_uri,
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.connection = Connection(ours.detach())

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None when the process died or did not answer within `timeout`."""
        try:
            if self.connection.poll(timeout):
                return dict(json.loads(self.connection.recv_bytes()))
        except (EOFError, OSError):
            pass
        return None

    def kill(self) -> None:
        self.connection.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def close(self) -> None:
        self.connection.close()  # the instance ends at the end of its input
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


class FunctionPool:
    """The execution environments of one function: at most `size` processes, each one event at a time."""

    def __init__(
        self,
        function: FunctionSpec,
        environment: Mapping[str, str],
        size: int,
        announce: Callable[[str], None] = print,
    ) -> None:
        self.function, self.size = function, max(1, size)
        self._environment = lambda_environment(function, environment)
        self._announce = announce
        self._idle: list[_Instance] = []
        self._running = 0  # instances alive or starting, idle or busy
        self._numbers = 0
        self._available = threading.Condition()
        self._stopped = False
        self.served_by = threading.local()  # `.name`: the instance of this thread's last invocation

    def _take(self) -> _Instance:
        with self._available:
            while not self._idle and self._running >= self.size:
                if self._stopped:
                    raise FunctionError(self.function.logical_id, "Stopped", "the local stack is stopping")
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._running += 1
            self._numbers += 1
            number = self._numbers
        try:
            return self._start(number)
        except BaseException:
            self._release(None)
            raise

    def _start(self, number: int) -> _Instance:
        instance = _Instance(self.function, self._environment, number)
        ready = instance.receive(INIT_TIMEOUT_SECONDS)
        if ready is None or "init_ms" not in ready:
            instance.kill()
            error = (ready or {}).get("init_error") or {
                "errorType": "Runtime.ExitError",
                "errorMessage": "no answer",
            }
            raise FunctionError(
                self.function.logical_id, "Init failed", f"{error['errorType']}: {error['errorMessage']}"
            )
        self._announce(f"{self.function.logical_id}#{number} cold start: init {ready['init_ms']:.0f} ms")
        return instance

    def _release(self, instance: _Instance | None) -> None:
        with self._available:
            if instance is None or self._stopped:
                self._running -= 1
                if instance is not None:
                    instance.close()
            else:
                self._idle.append(instance)
            self._available.notify_all()  # a taker, or a stop waiting for the last busy instance

    def invoke(self, event: Any, *, within: float | None = None) -> Any:
        """Run one event like a synchronous invoke; the handler's failures raise FunctionError.

        `within` cuts the wait short of the function's Timeout (API Gateway stops waiting at 29 s).
        """
        instance = self._take()
        self.served_by.name = f"{self.function.logical_id}#{instance.number}"
        limit = min(self.function.timeout, within or self.function.timeout)
        request = {
            "event": event,
            "request_id": str(uuid.uuid4()),
            "arn": self.function.arn,
            "remaining_ms": self.function.timeout * 1000,
        }
        try:
            instance.connection.send_bytes(json.dumps(request).encode())
            reply = instance.receive(limit)
        except (OSError, TypeError, ValueError):
            reply = None
        if reply is None:
            instance.kill()
            self._release(None)
            timed_out = instance.process.returncode == -9
            message = f"Task timed out after {limit:.2f} seconds" if timed_out else "the process exited"
            raise FunctionError(
                self.function.logical_id, "Timeout" if timed_out else "Runtime.ExitError", message
            )
        self._release(instance)
        if "error" in reply:
            raise FunctionError(
                self.function.logical_id, reply["error"]["errorType"], reply["error"]["errorMessage"]
            )
        return reply["result"]

    def warm_up(self) -> bool:
        """Start one instance now (the init phase of a first request); False when its init failed."""
        try:
            self._release(self._take())
        except FunctionError as error:
            logger.error("%s; its next invocation tries again", error)
            return False
        return True

    def stop(self) -> None:
        """Close the idle instances, then wait (at most STOP_WAIT_SECONDS) for the busy ones to finish
        their invocation: the stack stops its AWS after its functions, and an invocation cut off from
        it would fail on the way out."""
        with self._available:
            self._stopped = True
            idle, self._idle = self._idle, []
            self._running -= len(idle)
            self._available.notify_all()
        for instance in idle:
            instance.close()
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        with self._available:
            while self._running > 0 and (left := deadline - time.monotonic()) > 0:
                self._available.wait(left)


class FunctionPools(dict[str, FunctionPool]):
    """Every function of the template, by logical id."""

    def __init__(
        self,
        template: Template,
        environments: Mapping[str, Mapping[str, str]] | None = None,
        *,
        api_instances: int = 2,
        announce: Callable[[str], None] = print,
    ) -> None:
        super().__init__(
            (
                function.logical_id,
                FunctionPool(
                    function,
                    (environments or {}).get(function.logical_id, function.environment),
                    pool_size(function, api_instances),
                    announce,
                ),
            )
            for function in template.functions
        )

    def invoke(self, logical_id: str, event: Any, *, within: float | None = None) -> Any:
        return self[logical_id].invoke(event, within=within)

    def warm_up(self) -> list[str]:
        """One instance of every function, started side by side; returns those whose init failed."""
        with ThreadPoolExecutor(max_workers=max(1, len(self))) as threads:
            started = dict(zip(self, threads.map(FunctionPool.warm_up, self.values()), strict=True))
        return [name for name, ok in started.items() if not ok]

    def stop(self) -> None:
        for pool in self.values():
            pool.stop()


def pool_size(function: FunctionSpec, api_instances: int) -> int:
    """API functions: `api_instances`. SQS consumers: their MaximumConcurrency (else 2). Scheduled
    functions: one, since a schedule fires one event at a time."""
    if function.api_events:
        return api_instances
    caps = [event.maximum_concurrency for event in function.sqs_events if event.maximum_concurrency]
    return min(caps) if caps else (2 if function.sqs_events else 1)
