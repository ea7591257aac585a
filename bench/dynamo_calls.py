"""Counting DynamoDB API calls made through PynamoDB, by operation."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.connection.base import Connection


class DynamoCallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    @contextmanager
    def installed(self) -> Iterator[DynamoCallCounter]:
        original = Connection.dispatch
        counter = self

        def counting_dispatch(
            connection: Connection, operation_name: str, operation_kwargs: dict[str, Any]
        ) -> Any:
            with counter._lock:
                counter.calls[operation_name] += 1
            return original(connection, operation_name, operation_kwargs)

        Connection.dispatch = counting_dispatch  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Connection.dispatch = original  # type: ignore[method-assign]
