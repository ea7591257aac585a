"""Serving a WSGI app (normally the Simulator) on a background thread, quietly, on a loopback port.

`start(app, port=0)` picks a free port, which is what tests and benchmarks want; the handle tells
the port and URL and stops the server.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

SHUTDOWN_POLL_SECONDS = 0.05  # how soon stop() takes effect (the default 0.5 s slows every test teardown)
_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # noqa: S104  # nosec B104  # names the wildcard addresses, binds nothing


class _QuietRequestHandler(WSGIRequestHandler):
    """No per-request access lines on stderr; errors are still reported."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class RunningServer:
    """A WSGI app being served on a background thread."""

    def __init__(self, server: BaseWSGIServer, host: str) -> None:
        self._server = server
        self.port: int = server.server_port
        shown_host = "127.0.0.1" if host in _ANY_ADDRESS else host
        self.url = f"http://{shown_host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name=f"wsgi-{self.port}",
            daemon=True,
        )
        self._stopped = False
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests and release the port; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __repr__(self) -> str:
        return f"RunningServer({self.url})"


def start(app: WSGIApplication, host: str = "127.0.0.1", port: int = 8081) -> RunningServer:
    """Serve `app` on host:port (port 0 = any free port) with a thread per request."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    return RunningServer(server, host)


def serve_in_foreground(
    app: WSGIApplication, *, prog: str, title: str, host: str, port: int, detail: str = ""
) -> int:
    """`python -m <prog>`: serve `app` until Ctrl-C or SIGTERM; answers the process's exit status."""
    try:
        server = start(app, host=host, port=port)
    except OSError as cannot_bind:
        print(f"{prog}: cannot listen on {host}:{port}: {cannot_bind}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    print(f"{title} on {server.url}{detail}; Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print(f"{title} stopped", flush=True)
    finally:
        server.stop()
    return 0


def _stop_on_terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
