"""The web function (WebFunction, web_site.handler): what a browser gets for each path, from a small
built site in a temporary folder. The real build is served and checked in tests/browser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from farewatch_local.template import load_template
from tests.support.events import FakeLambdaContext, api_event
from web_site import handler
from web_site.site import SiteFiles

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
PAGE_HTML = (
    '<!doctype html><meta name="farewatch-base" content="{{base}}">'
    '<script type="module" src="{{base}}/assets/main-ABC123.js"></script>'
)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    public = tmp_path / "public"
    (public / "assets").mkdir(parents=True)
    (public / "index.html").write_text(PAGE_HTML, encoding="utf-8")
    (public / "assets" / "main-ABC123.js").write_text("export {};", encoding="utf-8")
    (public / "assets" / "main-ABC123.css").write_text("body{}", encoding="utf-8")
    (public / "assets" / "notes.md").write_text("not served", encoding="utf-8")
    monkeypatch.setattr(handler, "site", SiteFiles(public))
    yield public


def get(
    path: str, *, method: str = "GET", resource: str | None = None, host: str = "127.0.0.1:8080"
) -> dict[str, Any]:
    event = api_event(method, path, resource=resource)
    event["headers"]["Host"] = host
    event["multiValueHeaders"]["Host"] = [host]
    return handler.lambda_handler(event, FakeLambdaContext(function_name="WebFunction"))


def headers(response: dict[str, Any]) -> dict[str, str]:
    merged = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    merged.update(response.get("headers") or {})
    return merged


def web_routes() -> set[tuple[str, str]]:
    return {
        (event.method, event.path)
        for function, event in TEMPLATE.routes
        if function.logical_id == "WebFunction"
    }


def test_every_page_path_of_the_template_is_one_the_handler_serves_and_no_other():
    template_pages = {
        path for method, path in web_routes() if method == "GET" and not path.startswith("/assets/")
    }

    handler_pages = {path.replace("<", "{").replace(">", "}") for path in handler.PAGE_PATHS}

    assert template_pages == handler_pages
    assert {path for method, path in web_routes() if method == "ANY"} == {path for _, path in web_routes()}


def test_no_page_path_shadows_a_route_of_the_api():
    api_paths = {event.path for function, event in TEMPLATE.routes if function.logical_id != "WebFunction"}

    assert {path for _, path in web_routes()} & api_paths == set()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/sign-in",
        "/sign-up",
        "/trackers",
        "/trackers/trk_0123abcd",
        "/inbox",
        "/verify-email",
        "/reset-password",
        "/settings",
    ],
)
def test_each_page_path_answers_the_page_uncached_with_the_security_headers(site, path):
    response = get(path, resource=path if "trk_" not in path else "/trackers/{tracker_id}")

    assert response["statusCode"] == 200
    sent = headers(response)
    assert sent["Content-Type"] == "text/html; charset=utf-8"
    assert sent["Cache-Control"] == "no-store"
    policy = sent["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert sent["X-Content-Type-Options"] == "nosniff"
    assert sent["Referrer-Policy"] == "no-referrer"
    assert response["body"].count('src="/assets/main-ABC123.js"') == 1


def test_a_query_string_never_stops_the_page_from_loading(site):
    event = api_event("GET", "/", {"from": "JFK", "fbclid": "x"}, resource="/")

    response = handler.lambda_handler(event, FakeLambdaContext())

    assert response["statusCode"] == 200


def test_on_api_gateways_own_domain_the_page_links_under_the_stage(site):
    response = get("/", resource="/", host="abc123.execute-api.eu-west-1.amazonaws.com")

    assert 'content="/dev"' in response["body"]
    assert 'src="/dev/assets/main-ABC123.js"' in response["body"]


def test_an_asset_is_cached_for_a_year_as_immutable_with_its_media_type(site):
    response = get("/assets/main-ABC123.js", resource="/assets/{name}")

    assert response["statusCode"] == 200
    assert response["body"] == "export {};"
    sent = headers(response)
    assert sent["Content-Type"] == "text/javascript; charset=utf-8"
    assert sent["Cache-Control"] == "public, max-age=31536000, immutable"
    assert sent["X-Content-Type-Options"] == "nosniff"
    assert headers(get("/assets/main-ABC123.css", resource="/assets/{name}"))["Content-Type"].startswith(
        "text/css"
    )


@pytest.mark.parametrize(
    "path",
    ["/assets/missing-000.js", "/assets/notes.md", "/assets/..%2Findex.html", "/assets/main-ABC123.js%0A"],
)
def test_a_file_that_is_not_a_built_asset_is_a_404_in_the_envelope(site, path):
    response = get(path.replace("%2F", "/").replace("%0A", "\n"), resource="/assets/{name}")

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "not_found"
    assert headers(response)["Cache-Control"] == "no-store"


def test_a_page_path_with_a_newline_is_no_page(site):
    response = get("/trackers/trk_1\n", resource="/trackers/{tracker_id}")

    assert response["statusCode"] == 404


@pytest.mark.parametrize("path", ["/", "/trackers/trk_1", "/assets/main-ABC123.js"])
def test_another_method_is_a_405_that_says_which_methods_the_path_takes(site, path):
    response = get(path, method="POST")

    assert response["statusCode"] == 405
    assert headers(response)["Allow"] == "GET, HEAD"
    assert json.loads(response["body"])["error"]["code"] == "method_not_allowed"


def test_a_rebuilt_page_is_served_at_the_next_request(site):
    assert "main-ABC123" in get("/", resource="/")["body"]

    (site / "index.html").write_text(PAGE_HTML.replace("ABC123", "DEF456"), encoding="utf-8")

    assert "main-DEF456" in get("/", resource="/")["body"]


def test_a_deployment_without_the_built_page_says_so_in_the_envelope(tmp_path, monkeypatch):
    monkeypatch.setattr(handler, "site", SiteFiles(tmp_path / "nothing"))

    response = get("/", resource="/")

    assert response["statusCode"] == 503
    body = json.loads(response["body"])
    assert body["error"]["code"] == "web_app_not_built"
    assert "Traceback" not in response["body"]
