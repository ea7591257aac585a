"""Integration fixtures: DynamoDB and Secrets Manager on moto, created from template.yaml."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from farewatch_local.aws import provision
from farewatch_local.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture
def aws() -> Iterator[None]:
    """Every resource of template.yaml, in an in-process moto."""
    with mock_aws():
        provision(load_template(TEMPLATE), endpoint_url=None)
        yield


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each write atomically; moto does not (threads can interleave inside one of its
    conditional writes or transactions). One lock around moto's writes restores the service's
    guarantee, so concurrency tests check our conditions and counters, not moto's races."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)
