"""Items of different models (and tables) in one BatchGetItem.

PynamoDB's `Model.batch_get` reads one model's items; a cache hit wants a fare entry and its class's
insight snapshot, which live in two tables. This sends one BatchGetItem through PynamoDB's connection
(so its signals, retries and error types apply) and hands each item back as its own model.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from pynamodb.connection import Connection
from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.exceptions import GetError
from pynamodb.models import Model

from farewatch.settings import get_settings

# DynamoDB answers unprocessed keys when it throttles part of a batch; they are asked again after a
# short pause that doubles each time, this many times in all (botocore already retries a throttled request
# as a whole), then the read fails.
UNPROCESSED_ATTEMPTS = 4
UNPROCESSED_PAUSE_SECONDS = 0.05


def _pause(attempt: int) -> None:
    time.sleep(UNPROCESSED_PAUSE_SECONDS * 2**attempt)


_local = threading.local()


def _connection() -> Connection:
    connection: Connection | None = getattr(_local, "connection", None)
    if connection is None:
        settings = get_settings()
        connection = _local.connection = Connection(
            region=settings.aws_region, host=settings.aws_endpoint_url
        )
    return connection


def batch_get(*keys: tuple[type[Model], str, str | None]) -> list[Model | None]:
    """Each `(model, hash_key, range_key)` as that model, or None where no item has the key, in the
    order asked (eventually consistent reads)."""
    wanted: list[tuple[type[Model], str, dict[str, Any]]] = []
    request: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for model, hash_key, range_key in keys:
        operation = model.get_operation_kwargs_from_class(hash_key, range_key)
        wanted.append((model, operation["TableName"], operation["Key"]))
        request.setdefault(operation["TableName"], {"Keys": []})["Keys"].append(operation["Key"])
    found: dict[str, list[dict[str, Any]]] = {}
    for attempt in range(UNPROCESSED_ATTEMPTS):
        if attempt:
            _pause(attempt - 1)
        try:
            answer = _connection().dispatch("BatchGetItem", {"RequestItems": request})
        except BOTOCORE_EXCEPTIONS as error:  # wrapped as PynamoDB's own batch reads wrap them
            raise GetError(f"Failed to batch get items: {error}", error) from error
        for table, items in answer.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
    else:
        raise GetError("Failed to batch get items: DynamoDB left keys unprocessed")
    return [
        next(
            (
                model.from_raw_data(item)
                for item in found.get(table, [])
                if all(item.get(name) == value for name, value in key.items())
            ),
            None,
        )
        for model, table, key in wanted
    ]
