"""The composition root: the production collaborators of every function, built from Settings once
per container.

Handlers, the operator tools and the local stack ask here; logic never does (it is handed its
collaborators, so a test hands it fakes). Each builder imports what it builds, so a function's cold
start pays only for the services it uses (the price function never loads bcrypt or PyJWT).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import SecretStr

from farewatch.clock import Clock, SystemClock
from farewatch.errors import UpstreamUnavailable
from farewatch.settings import Settings, get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from farewatch.accounts.deletion import AccountCleaner
    from farewatch.accounts.mailing import UnsubscribeTokens
    from farewatch.accounts.principal import Principal
    from farewatch.accounts.service import AccountService
    from farewatch.booking import BookingLinkService

    # The fare service's parts are imported by the builders that use them (issue 18): the notifier,
    # the dispatcher and the users function's sign-in never load the fare sources or their models.
    from farewatch.fares.amadeus import AmadeusCredentials
    from farewatch.fares.pacing import UpstreamPacer
    from farewatch.fares.source import FareSource
    from farewatch.notify.service import Notifier, Once
    from farewatch.notify.webhooks import GuardPolicy, WebhookSender
    from farewatch.pricing import CachePolicy, FareMetrics, FareService
    from farewatch.tracking.poll_cycle import PollCycle
    from farewatch.tracking.poll_dispatch import PollDispatcher
    from farewatch.tracking.service import TrackingService

logger = Logger(child=True)

# Powertools keeps a secret for this long; a rotated secret reaches every container within it.
SECRET_MAX_AGE_SECONDS = 300


class PowertoolsFareMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def record(self, name: str) -> None:
        # A metric is never worth failing a traveller's request for.
        try:
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        except Exception:
            logger.warning("Could not record a metric", extra={"metric": name})


def amadeus_credentials(settings: Settings) -> AmadeusCredentials:
    """From the environment when set (local stack), else from Secrets Manager (cached by Powertools)."""
    from farewatch.fares.amadeus import AmadeusCredentials

    if settings.amadeus_client_id and settings.amadeus_client_secret:
        return AmadeusCredentials(settings.amadeus_client_id, settings.amadeus_client_secret)
    if not settings.amadeus_secret_id:
        raise UpstreamUnavailable("The fare source is not configured.", code="upstream_not_configured")
    secret = _secrets(settings).get(
        settings.amadeus_secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS
    )
    if not isinstance(secret, dict) or not secret.get("client_id") or not secret.get("client_secret"):
        raise UpstreamUnavailable("The fare source is not configured.", code="upstream_not_configured")
    return AmadeusCredentials(str(secret["client_id"]), SecretStr(str(secret["client_secret"])))


@lru_cache(maxsize=1)
def _secrets(settings: Settings) -> SecretsProvider:
    # Imported here: Powertools' parameters bring boto3 (and s3transfer) with them, which a container
    # whose credentials come from the environment (the local stack) never needs.
    from aws_lambda_powertools.utilities import parameters

    from farewatch import aws

    client = aws.client("secretsmanager", region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    return parameters.SecretsProvider(boto3_client=client)


def duffel_access_token(settings: Settings) -> SecretStr:
    """From the environment when set (local stack), else from Secrets Manager (cached by Powertools).

    The secret is `{"access_token": "duffel_test_..."}`; an empty or missing token is a 503
    `upstream_not_configured`, never a request sent without one.
    """
    if settings.duffel_access_token and settings.duffel_access_token.get_secret_value():
        return settings.duffel_access_token
    if not settings.duffel_secret_id:
        raise UpstreamUnavailable("The fare source is not configured.", code="upstream_not_configured")
    secret = _secrets(settings).get(
        settings.duffel_secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS
    )
    token = secret.get("access_token") if isinstance(secret, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise UpstreamUnavailable("The fare source is not configured.", code="upstream_not_configured")
    return SecretStr(token.strip())


def ignav_api_key(settings: Settings) -> SecretStr:
    """From the environment when set (local stack), else from Secrets Manager (cached by Powertools).

    The secret is `{"api_key": "..."}`; an empty or missing key is a 503 `upstream_not_configured`
    (logged with what to do), never a request sent without one.
    """
    if settings.ignav_api_key and settings.ignav_api_key.get_secret_value():
        return settings.ignav_api_key
    key = None
    if settings.ignav_secret_id:
        secret = _secrets(settings).get(
            settings.ignav_secret_id, transform="json", max_age=SECRET_MAX_AGE_SECONDS
        )
        key = secret.get("api_key") if isinstance(secret, dict) else None
    if not isinstance(key, str) or not key.strip():
        logger.error(
            "No Ignav API key: set it in the IgnavCredentials secret with "
            "aws secretsmanager put-secret-value (README 'Fare sources', Ignav)"
        )
        raise UpstreamUnavailable("The fare source is not configured.", code="upstream_not_configured")
    return SecretStr(key.strip())


def upstream_pacer(settings: Settings, clock: Clock, source: str) -> UpstreamPacer | None:
    """The fleet-wide schedule of the source's requests (None when UPSTREAM_REQUESTS_PER_SECOND is 0)."""
    from farewatch.fares.pacing import UpstreamPacer
    from farewatch.store.pacing import UpstreamPaceStore

    if settings.upstream_requests_per_second <= 0:
        return None
    return UpstreamPacer(UpstreamPaceStore(source), clock, per_second=settings.upstream_requests_per_second)


