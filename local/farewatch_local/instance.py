"""One execution environment of a function: `python -m farewatch_local.instance <fd>` (see functions.py).

Like Lambda's runtime, it runs with the function's environment (PYTHONPATH: the code, its layers, this
runtime), imports the handler once (the init phase), then handles one event at a time for as long as
it lives, each with a LambdaContext. Events and results travel as JSON over the socket `fd`; stdout and
stderr are the function's log. It imports nothing but the standard library before the handler.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any


@dataclass
class LambdaContext:
    """The context Lambda passes to a Python handler, with the same attribute names."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(error: BaseException) -> dict[str, Any]:
    return {"errorType": type(error).__name__, "errorMessage": str(error)}


def main() -> None:
    # Ctrl-C reaches the whole process group: the stack stops its instances itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(int(sys.argv[1]))
    stack = os.getppid()
    started = time.perf_counter()
    try:
        module, function = os.environ["_HANDLER"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module), function)
    except Exception as error:
        traceback.print_exc()
        connection.send_bytes(json.dumps({"init_error": _error(error)}).encode())
        return
    connection.send_bytes(json.dumps({"init_ms": (time.perf_counter() - started) * 1000}).encode())
    environ = os.environ
    while True:
        try:
            request = json.loads(connection.recv_bytes())
        except (EOFError, OSError):
            return  # the stack stopped, or died: an environment without its service ends
        context = LambdaContext(
            function_name=environ["AWS_LAMBDA_FUNCTION_NAME"],
            memory_limit_in_mb=int(environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
            invoked_function_arn=request["arn"],
            aws_request_id=request["request_id"],
            log_group_name=environ["AWS_LAMBDA_LOG_GROUP_NAME"],
            log_stream_name=environ["AWS_LAMBDA_LOG_STREAM_NAME"],
            _deadline=time.monotonic() + request["remaining_ms"] / 1000,
        )
        try:
            reply = {"result": handler(request["event"], context)}
        except Exception as error:
            if os.getppid() != stack:
                return  # the stack was killed mid-invocation (its AWS with it): the environment ends
            traceback.print_exc()
            reply = {"error": _error(error)}
        try:
            payload = json.dumps(reply)
        except (TypeError, ValueError) as error:
            payload = json.dumps({"error": {"errorType": "Runtime.MarshalError", "errorMessage": str(error)}})
        sys.stdout.flush()
        connection.send_bytes(payload.encode())


if __name__ == "__main__":
    main()
