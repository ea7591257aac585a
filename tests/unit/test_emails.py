"""Email validation and normalisation."""

from __future__ import annotations

import pytest

from farewatch.accounts.emails import normalise_email
from farewatch.errors import InvalidRequest


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM\n", "alice@example.com"),
        ("ALICE+flights@EXAMPLE.com", "alice+flights@example.com"),
        ("bob@bücher.example", "bob@bücher.example"),
    ],
)
def test_addresses_are_trimmed_and_lower_cased(typed, stored):
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "alice",
        "alice@",
        "@example.com",
        "alice@@example.com",
        "alice@example",
        "Alice <alice@example.com>",
        "alice@exa mple.com",
        "alice@-example.com",
        "alice@" + "a" * 250 + ".com",
    ],
)
def test_invalid_addresses_are_a_400_invalid_email(typed):
    with pytest.raises(InvalidRequest) as raised:
        normalise_email(typed)

    assert raised.value.code == "invalid_email"
    assert raised.value.details == [{"field": "email", "issue": "not a valid email address"}]
