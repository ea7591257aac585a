"""The operator command that grants the admin role, run in-process against moto."""

from __future__ import annotations

import json

import boto3
import pytest

from farewatch.clock import ManualClock
from farewatch.composition import build_account_service
from farewatch.settings import get_settings
from farewatch.store.users import UserRecord, UserStore
from tools.admin import default_local_endpoint, deployed_users_table, local_environment, main

PASSWORD = "correct horse battery"


@pytest.fixture
def alice(aws) -> str:
    accounts = build_account_service(get_settings(), ManualClock())
    accounts.register("alice@example.com", PASSWORD)
    account = UserStore().find_by_email("alice@example.com")
    assert account is not None
    return account.user.id


def role_of(user_id: str) -> str:
    return UserRecord.get(f"user#{user_id}").role


def test_grant_admin_makes_the_account_an_admin_and_says_so(alice, capsys):
    exit_code = main(["grant-admin", "Alice@Example.com"], environ={})

    assert exit_code == 0
    assert capsys.readouterr().out == "alice@example.com is now admin\n"
    assert role_of(alice) == "admin"


def test_revoke_makes_the_admin_a_plain_user_again(alice, capsys):
    main(["grant-admin", "alice@example.com"], environ={})

    exit_code = main(["grant-admin", "alice@example.com", "--revoke"], environ={})

    assert exit_code == 0
    assert capsys.readouterr().out.splitlines()[-1] == "alice@example.com is now user"
    assert role_of(alice) == "user"


@pytest.mark.parametrize("email", ["bob@example.com", "not an email"])
def test_an_unknown_or_invalid_email_is_a_one_line_error_and_exit_1(alice, capsys, email):
    exit_code = main(["grant-admin", email], environ={})

    captured = capsys.readouterr()
    assert exit_code == 1
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert len(captured.err.splitlines()) == 1
    assert "Traceback" not in captured.err
    assert role_of(alice) == "user"


def test_a_stack_that_does_not_exist_is_a_clean_error(aws, capsys):
    environ: dict[str, str] = {}

    exit_code = main(["grant-admin", "alice@example.com", "--stack", "no-such-stack"], environ=environ)

    assert exit_code == 1
    assert "error: could not find the stack's users table" in capsys.readouterr().err
    assert "USERS_TABLE" not in environ


def test_the_stack_resolves_its_physical_users_table(aws):
    template = {
        "Resources": {
            "UsersTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": "farewatch-prod-UsersTable-ABC123",
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                },
            }
        }
    }
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(
        StackName="farewatch-prod", TemplateBody=json.dumps(template)
    )

    assert deployed_users_table("farewatch-prod", "eu-west-1") == "farewatch-prod-UsersTable-ABC123"


def test_local_points_at_the_make_dev_stack_by_logical_table_names():
    environment = local_environment("http://127.0.0.1:4566")

    assert environment["USERS_TABLE"] == "UsersTable"
    assert environment["FAREWATCH_AWS_ENDPOINT"] == "http://127.0.0.1:4566"
    assert environment["AWS_ACCESS_KEY_ID"]


def test_the_local_endpoint_follows_the_dev_stack_port():
    assert default_local_endpoint({}) == "http://127.0.0.1:4566"
    assert default_local_endpoint({"FAREWATCH_AWS_PORT": "4600"}) == "http://127.0.0.1:4600"


@pytest.mark.parametrize(
    "argv",
    [
        ["grant-admin"],
        ["grant-admin", "a@b.c", "--endpoint", "http://x"],
        ["grant-admin", "a@b.c", "--region", "eu-west-1"],
        ["grant-admin", "a@b.c", "--local", "--stack", "s"],
        ["grant-role", "a@b.c"],
    ],
)
def test_wrong_usage_exits_2(argv):
    with pytest.raises(SystemExit) as raised:
        main(argv, environ={})

    assert raised.value.code == 2
