"""The local stack's mailbox: every mail the functions sent through the embedded SES, readable.

`GET /__local/mail` answers `{"data": [{"id", "to", "subject", "text", "html", "headers", "sent_at"}]}`,
newest first, and each mail is also written as an `.eml` file into the mail folder (printed at
start), which any mail program opens. Local only: the template has no such route.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from farewatch_local.template import ACCOUNT_ID, REGION

WRITE_EVERY_SECONDS = 0.5


def _sent_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT_ID][REGION].sent_messages)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""
    html = html_part.get_content() if html_part is not None else ""
    return str(text), str(html)


def mail_view(sent: Any) -> dict[str, Any]:
    raw = getattr(sent, "raw_data", None)
    if raw is None:  # a "simple" SendEmail: moto keeps its parts
        return {
            "id": sent.id,
            "to": ", ".join(sent.destinations.get("ToAddresses", [])),
            "subject": sent.subject,
            "text": sent.body,
            "html": "",
            "headers": {},
            "sent_at": None,
        }
    message = message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text, html = _parts(message)
    date = message.get("Date")
    return {
        "id": sent.id,
        "to": str(message.get("To", "")),
        "subject": str(message.get("Subject", "")),
        "text": text,
        "html": html,
        "headers": {name: str(value) for name, value in message.items()},
        "sent_at": parsedate_to_datetime(str(date)).strftime("%Y-%m-%dT%H:%M:%SZ") if date else None,
    }


class LocalMailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Set by the stack: delivers what the queues hold, so that a mail handed over just before is in.
        self.deliver_pending: Callable[[], None] = lambda: None
        self._written = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="local mailbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.write_new()

    def _run(self) -> None:
        while not self._stopping.wait(WRITE_EVERY_SECONDS):
            self.write_new()

    def write_new(self) -> None:
        sent = _sent_messages()
        for number, message in enumerate(sent[self._written :], start=self._written + 1):
            raw = getattr(message, "raw_data", None)
            if raw is None:
                continue
            path = self.folder / f"{number:05d}-{message.id}.eml"
            if not path.exists():
                path.write_text(raw, encoding="utf-8")
        self._written = len(sent)

    def messages(self) -> list[dict[str, Any]]:
        return [mail_view(message) for message in reversed(_sent_messages())]

    def route(self, request: Request) -> Response:
        """`GET /__local/mail`: every mail sent, newest first (after delivering what is queued)."""
        self.deliver_pending()
        body = json.dumps({"data": self.messages()})
        return Response(body, content_type="application/json", headers={"Cache-Control": "no-store"})
