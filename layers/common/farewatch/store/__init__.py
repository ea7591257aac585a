"""Data access: the PynamoDB models and the only code that talks to DynamoDB.

Every PynamoDB connection of a thread shares one botocore session. PynamoDB gives each connection
(one per model class, one per store that runs transactions) a session of its own, and a fresh session
reads and parses the DynamoDB service model again when it makes its client: about 150 ms for each
table a cold container touches first, against a few ms for a client of a session that already has
it. Sessions stay per thread, as PynamoDB keeps them (botocore's client creation is not thread-safe);
no connection of ours sets credentials on its session (region and endpoint only, `models.TableMeta`).
"""

from __future__ import annotations

import threading
from typing import Any

import pynamodb.connection.base
from botocore.session import Session, get_session

_thread = threading.local()


def thread_session(env_vars: Any = None) -> Session:
    """This thread's botocore session, made on first use (what PynamoDB calls for each connection)."""
    session: Session | None = getattr(_thread, "session", None)
    if session is None:
        session = _thread.session = get_session(env_vars)
    return session


pynamodb.connection.base.get_session = thread_session
