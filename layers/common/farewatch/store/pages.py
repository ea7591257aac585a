"""Paging a Query, the same way for every listing (GET /users, GET /alerts).

A page reads one item more than it shows, so it knows whether another page exists without handing out
a cursor to an empty last page. The cursor is the key of the page's last item as urlsafe base64 JSON:
opaque to clients, and anything we did not issue is a 400 `invalid_cursor`, never a 5xx.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar

from pynamodb.exceptions import QueryError

from farewatch.errors import InvalidRequest

ItemT = TypeVar("ItemT")

MAX_CURSOR_CHARS = 512


def first_page(items: Iterable[ItemT], limit: int) -> tuple[list[ItemT], ItemT | None]:
    """The first `limit` items, and the last of them when more follow (the next cursor's item)."""
    found = list(islice(items, limit + 1))
    page = found[:limit]
    return page, (page[-1] if len(found) > limit else None)


def encode_cursor(key: Mapping[str, str]) -> str:
    raw = json.dumps(dict(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fields: tuple[str, ...]) -> dict[str, str]:
    """The key a cursor of ours stands for: exactly `fields`, each a string; else `invalid_cursor`.

    The caller checks the values themselves (their shapes, and that they belong to the caller).
    """
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise invalid_cursor()
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
    except (binascii.Error, ValueError):
        raise invalid_cursor() from None
    if not isinstance(key, dict) or set(key) != set(fields):
        raise invalid_cursor()
    if not all(isinstance(value, str) for value in key.values()):
        raise invalid_cursor()
    return key


@contextmanager
def start_key_checked(start_key: Mapping[str, Any] | None) -> Iterator[None]:
    """DynamoDB refusing the ExclusiveStartKey of a cursor (it is well formed, yet not a key of this
    index) is the client's cursor at fault: `invalid_cursor`, not a 5xx."""
    try:
        yield
    except QueryError as error:
        if start_key is not None and getattr(error, "cause_response_code", None) == "ValidationException":
            raise invalid_cursor() from None
        raise


def invalid_cursor() -> InvalidRequest:
    return InvalidRequest(
        "The cursor is not one this API issued; start again without it.",
        code="invalid_cursor",
        details=[{"field": "cursor", "issue": "not a cursor from a previous page"}],
    )
