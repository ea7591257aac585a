"""Integration fixtures: DynamoDB and Secrets Manager on moto, created from template.yaml."""

from __future__ import annotations

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