def build_fare_source(settings: Settings, clock: Clock) -> FareSource:
    """The source FAREWATCH_FARE_SOURCE names; each keeps its own HTTP session. Only that source's
    module is imported (each brings its own answer models)."""
    if settings.fare_source == "ignav":
        from farewatch.fares.ignav import IgnavCredentials, IgnavFareSource

        return IgnavFareSource(
            base_url=settings.ignav_base_url,
            credentials=lambda: IgnavCredentials(ignav_api_key(settings)),
            clock=clock,
            connect_timeout=settings.upstream_connect_timeout_seconds,
            read_timeout=settings.ignav_read_timeout_seconds,
            max_attempts=settings.upstream_max_attempts,
            backoff_base=settings.upstream_backoff_base_seconds,
            backoff_cap=settings.upstream_backoff_cap_seconds,
            price_per_traveller=settings.ignav_price_per_traveller,
            max_airport_pairs=settings.ignav_max_airport_pairs,
            pacer=upstream_pacer(settings, clock, "ignav"),
        )
    if settings.fare_source == "duffel":
        from farewatch.fares.duffel import DuffelCredentials, DuffelFareSource

        return DuffelFareSource(
            base_url=settings.duffel_base_url,
            credentials=lambda: DuffelCredentials(duffel_access_token(settings)),
            clock=clock,
            connect_timeout=settings.upstream_connect_timeout_seconds,
            read_timeout=settings.duffel_read_timeout_seconds,
            max_attempts=settings.upstream_max_attempts,
            backoff_base=settings.upstream_backoff_base_seconds,
            backoff_cap=settings.upstream_backoff_cap_seconds,
            page_size=settings.duffel_page_size,
            pacer=upstream_pacer(settings, clock, "duffel"),
        )
    if settings.fare_source != "amadeus":
        raise ValueError(f"Unknown fare source {settings.fare_source!r}")
    from farewatch.fares.amadeus import AmadeusFareSource, AmadeusTokenIssuer
    from farewatch.fares.http import new_session
    from farewatch.fares.token_manager import TokenManager
    from farewatch.store.tokens import DynamoTokenStore

    session = new_session()
    issuer = AmadeusTokenIssuer(
        settings.amadeus_base_url,
        lambda: amadeus_credentials(settings),
        session=session,
        clock=clock,
        connect_timeout=settings.upstream_connect_timeout_seconds,
        read_timeout=settings.upstream_read_timeout_seconds,
    )
    tokens = TokenManager(
        issue=issuer,
        store=DynamoTokenStore("amadeus"),
        clock=clock,
        refresh_margin=settings.token_refresh_margin_seconds,
    )
    return AmadeusFareSource(
        base_url=settings.amadeus_base_url,
        tokens=tokens,
        clock=clock,
        session=session,
        connect_timeout=settings.upstream_connect_timeout_seconds,
        read_timeout=settings.upstream_read_timeout_seconds,
        max_attempts=settings.upstream_max_attempts,
        backoff_base=settings.upstream_backoff_base_seconds,
        backoff_cap=settings.upstream_backoff_cap_seconds,
        pacer=upstream_pacer(settings, clock, "amadeus"),
    )


