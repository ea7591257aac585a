"""A requests transport that hands each request to a WSGI app in-process, so unit tests can drive the
Amadeus simulator (a WSGI app) through a real `requests.Session` without opening a socket."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class SentRequest:
    """What the client put on the wire, as the transport saw it."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: tuple[float | None, float | None] | None


class WSGIAdapter(BaseAdapter):
    """Mount on a session (`session.mount("http://amadeus.test", WSGIAdapter(app))`).

    Waiting is simulated: give the app `adapter.stall` as its sleep function. A stall longer than the
    request's read timeout becomes `requests.ReadTimeout`, as a real socket would report it, and the
    optional `advance(seconds)` callback moves a test clock by the time the client actually waited.
    """

    def __init__(self, app: WSGIApp, *, advance: Callable[[float], None] | None = None) -> None:
        super().__init__()
        self.app = app
        self.advance = advance
        self.sent: list[SentRequest] = []
        self._local = threading.local()

    def stall(self, seconds: float) -> None:
        self._local.stalled = getattr(self._local, "stalled", 0.0) + max(0.0, seconds)

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        timeouts = timeout if isinstance(timeout, tuple) or timeout is None else (timeout, timeout)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        assert request.url is not None and request.method is not None
        self.sent.append(SentRequest(request.method, request.url, dict(request.headers), body, timeouts))

        parts = urlsplit(request.url)
        environ = EnvironBuilder(
            method=request.method,
            base_url=f"{parts.scheme}://{parts.netloc}",
            path=parts.path,
            query_string=parts.query,
            headers=dict(request.headers),
            data=body,
        ).get_environ()
        self._local.stalled = 0.0
        app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        try:
            content = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()

        stalled = self._local.stalled
        read_timeout = timeouts[1] if timeouts is not None else None
        if read_timeout is not None and stalled > read_timeout:
            self._wait(read_timeout)
            raise requests.ReadTimeout(
                f"WSGI app stalled {stalled}s > read timeout {read_timeout}s", request=request
            )
        self._wait(stalled)

        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = io.BytesIO(content)
        response._content = content
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        return None

    def _wait(self, seconds: float) -> None:
        if self.advance is not None and seconds > 0:
            self.advance(seconds)
