"""Test-wide environment. It is set before anything imports boto3, PynamoDB or a handler:
PynamoDB models read their table names from Settings when they are first imported."""

from __future__ import annotations

import os

TEST_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "CACHE_TABLE": "CacheTable",
    "PRICE_HISTORY_TABLE": "PriceHistoryTable",
    "SEARCH_STATS_TABLE": "SearchStatsTable",
    "USERS_TABLE": "UsersTable",
    "AUTH_TABLE": "AuthTable",
    "TRACKERS_TABLE": "TrackersTable",
    "WATCHED_ROUTES_TABLE": "WatchedRoutesTable",
    "ALERTS_TABLE": "AlertsTable",
    "WEBHOOKS_TABLE": "WebhooksTable",
    "IDEMPOTENCY_TABLE": "IdempotencyTable",
    "NOTIFY_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/NotifyQueue",
    "MAIL_SENDER": "alerts@farewatch.test",
    "SES_CONFIGURATION_SET": "MailConfigurationSet",
    "JWT_SECRET_ID": "JwtSigningKey",
    "BCRYPT_ROUNDS": "4",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "FarewatchTest",
    "POWERTOOLS_SERVICE_NAME": "farewatch-test",
    "POWERTOOLS_DEV": "false",
    "TOKEN_PREFETCH": "false",
}
for _name, _value in TEST_ENVIRONMENT.items():
    os.environ[_name] = _value
# A developer's shell may point at the local stack; tests never do.
for _name in ("AWS_ENDPOINT_URL", "FAREWATCH_AWS_ENDPOINT", "AWS_PROFILE"):
    os.environ.pop(_name, None)


import pytest  # noqa: E402  # after the environment above, on purpose


@pytest.fixture(autouse=True)
def _forget_shutdown_flushes() -> object:
    """Fare services built in-process by a test keep their search counts for a batch (written by a
    background timer, by a later count, or at interpreter exit); by then the test's moto is gone, so
    the write would land in a later test's tables or in AWS itself. What a test left unwritten belongs
    to its own moto: every counter (cached services outlive a test) forgets it and stops its timer
    after each test, so nothing is left for the exit to write either. Shutdown flushing is tested
    across real processes (tests/integration/test_fleet_across_processes.py)."""
    yield
    import sys

    composition = sys.modules.get("farewatch.composition")
    if composition is not None:
        for flush in composition._SHUTDOWN_FLUSHES:
            discard = getattr(getattr(flush, "__self__", None), "discard", None)
            if callable(discard):
                discard()
