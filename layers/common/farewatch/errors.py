"""Domain errors. Raised deep in the logic; turned into the HTTP error envelope in one place (api.py)."""

from __future__ import annotations

from typing import Any


class FarewatchError(Exception):
    """Base of every error that has a status, a snake_case code and a human message."""

    status = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or []
        self.headers = headers or {}


class InvalidRequest(FarewatchError):
    status = 400
    code = "invalid_request"


class NotFound(FarewatchError):
    status = 404
    code = "not_found"


class Conflict(FarewatchError):
    status = 409
    code = "conflict"


class UpstreamError(FarewatchError):
    """The fare API failed after retries (bad gateway: it answered, but not usefully)."""

    status = 502
    code = "upstream_error"


class UpstreamUnavailable(UpstreamError):
    """The fare API refused or was overloaded (503)."""

    status = 503
    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    """The fare API did not answer within the request's time budget (504)."""

    status = 504
    code = "upstream_timeout"


def invalid_field(field: str, issue: str, *, code: str = "invalid_parameter") -> InvalidRequest:
    """A 400 about one input field, with the field named in `details`."""
    return InvalidRequest(f"{field}: {issue}", code=code, details=[{"field": field, "issue": issue}])


def fields_renamed(error: InvalidRequest, names: dict[str, str]) -> InvalidRequest:
    """The same 400 with its fields named as the client sent them (a tracker's `departure_date` is
    checked by the rules that call it `date`); a message of its own is kept as it is."""
    details = [
        {**detail, "field": names.get(detail.get("field", ""), detail.get("field"))}
        for detail in error.details
    ]
    as_listed = "; ".join(f"{detail.get('field')}: {detail.get('issue')}" for detail in error.details)
    message = error.message
    if error.details and message == as_listed:
        message = "; ".join(f"{detail['field']}: {detail.get('issue')}" for detail in details)
    return type(error)(message, code=error.code, details=details, headers=error.headers)


class Unauthorized(FarewatchError):
    """Missing, invalid, expired or forged credentials (401, with a Bearer challenge)."""

    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "Authentication required.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Bearer realm="farewatch"')


class Forbidden(FarewatchError):
    status = 403
    code = "forbidden"


class TooManyRequests(FarewatchError):
    """Throttled; `retry_after` seconds go into the Retry-After header."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))
        self.headers["Retry-After"] = str(self.retry_after)


class PayloadTooLarge(FarewatchError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(FarewatchError):
    status = 415
    code = "unsupported_media_type"
