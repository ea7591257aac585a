"""The container's AWS clients: one botocore session per thread, shared by every PynamoDB connection
(farewatch.store) and every other client (SQS, EventBridge, SES, Secrets Manager, the idempotency table).

A fresh botocore session reads and parses the endpoint data (1.2 MB of JSON) and the service's model
again when it makes its first client: about 150 ms on a cold container, against a few ms for a client
of a session that has them. PynamoDB made a session per connection (one per table a request touched)
and boto3 a default session of its own. Sessions stay per thread, as PynamoDB keeps them (botocore's
client creation is not thread-safe; its clients are). No connection of ours sets credentials on its
session: they come from the environment, as before.

A session here also gives the same client for the same arguments: PynamoDB makes a DynamoDB client per
connection, all alike (same region, endpoint and config), and each one costs 10-30 ms (botocore copies
its event handlers and builds its endpoint resolver). Clients are thread-safe; a client whose
credentials are empty is never handed out again (PynamoDB asks for a new one in that case, and so
gets a fresh one, as before).
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.session import Session

_thread = threading.local()
_CREDENTIALS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


class _ClientSharingSession(Session):
    """A botocore session whose `create_client` answers the client it made before for equal arguments
    (a Config is compared by the options it was given)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[str, Any] = {}

    def create_client(self, *args: Any, **kwargs: Any) -> Any:
        key = _client_key(args, kwargs)
        made = self._clients.get(key) if key is not None else None
        if made is None or not _has_credentials(made):
            made = super().create_client(*args, **kwargs)
            if key is not None:
                self._clients[key] = made
        return made


def _client_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """The arguments as a key; None (never shared) when they carry credentials or a config whose
    options cannot be read."""
    if any(kwargs.get(name) for name in _CREDENTIALS) or len(args) > 2:
        return None
    config = kwargs.get("config")
    options = getattr(config, "_user_provided_options", None) if config is not None else {}
    if options is None:
        return None
    rest = {name: value for name, value in kwargs.items() if name != "config"}
    return repr((args, sorted(rest.items()), sorted(options.items())))


def _has_credentials(client: Any) -> bool:
    signer = getattr(client, "_request_signer", None)
    return signer is None or bool(getattr(signer, "_credentials", None))


def thread_session(env_vars: Any = None) -> Session:
    """This thread's botocore session, made on first use (PynamoDB calls it for each connection)."""
    session: Session | None = getattr(_thread, "session", None)
    if session is None:
        session = _thread.session = _ClientSharingSession(env_vars)
    return session


def client(service: str, *, region: str, endpoint_url: str | None = None) -> Any:
    """A low-level client of `service` (what `boto3.client` gives) from this thread's session."""
    return thread_session().create_client(service, region_name=region, endpoint_url=endpoint_url)
