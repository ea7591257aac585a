"""Strict JSON request bodies: media type, size, syntax and shape checked, each failure its own 4xx.

The checks run cheapest first and never echo a submitted value back (a body may carry a password).
The document they produce is what Powertools then validates against the route's body model.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, NoReturn

from farewatch.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType

JSON_MEDIA_TYPE = "application/json"
_MAX_FIELD_CHARS = 100


def read_json_object(
    headers: Mapping[str, str] | None, body: str | None, is_base64_encoded: bool | None, *, max_bytes: int
) -> dict[str, Any]:
    """The request's body as a JSON object; its fields are then validated against the route's model."""
    if not body:
        raise InvalidRequest("This request needs a JSON body.", code="missing_body")
    _require_json_media_type(_header(headers, "content-type"))
    raw = _body_bytes(body, bool(is_base64_encoded), max_bytes=max_bytes)
    if not raw:
        raise InvalidRequest("This request needs a JSON body.", code="missing_body")
    document = _parse(raw)
    if not isinstance(document, dict):
        raise InvalidRequest(
            "The body must be a JSON object.",
            code="invalid_body",
            details=[{"field": "body", "issue": "must be a JSON object"}],
        )
    return document


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if isinstance(key, str) and key.lower() == name:
            return value
    return None


def _require_json_media_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json.", code="unsupported_media_type"
        )


def _body_bytes(body: str, is_base64_encoded: bool, *, max_bytes: int) -> bytes:
    # Reject oversize bodies before decoding them: base64 grows 4/3, UTF-8 at least 1 byte a character.
    longest = (max_bytes + 2) // 3 * 4 if is_base64_encoded else max_bytes
    if len(body) > longest:
        _too_large(max_bytes)
    try:
        raw = base64.b64decode(body, validate=True) if is_base64_encoded else body.encode("utf-8")
    except (binascii.Error, ValueError):  # not base64, or text with lone surrogates
        _malformed()
    if len(raw) > max_bytes:
        _too_large(max_bytes)
    return raw


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(
            raw.decode("utf-8"), parse_constant=_reject_constant, object_pairs_hook=_unique_members
        )
    except _DuplicateMember as duplicate:
        raise InvalidRequest(
            "The body names a field twice.",
            code="invalid_body",
            details=[{"field": duplicate.name[:_MAX_FIELD_CHARS], "issue": "appears more than once"}],
        ) from None
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        _malformed()


class _DuplicateMember(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON parsers disagree on which of two equal names wins; a gateway, a WAF and this code could
    # each read a different value. So a repeated name is refused rather than resolved.
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise _DuplicateMember(name)
        document[name] = value
    return document


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _malformed() -> NoReturn:
    raise InvalidRequest("The body is not valid JSON.", code="malformed_json")


def _too_large(max_bytes: int) -> NoReturn:
    raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.", code="payload_too_large")
