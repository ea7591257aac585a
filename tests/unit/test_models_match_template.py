"""The PynamoDB models and template.yaml describe the same tables: keys, types and TTL attribute."""

from __future__ import annotations

from pathlib import Path

import pytest

from farewatch.store.models import ALL_MODELS
from farewatch_local.template import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
# Which template table each model lives in: the environment variable the template sets for it.
TABLE_BY_ENV = {
    "CACHE_TABLE": "CacheTable",
    "PRICE_HISTORY_TABLE": "PriceHistoryTable",
    "SEARCH_STATS_TABLE": "SearchStatsTable",
}


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


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_model_ttl_attribute_is_the_one_the_template_enables(model):
    from pynamodb.attributes import TTLAttribute

    table = template_table(model)
    ttl_attributes = [name for name, attr in model.get_attributes().items() if isinstance(attr, TTLAttribute)]

    assert ttl_attributes == ([table.ttl_attribute] if table.ttl_attribute else [])


def test_every_table_the_functions_use_has_a_model():
    function_env = TEMPLATE.function("PriceFunction").environment
    used = {function_env[name] for name in TABLE_BY_ENV if name in function_env}

    assert used == {model.Meta.table_name for model in ALL_MODELS}
    assert used == {table.logical_id for table in TEMPLATE.tables}
