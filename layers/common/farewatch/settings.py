"""The one place that reads the environment: a pydantic settings model, built once per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    stage: str = Field("dev", alias="FAREWATCH_STAGE")

    # DynamoDB tables (names come from template.yaml through the function environment).
    cache_table: str = "farewatch-cache"
    price_history_table: str = "farewatch-price-history"
    search_stats_table: str = "farewatch-search-stats"
    users_table: str = "farewatch-users"
    auth_table: str = "farewatch-auth"
    trackers_table: str = "farewatch-trackers"
    watched_routes_table: str = "farewatch-watched-routes"
    alerts_table: str = "farewatch-alerts"
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    # Only for the local stack / `sam local`: where DynamoDB and Secrets Manager are. Empty in AWS.
    aws_endpoint: str | None = Field(None, alias="FAREWATCH_AWS_ENDPOINT")

    # Fare cache.
    fare_cache_ttl_seconds: int = Field(600, ge=1)
    stale_retention_hours: int = Field(72, ge=1)
    # Single flight: how long a fetcher holds a key, and how long the others wait for its result.
    fetch_lease_seconds: float = Field(25.0, gt=0)
    fetch_wait_seconds: float = Field(10.0, ge=0)
    fetch_poll_interval_seconds: float = Field(0.1, gt=0)
    # A forced refresh of one key reaches upstream at most once per this many seconds (fleet-wide),
    # and anonymous forced refreshes are limited per source IP (issue 15).
    force_refresh_min_seconds: int = Field(60, ge=0)
    anonymous_refreshes_per_ip_per_minute: int = Field(10, ge=1)
    # GET /flights/calendar: cold dates it may fetch per request (the upstream's 10 TPS) and its time.
    calendar_max_fetches: int = Field(10, ge=0)
    calendar_budget_seconds: float = Field(15.0, gt=0)

    # How long price observations and daily search counts are kept (their tables' TTL attribute).
    price_history_retention_days: int = Field(400, ge=1)
    search_stats_retention_days: int = Field(400, ge=1)

    # Upstream fare API: which source answers (template parameter FareSource).
    fare_source: Literal["amadeus", "duffel", "ignav"] = Field("amadeus", alias="FAREWATCH_FARE_SOURCE")
    amadeus_base_url: str = "https://test.api.amadeus.com"
    amadeus_secret_id: str | None = None
    amadeus_client_id: str | None = None
    amadeus_client_secret: SecretStr | None = None
    duffel_base_url: str = "https://api.duffel.com"
    duffel_secret_id: str | None = None  # Secrets Manager secret holding {"access_token": "duffel_..."}
    duffel_access_token: SecretStr | None = None  # local stack only; AWS reads the secret
    # Duffel searches airlines live: an offer request can take well over Amadeus's 10 s.
    duffel_read_timeout_seconds: float = Field(20.0, gt=0)
    duffel_page_size: int = Field(50, ge=1, le=200)
    # Ignav (issue 17): base URL without /api, the key's secret, and the one open question of its API.
    ignav_base_url: str = "https://ignav.com"
    ignav_secret_id: str | None = None  # Secrets Manager secret holding {"api_key": "..."}
    ignav_api_key: SecretStr | None = None  # local stack only; AWS reads the secret
    ignav_read_timeout_seconds: float = Field(20.0, gt=0)
    # Whether Ignav's price.amount is per traveller (true) or for all travellers (false, the default).
    ignav_price_per_traveller: bool = False
    # A city code is searched airport pair by airport pair (each a billed request), at most this many.
    ignav_max_airport_pairs: int = Field(9, ge=1, le=36)
    # How long a resolved booking link is reused before Ignav is asked again.
    booking_links_cache_seconds: int = Field(300, ge=0, le=3600)
    token_refresh_margin_seconds: int = Field(300, ge=0)
    token_prefetch: bool = True
    upstream_connect_timeout_seconds: float = Field(3.05, gt=0)
    upstream_read_timeout_seconds: float = Field(10.0, gt=0)
    # Total time one API request may spend on upstream calls, retries and waits (API Gateway stops at 29 s).
    upstream_budget_seconds: float = Field(20.0, gt=0, lt=29)
    # Generous: a burst of cold keys meets the 10 TPS limit; the time budget still bounds every request.
    upstream_max_attempts: int = Field(8, ge=1)
    upstream_backoff_base_seconds: float = Field(0.25, ge=0)
    upstream_backoff_cap_seconds: float = Field(2.0, ge=0)

    # Accounts (SPEC §5).
    jwt_secret_id: str | None = None  # Secrets Manager secret holding the HS256 signing key
    jwt_issuer: str = "farewatch"
    jwt_audience: str = "farewatch-api"
    access_token_minutes: int = Field(15, ge=1, le=1440)
    refresh_token_days: int = Field(30, ge=1, le=365)
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    login_max_failures: int = Field(5, ge=1)
    login_ip_max_failures: int = Field(50, ge=1)
    login_failure_window_minutes: int = Field(15, ge=1)
    max_body_bytes: int = Field(16 * 1024, ge=1)

    # Price tracking (SPEC §4).
    max_active_trackers: int = Field(50, ge=1)
    # How often a watched route is polled; the poller's schedule only looks for due routes.
    watched_route_poll_seconds: int = Field(1800, ge=60)
    # Upstream searches the poller may make per UTC day, fleet-wide; 0 = unlimited (issue 15).
    poll_daily_search_budget: int = Field(0, ge=0)

    # The poll worker starts a route only while this much of its invocation remains: one route may
    # spend the upstream budget, then write and publish (template.yaml chooses them together).
    poll_route_reserve_seconds: float = Field(25.0, gt=0)

    # Poller (SPEC §4): the queue the dispatcher fills and the bus PriceDropDetected events go to.
    poll_queue_url: str | None = None
    event_bus_name: str = "default"

    # Notifications (issue 14): the notifier's queue, SES, the links in mails, webhooks.
    notify_queue_url: str | None = None
    webhooks_table: str = "farewatch-webhooks"
    idempotency_table: str = "farewatch-idempotency"
    # Where mails link to: the API's URL (with its stage) or a custom domain; no trailing slash.
    public_url: str = Field("http://127.0.0.1:8080", alias="FAREWATCH_PUBLIC_URL")
    mail_sender: str = ""  # the SES-verified From address (template parameter MailSender)
    ses_configuration_set: str | None = None
    verify_email_hours: int = Field(24, ge=1, le=168)
    password_reset_minutes: int = Field(30, ge=5, le=1440)
    max_webhooks_per_user: int = Field(5, ge=1, le=50)
    webhook_connect_timeout_seconds: float = Field(3.0, gt=0)
    webhook_read_timeout_seconds: float = Field(5.0, gt=0)
    # Local only (make dev turns it on): webhooks may be plain http to a loopback receiver. Never in AWS.
    webhook_allow_http_loopback: bool = False
    # After each failed attempt, the wait before the next one (about a day in all); then it is disabled.
    webhook_retry_delays_seconds: str = "60,300,1800,3600,7200,14400,28800,28800"
    # Issue 18 (README "How the price cache works"): how long a container answers a fresh entry from
    # memory before it reads the item again (the bound on missing another container's refresh; 0: off),
    # how often it writes the searches it counted (0: every search at once), and the fleet-wide pace
    # of upstream requests, below the fare source's published limit (0: not paced).
    fare_memory_seconds: float = Field(5.0, ge=0, le=60)
    search_stats_flush_seconds: float = Field(10.0, ge=0, le=300)
    upstream_requests_per_second: float = Field(8.0, ge=0)

    @property
    def aws_endpoint_url(self) -> str | None:
        return self.aws_endpoint or None

    @property
    def stale_retention_seconds(self) -> int:
        return self.stale_retention_hours * 3600


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