def cache_policy(settings: Settings) -> CachePolicy:
    from farewatch.pricing import CachePolicy

    return CachePolicy(
        fresh_seconds=settings.fare_cache_ttl_seconds,
        stale_retention_seconds=settings.stale_retention_seconds,
        lease_seconds=settings.fetch_lease_seconds,
        poll_interval_seconds=settings.fetch_poll_interval_seconds,
        force_refresh_min_seconds=settings.force_refresh_min_seconds,
        budget_seconds=settings.upstream_budget_seconds,
    )


def build_fare_service(
    settings: Settings, clock: Clock, metrics: FareMetrics | None = None, *, memory_tier: bool = True
) -> FareService:
    """A fare service with its own source (token memory, HTTP session), memory tier and search
    counter (written in batches, and at shutdown); DynamoDB is shared. The poller's has no memory
    tier: it decides alerts, so it reads what the fleet last fetched (one GetItem per route)."""
    from farewatch.fare_memory import FareMemory
    from farewatch.pricing import FareService
    from farewatch.store.fare_cache import FareCacheStore
    from farewatch.store.history import PriceHistoryStore
    from farewatch.store.search_stats import BatchedSearchCounter, SearchStatsStore

    source = build_fare_source(settings, clock)
    stats = BatchedSearchCounter(
        SearchStatsStore(), clock, flush_seconds=settings.search_stats_flush_seconds, flush_in_background=True
    )
    flush_at_shutdown(stats.flush)
    return FareService(
        source=source,
        cache=FareCacheStore.for_source(source.name),
        history=PriceHistoryStore(),
        stats=stats,
        clock=clock,
        policy=cache_policy(settings),
        metrics=metrics,
        memory=FareMemory(recheck_seconds=settings.fare_memory_seconds) if memory_tier else None,
    )


_SHUTDOWN_FLUSHES: list[Callable[[], None]] = []
_shutdown_hooked = False


def flush_at_shutdown(flush: Callable[[], None]) -> None:
    """Run `flush` when the container ends normally: at interpreter exit, and on SIGTERM (which Lambda
    sends before a shutdown when an extension is registered) unless someone else handles SIGTERM."""
    import atexit
    import signal
    import threading

    global _shutdown_hooked
    if not _shutdown_hooked:
        _shutdown_hooked = True
        atexit.register(_run_shutdown_flushes)
        in_main_thread = threading.current_thread() is threading.main_thread()
        if in_main_thread and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
    _SHUTDOWN_FLUSHES.append(flush)


def _run_shutdown_flushes() -> None:
    for flush in _SHUTDOWN_FLUSHES:
        try:
            flush()
        except Exception:
            logger.warning("Could not write what this container kept for later")


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)  # atexit runs the flushes


@lru_cache(maxsize=1)
def fare_service() -> FareService:
    return build_fare_service(get_settings(), SystemClock(), PowertoolsFareMetrics(Metrics()))


def build_booking_link_service(settings: Settings, clock: Clock, source: FareSource) -> BookingLinkService:
    from farewatch.booking import BookingLinkService
    from farewatch.store.booking_links import BookingLinkStore

    return BookingLinkService(
        source=source,
        store=BookingLinkStore(source.name),
        clock=clock,
        cache_seconds=settings.booking_links_cache_seconds,
        budget_seconds=settings.upstream_budget_seconds,
    )


def booking_link_service() -> BookingLinkService:
    """Booking links through the fare service's own source (one HTTP session, one key). Not cached
    itself: it is a light wrapper, and building it from `fare_service()` keeps the two in step."""
    return build_booking_link_service(get_settings(), SystemClock(), fare_service().source)


# -- accounts ----------------------------------------------------------------------------------


