"""PynamoDB models, one per access pattern. Table names come from Settings (template.yaml → env).

CacheTable (pk)                        TTL attribute: purge_at
  fares#JFK#LAX#2026-12-01#1#USD       FareCacheEntry: normalised offers of one fare query (Amadeus).
  fares#duffel#JFK#LAX#...             The same for another fare source, keyed by its name
                                       (FareCacheStore.for_source): sources never share entries.
                                       Read by GetItem on every price/search/track request; fresh while
                                       now < fresh_until, then kept (stale) until purge_at so a failing
                                       upstream can still be answered. lease_owner/lease_until make one
                                       caller the fetcher for the key (conditional UpdateItem).
  token#amadeus                        AccessTokenRecord: the fare API access token shared by every
                                       container, with its own refresh lease.
  pace#amadeus                         UpstreamPaceRecord: the fleet's upstream schedule for one fare
                                       source: the earliest time the next request may be sent.
                                       Each upstream request claims the next slot with one
                                       conditional UpdateItem (store/pacing.py).

PriceHistoryTable (series, observed_at)  TTL attribute: purge_at
  series = JFK#LAX#2026-12-01#1#USD    PriceObservation: every fetched cheapest price, appended by the
                                       fetcher; read by Query on series (oldest first). Expires
                                       PRICE_HISTORY_RETENTION_DAYS after it was observed.
  series = insight#JFK-LAX#economy#…   The same items for a comparable class (farewatch.insight), one
                                       per fetch of any trip in the class; read by Query (newest first).
  (same), observed_at = #mark          ClassMark: a token every observation of the class writes anew.
  (same), observed_at = #snapshot      ComparableSnapshot: a Query's answer, built for one mark token;
                                       stale once the mark moves on. (`#` sorts before every
                                       timestamp, so range queries never meet either.)

SearchStatsTable (day, route)          TTL attribute: purge_at
  day = 2026-11-23, route = JFK-LAX    RouteSearchCount: searches per UTC day and route, incremented
                                       with an atomic ADD on every price/search request (hit or miss);
                                       read by Query on day, one query per day of a window. Expires
                                       SEARCH_STATS_RETENTION_DAYS after the end of its day.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from farewatch.settings import get_settings

_settings = get_settings()


class TableMeta:
    """Where every Farewatch table is: region and (locally) endpoint, from Settings."""

    region = _settings.aws_region
    host = _settings.aws_endpoint_url


class _CacheTableMeta(TableMeta):
    table_name = _settings.cache_table


class FareCacheEntry(Model):
    class Meta(_CacheTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    offers_json = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    fetched_at = NumberAttribute(null=True)
    fresh_until = NumberAttribute(null=True)
    purge_at = TTLAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    failed_at = NumberAttribute(null=True)


class ForcedRefreshWindow(Model):
    """`refresh-ip#<source ip>#<window start>`: anonymous forced refreshes from one IP in one minute."""

    class Meta(_CacheTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    refreshes = NumberAttribute(default=0)
    purge_at = TTLAttribute(null=True)


class PollBudgetDay(Model):
    """`poll-budget#<YYYY-MM-DD>`: the poller's upstream searches of one UTC day (store.poll_budget)."""

    class Meta(_CacheTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    searches = NumberAttribute(null=True)
    purge_at = TTLAttribute(null=True)


class AccessTokenRecord(Model):
    class Meta(_CacheTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    access_token = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    purge_at = TTLAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)


class UpstreamPaceRecord(Model):
    class Meta(_CacheTableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    next_at = NumberAttribute(null=True)
    purge_at = TTLAttribute(null=True)


class PriceObservation(Model):
    class Meta(TableMeta):
        table_name = _settings.price_history_table

    series = UnicodeAttribute(hash_key=True)
    observed_at = UnicodeAttribute(range_key=True)
    amount = UnicodeAttribute()
    currency = UnicodeAttribute()
    source = UnicodeAttribute()
    purge_at = TTLAttribute(null=True)


class ClassMark(Model):
    """`insight#…` / `#mark`: a comparable class's newest observation, by a token each observation
    writes anew once it is stored (a small PutItem). A snapshot built for another token is stale."""

    class Meta(TableMeta):
        table_name = _settings.price_history_table

    series = UnicodeAttribute(hash_key=True)
    observed_at = UnicodeAttribute(range_key=True)
    token = UnicodeAttribute()
    purge_at = TTLAttribute(null=True)


class ComparableSnapshot(Model):
    """`insight#…` / `#snapshot`: what a consistent Query of the class found (newest first), built
    for the class's mark token `built_for` ("" when it had none) and the window start `since`, so a
    cache hit reads it with the fare entry and the mark in one BatchGetItem (store/history.py)."""

    class Meta(TableMeta):
        table_name = _settings.price_history_table

    series = UnicodeAttribute(hash_key=True)
    observed_at = UnicodeAttribute(range_key=True)
    built_for = UnicodeAttribute()
    built_at = NumberAttribute()
    since = NumberAttribute()
    amounts_json = UnicodeAttribute()
    purge_at = TTLAttribute(null=True)


class RouteSearchCount(Model):
    class Meta(TableMeta):
        table_name = _settings.search_stats_table

    day = UnicodeAttribute(hash_key=True)
    route = UnicodeAttribute(range_key=True)
    searches = NumberAttribute(default=0)
    # The fare query (cache key) of the route searched last that day: where its prices are found.
    last_fare_query = UnicodeAttribute(null=True)
    purge_at = TTLAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    FareCacheEntry,
    AccessTokenRecord,
    UpstreamPaceRecord,
    PriceObservation,
    ClassMark,
    ComparableSnapshot,
    RouteSearchCount,
)
