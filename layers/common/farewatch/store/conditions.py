"""Conditional writes, the DynamoDB way: one helper for "apply unless the condition failed", and one
retry for transactions that collided with another one on the same item.

A failed condition is an answer, not an error: the state the write guarded had moved (a lease taken,
a version changed, an item gone), and the caller decides what that means. A cancelled transaction
whose reason is `TransactionConflict` is different: nothing was decided, so it is tried again after
a short, jittered wait (a few attempts; then the error goes up and the API answers 503).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

ResultT = TypeVar("ResultT")

TRANSACTION_ATTEMPTS = 5


def is_conditional_failure(error: UpdateError | PutError | DeleteError) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def update_unless_condition_failed(
    item: Model, *, actions: list[Any], condition: Condition | None = None
) -> bool:
    """Apply `actions` to `item` when `condition` (and the item's version, if it has one) holds.

    True when the update was applied; False when a condition failed. Anything else raises.
    """
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if is_conditional_failure(error):
            return False
        raise
    return True


def cancellation_codes(error: TransactWriteError) -> list[str | None]:
    """Why DynamoDB cancelled a transaction, one code (or None) per item, in request order."""
    return [reason.code if reason is not None else None for reason in error.cancellation_reasons or []]


def _is_transaction_conflict(error: BaseException) -> bool:
    return isinstance(error, TransactWriteError) and "TransactionConflict" in cancellation_codes(error)


def retried_on_transaction_conflict(write: Callable[..., ResultT]) -> Callable[..., ResultT]:
    """`write` (one TransactWriteItems) again, after a jittered backoff, while it collides with another."""
    return retry(
        retry=retry_if_exception(_is_transaction_conflict),
        stop=stop_after_attempt(TRANSACTION_ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.02, max=0.25),
        reraise=True,
    )(write)
