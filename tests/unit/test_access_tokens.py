"""Access tokens: every forged, expired or foreign token is a 401 that says no more than that."""

from __future__ import annotations

import base64
import json
import secrets

import jwt
import pytest

from farewatch.accounts.access_tokens import AccessTokenSigner
from farewatch.clock import ManualClock
from farewatch.errors import Unauthorized

KEY = "k" * 32 + "signing-key-of-the-test-stack-64"
OTHER_KEY = "o" * 64
ISSUER = "farewatch"
AUDIENCE = "farewatch-api"
TTL = 900


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def signer(clock) -> AccessTokenSigner:
    return AccessTokenSigner(lambda: KEY, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=TTL, clock=clock)


def claims_of(clock: ManualClock, **changes) -> dict:
    now = int(clock.now())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "5f0c0e3a1d2b4c8e9f00112233445566",
        "iat": now,
        "exp": now + TTL,
        "jti": "0123456789abcdef0123456789abcdef",
        "role": "user",
        "typ": "access",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def rejected(signer: AccessTokenSigner, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as raised:
        signer.verify(token)
    return raised.value


def test_an_issued_token_verifies_with_its_claims(signer, clock):
    token = signer.issue(user_id="user-1", role="admin")

    claims = signer.verify(token)

    assert (claims.user_id, claims.role) == ("user-1", "admin")
    assert claims.expires_at - claims.issued_at == TTL
    assert len(claims.token_id) == 32


def test_an_issued_token_carries_the_documented_claims_and_alg(signer):
    token = signer.issue(user_id="user-1", role="user")

    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})

    assert header["alg"] == "HS256"
    assert set(payload) == {"iss", "aud", "sub", "iat", "exp", "jti", "role", "typ", "gen"}
    assert (payload["iss"], payload["aud"], payload["typ"]) == (ISSUER, AUDIENCE, "access")


def test_every_token_has_its_own_id(signer):
    first = signer.verify(signer.issue(user_id="user-1", role="user"))
    second = signer.verify(signer.issue(user_id="user-1", role="user"))

    assert first.token_id != second.token_id


def test_alg_none_is_rejected(signer, clock):
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims_of(clock, role="admin")).encode())

    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        assert rejected(signer, token).code == "invalid_token"


def test_a_token_signed_with_another_key_is_rejected(signer, clock):
    token = jwt.encode(claims_of(clock), OTHER_KEY, algorithm="HS256")

    assert rejected(signer, token).code == "invalid_token"


def test_another_hmac_algorithm_with_the_right_key_is_rejected(signer, clock):
    token = jwt.encode(claims_of(clock), KEY, algorithm="HS512")

    assert rejected(signer, token).code == "invalid_token"


@pytest.mark.parametrize(
    "change", [{"role": "admin"}, {"sub": "someone-else"}, {"exp": 9_999_999_999}, {"typ": "access", "x": 1}]
)
def test_changed_claims_under_the_old_signature_are_rejected(signer, change):
    header, payload, signature = signer.issue(user_id="user-1", role="user").split(".")
    claims = json.loads(unb64url(payload))
    claims.update(change)
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"

    assert rejected(signer, forged).code == "invalid_token"


def test_a_token_is_good_until_its_last_second_and_then_expired(signer, clock):
    token = signer.issue(user_id="user-1", role="user")

    clock.advance(TTL - 1)
    assert signer.verify(token).user_id == "user-1"

    clock.advance(1)
    error = rejected(signer, token)
    assert error.code == "token_expired"
    assert error.status == 401


def test_an_expired_token_with_a_bad_signature_is_invalid_not_expired(signer, clock):
    token = jwt.encode(claims_of(clock, exp=int(clock.now()) - 5), OTHER_KEY, algorithm="HS256")

    assert rejected(signer, token).code == "invalid_token"


@pytest.mark.parametrize(
    "change", [{"iss": "someone-else"}, {"aud": "another-api"}, {"aud": ["another-api"]}]
)
def test_a_token_for_another_issuer_or_audience_is_rejected(signer, clock, change):
    token = jwt.encode(claims_of(clock, **change), KEY, algorithm="HS256")

    assert rejected(signer, token).code == "invalid_token"


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "iat", "exp", "jti", "role", "typ"])
def test_a_token_missing_a_required_claim_is_rejected(signer, clock, missing):
    token = jwt.encode(claims_of(clock, **{missing: None}), KEY, algorithm="HS256")

    assert rejected(signer, token).code == "invalid_token"


@pytest.mark.parametrize(
    "change",
    [
        {"typ": "refresh"},
        {"exp": "tomorrow"},
        {"iat": True},
        {"sub": ""},
        {"role": 7},
        {"nbf": 9_999_999_999},
    ],
)
def test_a_correctly_signed_token_with_wrong_claim_values_is_rejected(signer, clock, change):
    token = jwt.encode(claims_of(clock, **change), KEY, algorithm="HS256")

    assert rejected(signer, token).code == "invalid_token"


def test_a_refresh_token_used_as_an_access_token_is_rejected(signer):
    assert rejected(signer, secrets.token_urlsafe(32)).code == "invalid_token"


@pytest.mark.parametrize(
    "garbage", ["", "abc", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9..", "ünïcödé.token.here", "x" * 10_000]
)
def test_garbage_is_an_invalid_token(signer, garbage):
    assert rejected(signer, garbage).code == "invalid_token"


def test_a_rejection_says_no_more_than_invalid_and_challenges_for_a_bearer_token(signer, clock):
    token = jwt.encode(claims_of(clock), OTHER_KEY, algorithm="HS256")

    error = rejected(signer, token)

    assert error.message == "The access token is not valid."
    assert error.details == []
    assert error.headers["WWW-Authenticate"].startswith("Bearer")
    assert KEY not in repr(error.__dict__)


def test_a_correctly_signed_token_that_claims_to_live_longer_than_we_issue_them_is_rejected(signer, clock):
    # Given a token signed with our key whose exp - iat is past the configured lifetime (a leaked key
    # or an old build minting year-long tokens)
    token = jwt.encode(claims_of(clock, exp=int(clock.now()) + TTL + 1), KEY, algorithm="HS256")

    # When it is presented, Then it is refused as invalid, though it has not expired
    with pytest.raises(Unauthorized) as refused:
        signer.verify(token)
    assert refused.value.code == "invalid_token"


def test_a_token_of_exactly_the_configured_lifetime_is_accepted(signer, clock):
    token = jwt.encode(claims_of(clock, exp=int(clock.now()) + TTL), KEY, algorithm="HS256")

    assert signer.verify(token).expires_at - signer.verify(token).issued_at == TTL
