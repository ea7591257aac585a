"""Accounts end to end below HTTP: AccountService on moto, built like production but with a ManualClock."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable

import boto3
import pytest

from farewatch.accounts.emails import normalise_email
from farewatch.accounts.service import AccountService, TokenPair
from farewatch.accounts.values import User
from farewatch.clock import ManualClock
from farewatch.composition import build_account_service
from farewatch.errors import FarewatchError, InvalidRequest, NotFound, TooManyRequests, Unauthorized
from farewatch.settings import Settings, get_settings
from farewatch.store.auth_records import AUTH_MODELS, AuthRecordKey, failures_key
from farewatch.store.users import USER_MODELS, EmailClaim, UserRecord, UserStore
from farewatch_local.template import load_template

from .conftest import TEMPLATE

PASSWORD = "correct horse battery"
WRONG = "incorrect horse battery"
WINDOW = 15 * 60
IP = "203.0.113.7"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_accounts(aws, clock) -> Callable[..., AccountService]:
    def make(**overrides: object) -> AccountService:
        settings: Settings = get_settings().model_copy(update=overrides)
        return build_account_service(settings, clock)

    return make


@pytest.fixture
def accounts(make_accounts) -> AccountService:
    return make_accounts()


def register(accounts: AccountService, email: str, password: str = PASSWORD) -> User:
    """Register, then read the account back: registration itself says nothing (no enumeration)."""
    accounts.register(email, password)
    account = UserStore().find_by_email(normalise_email(email))
    assert account is not None
    return account.user


def bearer(pair: TokenPair) -> str:
    return f"Bearer {pair.access_token}"


def error_of(call: Callable[[], object]) -> FarewatchError:
    with pytest.raises(FarewatchError) as raised:
        call()
    return raised.value


def fail_logins(accounts: AccountService, email: str, times: int, *, source_ip: str | None = IP) -> None:
    for _ in range(times):
        with pytest.raises(Unauthorized):
            accounts.login(email, WRONG, source_ip=source_ip)


# -- the models are the template's tables ------------------------------------------------------------


@pytest.mark.parametrize("model", USER_MODELS + AUTH_MODELS, ids=lambda model: model.__name__)
def test_account_models_use_the_template_table_keys_and_ttl(model):
    from pynamodb.attributes import TTLAttribute

    table = load_template(TEMPLATE).table(model.Meta.table_name)
    attributes = model.get_attributes()

    assert [name for name, attribute in attributes.items() if attribute.is_hash_key] == [table.hash_key]
    assert attributes[table.hash_key].attr_type == "S"
    ttl = [attribute.attr_name for attribute in attributes.values() if isinstance(attribute, TTLAttribute)]
    assert ttl in ([], [table.ttl_attribute])


@pytest.mark.parametrize(
    ("model", "index"), [(UserRecord, UserRecord.by_kind), (AuthRecordKey, AuthRecordKey.by_user)]
)
def test_account_indexes_match_the_template(model, index):
    table = load_template(TEMPLATE).table(model.Meta.table_name)
    spec = next(spec for spec in table.global_secondary_indexes if spec.name == index.Meta.index_name)

    declared = [
        (attribute.attr_name, "HASH" if attribute.is_hash_key else "RANGE")
        for attribute in index.Meta.attributes.values()
        if attribute.is_hash_key or attribute.is_range_key
    ]
    assert sorted(declared) == sorted((key.name, key.key_type) for key in spec.key_schema)
    assert spec.projection["ProjectionType"] == index.Meta.projection.projection_type


# -- registration ------------------------------------------------------------------------------------


def test_registration_creates_a_plain_user_with_a_normalised_email(accounts, clock):
    user = register(accounts, "  Alice@Example.COM ")

    assert (user.email, user.role) == ("alice@example.com", "user")
    assert user.created_at == user.updated_at == clock.now()
    assert accounts.get_user(user.id) == user


def test_registration_stores_a_bcrypt_hash_and_an_email_claim(accounts):
    user = register(accounts, "alice@example.com")

    record = UserRecord.get(f"user#{user.id}")
    claim = EmailClaim.get("email#alice@example.com")
    assert record.password_hash.startswith("$2b$04$")
    assert PASSWORD not in record.password_hash
    assert claim.user_id == user.id
    assert record.kind == "user"
    assert record.listed_at.endswith(f"#{user.id}")


def test_registering_an_address_again_keeps_the_first_account_and_says_nothing(accounts):
    first = register(accounts, "alice@example.com")

    answer = accounts.register("ALICE@example.com", "another password")

    assert answer is None
    assert UserStore().find_by_email("alice@example.com").user == first  # unchanged, password too
    assert accounts.login("alice@example.com", PASSWORD, source_ip=IP).access_token


def test_concurrent_registrations_of_one_address_leave_exactly_one_account(accounts, atomic_dynamodb):
    start = threading.Barrier(10)
    failures: list[BaseException] = []

    def attempt() -> None:
        start.wait()
        try:
            accounts.register("race@example.com", PASSWORD)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    users, _ = accounts.list_users(limit=100, cursor=None)
    assert [user.email for user in users] == ["race@example.com"]


@pytest.mark.parametrize(
    ("email", "password", "code"),
    [
        ("not-an-email", PASSWORD, "invalid_email"),
        ("alice@example.com", "short", "password_too_short"),
        ("alice@example.com", "p" * 73, "password_too_long"),
    ],
)
def test_invalid_registrations_are_400_and_store_nothing(accounts, email, password, code):
    error = error_of(lambda: accounts.register(email, password))

    assert (error.status, error.code) == (400, code)
    assert accounts.list_users(limit=10, cursor=None) == ([], None)


# -- login, tokens, refresh ----------------------------------------------------------------------------


def test_login_gives_a_bearer_pair_whose_access_token_authenticates(accounts):
    user = register(accounts, "alice@example.com")

    pair = accounts.login("Alice@example.com", PASSWORD, source_ip=IP)
    caller = accounts.authenticate(bearer(pair))

    assert (pair.token_type, pair.expires_in) == ("bearer", 15 * 60)
    assert (caller.user_id, caller.role) == (user.id, "user")


def test_an_unknown_email_and_a_wrong_password_get_the_same_401(accounts):
    accounts.register("alice@example.com", PASSWORD)

    unknown = error_of(lambda: accounts.login("nobody@example.com", PASSWORD, source_ip=IP))
    wrong = error_of(lambda: accounts.login("alice@example.com", WRONG, source_ip=IP))
    malformed = error_of(lambda: accounts.login("not an email", PASSWORD, source_ip=IP))

    for error in (unknown, wrong, malformed):
        assert (error.status, error.code, error.message) == (401, "invalid_credentials", wrong.message)


def test_missing_and_malformed_authorization_headers_are_401(accounts):
    for header in (None, "", "   "):
        assert error_of(lambda header=header: accounts.authenticate(header)).code == "missing_token"
    for header in ("Basic YWxpY2U6cHc=", "Bearer", "Bearer    ", "token-without-scheme"):
        assert error_of(lambda header=header: accounts.authenticate(header)).code == "invalid_token"


def test_an_access_token_expires_with_the_clock(accounts, clock):
    accounts.register("alice@example.com", PASSWORD)
    pair = accounts.login("alice@example.com", PASSWORD, source_ip=IP)

    clock.advance(pair.expires_in)

    assert error_of(lambda: accounts.authenticate(bearer(pair))).code == "token_expired"


def test_refresh_rotates_to_a_new_working_pair(accounts):
    user = register(accounts, "alice@example.com")
    first = accounts.login("alice@example.com", PASSWORD, source_ip=IP)

    second = accounts.refresh(first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert accounts.authenticate(bearer(second)).user_id == user.id
    assert accounts.refresh(second.refresh_token).refresh_token not in {
        first.refresh_token,
        second.refresh_token,
    }


def test_refresh_tokens_are_stored_only_as_hashes(accounts):
    accounts.register("alice@example.com", PASSWORD)
    pair = accounts.login("alice@example.com", PASSWORD, source_ip=IP)

    items = boto3.client("dynamodb").scan(TableName="AuthTable")["Items"]

    assert pair.refresh_token not in json.dumps(items)
    assert any(item["pk"]["S"].startswith("refresh#") for item in items)


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(accounts):
    accounts.register("alice@example.com", PASSWORD)
    stolen = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    newest = accounts.refresh(stolen.refresh_token)

    reuse = error_of(lambda: accounts.refresh(stolen.refresh_token))

    assert (reuse.status, reuse.code) == (401, "refresh_token_reused")
    assert error_of(lambda: accounts.refresh(newest.refresh_token)).code == "invalid_refresh_token"
    assert error_of(lambda: accounts.refresh(stolen.refresh_token)).code == "invalid_refresh_token"


def test_revoking_one_family_leaves_other_sign_ins_working(accounts):
    accounts.register("alice@example.com", PASSWORD)
    phone = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    laptop = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    accounts.refresh(phone.refresh_token)

    error_of(lambda: accounts.refresh(phone.refresh_token))

    assert accounts.refresh(laptop.refresh_token).refresh_token


def test_two_concurrent_uses_of_one_refresh_token_never_both_succeed(accounts, atomic_dynamodb):
    accounts.register("alice@example.com", PASSWORD)
    pair = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def use() -> None:
        start.wait()
        try:
            accounts.refresh(pair.refresh_token)
            outcomes.append("rotated")
        except Unauthorized as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("rotated") <= 1
    assert "refresh_token_reused" in outcomes


@pytest.mark.parametrize("token", ["", "x", "not-a-token-we-issued", "a" * 600])
def test_unknown_refresh_tokens_are_401_invalid_refresh_token(accounts, token):
    error = error_of(lambda: accounts.refresh(token))

    assert (error.status, error.code) == (401, "invalid_refresh_token")


def test_a_sign_in_lasts_the_refresh_lifetime_and_rotation_does_not_extend_it(accounts, clock):
    accounts.register("alice@example.com", PASSWORD)
    pair = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    clock.advance(29 * 86_400)
    pair = accounts.refresh(pair.refresh_token)

    clock.advance(86_400)

    assert error_of(lambda: accounts.refresh(pair.refresh_token)).code == "invalid_refresh_token"


# -- brute force -------------------------------------------------------------------------------------


def test_five_failures_from_one_ip_slow_that_ip_down_for_that_email_with_growing_delays(accounts, clock):
    accounts.register("alice@example.com", PASSWORD)
    fail_logins(accounts, "alice@example.com", 5)

    first = error_of(lambda: accounts.login("alice@example.com", PASSWORD, source_ip=IP))
    clock.advance(1)
    fail_logins(accounts, "alice@example.com", 1)  # the sixth failure doubles the wait
    second = error_of(lambda: accounts.login("alice@example.com", PASSWORD, source_ip=IP))
    clock.advance(2)

    assert isinstance(first, TooManyRequests)
    assert (first.status, first.code, first.headers["Retry-After"]) == (429, "too_many_login_attempts", "1")
    assert second.headers["Retry-After"] == "2"
    assert accounts.login("alice@example.com", PASSWORD, source_ip=IP).access_token


def test_nobody_can_lock_the_owner_out_by_failing_from_elsewhere(accounts):
    # Given an attacker who fails 20 times on Alice's address from their own IP
    accounts.register("alice@example.com", PASSWORD)
    for _ in range(20):
        with pytest.raises((Unauthorized, TooManyRequests)):
            accounts.login("alice@example.com", WRONG, source_ip="198.51.100.66")

    # When Alice signs in from her own IP, Then she gets in at once
    assert accounts.login("alice@example.com", PASSWORD, source_ip=IP).access_token


def test_the_slow_down_applies_to_every_spelling_of_the_address(accounts):
    accounts.register("alice@example.com", PASSWORD)
    fail_logins(accounts, " ALICE@example.com", 5)

    assert error_of(lambda: accounts.login("alice@example.com", PASSWORD, source_ip=IP)).status == 429


def test_unknown_emails_are_slowed_down_too(accounts):
    fail_logins(accounts, "nobody@example.com", 5)

    assert error_of(lambda: accounts.login("nobody@example.com", WRONG, source_ip=IP)).status == 429


def test_a_successful_login_clears_the_counter_of_that_email_and_ip(accounts):
    accounts.register("alice@example.com", PASSWORD)
    fail_logins(accounts, "alice@example.com", 4)
    accounts.login("alice@example.com", PASSWORD, source_ip=IP)

    fail_logins(accounts, "alice@example.com", 4)

    assert accounts.login("alice@example.com", PASSWORD, source_ip=IP).access_token


def test_failures_from_one_ip_across_many_emails_lock_that_ip(make_accounts, clock):
    accounts = make_accounts(login_ip_max_failures=6)
    accounts.register("alice@example.com", PASSWORD)
    for index in range(6):
        fail_logins(accounts, f"guess{index}@example.com", 1, source_ip=IP)

    locked = error_of(lambda: accounts.login("alice@example.com", PASSWORD, source_ip=IP))

    assert (locked.status, locked.headers["Retry-After"]) == (429, str(WINDOW))
    assert accounts.login("alice@example.com", PASSWORD, source_ip="198.51.100.1").access_token
    clock.advance(WINDOW)
    assert accounts.login("alice@example.com", PASSWORD, source_ip=IP).access_token


def test_failure_counters_expire_by_ttl(accounts, clock):
    fail_logins(accounts, "nobody@example.com", 1)

    counter = boto3.client("dynamodb").get_item(
        TableName="AuthTable", Key={"pk": {"S": failures_key("email_ip", f"nobody@example.com|{IP}")}}
    )["Item"]

    assert int(counter["purge_at"]["N"]) == int(clock.now()) + WINDOW
    assert counter["count"]["N"] == "1"


# -- roles, deletion, listing ----------------------------------------------------------------------------


def test_the_role_is_read_from_the_user_record_not_the_token(accounts):
    accounts.register("alice@example.com", PASSWORD)
    pair = accounts.login("alice@example.com", PASSWORD, source_ip=IP)

    assert accounts.grant_role("ALICE@example.com", "admin").role == "admin"
    assert accounts.authenticate(bearer(pair)).role == "admin"

    accounts.grant_role("alice@example.com", "user")
    assert accounts.authenticate(bearer(pair)).role == "user"


def test_granting_a_role_to_an_unknown_email_is_not_found_and_creates_nothing(accounts):
    error = error_of(lambda: accounts.grant_role("nobody@example.com", "admin"))

    assert isinstance(error, NotFound)
    assert accounts.list_users(limit=10, cursor=None) == ([], None)


def test_only_known_roles_can_be_granted(accounts):
    accounts.register("alice@example.com", PASSWORD)

    assert error_of(lambda: accounts.grant_role("alice@example.com", "owner")).code == "invalid_role"


def test_a_deleted_users_tokens_stop_working(accounts):
    user = register(accounts, "alice@example.com")
    pair = accounts.login("alice@example.com", PASSWORD, source_ip=IP)

    accounts.delete_user(user.id)

    assert error_of(lambda: accounts.authenticate(bearer(pair))).code == "invalid_token"
    assert error_of(lambda: accounts.refresh(pair.refresh_token)).code == "invalid_refresh_token"
    assert error_of(lambda: accounts.login("alice@example.com", PASSWORD, source_ip=IP)).code == (
        "invalid_credentials"
    )


def test_deleting_a_user_removes_their_records_and_frees_the_address(accounts):
    user = register(accounts, "alice@example.com")
    other = register(accounts, "bob@example.com")
    accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    fail_logins(accounts, "alice@example.com", 1)
    bob = accounts.login("bob@example.com", PASSWORD, source_ip=IP)

    accounts.delete_user(user.id)

    assert error_of(lambda: accounts.get_user(user.id)).status == 404
    remaining = boto3.client("dynamodb").scan(TableName="AuthTable")["Items"]
    assert {item.get("user_id", {}).get("S") for item in remaining} <= {other.id, None}
    assert accounts.refresh(bob.refresh_token).access_token
    assert register(accounts, "alice@example.com").id != user.id


def test_deleting_runs_every_registered_cleaner_in_order_before_the_user_goes(aws, clock):
    seen: list[tuple[str, str, bool]] = []

    def cleaner(name: str) -> Callable[[str], None]:
        return lambda user_id: seen.append((name, user_id, UserRecord.count(f"user#{user_id}") == 1))

    accounts = build_account_service(get_settings(), clock, cleaners=(cleaner("trackers"), cleaner("alerts")))
    user = register(accounts, "alice@example.com")

    accounts.delete_user(user.id)

    assert seen == [("trackers", user.id, True), ("alerts", user.id, True)]
    assert UserRecord.count(f"user#{user.id}") == 0


def test_deleting_an_unknown_user_is_404(accounts):
    error = error_of(lambda: accounts.delete_user("0123456789abcdef0123456789abcdef"))

    assert (error.status, error.code) == (404, "user_not_found")


def test_users_are_listed_newest_first_across_pages(accounts, clock):
    emails = [f"user{index}@example.com" for index in range(5)]
    for email in emails:
        accounts.register(email, PASSWORD)
        clock.advance(1)

    pages = []
    cursor = None
    while True:
        users, cursor = accounts.list_users(limit=2, cursor=cursor)
        pages.append([user.email for user in users])
        if cursor is None:
            break

    assert pages == [emails[4:2:-1], emails[2:0:-1], emails[:1]]


def test_a_full_last_page_has_no_cursor(accounts):
    for index in range(2):
        accounts.register(f"user{index}@example.com", PASSWORD)

    users, cursor = accounts.list_users(limit=2, cursor=None)

    assert (len(users), cursor) == (2, None)


def encoded(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "",
        "x" * 2000,
        encoded([1, 2]),
        encoded({"pk": "user#1", "listed_at": "yesterday"}),
        encoded({"pk": {"S": "user#x"}, "kind": {"S": "user"}, "listed_at": {"S": "x"}}),
        encoded({"pk": "email#a@b.c", "listed_at": "2027-01-15T08:00:00.000000Z#" + "0" * 32}),
        encoded({"pk": "user#" + "0" * 32, "listed_at": "2027-01-15T08:00:00.000000Z#" + "1" * 32}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_we_did_not_issue_is_400_invalid_cursor(accounts, cursor):
    accounts.register("alice@example.com", PASSWORD)

    error = error_of(lambda: accounts.list_users(limit=2, cursor=cursor))

    assert isinstance(error, InvalidRequest)
    assert (error.status, error.code) == (400, "invalid_cursor")


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_the_page_size_is_between_1_and_100(accounts, limit):
    assert error_of(lambda: accounts.list_users(limit=limit, cursor=None)).status == 400


# -- nothing secret in the logs --------------------------------------------------------------------------


def test_no_log_line_contains_a_password_hash_token_or_the_signing_key(accounts, clock, caplog, capsys):
    caplog.set_level(logging.INFO)
    signing_key = boto3.client("secretsmanager").get_secret_value(SecretId="JwtSigningKey")["SecretString"]
    secrets_seen = [PASSWORD, WRONG, signing_key]

    user = register(accounts, "alice@example.com")
    secrets_seen.append(UserRecord.get(f"user#{user.id}").password_hash)
    fail_logins(accounts, "alice@example.com", 5)
    error_of(lambda: accounts.login("alice@example.com", PASSWORD, source_ip=IP))
    clock.advance(WINDOW)
    first = accounts.login("alice@example.com", PASSWORD, source_ip=IP)
    second = accounts.refresh(first.refresh_token)
    error_of(lambda: accounts.refresh(first.refresh_token))
    clock.advance(first.expires_in)
    error_of(lambda: accounts.authenticate(bearer(second)))
    accounts.delete_user(user.id)
    for pair in (first, second):
        secrets_seen += [pair.access_token, pair.refresh_token]

    captured = capsys.readouterr()
    logged = "\n".join([caplog.text, captured.out, captured.err])
    assert "family revoked" in logged  # the flows did log; none of it is secret
    for secret in secrets_seen:
        assert secret not in logged
