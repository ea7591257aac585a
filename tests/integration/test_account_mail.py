"""Accounts' mail flows below HTTP on moto: verification, password reset, unsubscribe tokens, and the
hardening that goes with them (a reset or a refresh-token reuse ends every access token at once)."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import pytest

from farewatch.accounts.mailing import UnsubscribeTokens
from farewatch.accounts.service import AccountService
from farewatch.clock import ManualClock
from farewatch.composition import build_account_service
from farewatch.errors import Conflict, FarewatchError, InvalidRequest, TooManyRequests, Unauthorized
from farewatch.settings import get_settings
from farewatch.store.users import UserStore

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
IP = "203.0.113.7"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def accounts(aws, clock) -> AccountService:
    return build_account_service(get_settings(), clock)


def mails() -> list[dict]:
    """What the users function handed to the notifier (the NotifyQueue), oldest first, then consumed."""
    sqs = boto3.client("sqs")
    url = get_settings().notify_queue_url
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            found.append(json.loads(message["Body"])["account_mail"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def error_of(call: Callable[[], object]) -> FarewatchError:
    with pytest.raises(FarewatchError) as raised:
        call()
    return raised.value


def user_id_of(email: str) -> str:
    account = UserStore().find_by_email(email)
    assert account is not None
    return account.user.id


def test_a_new_address_gets_a_verification_mail_and_an_existing_one_a_notice(accounts):
    accounts.register("alice@example.com", PASSWORD)
    accounts.register("alice@example.com", "someone else's password")

    verification, notice = mails()

    assert verification["kind"] == "verify_email" and verification["email"] == "alice@example.com"
    assert verification["token"]
    assert notice == {
        "kind": "already_registered",
        "user_id": user_id_of("alice@example.com"),
        "email": "alice@example.com",
        "token": None,
    }


def test_the_already_registered_notice_goes_at_most_once_in_fifteen_minutes(accounts, clock):
    accounts.register("alice@example.com", PASSWORD)
    for _ in range(5):
        accounts.register("alice@example.com", PASSWORD)
    clock.advance(15 * 60)
    accounts.register("alice@example.com", PASSWORD)

    assert [mail["kind"] for mail in mails()] == ["verify_email", "already_registered", "already_registered"]


def test_a_verification_token_works_once(accounts):
    accounts.register("alice@example.com", PASSWORD)
    (mail,) = mails()

    verified = accounts.verify_email(mail["token"])
    again = error_of(lambda: accounts.verify_email(mail["token"]))

    assert verified.email_verified is True
    assert isinstance(again, InvalidRequest) and again.code == "invalid_token"
    assert UserStore().get(verified.id).email_verified is True


def test_a_verification_token_expires_after_24_hours(accounts, clock):
    accounts.register("alice@example.com", PASSWORD)
    (mail,) = mails()
    clock.advance(24 * 3600)

    assert error_of(lambda: accounts.verify_email(mail["token"])).code == "invalid_token"
    assert UserStore().find_by_email("alice@example.com").user.email_verified is False


@pytest.mark.parametrize("token", ["", "x", "a" * 5000, "../../etc"])
def test_made_up_verification_tokens_are_400(accounts, token):
    assert (error_of(lambda: accounts.verify_email(token)).status, "invalid_token") == (400, "invalid_token")


def test_signing_in_works_before_verification(accounts):
    accounts.register("alice@example.com", PASSWORD)

    assert accounts.login("alice@example.com", PASSWORD, source_ip=IP).access_token


def test_resending_the_verification_is_limited_to_one_a_minute(accounts, clock):
    accounts.register("alice@example.com", PASSWORD)
    user_id = user_id_of("alice@example.com")

    accounts.resend_verification(user_id)
    too_soon = error_of(lambda: accounts.resend_verification(user_id))
    clock.advance(60)
    accounts.resend_verification(user_id)

    assert isinstance(too_soon, TooManyRequests) and too_soon.headers["Retry-After"] == "60"
    first, second, third = mails()
    assert first["kind"] == second["kind"] == third["kind"] == "verify_email"
    # any of the mailed tokens verifies
    assert accounts.verify_email(second["token"]).email_verified


def test_a_verified_address_needs_no_new_verification(accounts):
    accounts.register("alice@example.com", PASSWORD)
    accounts.verify_email(mails()[0]["token"])

    error = error_of(lambda: accounts.resend_verification(user_id_of("alice@example.com")))

    assert isinstance(error, Conflict) and error.code == "already_verified"


def test_a_password_reset_mail_goes_only_to_an_account_and_the_token_works_once(accounts):
    accounts.register("alice@example.com", PASSWORD)
    mails()

    accounts.request_password_reset("nobody@example.com")
    accounts.request_password_reset("not an address")
    accounts.request_password_reset("ALICE@example.com")
    (reset,) = mails()
    accounts.reset_password(reset["token"], NEW_PASSWORD)
    again = error_of(lambda: accounts.reset_password(reset["token"], "yet another passphrase"))

    assert reset["kind"] == "password_reset" and reset["email"] == "alice@example.com"
    assert again.code == "invalid_token"
    assert accounts.login("alice@example.com", NEW_PASSWORD, source_ip=IP).access_token
    assert error_of(lambda: accounts.login("alice@example.com", PASSWORD, source_ip=IP)).status == 401


def test_a_reset_token_lasts_thirty_minutes(accounts, clock):
    accounts.register("alice@example.com", PASSWORD)
    accounts.request_password_reset("alice@example.com")
    reset = mails()[-1]
    clock.advance(30 * 60)

    assert error_of(lambda: accounts.reset_password(reset["token"], NEW_PASSWORD)).code == "invalid_token"


def test_a_reset_ends_every_refresh_family_and_access_token_at_once(accounts):
    accounts.register("alice@example.com", PASSWORD)
    laptop = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    phone = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    accounts.request_password_reset("alice@example.com")

    accounts.reset_password(mails()[-1]["token"], NEW_PASSWORD)

    for pair in (laptop, phone):
        assert error_of(lambda pair=pair: accounts.authenticate(f"Bearer {pair.access_token}")).status == 401
        assert error_of(lambda pair=pair: accounts.refresh(pair.refresh_token)).status == 401
    fresh = accounts.login("alice@example.com", NEW_PASSWORD, source_ip=IP)
    assert accounts.authenticate(f"Bearer {fresh.access_token}").user_id == user_id_of("alice@example.com")


def test_a_too_short_new_password_is_400_and_leaves_the_token_usable(accounts):
    accounts.register("alice@example.com", PASSWORD)
    accounts.request_password_reset("alice@example.com")
    token = mails()[-1]["token"]

    short = error_of(lambda: accounts.reset_password(token, "short"))
    accounts.reset_password(token, NEW_PASSWORD)

    assert (short.status, short.code) == (400, "password_too_short")


def test_a_refresh_token_reuse_ends_the_users_access_tokens_at_once(accounts):
    accounts.register("alice@example.com", PASSWORD)
    stolen = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    accounts.refresh(stolen.refresh_token)

    reuse = error_of(lambda: accounts.refresh(stolen.refresh_token))

    assert isinstance(reuse, Unauthorized) and reuse.code == "refresh_token_reused"
    assert error_of(lambda: accounts.authenticate(f"Bearer {stolen.access_token}")).code == "invalid_token"


def test_unsubscribe_tokens_name_their_user_and_cannot_be_forged():
    tokens = UnsubscribeTokens(lambda: "k" * 64)
    alice, bob = "a" * 32, "b" * 32
    token = tokens.make(alice)
    _, _, mac = token.partition(".")

    assert tokens.user_of(token) == alice
    assert "@" not in token
    assert tokens.user_of(f"{bob}.{mac}") is None  # Alice's signature does not unsubscribe Bob
    assert tokens.user_of(f"{alice}.{mac[:-1]}A") is None
    assert UnsubscribeTokens(lambda: "other key" * 8).make(alice) != token
    for junk in ("", ".", alice, f"{alice}.", "x" * 300, f"{alice.upper()}.{mac}"):
        assert tokens.user_of(junk) is None
