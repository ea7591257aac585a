"""Telling a DynamoDB outage (throttling, an internal error) from a bug, so the API can say "try again".

By the time such an error reaches us botocore has already retried it, so it is worth a 503 with
Retry-After rather than a 500: nothing the user sent was wrong, and nothing was half written
(every multi-item change is one transaction).
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

# DynamoDB's error codes (and transaction cancellation reasons) for "not now", not "not ever".
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ThrottlingError",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflict",
    }
)


def is_storage_unavailable(error: BaseException) -> bool:
    """True when `error` (or what caused it) is DynamoDB declining for now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PynamoDBException):
            if current.cause_response_code in _TRANSIENT_CODES:
                return True
            reasons = getattr(current, "cancellation_reasons", None) or []
            if any(reason is not None and reason.code in _TRANSIENT_CODES for reason in reasons):
                return True
        if isinstance(current, ClientError):
            if current.response.get("Error", {}).get("Code") in _TRANSIENT_CODES:
                return True
            reasons = current.response.get("CancellationReasons") or []
            if any(isinstance(reason, dict) and reason.get("Code") in _TRANSIENT_CODES for reason in reasons):
                return True
        current = current.__cause__ or current.__context__
    return False
