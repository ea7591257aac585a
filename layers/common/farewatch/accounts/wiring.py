"""The accounts composition root: builds AccountService from Settings, once per container."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from aws_lambda_powertools.utilities import parameters

from farewatch.accounts.access_tokens import AccessTokenSigner
from farewatch.accounts.deletion import ACCOUNT_DATA_CLEANERS, AccountCleaner
from farewatch.accounts.passwords import PasswordHasher
from farewatch.accounts.refresh_tokens import RefreshTokens
from farewatch.accounts.service import AccountService
from farewatch.accounts.throttle import LoginThrottle
from farewatch.clock import Clock, SystemClock
from farewatch.errors import UpstreamUnavailable
from farewatch.settings import Settings, get_settings
from farewatch.store.auth_records import AuthRecordStore
from farewatch.store.users import UserStore

# Powertools keeps the key for this long; a rotated secret reaches every container within it.
SIGNING_KEY_MAX_AGE_SECONDS = 300


def _secrets_provider(settings: Settings) -> parameters.SecretsProvider:
    if settings.aws_endpoint_url:
        import boto3

        client = boto3.client(
            "secretsmanager", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region
        )
        return parameters.SecretsProvider(boto3_client=client)
    return parameters.SecretsProvider()


def signing_key_provider(settings: Settings) -> Callable[[], str]:
    """The HS256 key, always from the Secrets Manager secret template.yaml generates (cached)."""
    secret_id = settings.jwt_secret_id
    provider = _secrets_provider(settings) if secret_id else None

    def signing_key() -> str:
        if provider is None or secret_id is None:
            raise UpstreamUnavailable("Sign-in is not configured.", code="auth_not_configured")
        key = provider.get(secret_id, max_age=SIGNING_KEY_MAX_AGE_SECONDS)
        if isinstance(key, bytes):
            key = key.decode("utf-8")
        if not isinstance(key, str) or not key:
            raise UpstreamUnavailable("Sign-in is not configured.", code="auth_not_configured")
        return key

    return signing_key


def build_account_service(
    settings: Settings, clock: Clock, *, cleaners: Sequence[AccountCleaner] = ACCOUNT_DATA_CLEANERS
) -> AccountService:
    auth_records = AuthRecordStore()
    return AccountService(
        users=UserStore(),
        refresh_tokens=RefreshTokens(
            auth_records, clock=clock, lifetime_seconds=settings.refresh_token_days * 86_400
        ),
        throttle=LoginThrottle(
            auth_records,
            clock=clock,
            max_failures_per_email=settings.login_max_failures,
            max_failures_per_ip=settings.login_ip_max_failures,
            window_seconds=settings.login_failure_window_minutes * 60,
        ),
        signer=AccessTokenSigner(
            signing_key_provider(settings),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=settings.access_token_minutes * 60,
            clock=clock,
        ),
        hasher=PasswordHasher(settings.bcrypt_rounds),
        clock=clock,
        cleaners=cleaners,
    )


@lru_cache(maxsize=1)
def account_service() -> AccountService:
    return build_account_service(get_settings(), SystemClock())
