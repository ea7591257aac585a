"""The shared access token in the cache table (pk `token#<source>`), so every container uses one."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from farewatch.fares.tokens_api import IssuedToken
from farewatch.store import leases
from farewatch.store.conditions import update_unless_condition_failed
from farewatch.store.models import AccessTokenRecord


class DynamoTokenStore:
    def __init__(self, source_name: str) -> None:
        self._pk = f"token#{source_name}"

    def _record(self) -> AccessTokenRecord:
        return AccessTokenRecord(self._pk)

    def load(self) -> IssuedToken | None:
        try:
            record = AccessTokenRecord.get(self._pk, consistent_read=True)
        except DoesNotExist:
            return None
        if not record.access_token or record.expires_at is None:
            return None
        return IssuedToken(record.access_token, float(record.expires_at))

    def try_lease(self, *, owner: str, now: float, until: float) -> bool:
        return leases.try_acquire(self._record(), owner=owner, now=now, until=until)

    def release(self, *, owner: str) -> None:
        leases.release(self._record(), owner=owner)

    def save(self, token: IssuedToken) -> None:
        """Store a new token and end any refresh lease; DynamoDB deletes it after it expires."""
        self._record().update(
            actions=[
                AccessTokenRecord.access_token.set(token.value),
                AccessTokenRecord.expires_at.set(token.expires_at),
                AccessTokenRecord.purge_at.set(datetime.fromtimestamp(token.expires_at + 3600, tz=UTC)),
                AccessTokenRecord.lease_owner.remove(),
                AccessTokenRecord.lease_until.remove(),
            ]
        )

    def discard(self, token_value: str) -> None:
        """Forget `token_value` if it is still the shared one (another container may have replaced it)."""
        update_unless_condition_failed(
            self._record(),
            actions=[AccessTokenRecord.access_token.remove(), AccessTokenRecord.expires_at.remove()],
            condition=AccessTokenRecord.access_token == token_value,
        )
