"""The web app's session: its refresh token as an HttpOnly cookie, for the page only.

A client asks for the cookie with the `X-Farewatch-Session: cookie` header on POST /auth/login,
/auth/refresh and /auth/logout; without it every route answers as before (the refresh token in the
JSON body), so curl and other clients see no change. The cookie is `HttpOnly; Secure;
SameSite=Strict`, its Path the auth routes' (`<base>/auth`: the refresh and logout routes read it,
no other route does), so no script reads it and no other site's page makes a browser send it.
"""

from __future__ import annotations

import re
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from farewatch.errors import Forbidden

COOKIE_NAME = "farewatch_refresh"
SESSION_HEADER = "X-Farewatch-Session"
COOKIE_MODE = "cookie"
_EXECUTE_API = ".execute-api."
_STAGE = re.compile(r"[A-Za-z0-9_-]{1,128}")  # API Gateway's stage names, as the web function reads them


def _header(event: Any, name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower() and isinstance(value, str):
            return value
    return None


def wants_cookie(event: Any) -> bool:
    """The client asked for the cookie session (the web app does, curl does not)."""
    return (_header(event, SESSION_HEADER) or "").strip().lower() == COOKIE_MODE


def check_same_origin(event: Any) -> None:
    """A cookie-session call must come from the page's own origin: a browser always sends Origin on a
    POST, and it must name the host the request went to (403 cross_origin otherwise)."""
    origin = _header(event, "Origin")
    host = (_header(event, "Host") or "").strip().lower()
    if origin is None:
        return  # not a browser's cross-site request (those always carry Origin on POST)
    parts = urlsplit(origin.strip())
    if not host or parts.netloc.lower() != host or parts.scheme not in ("http", "https"):
        raise Forbidden("This request did not come from Farewatch's own page.", code="cross_origin")


def cookie_path(event: Any) -> str:
    """`/auth`, after the stage on API Gateway's own domain (where URLs start with /<stage>)."""
    host = (_header(event, "Host") or "").split(":", 1)[0].lower()
    stage = (event.get("requestContext") or {}).get("stage")
    if (
        host.endswith(".amazonaws.com")
        and _EXECUTE_API in host
        and isinstance(stage, str)
        and _STAGE.fullmatch(stage) is not None
    ):
        return f"/{stage}/auth"
    return "/auth"


def presented_token(event: Any) -> str | None:
    """The refresh token the browser's cookie carries, if any."""
    values = [
        value
        for name, values in (event.get("multiValueHeaders") or {}).items()
        if name.lower() == "cookie"
        for value in values
    ] or [value for value in [_header(event, "Cookie")] if value]
    for value in values:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(value)
        except CookieError:
            continue
        if COOKIE_NAME in jar and jar[COOKIE_NAME].value:
            return jar[COOKIE_NAME].value
    return None


def session_cookie(event: Any, refresh_token: str, max_age: int) -> Cookie:
    return Cookie(
        COOKIE_NAME,
        refresh_token,
        path=cookie_path(event),
        secure=True,
        http_only=True,
        max_age=max(max_age, 1),
        same_site=SameSite.STRICT_MODE,
    )


def cleared_cookie(event: Any) -> Cookie:
    return Cookie(
        COOKIE_NAME,
        "",
        path=cookie_path(event),
        secure=True,
        http_only=True,
        max_age=0,
        same_site=SameSite.STRICT_MODE,
    )
