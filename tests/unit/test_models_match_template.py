"""The PynamoDB models and template.yaml describe the same tables: keys, types and TTL attribute."""

from __future__ import annotations

from pathlib import Path

import pytest

from farewatch.store.auth_records import AUTH_MODELS
from farewatch.store.models import ALL_MODELS as FARE_MODELS
from farewatch.store.tracking import TRACKING_MODELS
from farewatch.store.users import USER_MODELS
from farewatch.store.webhooks import WEBHOOK_MODELS
from farewatch_local.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
# Which template table each model lives in: the environment variable the template sets for it.
ALL_MODELS = (*FARE_MODELS, *USER_MODELS, *AUTH_MODELS, *TRACKING_MODELS, *WEBHOOK_MODELS)
TABLE_BY_ENV = {
    "CACHE_TABLE": "CacheTable",
    "PRICE_HISTORY_TABLE": "PriceHistoryTable",
    "SEARCH_STATS_TABLE": "SearchStatsTable",
    "USERS_TABLE": "UsersTable",
    "AUTH_TABLE": "AuthTable",
    "TRACKERS_TABLE": "TrackersTable",
    "WATCHED_ROUTES_TABLE": "WatchedRoutesTable",
    "ALERTS_TABLE": "AlertsTable",
    "WEBHOOKS_TABLE": "WebhooksTable",
}


# Tables another library owns the items of: Powertools idempotency writes IdempotencyTable itself.
LIBRARY_TABLES = {"IDEMPOTENCY_TABLE": "IdempotencyTable"}


def template_table(model):
    return TEMPLATE.table(model.Meta.table_name)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_model_keys_match_the_template_table(model):
    table = template_table(model)
    types = {definition.name: definition.type for definition in table.attribute_definitions}
    template_keys = {key.name: key.key_type for key in table.key_schema}

    model_keys = {}
    for name, attribute in model.get_attributes().items():
        if attribute.is_hash_key:
            model_keys[name] = "HASH"
        elif attribute.is_range_key:
            model_keys[name] = "RANGE"
        if name in template_keys:
            assert attribute.attr_type == types[name], (
                f"{model.__name__}.{name} type differs from the template"
            )

    assert model_keys == template_keys


def ttl_attributes(model) -> list[str]:
    from pynamodb.attributes import TTLAttribute

    return [name for name, attribute in model.get_attributes().items() if isinstance(attribute, TTLAttribute)]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_a_model_expires_items_only_through_the_ttl_attribute_the_template_enables(model):
    table = template_table(model)

    assert set(ttl_attributes(model)) <= ({table.ttl_attribute} if table.ttl_attribute else set())


@pytest.mark.parametrize(
    "table",
    [t for t in TEMPLATE.tables if t.ttl_attribute and t.logical_id not in LIBRARY_TABLES.values()],
    ids=lambda table: table.logical_id,
)
def test_every_table_with_ttl_has_models_that_set_it(table):
    models = [model for model in ALL_MODELS if model.Meta.table_name == table.logical_id]

    assert any(ttl_attributes(model) == [table.ttl_attribute] for model in models)


def test_every_table_the_functions_use_has_a_model():
    used = {
        function.environment[name]
        for function in TEMPLATE.functions
        for name in TABLE_BY_ENV
        if name in function.environment
    }

    by_library = {
        function.environment[name]
        for function in TEMPLATE.functions
        for name in LIBRARY_TABLES
        if name in function.environment
    }

    assert used == {model.Meta.table_name for model in ALL_MODELS}
    assert used | by_library == {table.logical_id for table in TEMPLATE.tables}
    assert by_library == set(LIBRARY_TABLES.values())
