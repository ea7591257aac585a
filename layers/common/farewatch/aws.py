"""The container's AWS clients: one botocore session per thread, shared by every PynamoDB connection
(farewatch.store) and every other client (SQS, EventBridge, SES, Secrets Manager, the idempotency table).

A fresh botocore session reads and parses the endpoint data (1.2 MB of JSON) and the service's model
again when it makes its first client: about 150 ms on a cold container, against a few ms for a client
of a session that has them. PynamoDB made a session per connection (one per table a request touched)
and boto3 a default session of its own. Sessions stay per thread, as PynamoDB keeps them (botocore's
client creation is not thread-safe; its clients are). No connection of ours sets credentials on its
session: they come from the environment, as before.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.session import Session, get_session

_thread = threading.local()


def thread_session(env_vars: Any = None) -> Session:
    """This thread's botocore session, made on first use (PynamoDB calls it for each connection)."""
    session: Session | None = getattr(_thread, "session", None)
    if session is None:
        session = _thread.session = get_session(env_vars)
    return session


def client(service: str, *, region: str, endpoint_url: str | None = None) -> Any:
    """A low-level client of `service` (what `boto3.client` gives) from this thread's session."""
    return thread_session().create_client(service, region_name=region, endpoint_url=endpoint_url)
