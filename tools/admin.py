"""The operator command that grants or revokes the admin role; no API route can do this.

    python -m tools.admin grant-admin alice@example.com --local
    python -m tools.admin grant-admin alice@example.com --stack farewatch --region eu-west-1
    python -m tools.admin grant-admin alice@example.com --revoke --local

It lives outside the layer on purpose: no function ships it, so no deployed code can grant a role.

--local talks to the running `make dev` stack (tables named by their logical ids, dummy credentials),
found through the endpoints file it writes into its data folder (FAREWATCH_DATA_DIR, .farewatch);
--stack finds the deployed UsersTable through CloudFormation with the caller's AWS credentials.
Without either, the environment decides (USERS_TABLE, AWS_REGION, FAREWATCH_AWS_ENDPOINT).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path

LOCAL_REGION = "us-east-1"
USERS_TABLE_LOGICAL_ID = "UsersTable"


def local_environment(endpoint: str) -> dict[str, str]:
    """What the store needs to reach the local stack's DynamoDB."""
    return {
        "USERS_TABLE": USERS_TABLE_LOGICAL_ID,
        "AUTH_TABLE": "AuthTable",
        "FAREWATCH_AWS_ENDPOINT": endpoint,
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }


def default_local_endpoint(environ: MutableMapping[str, str]) -> str:
    return f"http://127.0.0.1:{environ.get('FAREWATCH_AWS_PORT') or '4566'}"


def running_stack_endpoint(environ: MutableMapping[str, str]) -> str | None:
    """The embedded AWS of the `make dev` stack running on this data folder, if one is."""
    endpoints = Path(environ.get("FAREWATCH_DATA_DIR") or ".farewatch") / "stack.json"
    try:
        return str(json.loads(endpoints.read_text(encoding="utf-8"))["aws"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def deployed_users_table(stack: str, region: str | None) -> str:
    """The physical name of the stack's UsersTable (needs cloudformation:DescribeStackResource)."""
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    answer = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=USERS_TABLE_LOGICAL_ID)
    return str(answer["StackResourceDetail"]["PhysicalResourceId"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.admin",
        description="Grant or revoke the admin role of a Farewatch account.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    grant = commands.add_parser("grant-admin", help="give an account the admin role (or take it back)")
    grant.add_argument("email", help="the account's email address")
    grant.add_argument("--revoke", action="store_true", help="make the account a plain user again")
    target = grant.add_mutually_exclusive_group()
    target.add_argument("--local", action="store_true", help="the `make dev` stack")
    target.add_argument("--stack", help="a deployed CloudFormation stack name")
    grant.add_argument(
        "--endpoint", help="with --local: the embedded AWS endpoint (default: the running one)"
    )
    grant.add_argument("--region", help="with --stack: the stack's region (default: your AWS config)")
    return parser


def main(argv: Sequence[str] | None = None, environ: MutableMapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    from botocore.exceptions import BotoCoreError, ClientError

    parser = _parser()
    args = parser.parse_args(argv)
    if args.endpoint and not args.local:
        parser.error("--endpoint only goes with --local")
    if args.region and not args.stack:
        parser.error("--region only goes with --stack")

    try:
        _point_at(args, environ)
    except (BotoCoreError, ClientError) as error:
        return _fail(f"could not find the stack's users table: {error}")

    # The store reads its table names from Settings when first imported: after the environment is set.
    from pynamodb.exceptions import PynamoDBException

    from farewatch.accounts.service import change_role
    from farewatch.clock import SystemClock
    from farewatch.errors import FarewatchError
    from farewatch.store.users import UserStore

    role = "user" if args.revoke else "admin"
    try:
        user = change_role(UserStore(), args.email, role, now=SystemClock().now())
    except FarewatchError as error:
        return _fail(error.message)
    except (PynamoDBException, BotoCoreError, ClientError) as error:
        return _fail(f"DynamoDB refused or could not be reached: {error}")
    print(f"{user.email} is now {user.role}")
    return 0


def _point_at(args: argparse.Namespace, environ: MutableMapping[str, str]) -> None:
    if args.local:
        endpoint = args.endpoint or running_stack_endpoint(environ) or default_local_endpoint(environ)
        environ.update(local_environment(endpoint))
    elif args.stack:
        environ["USERS_TABLE"] = deployed_users_table(args.stack, args.region)
        if args.region:
            environ["AWS_REGION"] = args.region


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
