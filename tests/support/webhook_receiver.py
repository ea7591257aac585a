"""A webhook receiver for tests, as a user would write one: it verifies every delivery with the
`standardwebhooks` library and the endpoint's secret alone, and answers the statuses it is told to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Delivery:
    webhook_id: str
    verified: bool
    body: dict[str, Any] | None
    status: int


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answered in order, then 204
    secret: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    redirect_to: str | None = None

    def answer(self) -> int:
        return self.statuses.pop(0) if self.statuses else 204


@contextmanager
def webhook_receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(url="", statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name: value for name, value in self.headers.items()}
            try:
                body = Webhook(receiver.secret or "").verify(raw, headers) if receiver.secret else None
                verified = receiver.secret is not None
            except WebhookVerificationError:
                body, verified = None, False
            status = 307 if receiver.redirect_to is not None else receiver.answer()
            receiver.deliveries.append(Delivery(headers.get("webhook-id", ""), verified, body, status))
            self.send_response(status)
            if receiver.redirect_to is not None:
                self.send_header("Location", receiver.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/farewatch"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
