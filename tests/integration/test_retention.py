"""Price history and search statistics expire through their tables' TTL attribute (template.yaml's
PriceHistoryRetentionDays and SearchStatsRetentionDays): the row an operator sees carries purge_at."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import boto3

from farewatch.store.history import PriceHistoryStore
from farewatch.store.search_stats import SearchStatsStore

DAY = 86400


def only_item(table: str) -> dict:
    (item,) = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return item


def test_a_price_observation_expires_the_retention_period_after_it_was_observed(aws):
    observed = datetime(2026, 11, 23, 10, 30, tzinfo=UTC).timestamp()

    PriceHistoryStore(retention_days=400).append(
        "JFK#LAX#2027-01-15#1#USD",
        amount=Decimal("250.00"),
        currency="USD",
        source="amadeus",
        observed_at=observed,
    )

    assert int(only_item("PriceHistoryTable")["purge_at"]["N"]) == observed + 400 * DAY


def test_a_days_search_count_expires_the_retention_period_after_the_day_ends(aws):
    stats = SearchStatsStore(retention_days=90)
    end_of_day = datetime(2026, 11, 24, tzinfo=UTC).timestamp()

    stats.count_search("JFK-LAX", at=datetime(2026, 11, 23, 0, 5, tzinfo=UTC).timestamp())
    stats.count_search("JFK-LAX", at=datetime(2026, 11, 23, 23, 55, tzinfo=UTC).timestamp())

    item = only_item("SearchStatsTable")
    assert (item["searches"]["N"], int(item["purge_at"]["N"])) == ("2", end_of_day + 90 * DAY)


def test_the_stores_keep_rows_for_the_configured_retention_by_default(aws, monkeypatch):
    from farewatch.settings import get_settings

    monkeypatch.setenv("PRICE_HISTORY_RETENTION_DAYS", "120")
    get_settings.cache_clear()
    try:
        observed = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
        PriceHistoryStore().append(
            "JFK#LAX#2027-01-15#1#USD",
            amount=Decimal("1"),
            currency="USD",
            source="amadeus",
            observed_at=observed,
        )
    finally:
        get_settings.cache_clear()

    assert int(only_item("PriceHistoryTable")["purge_at"]["N"]) == observed + 120 * DAY
