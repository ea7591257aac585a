"""The users function: accounts, tracked flights, alerts and webhooks. Routes live in `accounts`,
`tracking` and `webhooks`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch.api.resolver import create_resolver
from farewatch.composition import authenticate
from users_api import accounts, tracking, webhooks

logger = Logger()
app = create_resolver(authenticate=authenticate)
app.include_router(accounts.router)
app.include_router(tracking.router)
app.include_router(webhooks.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
