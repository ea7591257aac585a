"""`python -m farewatch_local [--reset]` (what `make dev` and `make dev-reset` run): the local stack in
the foreground until Ctrl-C.

Owns the process concerns: logging to the console, the banner, SIGINT/SIGTERM, and turning a start-up
failure the user can fix (port taken, bad setting, template or saved-data problem) into one line and
exit code 1.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from types import FrameType

from fare_sim.server import CannotListen
from farewatch_local.aws import AwsStateError
from farewatch_local.stack import LocalStack, StackConfig, StackError
from farewatch_local.template import TemplateError

PROGRAM = "farewatch-local"


class _StopRequested(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM so that start-up and the wait loop both unwind."""


def _request_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequested


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments not in ([], ["--reset"]):
        print(f"usage: python -m farewatch_local [--reset]   (got {' '.join(arguments)})", file=sys.stderr)
        return 2
    # Tracebacks of gateway or stack failures go to the console, never into responses.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROGRAM} %(levelname)s %(name)s: %(message)s"))
    stack_logger = logging.getLogger("farewatch_local")
    stack_logger.addHandler(handler)
    stack_logger.setLevel(logging.INFO)
    stack_logger.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server would log every AWS call
    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    stack: LocalStack | None = None
    try:
        stack = LocalStack(StackConfig.from_environ(reset=arguments == ["--reset"]))
        stack.start()
        print(stack.banner(), flush=True)
        while True:
            time.sleep(3600)
    except _StopRequested:
        pass
    except (CannotListen, StackError, TemplateError, AwsStateError) as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if stack is not None:
            stack.stop()
    saved = stack is not None and stack.config.data_dir is not None
    print(
        f"{PROGRAM}: stopped" + (f" (data saved in {stack.config.data_dir})" if saved and stack else ""),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
