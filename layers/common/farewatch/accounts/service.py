"""What accounts do: register, sign in, refresh, authenticate a request, and manage users and roles.

The service decides; the stores remember. Every collaborator is handed in, so tests use a ManualClock
and moto, and the composition root (farewatch.composition) builds the production ones.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from farewatch.accounts.access_tokens import AccessTokenSigner, invalid_token
from farewatch.accounts.deletion import AccountCleaner
from farewatch.accounts.emails import normalise_email
from farewatch.accounts.mailing import AccountMail, AccountMessage, one_time_token_hash
from farewatch.accounts.passwords import PasswordHasher
from farewatch.accounts.principal import Principal
from farewatch.accounts.refresh_tokens import RefreshTokenReused, RefreshTokens, invalid_refresh_token
from farewatch.accounts.throttle import LoginThrottle
from farewatch.accounts.values import OneTimeToken, User
from farewatch.clock import Clock
from farewatch.errors import (
    Conflict,
    FarewatchError,
    InvalidRequest,
    NotFound,
    TooManyRequests,
    Unauthorized,
    invalid_field,
)
from farewatch.store.auth_records import AuthRecordStore
from farewatch.store.users import ROLES, UserStore, new_user_id

logger = Logger(child=True)

DEFAULT_ROLE = "user"
_MAX_LOGIN_EMAIL_CHARS = 320
_MAX_TOKEN_CHARS = 200


@dataclass(frozen=True)
class MailPolicy:
    """How long mailed tokens live and how often the same kind of mail may go to one account."""

    verify_seconds: int = 24 * 3600
    reset_seconds: int = 30 * 60
    resend_every_seconds: int = 60
    # "Someone tried to register with your address" and reset mails: at most one per account this often.
    notice_every_seconds: int = 15 * 60


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth scheme name
    # Seconds until the sign-in's refresh family ends (rotation does not extend it): a cookie's Max-Age.
    refresh_expires_in: int = 0


class AccountService:
    def __init__(
        self,
        *,
        users: UserStore,
        refresh_tokens: RefreshTokens,
        throttle: LoginThrottle,
        signer: AccessTokenSigner,
        hasher: PasswordHasher,
        clock: Clock,
        cleaners: Sequence[AccountCleaner],
        records: AuthRecordStore,
        mail: AccountMail,
        mail_policy: MailPolicy | None = None,
    ) -> None:
        self._records = records
        self._mail = mail
        self._mail_policy = mail_policy or MailPolicy()
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._throttle = throttle
        self._signer = signer
        self._hasher = hasher
        self._clock = clock
        self._cleaners = tuple(cleaners)

    def register(self, email: str, password: str) -> None:
        """A new, unverified account with the `user` role, and a verification mail; for an address that
        already has an account, a notice to its owner instead. The caller cannot tell which happened:
        both do the same bcrypt work, one DynamoDB write and one hand-over to the notifier."""
        address = normalise_email(email)
        password_hash = self._hasher.hash(password)
        now = self._clock.now()
        try:
            user = self._users.create(
                user_id=new_user_id(), email=address, role=DEFAULT_ROLE, password_hash=password_hash, now=now
            )
        except Conflict:
            account = self._users.find_by_email(address)
            if account is None:  # deleted in between: nothing to tell anyone
                return
            owner = account.user
            if self._records.claim_mail_slot(
                "registered", owner.id, now=now, every_seconds=self._mail_policy.notice_every_seconds
            ):
                self._mail.send(AccountMessage("already_registered", owner.id, owner.email))
            logger.info("Registration tried for an existing account", extra={"user_id": owner.id})
            return
        self._send_verification(user, now)
        logger.info("Account registered", extra={"user_id": user.id})

    def _send_verification(self, user: User, now: float) -> None:
        token = secrets.token_urlsafe(32)
        self._records.put_one_time_token(
            "verify",
            one_time_token_hash(token),
            user_id=user.id,
            email=user.email,
            expires_at=now + self._mail_policy.verify_seconds,
        )
        self._mail.send(AccountMessage("verify_email", user.id, user.email, token))

    def resend_verification(self, user_id: str) -> None:
        """A new verification mail (signed in); 429 within a minute of the last; 409 once verified."""
        user = self.get_user(user_id)
        if user.email_verified:
            raise Conflict("Your email address is already verified.", code="already_verified")
        now = self._clock.now()
        every = self._mail_policy.resend_every_seconds
        if not self._records.claim_mail_slot("verify", user.id, now=now, every_seconds=every):
            raise TooManyRequests(
                "A verification mail was sent less than a minute ago; check your inbox.",
                code="verification_recently_sent",
                retry_after=every,
            )
        self._send_verification(user, now)

    def verify_email(self, token: str) -> User:
        """The account the token was mailed to, now verified; 400 `invalid_token` however it fails."""
        stored = self._take_token("verify", token)
        user = self._users.mark_verified(stored.user_id, stored.email, now=self._clock.now())
        if user is None:  # the account is gone, or its address is not the one the link was sent to
            raise _invalid_mail_token()
        logger.info("Email verified", extra={"user_id": user.id})
        return user

    def request_password_reset(self, email: str) -> None:
        """A reset mail if the address is an account's; the same answer (and work) when it is not."""
        try:
            address = normalise_email(email)
        except FarewatchError:
            return
        account = self._users.find_by_email(address)
        now = self._clock.now()
        if account is None:
            self._hasher.verify_unknown("")  # about the work of the other branch, as login does
            return
        user = account.user
        if not self._records.claim_mail_slot(
            "reset", user.id, now=now, every_seconds=self._mail_policy.resend_every_seconds
        ):
            return  # one mail a minute is plenty; the answer does not say so
        token = secrets.token_urlsafe(32)
        self._records.put_one_time_token(
            "reset",
            one_time_token_hash(token),
            user_id=user.id,
            email=user.email,
            expires_at=now + self._mail_policy.reset_seconds,
        )
        self._mail.send(AccountMessage("password_reset", user.id, user.email, token))
        logger.info("Password reset mailed", extra={"user_id": user.id})

    def reset_password(self, token: str, new_password: str) -> None:
        """Set the new password; every refresh family and access token of the user stops working."""
        password_hash = self._hasher.hash(new_password)  # a bad password is a 400 before the token is spent
        stored = self._take_token("reset", token)
        now = self._clock.now()
        user = self._users.set_password(stored.user_id, password_hash, now=now)
        if user is None:
            raise _invalid_mail_token()
        self._records.revoke_families_of(user.id)
        logger.info("Password reset; every session ended", extra={"user_id": user.id})

    def _take_token(self, purpose: str, token: str) -> OneTimeToken:
        if not token or len(token) > _MAX_TOKEN_CHARS:
            raise _invalid_mail_token()
        stored = self._records.take_one_time_token(purpose, one_time_token_hash(token))
        if stored is None or self._clock.now() >= stored.expires_at:
            raise _invalid_mail_token()
        return stored

    def set_email_alerts(self, user_id: str, wanted: bool) -> User:
        user = self._users.set_email_alerts(user_id, wanted, now=self._clock.now())
        if user is None:
            raise NotFound("No such user.", code="user_not_found")
        return user

    def suppress_email(self, email: str, reason: str) -> User | None:
        """SES reported a bounce or complaint: no more mail to this address (None: no such account)."""
        account = self._users.find_by_email(email.strip().lower())
        if account is None:
            return None
        return self._users.suppress_email(account.user.id, reason, now=self._clock.now())

    def login(self, email: str, password: str, *, source_ip: str | None) -> TokenPair:
        """Tokens for the right password; one 401 for every wrong answer; 429 while locked out."""
        address = _login_address(email)
        throttled_as = address or _throttle_key(email)
        self._throttle.check(throttled_as, source_ip)
        account = self._users.find_by_email(address) if address is not None else None
        if account is None:
            self._hasher.verify_unknown(password)
        if account is None or not self._hasher.verify(password, account.password_hash):
            self._throttle.record_failure(
                throttled_as, source_ip, user_id=account.user.id if account is not None else None
            )
            raise Unauthorized("The email or password is wrong.", code="invalid_credentials")
        self._throttle.record_success(throttled_as, source_ip)
        grant = self._refresh_tokens.start_family(account.user.id)
        logger.info("Signed in", extra={"user_id": account.user.id})
        return self._pair(account.user, grant.refresh_token, grant.expires_at)

    def refresh(self, refresh_token: str) -> TokenPair:
        try:
            grant = self._refresh_tokens.rotate(refresh_token)
        except RefreshTokenReused as reuse:
            # Whoever holds a copy may hold its access token too: end them all now, not in 15 minutes.
            self._users.end_access_tokens(reuse.user_id, now=self._clock.now())
            raise
        user = self._users.get(grant.user_id)
        if user is None:  # deleted while the token was out
            self._refresh_tokens.revoke_family(grant.family_id)
            raise invalid_refresh_token()
        return self._pair(user, grant.refresh_token, grant.expires_at)

    def logout(self, refresh_token: str) -> None:
        """Sign out: the sign-in this refresh token belongs to (its whole family) stops working. Any
        token of the family will do, a rotated one too; an unknown one changes nothing."""
        family_id = self._refresh_tokens.revoke(refresh_token)
        if family_id is not None:
            logger.info("Signed out", extra={"family_id": family_id})

    def authenticate(self, authorization_header: str | None) -> Principal:
        """The caller of a request from its `Authorization: Bearer <access token>` header."""
        if authorization_header is None or not authorization_header.strip():
            raise Unauthorized("Sign in and send the access token as a Bearer token.", code="missing_token")
        scheme, _, token = authorization_header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise invalid_token()
        claims = self._signer.verify(token)
        user = self._users.get(claims.user_id)
        if user is None:  # a deleted user's tokens stop working at once
            raise invalid_token()
        if claims.generation != user.token_generation:  # ended by a password reset or a refresh reuse
            raise invalid_token()
        return Principal(user_id=user.id, role=user.role, token_id=claims.token_id)

    def get_user(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise NotFound("No such user.", code="user_not_found")
        return user

    def list_users(self, *, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
        """Newest first; the cursor of one page fetches the next, None after the last page."""
        return self._users.list_page(limit=limit, cursor=cursor)

    def delete_user(self, user_id: str) -> None:
        """Everything the account owns first (each registered cleaner), then the account itself."""
        if self._users.get(user_id) is None:
            raise NotFound("No such user.", code="user_not_found")
        for clean in self._cleaners:
            clean(user_id)
        if not self._users.delete(user_id):
            raise NotFound("No such user.", code="user_not_found")
        logger.info("Account deleted", extra={"user_id": user_id})

    def grant_role(self, email: str, role: str) -> User:
        """For the operator command only: no route reaches this."""
        return change_role(self._users, email, role, now=self._clock.now())

    def _pair(self, user: User, refresh_token: str, refresh_expires_at: float) -> TokenPair:
        access_token = self._signer.issue(user_id=user.id, role=user.role, generation=user.token_generation)
        return TokenPair(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=self._signer.ttl_seconds,
            refresh_expires_in=max(0, int(refresh_expires_at - self._clock.now())),
        )


def change_role(users: UserStore, email: str, role: str, *, now: float) -> User:
    """Set the role of the account with this email (NotFound if there is none)."""
    if role not in ROLES:
        raise invalid_field("role", f"must be one of {', '.join(ROLES)}", code="invalid_role")
    address = normalise_email(email)
    account = users.find_by_email(address)
    updated = users.set_role(account.user.id, role, now=now) if account is not None else None
    if updated is None:
        raise NotFound(f"No account has the email {address}.", code="user_not_found")
    return updated


def _invalid_mail_token() -> InvalidRequest:
    return InvalidRequest(
        "This link is not valid (used already, expired, or not ours); ask for a new one.",
        code="invalid_token",
        details=[{"field": "token", "issue": "is not a valid, unused token"}],
    )


def _login_address(email: str) -> str | None:
    """The normalised address, or None when it cannot be anyone's (still throttled and still a 401)."""
    try:
        return normalise_email(email)
    except FarewatchError:
        return None


def _throttle_key(email: str) -> str:
    return email.strip().lower()[:_MAX_LOGIN_EMAIL_CHARS]
