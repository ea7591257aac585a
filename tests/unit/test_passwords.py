"""Password policy and bcrypt hashing (SPEC §5)."""

from __future__ import annotations

import bcrypt
import pytest

from farewatch.accounts import passwords
from farewatch.accounts.passwords import PasswordHasher
from farewatch.errors import InvalidRequest

ROUNDS = 4


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(ROUNDS)


def test_a_hashed_password_verifies_and_a_wrong_one_does_not(hasher):
    stored = hasher.hash("correct horse battery")

    assert hasher.verify("correct horse battery", stored)
    assert not hasher.verify("correct horse batterx", stored)


def test_the_hash_is_bcrypt_at_the_configured_cost_and_not_the_password(hasher):
    stored = hasher.hash("correct horse battery")

    assert stored.startswith("$2b$04$")
    assert "correct horse battery" not in stored


def test_seven_characters_are_too_short(hasher):
    with pytest.raises(InvalidRequest) as raised:
        hasher.hash("1234567")

    assert raised.value.code == "password_too_short"


def test_length_is_counted_in_characters_not_bytes(hasher):
    # 7 characters but 14 bytes: still too short; 8 two-byte characters are fine.
    with pytest.raises(InvalidRequest) as raised:
        hasher.hash("é" * 7)
    assert raised.value.code == "password_too_short"

    assert hasher.verify("é" * 8, hasher.hash("é" * 8))


def test_exactly_72_bytes_is_accepted(hasher):
    password = "a" * 72

    assert hasher.verify(password, hasher.hash(password))


@pytest.mark.parametrize(
    "password", ["a" * 73, "€" * 25, "x" * 71 + "é"], ids=["73-ascii", "75-bytes", "73-bytes"]
)
def test_more_than_72_bytes_is_refused_not_truncated(hasher, password):
    with pytest.raises(InvalidRequest) as raised:
        hasher.hash(password)

    assert raised.value.code == "password_too_long"
    assert raised.value.status == 400


def test_a_longer_password_never_matches_its_72_byte_prefix(hasher):
    stored = hasher.hash("b" * 72)

    assert not hasher.verify("b" * 72 + "extra", stored)


def test_policy_errors_never_contain_the_password(hasher):
    for password in ["short!", "p" * 80]:
        with pytest.raises(InvalidRequest) as raised:
            hasher.hash(password)
        assert password not in str(raised.value)
        assert password not in repr(raised.value.details)


def test_a_damaged_stored_hash_lets_nobody_in(hasher):
    assert not hasher.verify("correct horse battery", "not-a-bcrypt-hash")


def test_an_unknown_account_costs_one_bcrypt_check_at_the_same_cost(hasher, monkeypatch):
    checked = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)

    assert hasher.verify_unknown("whatever you typed") is False
    assert len(checked) == 1
    assert checked[0].startswith(b"$2b$04$")


def test_an_overlong_login_password_still_costs_one_bcrypt_check(hasher, monkeypatch):
    stored = hasher.hash("correct horse battery")
    checked = []
    real_checkpw = bcrypt.checkpw
    monkeypatch.setattr(passwords.bcrypt, "checkpw", lambda p, h: checked.append(h) or real_checkpw(p, h))

    assert hasher.verify("z" * 200, stored) is False
    assert hasher.verify_unknown("z" * 200) is False
    assert len(checked) == 2
