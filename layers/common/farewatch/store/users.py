"""Accounts in DynamoDB: the user records and the email claims that keep addresses unique (UsersTable).

UsersTable (pk)                        no TTL: accounts live until someone deletes them
  user#<user id>                       UserRecord: email (normalised), role `user|admin`,
                                       password_hash (bcrypt), created_at / updated_at (epoch seconds),
                                       kind = "user" and listed_at = "<created ISO>#<id>" for the index.
                                       Read by GetItem (consistent) on every authenticated request, so
                                       a deleted user's tokens stop working and the role is current.
  email#<normalised address>           EmailClaim: user_id of the owner. Written in the same
                                       TransactWriteItems as the user, both `attribute_not_exists(pk)`,
                                       so two concurrent registrations of one address cannot both win.
                                       Read by GetItem on login and by the admin command.
  index by_kind (kind, listed_at)      GET /users: Query kind = "user", newest first (listed_at
                                       descending), `limit` items a page; the cursor is the key of the
                                       last user of a page, urlsafe-base64 JSON.
Deleting a user removes the record and the claim in one transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from farewatch.accounts.values import Account, User
from farewatch.clock import sortable_utc
from farewatch.errors import Conflict, InvalidRequest
from farewatch.settings import get_settings
from farewatch.store.conditions import (
    cancellation_codes,
    retried_on_transaction_conflict,
    update_unless_condition_failed,
)
from farewatch.store.models import TableMeta
from farewatch.store.pages import decode_cursor, encode_cursor, first_page, invalid_cursor, start_key_checked

_settings = get_settings()

USER_KIND = "user"
ROLES = ("user", "admin")
MAX_PAGE_SIZE = 100
_USER_ID = re.compile(r"[0-9a-f]{32}")
_LISTED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-f]{32}")


class _UsersTableMeta(TableMeta):
    table_name = _settings.users_table


class UsersByKind(GlobalSecondaryIndex["UserRecord"]):
    class Meta:
        index_name = "by_kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    listed_at = UnicodeAttribute(range_key=True)


class UserRecord(Model):
    class Meta(_UsersTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    kind = UnicodeAttribute(default=USER_KIND)
    listed_at = UnicodeAttribute()
    # Mail: absent on accounts made before verification existed (unverified, alerts wanted).
    email_verified = BooleanAttribute(null=True)
    email_alerts = BooleanAttribute(null=True)
    email_suppressed = UnicodeAttribute(null=True)
    token_generation = NumberAttribute(null=True)

    by_kind = UsersByKind()


class EmailClaim(Model):
    class Meta(_UsersTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


USER_MODELS: tuple[type[Model], ...] = (UserRecord, EmailClaim)


def user_key(user_id: str) -> str:
    return f"user#{user_id}"


def email_key(email: str) -> str:
    return f"email#{email}"


def listed_at(created_at: float, user_id: str) -> str:
    """Sorts by creation time; the id breaks ties between users created in the same microsecond."""
    return f"{sortable_utc(created_at)}#{user_id}"


def new_user_id() -> str:
    return uuid.uuid4().hex


def _user_of(record: UserRecord) -> User:
    return User(
        id=record.user_id,
        email=record.email,
        role=record.role,
        created_at=float(record.created_at),
        updated_at=float(record.updated_at),
        email_verified=bool(record.email_verified),
        email_alerts=record.email_alerts is not False,
        email_suppressed=record.email_suppressed,
        token_generation=int(record.token_generation or 0),
    )


class UserStore:
    """The only code that reads or writes UsersTable."""

    def __init__(self) -> None:
        self._connection = Connection(region=_settings.aws_region, host=_settings.aws_endpoint_url)

    def create(self, *, user_id: str, email: str, role: str, password_hash: str, now: float) -> User:
        """Write the user and its email claim together; Conflict `email_taken` if the address is claimed."""
        record = UserRecord(
            user_key(user_id),
            user_id=user_id,
            email=email,
            role=role,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
            kind=USER_KIND,
            listed_at=listed_at(now, user_id),
        )
        claim = EmailClaim(email_key(email), user_id=user_id)
        self._transact(
            saves=[(claim, EmailClaim.pk.does_not_exist()), (record, UserRecord.pk.does_not_exist())],
            on_condition_failure=lambda: Conflict(
                "An account with this email already exists.", code="email_taken"
            ),
        )
        return _user_of(record)

    def get(self, user_id: str) -> User | None:
        record = self._record(user_id)
        return _user_of(record) if record is not None else None

    def find_by_email(self, email: str) -> Account | None:
        """The account that owns the (normalised) address, with its password hash for sign-in."""
        try:
            claim = EmailClaim.get(email_key(email), consistent_read=True)
        except DoesNotExist:
            return None
        record = self._record(claim.user_id)
        return Account(_user_of(record), password_hash=record.password_hash) if record is not None else None

    def _record(self, user_id: str) -> UserRecord | None:
        if not user_id or len(user_id) > 200:
            return None
        try:
            return UserRecord.get(user_key(user_id), consistent_read=True)
        except DoesNotExist:
            return None

    def delete(self, user_id: str) -> bool:
        """Remove the user and its email claim in one transaction; False if there was no such user."""
        record = self._record(user_id)
        if record is None:
            return False
        claim = EmailClaim(email_key(record.email), user_id=user_id)
        try:
            self._transact(
                deletes=[(record, UserRecord.pk.exists()), (claim, EmailClaim.user_id == user_id)],
                on_condition_failure=_Vanished,
            )
        except _Vanished:
            return False
        return True

    def set_role(self, user_id: str, role: str, *, now: float) -> User | None:
        """Conditional update: never creates a user; None if the user does not exist."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        record = UserRecord(user_key(user_id))
        applied = update_unless_condition_failed(
            record,
            actions=[UserRecord.role.set(role), UserRecord.updated_at.set(now)],
            condition=UserRecord.pk.exists(),
        )
        return _user_of(record) if applied else None

    def _update(self, user_id: str, actions: list[Any], *, now: float, condition: Any = None) -> User | None:
        """A conditional update of an existing user (never creates one); None if there is none."""
        record = UserRecord(user_key(user_id))
        required = UserRecord.pk.exists() if condition is None else UserRecord.pk.exists() & condition
        applied = update_unless_condition_failed(
            record, actions=[*actions, UserRecord.updated_at.set(now)], condition=required
        )
        return _user_of(record) if applied else None

    def mark_verified(self, user_id: str, email: str, *, now: float) -> User | None:
        """Verified, if the account still has the address the link was sent to."""
        return self._update(
            user_id, [UserRecord.email_verified.set(True)], now=now, condition=UserRecord.email == email
        )

    def set_email_alerts(self, user_id: str, wanted: bool, *, now: float) -> User | None:
        return self._update(user_id, [UserRecord.email_alerts.set(wanted)], now=now)

    def suppress_email(self, user_id: str, reason: str, *, now: float) -> User | None:
        return self._update(user_id, [UserRecord.email_suppressed.set(reason)], now=now)

    def end_access_tokens(self, user_id: str, *, now: float) -> User | None:
        """Every access token issued so far stops working (they carry the old generation)."""
        return self._update(user_id, [UserRecord.token_generation.add(1)], now=now)

    def set_password(self, user_id: str, password_hash: str, *, now: float) -> User | None:
        """A new password, and every access token issued so far stops working."""
        return self._update(
            user_id,
            [UserRecord.password_hash.set(password_hash), UserRecord.token_generation.add(1)],
            now=now,
        )

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
        """Newest first. Reads one extra user to know whether another page exists (no empty last page)."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequest(
                f"limit must be between 1 and {MAX_PAGE_SIZE}.",
                code="invalid_parameter",
                details=[{"field": "limit", "issue": f"must be between 1 and {MAX_PAGE_SIZE}"}],
            )
        start_key = _decode_user_cursor(cursor) if cursor is not None else None
        with start_key_checked(start_key):
            page, last = first_page(
                UserRecord.by_kind.query(
                    USER_KIND,
                    scan_index_forward=False,
                    limit=limit + 1,
                    page_size=limit + 1,
                    last_evaluated_key=start_key,
                ),
                limit,
            )
        next_cursor = (
            encode_cursor({"pk": last.pk, "listed_at": last.listed_at}) if last is not None else None
        )
        return [_user_of(record) for record in page], next_cursor

    def _transact(
        self,
        *,
        saves: Sequence[tuple[Model, Condition]] = (),
        deletes: Sequence[tuple[Model, Condition]] = (),
        on_condition_failure: Callable[[], Exception],
    ) -> None:
        @retried_on_transaction_conflict
        def write() -> None:
            with TransactWrite(connection=self._connection) as transaction:
                for item, condition in saves:
                    transaction.save(item, condition=condition)
                for item, condition in deletes:
                    transaction.delete(item, condition=condition)

        try:
            write()
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancellation_codes(error):
                raise on_condition_failure() from None
            raise


class _Vanished(Exception):
    """The user was deleted by someone else between our read and our delete."""


def _decode_user_cursor(cursor: str) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for; anything we did not issue is a 400 `invalid_cursor`."""
    key = decode_cursor(cursor, ("pk", "listed_at"))
    pk, listed = key["pk"], key["listed_at"]
    user_id = pk.removeprefix("user#")
    if pk == user_id or not _USER_ID.fullmatch(user_id) or not _LISTED_AT.fullmatch(listed):
        raise invalid_cursor()
    if not listed.endswith(f"#{user_id}"):
        raise invalid_cursor()
    return {"pk": {"S": pk}, "kind": {"S": USER_KIND}, "listed_at": {"S": listed}}
