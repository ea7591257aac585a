"""Sign-in state in DynamoDB: hashed refresh tokens, their families and failed-login counters (AuthTable).

AuthTable (pk)                         TTL attribute: purge_at (every item expires on its own)
  refresh#<sha256 hex of the token>    RefreshTokenRecord: family_id, user_id, issued_at, expires_at,
                                       rotated. Only the hash is stored, so a table dump signs nobody in.
                                       Read by GetItem on /auth/refresh; rotated by a transaction that
                                       flips `rotated` (condition rotated = false) and puts the next
                                       token. Kept until the family expires so a reuse is recognised.
  family#<family id>                   TokenFamilyRecord: user_id, expires_at, revoked. One per login;
                                       revoking it stops every token of the family.
  login_failures#email#<address>      LoginFailureCounter: count, window_started (epoch seconds) of
  login_failures#ip#<source ip>        the current failure window; atomic ADD, a new window replaces
                                       a passed one. The email counter carries user_id when the
                                       address is an account's.
  login_failures#email_ip#<address>|<ip>  the same per address and source IP together (growing delays);
                                       carries last_failed_at.
  once#<purpose>#<sha256 of the token>  OneTimeTokenRecord: user_id, email, expires_at. A mailed
                                       verification (24 h) or password-reset (30 min) token; using it
                                       deletes it conditionally, so it works once.
  mailed#<purpose>#<user id>           MailRateRecord: last_sent_at; a conditional put keeps resends apart.
  index by_user (user_id, KEYS_ONLY)   account deletion: Query user_id, then delete every key found.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from farewatch.accounts.values import (
    FailureKind,
    FailureWindow,
    OneTimeToken,
    StoredRefreshToken,
    TokenFamily,
)
from farewatch.settings import get_settings
from farewatch.store.conditions import (
    cancellation_codes,
    is_conditional_failure,
    update_unless_condition_failed,
)
from farewatch.store.models import TableMeta

_settings = get_settings()
_WINDOW_ATTEMPTS = 4


class _AuthTableMeta(TableMeta):
    table_name = _settings.auth_table


class RefreshTokenRecord(Model):
    class Meta(_AuthTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    family_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    issued_at = NumberAttribute()
    expires_at = NumberAttribute()
    rotated = BooleanAttribute(default=False)
    purge_at = TTLAttribute()


class TokenFamilyRecord(Model):
    class Meta(_AuthTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    expires_at = NumberAttribute()
    revoked = BooleanAttribute(default=False)
    purge_at = TTLAttribute()


class LoginFailureCounter(Model):
    class Meta(_AuthTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(attr_name="count")  # `count` would hide Model.count()
    window_started = NumberAttribute()
    user_id = UnicodeAttribute(null=True)
    last_failed_at = NumberAttribute(null=True)
    purge_at = TTLAttribute()


class OneTimeTokenRecord(Model):
    class Meta(_AuthTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    expires_at = NumberAttribute()
    purge_at = TTLAttribute()


class MailRateRecord(Model):
    class Meta(_AuthTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    last_sent_at = NumberAttribute()
    purge_at = TTLAttribute()


class RecordsOfUser(GlobalSecondaryIndex["AuthRecordKey"]):
    class Meta:
        index_name = "by_user"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)


class AuthRecordKey(Model):
    """Any AuthTable item seen through its key only: what account deletion needs."""

    class Meta(_AuthTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(null=True)

    by_user = RecordsOfUser()


AUTH_MODELS: tuple[type[Model], ...] = (
    RefreshTokenRecord,
    TokenFamilyRecord,
    LoginFailureCounter,
    OneTimeTokenRecord,
    MailRateRecord,
    AuthRecordKey,
)

RotationOutcome = Literal["rotated", "already_rotated", "family_revoked"]


_REFRESH_PREFIX = "refresh#"
_FAMILY_PREFIX = "family#"


def refresh_key(token_hash: str) -> str:
    return f"{_REFRESH_PREFIX}{token_hash}"


def family_key(family_id: str) -> str:
    return f"{_FAMILY_PREFIX}{family_id}"


def failures_key(kind: FailureKind, subject: str) -> str:
    """`login_failures#email#<address>` or `login_failures#ip#<source ip>`."""
    return f"login_failures#{kind}#{subject}"


def _at(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)


def _token_of(record: RefreshTokenRecord) -> StoredRefreshToken:
    return StoredRefreshToken(
        token_hash=record.pk.removeprefix(_REFRESH_PREFIX),
        family_id=record.family_id,
        user_id=record.user_id,
        expires_at=float(record.expires_at),
        rotated=bool(record.rotated),
    )


def _family_of(record: TokenFamilyRecord) -> TokenFamily:
    return TokenFamily(
        id=record.pk.removeprefix(_FAMILY_PREFIX),
        user_id=record.user_id,
        expires_at=float(record.expires_at),
        revoked=bool(record.revoked),
    )


class AuthRecordStore:
    """The only code that reads or writes AuthTable."""

    def __init__(self) -> None:
        self._connection = Connection(region=_settings.aws_region, host=_settings.aws_endpoint_url)

    # -- refresh tokens and families ---------------------------------------------------------------

    def start_family(
        self, *, family_id: str, user_id: str, token_hash: str, now: float, expires_at: float
    ) -> None:
        family = TokenFamilyRecord(
            family_key(family_id),
            user_id=user_id,
            expires_at=expires_at,
            revoked=False,
            purge_at=_at(expires_at),
        )
        token = self._token(
            family_id=family_id, user_id=user_id, token_hash=token_hash, now=now, expires_at=expires_at
        )
        with TransactWrite(connection=self._connection) as transaction:
            transaction.save(family, condition=TokenFamilyRecord.pk.does_not_exist())
            transaction.save(token, condition=RefreshTokenRecord.pk.does_not_exist())

    def find_token(self, token_hash: str) -> StoredRefreshToken | None:
        try:
            return _token_of(RefreshTokenRecord.get(refresh_key(token_hash), consistent_read=True))
        except DoesNotExist:
            return None

    def get_family(self, family_id: str) -> TokenFamily | None:
        try:
            return _family_of(TokenFamilyRecord.get(family_key(family_id), consistent_read=True))
        except DoesNotExist:
            return None

    def rotate(self, presented: StoredRefreshToken, *, new_hash: str, now: float) -> RotationOutcome:
        """Retire `presented` and store its successor atomically; only one concurrent caller wins."""
        successor = self._token(
            family_id=presented.family_id,
            user_id=presented.user_id,
            token_hash=new_hash,
            now=now,
            expires_at=presented.expires_at,
        )
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.condition_check(
                    TokenFamilyRecord,
                    family_key(presented.family_id),
                    condition=TokenFamilyRecord.pk.exists() & (TokenFamilyRecord.revoked == False),  # noqa: E712
                )
                transaction.update(
                    RefreshTokenRecord(refresh_key(presented.token_hash)),
                    actions=[RefreshTokenRecord.rotated.set(True)],
                    condition=RefreshTokenRecord.pk.exists() & (RefreshTokenRecord.rotated == False),  # noqa: E712
                )
                transaction.save(successor, condition=RefreshTokenRecord.pk.does_not_exist())
        except TransactWriteError as error:
            if "ConditionalCheckFailed" not in cancellation_codes(error):
                raise
            # Which condition failed decides the answer; read the two items again rather than rely
            # on the order in which the transaction lists its cancellation reasons.
            family = self.get_family(presented.family_id)
            if family is None or family.revoked:
                return "family_revoked"
            return "already_rotated"
        return "rotated"

    def revoke_family(self, family_id: str) -> None:
        update_unless_condition_failed(
            TokenFamilyRecord(family_key(family_id)),
            actions=[TokenFamilyRecord.revoked.set(True)],
            condition=TokenFamilyRecord.pk.exists(),
        )

    @staticmethod
    def _token(
        *, family_id: str, user_id: str, token_hash: str, now: float, expires_at: float
    ) -> RefreshTokenRecord:
        return RefreshTokenRecord(
            refresh_key(token_hash),
            family_id=family_id,
            user_id=user_id,
            issued_at=now,
            expires_at=expires_at,
            rotated=False,
            purge_at=_at(expires_at),
        )

    # -- failed-login counters ---------------------------------------------------------------------

    def read_failures(self, kind: FailureKind, subject: str) -> FailureWindow | None:
        try:
            counter = LoginFailureCounter.get(failures_key(kind, subject), consistent_read=True)
        except DoesNotExist:
            return None
        return FailureWindow(
            count=int(counter.failures),
            window_started=float(counter.window_started),
            last_failed_at=float(counter.last_failed_at or counter.window_started),
        )

    def add_failure(
        self,
        kind: FailureKind,
        subject: str,
        *,
        now: float,
        window_seconds: float,
        user_id: str | None = None,
    ) -> FailureWindow:
        """Count one failure in the open window, or open a new window if the last one has passed."""
        window_open_since = now - window_seconds
        owner = [LoginFailureCounter.user_id.set(user_id)] if user_id else []
        owner.append(LoginFailureCounter.last_failed_at.set(now))
        for _ in range(_WINDOW_ATTEMPTS):
            counter = LoginFailureCounter(failures_key(kind, subject))
            if update_unless_condition_failed(
                counter,
                actions=[LoginFailureCounter.failures.add(1), *owner],
                condition=LoginFailureCounter.window_started > window_open_since,
            ):
                return FailureWindow(
                    count=int(counter.failures),
                    window_started=float(counter.window_started),
                    last_failed_at=now,
                )
            if update_unless_condition_failed(
                counter,
                actions=[
                    LoginFailureCounter.failures.set(1),
                    LoginFailureCounter.window_started.set(now),
                    LoginFailureCounter.purge_at.set(_at(now + window_seconds)),
                    *owner,
                ],
                condition=LoginFailureCounter.window_started.does_not_exist()
                | (LoginFailureCounter.window_started <= window_open_since),
            ):
                return FailureWindow(count=1, window_started=now, last_failed_at=now)
            # Another request opened the new window between our two writes: count in that one.
        raise RuntimeError("could not count a failed login")  # only under pathological contention

    def clear_failures(self, kind: FailureKind, subject: str) -> None:
        LoginFailureCounter(failures_key(kind, subject)).delete()

    # -- mailed one-time tokens and resend pacing ---------------------------------------------------

    def put_one_time_token(
        self, purpose: str, token_hash: str, *, user_id: str, email: str, expires_at: float
    ) -> None:
        OneTimeTokenRecord(
            f"once#{purpose}#{token_hash}",
            user_id=user_id,
            email=email,
            expires_at=expires_at,
            purge_at=_at(expires_at),
        ).save(condition=OneTimeTokenRecord.pk.does_not_exist())

    def take_one_time_token(self, purpose: str, token_hash: str) -> OneTimeToken | None:
        """The token, deleted as it is read (one caller wins); None if unknown or already used."""
        try:
            record = OneTimeTokenRecord.get(f"once#{purpose}#{token_hash}", consistent_read=True)
        except DoesNotExist:
            return None
        try:
            record.delete(condition=OneTimeTokenRecord.pk.exists())
        except DeleteError as error:
            if is_conditional_failure(error):
                return None  # a concurrent use took it
            raise
        return OneTimeToken(purpose, record.user_id, record.email, float(record.expires_at))

    def claim_mail_slot(self, purpose: str, user_id: str, *, now: float, every_seconds: float) -> bool:
        """True (and the slot taken) when no mail of this purpose went to the user in `every_seconds`."""
        try:
            MailRateRecord(
                f"mailed#{purpose}#{user_id}",
                user_id=user_id,
                last_sent_at=now,
                purge_at=_at(now + every_seconds),
            ).save(
                condition=MailRateRecord.pk.does_not_exist()
                | (MailRateRecord.last_sent_at <= now - every_seconds)
            )
        except PutError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def revoke_families_of(self, user_id: str) -> int:
        """Every refresh-token family of the user (password reset): none of its tokens works again."""
        revoked = 0
        for record in AuthRecordKey.by_user.query(user_id):
            if record.pk.startswith(_FAMILY_PREFIX):
                self.revoke_family(record.pk.removeprefix(_FAMILY_PREFIX))
                revoked += 1
        return revoked

    # -- account deletion --------------------------------------------------------------------------

    def delete_records_of(self, user_id: str) -> int:
        """Every refresh token, family and login counter of the user; returns how many were deleted."""
        deleted = 0
        with AuthRecordKey.batch_write() as batch:
            for record in AuthRecordKey.by_user.query(user_id):
                batch.delete(AuthRecordKey(record.pk))
                deleted += 1
        return deleted
