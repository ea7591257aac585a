"""Serving a WSGI app on a background thread: the simulators and the local stack all serve through `start`.

The socket is bound first, so a taken port is a PortInUse naming the service rather than werkzeug's
exit(1); port 0 picks a free port, which is what tests and benchmarks want. No access lines.
"""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from fare_sim.core import FareSimulator

SHUTDOWN_POLL_SECONDS = 0.05  # how soon stop() takes effect (the default 0.5 s slows every test teardown)


class CannotListen(Exception):
    """A server cannot bind its address; the message says which and why."""

    def __init__(self, service: str, host: str, port: int, reason: str) -> None:
        super().__init__(f"{service} cannot listen on {host}:{port}: {reason}")


class PortInUse(CannotListen):
    def __init__(self, service: str, host: str, port: int) -> None:
        super().__init__(service, host, port, "the port is already in use")


class QuietRequestHandler(WSGIRequestHandler):
    """No access lines, and no `Server` header naming the software."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


def url_for(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server bound to host:port."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104  # nosec B104  # maps a wildcard bind to the address a client dials; binds nothing
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class RunningServer:
    """A WSGI app being served on a background thread."""

    def __init__(self, server: BaseWSGIServer, host: str) -> None:
        self._server = server
        self.port: int = server.socket.getsockname()[1]
        self.url = url_for(host, self.port)
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, daemon=True
        )
        self._stopped = False
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests and release the port; safe to call twice."""
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)

    def __repr__(self) -> str:
        return f"RunningServer({self.url})"


def start(
    app: WSGIApplication,
    host: str = "127.0.0.1",
    port: int = 8081,
    *,
    service: str = "the simulator",
    request_handler: type[WSGIRequestHandler] = QuietRequestHandler,
) -> RunningServer:
    """Serve `app` on host:port (port 0 = any free port) with a thread per request."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)
        server = make_server(
            host,
            listener.getsockname()[1],
            app,
            threaded=True,
            request_handler=request_handler,
            fd=listener.fileno(),
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(service, host, port) from None
        raise CannotListen(service, host, port, error.strerror or str(error)) from None
    finally:
        listener.close()  # the server holds its own duplicate of the socket
    return RunningServer(server, host)


def serve_from_command_line(
    argv: list[str] | None, *, prog: str, app: FareSimulator, detail: str = ""
) -> int:
    """`python -m <prog> [--host H] [--port P]`: serve a simulator until Ctrl-C or SIGTERM; answers the
    process's exit status."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {prog}", description=f"The {app.title}: a local stand-in."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081; 0 = any)")
    options = parser.parse_args(argv)
    try:
        server = start(app, host=options.host, port=options.port, service=app.title)
    except CannotListen as cannot_bind:
        print(f"{prog}: {cannot_bind}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop_on_terminate)
    # Python turns Ctrl-C into KeyboardInterrupt only if SIGINT was not ignored when it started, and a
    # shell without job control starts `cmd &` with SIGINT ignored: Ctrl-C stops the simulator anyway.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"{app.title} on {server.url}{detail}; Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print(f"{app.title} stopped", flush=True)
    finally:
        server.stop()
    return 0


def _stop_on_terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
