"""Amadeus's error vocabulary: the `errors[]` issues of the data APIs and the OAuth2 error body.

Codes and titles are the ones Amadeus publishes (the 400 table of Flight Offers Search v2 and the
API gateway's 38xxx codes), so a client written against Amadeus handles the simulator unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One entry of an Amadeus `errors[]` list (the spec's `Issue` definition)."""

    status: int
    code: int
    title: str
    detail: str
    parameter: str | None = None  # the query parameter at fault
    pointer: str | None = None  # or a JSON Pointer into the request body

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "code": self.code, "title": self.title}
        body["detail"] = self.detail
        # The spec allows one property in `source` (maxProperties 1).
        if self.parameter is not None:
            body["source"] = {"parameter": self.parameter}
        elif self.pointer is not None:
            body["source"] = {"pointer": self.pointer}
        return body


class SearchRejected(Exception):
    """A flight-offers request Amadeus would refuse; carries every issue found, like Amadeus does."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{issue.code} {issue.detail}" for issue in issues))
        self.issues = issues

    @property
    def status(self) -> int:
        return self.issues[0].status


def errors_body(*issues: Issue) -> dict[str, Any]:
    return {"errors": [issue.as_json() for issue in issues]}


# The flight-offers 400 table, from the spec's `400_Search` response. An issue names either the
# query parameter at fault or a JSON Pointer into the request body.
def _bad_request(code: int, title: str, detail: str, parameter: str | None, pointer: str | None) -> Issue:
    return Issue(400, code, title, detail, parameter=parameter, pointer=pointer)


def invalid_date(detail: str, *, parameter: str | None = None, pointer: str | None = None) -> Issue:
    return _bad_request(425, "INVALID DATE", detail, parameter, pointer)


def invalid_format(detail: str, *, parameter: str | None = None, pointer: str | None = None) -> Issue:
    return _bad_request(477, "INVALID FORMAT", detail, parameter, pointer)


def combination_restricted(detail: str, *, parameter: str | None = None, pointer: str | None = None) -> Issue:
    return _bad_request(2668, "PARAMETER COMBINATION INVALID/RESTRICTED", detail, parameter, pointer)


def invalid_data(detail: str, *, parameter: str | None = None, pointer: str | None = None) -> Issue:
    return _bad_request(4926, "INVALID DATA RECEIVED", detail, parameter, pointer)


def too_many_occurrences(detail: str, *, parameter: str | None = None, pointer: str | None = None) -> Issue:
    return _bad_request(10661, "MAXIMUM NUMBER OF OCCURRENCES EXCEEDED", detail, parameter, pointer)


def mandatory_missing(*, parameter: str | None = None, pointer: str | None = None) -> Issue:
    detail = f"{parameter or pointer} is mandatory"
    return _bad_request(32171, "MANDATORY DATA MISSING", detail, parameter, pointer)


# The API gateway's answers, shared by every Amadeus data API.
INVALID_HTTP_HEADER = Issue(
    401, 38191, "Invalid HTTP header", "Missing or invalid format for mandatory Authorization header"
)
INVALID_ACCESS_TOKEN = Issue(
    401, 38190, "Invalid access token", "The access token provided in the Authorization header is invalid"
)
ACCESS_TOKEN_EXPIRED = Issue(401, 38192, "Access token expired", "The access token is expired")
TOO_MANY_REQUESTS = Issue(
    429, 38194, "Too many requests", "The network rate limit is exceeded, please try again later"
)
RESOURCE_NOT_FOUND = Issue(404, 38196, "Resource not found", "The targeted resource doesn't exist")
INTERNAL_ERROR = Issue(
    500, 38189, "Internal error", "An internal error occurred, please contact your administrator"
)
SYSTEM_ERROR = Issue(500, 141, "SYSTEM ERROR HAS OCCURRED", "The fare search system is unavailable")


@dataclass(frozen=True)
class OAuthError:
    """The token endpoint's `ErrorResponse` (a flat object, not `errors[]`)."""

    status: int
    error: str
    description: str
    code: int = 38187
    title: str = "Invalid parameters"

    def as_json(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "error_description": self.description,
            "code": self.code,
            "title": self.title,
        }


INVALID_CLIENT = OAuthError(401, "invalid_client", "Client credentials are invalid")
GRANT_TYPE_MISSING = OAuthError(400, "invalid_request", "Mandatory grant_type form parameter missing")
UNSUPPORTED_GRANT_TYPE = OAuthError(
    400,
    "unsupported_grant_type",
    "Only client_credentials value is allowed for the body parameter grant_type",
)
CLIENT_CREDENTIALS_MISSING = OAuthError(
    400, "invalid_request", "Mandatory client_id and client_secret form parameters missing"
)
UNKNOWN_TOKEN = OAuthError(
    404, "invalid_token", "The access token is unknown", code=38190, title="Invalid access token"
)
