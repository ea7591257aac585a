"""Short DynamoDB leases: one conditional UpdateItem decides which caller does a piece of work.

A lease lives on the item it protects (`lease_owner`, `lease_until`), so one GetItem tells a waiting
caller both whether the work is done and whether someone is still doing it.
"""

from __future__ import annotations

from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from farewatch.store.conditions import update_unless_condition_failed


def try_acquire(
    item: Model, *, owner: str, now: float, until: float, only_if: Condition | None = None
) -> bool:
    """Take the lease on `item` (created if absent) unless another owner holds an unexpired one.

    `only_if` adds a condition on the item itself (e.g. "not fresh"), so a caller that arrives just
    after someone else finished the work does not do it again.
    """
    lease_owner = type(item).lease_owner  # type: ignore[attr-defined]
    lease_until = type(item).lease_until  # type: ignore[attr-defined]
    condition = lease_until.does_not_exist() | (lease_until < now) | (lease_owner == owner)
    if only_if is not None:
        condition = condition & only_if
    return update_unless_condition_failed(
        item, actions=[lease_owner.set(owner), lease_until.set(until)], condition=condition
    )


def release(item: Model, *, owner: str) -> None:
    """Give the lease back early (the work failed), if we still hold it."""
    lease_owner = type(item).lease_owner  # type: ignore[attr-defined]
    lease_until = type(item).lease_until  # type: ignore[attr-defined]
    update_unless_condition_failed(
        item, actions=[lease_owner.remove(), lease_until.remove()], condition=lease_owner == owner
    )
