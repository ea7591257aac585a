"""Duffel's error vocabulary: the `{"errors": [...], "meta": {"status", "request_id"}}` body.

Types are the ones Duffel documents (authentication_error, invalid_request_error, validation_error,
rate_limit_error, api_error); codes and titles follow its style, so a client that reads Duffel's
errors reads the simulator's unchanged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

DOCUMENTATION_URL = "https://duffel.com/docs/api/overview/errors"


@dataclass(frozen=True)
class DuffelError:
    """One entry of `errors[]`, with the HTTP status it is answered with."""

    status: int
    type: str
    code: str
    title: str
    message: str
    source: dict[str, str] | None = field(default=None)

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "title": self.title,
            "message": self.message,
            "documentation_url": DOCUMENTATION_URL,
        }
        if self.source is not None:
            entry["source"] = self.source
        return entry


class RequestRejected(Exception):
    """Validation found problems; every one of them is answered at once."""

    def __init__(self, problems: list[DuffelError]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


def errors_body(*problems: DuffelError) -> dict[str, Any]:
    return {
        "errors": [problem.as_json() for problem in problems],
        "meta": {"status": problems[0].status, "request_id": "req_" + uuid.uuid4().hex[:20]},
    }


def invalid_field(pointer: str, message: str) -> DuffelError:
    return DuffelError(422, "validation_error", "invalid_data", "Invalid data", message, {"pointer": pointer})


def missing_field(pointer: str) -> DuffelError:
    return DuffelError(
        422,
        "validation_error",
        "validation_required",
        "Field is required",
        f"{pointer} is required",
        {"pointer": pointer},
    )


def invalid_parameter(parameter: str, message: str) -> DuffelError:
    return DuffelError(
        400, "invalid_request_error", "bad_request", "Bad request", message, {"parameter": parameter}
    )


MISSING_AUTHORIZATION = DuffelError(
    401,
    "authentication_error",
    "missing_authorization_header",
    "Missing authorization header",
    "The Authorization header is missing; send 'Authorization: Bearer <access token>'.",
)
ACCESS_TOKEN_NOT_FOUND = DuffelError(
    401,
    "authentication_error",
    "access_token_not_found",
    "Access token not found",
    "The access token was not recognised; it may have been revoked.",
)
UNSUPPORTED_VERSION = DuffelError(
    400,
    "invalid_request_error",
    "unsupported_version",
    "Unsupported API version",
    "The Duffel-Version header is missing or names a version this API does not support; send v2.",
)
RATE_LIMIT_EXCEEDED = DuffelError(
    429,
    "rate_limit_error",
    "rate_limit_exceeded",
    "Rate limit exceeded",
    "Too many requests; wait until the time in the ratelimit-reset header.",
)
INTERNAL_SERVER_ERROR = DuffelError(
    500,
    "api_error",
    "internal_server_error",
    "Internal server error",
    "Something went wrong on our side; contact support with the request_id. Do not retry.",
)
NOT_FOUND = DuffelError(
    404, "invalid_request_error", "not_found", "Not found", "The resource does not exist."
)
MALFORMED_BODY = DuffelError(
    400, "invalid_request_error", "malformed_json", "Malformed JSON", "The request body is not valid JSON."
)
