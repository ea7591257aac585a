"""The built web app as HTTP answers: which file a path is, its media type, caching and security headers.

The page (index.html) is one document for every page path; the browser's router picks the view. It is
never cached, so a deploy is seen at the next load. Everything it loads lives under /assets/ with a
content hash in its name, so it is cached for a year and never revalidated. The files are read once
per execution environment (a deploy is a new one); locally a rebuild is picked up at the next request,
because `make web` swaps in a whole new folder, whose index.html is newer.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path

PUBLIC_DIR = Path(__file__).resolve().parent / "public"
# Where the page says its origin's root is (asset URLs, API calls, page links): written by `make web`,
# filled in per request, because API Gateway's own domain puts the stage first (/dev/...).
BASE_PLACEHOLDER = "{{base}}"
_STAGE = re.compile(r"[A-Za-z0-9_-]{1,128}")

# Scripts, styles and connections from this origin only; nothing may frame the page. No 'unsafe-inline'
# anywhere: the page has no inline script or style (uPlot and Preact set styles through the CSSOM, which
# style-src does not govern). Trusted Types keeps string-to-HTML sinks (innerHTML) closed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Page URLs may carry one-time tokens (email links): never hand them to another site.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    # API Gateway serves HTTPS only; browsers ignore the header on plain-HTTP loopback (make dev).
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}

PAGE_CACHE_CONTROL = "no-store"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"

MEDIA_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


class SiteNotBuilt(Exception):
    """public/ has no index.html: `make web` (which `make dev` and `make sam-build` run) has not run."""


@dataclass(frozen=True)
class StaticFile:
    body: str
    content_type: str
    cache_control: str

    def headers(self) -> dict[str, str]:
        return {**SECURITY_HEADERS, "Content-Type": self.content_type, "Cache-Control": self.cache_control}


@dataclass(frozen=True)
class BuiltSite:
    page: StaticFile
    assets: dict[str, StaticFile]
    built_at_ns: int

    def page_at(self, base: str) -> StaticFile:
        """The page for an origin whose root is at `base` ("" or "/<stage>")."""
        return replace(self.page, body=self.page.body.replace(BASE_PLACEHOLDER, html.escape(base)))

    def asset(self, name: str) -> StaticFile | None:
        """The asset called `name`: a bare file name, looked up in memory, never on disk."""
        return self.assets.get(name)


def read_site(public_dir: Path = PUBLIC_DIR) -> BuiltSite:
    """index.html and every file of assets/ that has a media type we serve, read into memory."""
    index = public_dir / "index.html"
    try:
        built_at_ns = index.stat().st_mtime_ns
        page = StaticFile(index.read_text(encoding="utf-8"), MEDIA_TYPES[".html"], PAGE_CACHE_CONTROL)
    except FileNotFoundError:
        raise SiteNotBuilt(f"{index} is missing: run `make web` to build the web app") from None
    assets = {}
    for path in sorted((public_dir / "assets").glob("*")):
        media_type = MEDIA_TYPES.get(path.suffix)
        if path.is_file() and media_type is not None:
            assets[path.name] = StaticFile(path.read_text(encoding="utf-8"), media_type, ASSET_CACHE_CONTROL)
    return BuiltSite(page=page, assets=assets, built_at_ns=built_at_ns)


def base_path(host: str | None, stage: str | None) -> str:
    """The path prefix of the app's root: "/<stage>" on API Gateway's execute-api domain, where URLs
    start with the stage, and "" elsewhere (make dev, or a custom domain mapped at its root)."""
    hostname = (host or "").split(":", 1)[0].lower()
    if hostname.endswith(".amazonaws.com") and ".execute-api." in hostname and _STAGE.fullmatch(stage or ""):
        return f"/{stage}"
    return ""


class SiteFiles:
    """The site as last read, read again only when index.html was rewritten (a local rebuild)."""

    def __init__(self, public_dir: Path = PUBLIC_DIR) -> None:
        self._public_dir = public_dir
        self._site: BuiltSite | None = None
        self._lock = threading.Lock()

    def current(self) -> BuiltSite:
        try:
            built_at_ns = (self._public_dir / "index.html").stat().st_mtime_ns
        except FileNotFoundError:
            built_at_ns = -1
        site = self._site
        if site is None or site.built_at_ns != built_at_ns:
            with self._lock:
                site = self._site = read_site(self._public_dir)
        return site