def signing_key_provider(settings: Settings) -> Callable[[], str]:
    """The HS256 key, always from the Secrets Manager secret template.yaml generates (cached)."""
    secret_id = settings.jwt_secret_id

    def signing_key() -> str:
        if not secret_id:
            raise UpstreamUnavailable("Sign-in is not configured.", code="auth_not_configured")
        # The provider (and its Secrets Manager client) is made with the first key asked for: a
        # notifier that sends account mails only never asks.
        key = _secrets(settings).get(secret_id, max_age=SECRET_MAX_AGE_SECONDS)
        if isinstance(key, bytes):
            key = key.decode("utf-8")
        if not isinstance(key, str) or not key:
            raise UpstreamUnavailable("Sign-in is not configured.", code="auth_not_configured")
        return key

    return signing_key


def build_account_service(
    settings: Settings, clock: Clock, *, cleaners: Sequence[AccountCleaner] | None = None
) -> AccountService:
    from farewatch import messaging
    from farewatch.accounts.access_tokens import AccessTokenSigner
    from farewatch.accounts.deletion import ACCOUNT_DATA_CLEANERS
    from farewatch.accounts.passwords import PasswordHasher
    from farewatch.accounts.refresh_tokens import RefreshTokens
    from farewatch.accounts.service import AccountService, MailPolicy
    from farewatch.accounts.throttle import LoginThrottle
    from farewatch.store.auth_records import AuthRecordStore
    from farewatch.store.users import UserStore

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
        cleaners=ACCOUNT_DATA_CLEANERS if cleaners is None else cleaners,
        records=auth_records,
        mail=messaging.AccountMailOutbox(settings),
        mail_policy=MailPolicy(
            verify_seconds=settings.verify_email_hours * 3600,
            reset_seconds=settings.password_reset_minutes * 60,
        ),
    )


@lru_cache(maxsize=1)
def account_service() -> AccountService:
    return build_account_service(get_settings(), SystemClock())


# -- tracking ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def tracking_service() -> TrackingService:
    from farewatch.store.history import PriceHistoryStore
    from farewatch.store.poll_budget import PollBudgetStore
    from farewatch.store.tracking import AlertStore, TrackingStore
    from farewatch.tracking.service import TrackingService

    settings = get_settings()
    return TrackingService(
        fares=fare_service(),
        insight=fare_service().insight,
        poll_budget=PollBudgetStore(),
        daily_search_budget=settings.poll_daily_search_budget,
        store=TrackingStore(),
        alerts=AlertStore(),
        history=PriceHistoryStore(),
        clock=SystemClock(),
        max_active_trackers=settings.max_active_trackers,
        poll_interval_seconds=settings.watched_route_poll_seconds,
    )


def warm_up() -> None:
    """Cold start: get the fare API token now (SPEC §3), so the first request does not wait for it."""
    from farewatch import locations

    locations.preload()  # airport data and search index, ~0.1 s, paid at init rather than by a user
    if not get_settings().token_prefetch:
        return
    try:
        fare_service().warm_up()
    except Exception:  # a cold start must never fail because upstream is down
        logger.warning("Could not prepare the fare source at start-up; the first request will retry")


@lru_cache(maxsize=1)
def poll_dispatcher() -> PollDispatcher:
    """The scheduled dispatcher's side of the poll cycle: the tracking store, the clock and the daily
    budget only (its cold start builds no fare service, event bus or booking links)."""
    from farewatch.store.poll_budget import PollBudgetStore
    from farewatch.store.tracking import TrackingStore
    from farewatch.tracking.poll_dispatch import PollDispatcher

    settings = get_settings()
    return PollDispatcher(
        trackers=TrackingStore(),
        clock=SystemClock(),
        daily_search_budget=settings.poll_daily_search_budget,
        budget=PollBudgetStore(),
    )


@lru_cache(maxsize=1)
def poll_cycle() -> PollCycle:
    """The worker's side: the poller's own fare service (no memory tier), the event bus, booking links."""
    from farewatch import messaging
    from farewatch.store.poll_budget import PollBudgetStore
    from farewatch.store.tracking import AlertStore, TrackingStore
    from farewatch.tracking.poll_cycle import PollCycle

    settings = get_settings()
    poller_fares = build_fare_service(
        settings, SystemClock(), PowertoolsFareMetrics(Metrics()), memory_tier=False
    )
    return PollCycle(
        trackers=TrackingStore(),
        alerts=AlertStore(),
        fares=poller_fares,
        insight=poller_fares.insight,
        daily_search_budget=settings.poll_daily_search_budget,
        budget=PollBudgetStore(),
        events=messaging.AlertAnnouncements(settings),
        clock=SystemClock(),
        poll_interval_seconds=settings.watched_route_poll_seconds,
        # Through the poller's own source: one HTTP session and token, and no second fare service.
        booking_link=build_booking_link_service(settings, SystemClock(), poller_fares.source).best_url,
    )


