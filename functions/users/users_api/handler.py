"""Accounts and tracking endpoints: the routes live in farewatch.users_routes and
farewatch.tracking_routes; this module only serves them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from farewatch.api import create_resolver
from farewatch.tracking_routes import router as tracking_router
from farewatch.users_routes import router

logger = Logger()
metrics = Metrics()
app = create_resolver()
app.include_router(router)
app.include_router(tracking_router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
