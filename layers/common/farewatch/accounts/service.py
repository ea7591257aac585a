"""What accounts do: register, sign in, refresh, authenticate a request, and manage users and roles.

The service decides; the stores remember. Every collaborator is handed in, so tests use a ManualClock
and moto, and the composition root (farewatch.composition) builds the production ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from farewatch.accounts.access_tokens import AccessTokenSigner, invalid_token
from farewatch.accounts.deletion import AccountCleaner
from farewatch.accounts.emails import normalise_email
from farewatch.accounts.passwords import PasswordHasher
from farewatch.accounts.principal import Principal
from farewatch.accounts.refresh_tokens import RefreshTokens, invalid_refresh_token
from farewatch.accounts.throttle import LoginThrottle
from farewatch.accounts.values import User
from farewatch.clock import Clock
from farewatch.errors import FarewatchError, NotFound, Unauthorized, invalid_field
from farewatch.store.users import ROLES, UserStore, new_user_id

logger = Logger(child=True)

DEFAULT_ROLE = "user"
_MAX_LOGIN_EMAIL_CHARS = 320


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth scheme name


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
    ) -> None:
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._throttle = throttle
        self._signer = signer
        self._hasher = hasher
        self._clock = clock
        self._cleaners = tuple(cleaners)

    def register(self, email: str, password: str) -> User:
        """A new account with the `user` role; nothing the caller sends can choose another."""
        address = normalise_email(email)
        password_hash = self._hasher.hash(password)
        user = self._users.create(
            user_id=new_user_id(),
            email=address,
            role=DEFAULT_ROLE,
            password_hash=password_hash,
            now=self._clock.now(),
        )
        logger.info("Account registered", extra={"user_id": user.id})
        return user

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
        self._throttle.record_success(throttled_as)
        grant = self._refresh_tokens.start_family(account.user.id)
        logger.info("Signed in", extra={"user_id": account.user.id})
        return self._pair(account.user, grant.refresh_token)

    def refresh(self, refresh_token: str) -> TokenPair:
        grant = self._refresh_tokens.rotate(refresh_token)
        user = self._users.get(grant.user_id)
        if user is None:  # deleted while the token was out
            self._refresh_tokens.revoke_family(grant.family_id)
            raise invalid_refresh_token()
        return self._pair(user, grant.refresh_token)

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

    def _pair(self, user: User, refresh_token: str) -> TokenPair:
        access_token = self._signer.issue(user_id=user.id, role=user.role)
        return TokenPair(
            access_token=access_token, refresh_token=refresh_token, expires_in=self._signer.ttl_seconds
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


def _login_address(email: str) -> str | None:
    """The normalised address, or None when it cannot be anyone's (still throttled and still a 401)."""
    try:
        return normalise_email(email)
    except FarewatchError:
        return None


def _throttle_key(email: str) -> str:
    return email.strip().lower()[:_MAX_LOGIN_EMAIL_CHARS]