# -- notifications -----------------------------------------------------------------------------


def webhook_guard(settings: Settings) -> GuardPolicy:
    from farewatch.notify.webhooks import GuardPolicy

    return GuardPolicy(allow_http_loopback=settings.webhook_allow_http_loopback)


def webhook_sender(settings: Settings) -> WebhookSender:
    from farewatch.notify.webhooks import WebhookSender, guarded_session

    policy = webhook_guard(settings)
    return WebhookSender(
        guarded_session(policy),
        policy=policy,
        connect_timeout=settings.webhook_connect_timeout_seconds,
        read_timeout=settings.webhook_read_timeout_seconds,
    )


class PowertoolsOnce:
    """`Once` on Powertools idempotency: a DynamoDB record per key (IdempotencyTable), kept 30 days."""

    def __init__(self, settings: Settings) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        from farewatch import aws

        client = aws.client("dynamodb", region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
        self.config = IdempotencyConfig(
            event_key_jmespath="[alert_id, channel]", expires_after_seconds=30 * 86400
        )
        persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=client)

        def deliver_once(*, delivery: dict[str, str], action: Callable[[], object]) -> object:
            return action()

        self._run = idempotent_function(
            deliver_once, data_keyword_argument="delivery", persistence_store=persistence, config=self.config
        )

    def __call__(self, key: dict[str, str], action: Callable[[], object]) -> object:
        return self._run(delivery=key, action=action)


@lru_cache(maxsize=1)
def powertools_once() -> PowertoolsOnce:
    return PowertoolsOnce(get_settings())


def channels_of(user_id: str, tracker_id: str) -> tuple[str, ...]:
    """The tracker's `notify` channels (both when it never chose); none once the tracker is gone."""
    from farewatch.store.tracking import TrackingStore

    tracker = TrackingStore().get(user_id, tracker_id)
    if tracker is None:
        return ()
    return tracker.notify if tracker.notify is not None else ("email", "webhook")


def build_notifier(
    settings: Settings,
    clock: Clock,
    *,
    once: Once | None = None,
    channels: Callable[[str, str], Sequence[str]] = channels_of,
) -> Notifier:
    from farewatch import aws, messaging
    from farewatch.accounts.mailing import UnsubscribeTokens
    from farewatch.notify.mail import SesMailer
    from farewatch.notify.service import Notifier, NotifierPolicy
    from farewatch.store.users import UserStore
    from farewatch.store.webhooks import WebhookStore

    ses = aws.client("sesv2", region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    delays = tuple(int(d) for d in settings.webhook_retry_delays_seconds.split(",") if d.strip())
    return Notifier(
        users=UserStore(),
        channels_of=channels,
        endpoints=WebhookStore(),
        mailer=SesMailer(ses, sender=settings.mail_sender, configuration_set=settings.ses_configuration_set),
        webhooks=webhook_sender(settings),
        later=messaging.RetryQueue(settings),
        once=once if once is not None else PowertoolsOnce(settings),
        unsubscribe=UnsubscribeTokens(signing_key_provider(settings)),
        suppress=lambda email, reason: build_account_service(settings, clock).suppress_email(email, reason),
        clock=clock,
        policy=NotifierPolicy(
            public_url=settings.public_url.rstrip("/"),
            verify_hours=settings.verify_email_hours,
            reset_minutes=settings.password_reset_minutes,
            retry_delays=delays,
        ),
    )


@lru_cache(maxsize=1)
def notifier() -> Notifier:
    return build_notifier(get_settings(), SystemClock(), once=powertools_once())


def unsubscribe_tokens() -> UnsubscribeTokens:
    from farewatch.accounts.mailing import UnsubscribeTokens

    return UnsubscribeTokens(signing_key_provider(get_settings()))


def authenticate(authorization_header: str | None) -> Principal:
    """The caller of a request from its Authorization header (the request gate's `authenticate`)."""
    return account_service().authenticate(authorization_header)
