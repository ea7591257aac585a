"""The web app's pages and assets (template.yaml: WebFunction), on the API's own origin.

Thin by design: every page path answers the one page, /assets/{name} answers a built file, and
anything else this function is sent (another method, an unknown asset) is the API's error envelope.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from web_site.site import SECURITY_HEADERS, SiteFiles, SiteNotBuilt, base_path

logger = Logger()
# No request validation: pages take any query string (the browser's router reads it, and links get
# tracking parameters appended), and no route here reads a body.
app = APIGatewayRestResolver()
site = SiteFiles()

# The paths of the page, as template.yaml routes them to this function (a unit test holds the two equal).
PAGE_PATHS = (
    "/",
    "/sign-in",
    "/sign-up",
    "/trackers",
    "/trackers/<tracker_id>",
    "/inbox",
    "/verify-email",
    "/reset-password",
    "/settings",
)
ASSET_PATH = "/assets/<name>"
READ_METHODS = ["GET", "HEAD"]
# What a path parameter of a page may be (tracker ids are `trk_<hex>`): anything else is no page.
_PAGE_PARAMETER = r"[A-Za-z0-9_-]{1,100}"


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response[str]:
    # The same envelope as every other function (farewatch.api), without importing the shared package:
    # this function's cold start is the first paint of the page.
    body = json.dumps({"error": {"code": code, "message": message, "details": []}})
    return Response(
        status,
        "application/json",
        body,
        headers={**SECURITY_HEADERS, "Cache-Control": "no-store", **(headers or {})},
    )


def _page() -> Response[str]:
    event = app.current_event
    page = site.current().page_at(base_path(event.headers.get("Host"), event.request_context.stage))
    return Response(200, page.content_type, page.body, headers=page.headers())


def _serves_page(**_path_parameters: str) -> Response[str]:
    # Powertools' route patterns end in `$`, which also matches before a final newline: the whole path
    # must be a page path (/trackers/%0A is no page).
    if not is_page_path(app.current_event.path):
        return _error(404, "not_found", "No such route.")
    return _page()


# Pages and files are no operations of the API: they stay out of its OpenAPI document.
for _path in PAGE_PATHS:
    app.route(_path, method=READ_METHODS, include_in_schema=False)(_serves_page)


@app.route(ASSET_PATH, method=READ_METHODS, include_in_schema=False)
def asset(name: str) -> Response[str]:
    found = site.current().asset(name)
    if found is None or app.current_event.path != f"/assets/{name}":
        return _error(404, "not_found", "No such file.")
    return Response(200, found.content_type, found.body, headers=found.headers())


@app.exception_handler(SiteNotBuilt)
def site_not_built(error: SiteNotBuilt) -> Response[str]:
    logger.error("The web app is not built", extra={"problem": str(error)})
    return _error(
        503, "web_app_not_built", "This deployment has no built web app: run `make web`, then deploy again."
    )


@app.not_found
def other_method(_: Exception) -> Response[str]:
    # template.yaml sends every other method on these paths here (Method: any) for a 405 with Allow.
    path = app.current_event.path
    if re.fullmatch(r"/assets/[^/]+", path) or is_page_path(path, parameter="[^/]+"):
        return _error(
            405,
            "method_not_allowed",
            f"This path does not accept {app.current_event.http_method.upper()[:16]}.",
            {"Allow": ", ".join(READ_METHODS)},
        )
    return _error(404, "not_found", "No such route.")


def is_page_path(path: str, *, parameter: str = _PAGE_PARAMETER) -> bool:
    return any(re.fullmatch(re.sub(r"<\w+>", parameter, pattern), path) for pattern in PAGE_PATHS)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
