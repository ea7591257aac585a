"""Writes the API's one OpenAPI document from the routes of every API function (`make openapi`).

    python -m tools.openapi_document            # rewrite functions/price/price_api/openapi.json
    python -m tools.openapi_document --check    # exit 1 when the stored document is out of date

The functions are found in template.yaml (each AWS::Serverless::Function with an `Api` event), each
imported from its CodeUri the way Lambda would, and their resolvers' documents merged with
Powertools' OpenAPIMerge (farewatch.api.openapi). The price function ships and serves the result.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
DOCUMENT = ROOT / "functions" / "price" / "price_api" / "openapi.json"


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, ...) read as nothing: only the structure matters."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def api_functions(template: Path = TEMPLATE) -> list[tuple[Path, str]]:
    """(CodeUri folder, handler module) of every function that serves API routes, in template order."""
    text = template.read_text(encoding="utf-8")
    # A SafeLoader subclass that only adds constructors for CloudFormation's tags: no objects are built.
    document: dict[str, Any] = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506  # nosec B506
    found = []
    for resource in (document.get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = (properties.get("Events") or {}).values()
        if any(event.get("Type") == "Api" for event in events):
            module = str(properties["Handler"]).rsplit(".", 1)[0]
            found.append((ROOT / str(properties["CodeUri"]), module))
    return found


def generate(template: Path = TEMPLATE) -> str:
    """The document as it is stored."""
    os.environ.setdefault("TOKEN_PREFETCH", "false")  # importing a handler must not call a fare API
    sys.path.insert(0, str(ROOT / "layers" / "common"))
    from farewatch.api.openapi import merged_document, render_document

    apps = []
    for code_uri, module in api_functions(template):
        if str(code_uri) not in sys.path:
            sys.path.insert(0, str(code_uri))
        apps.append(importlib.import_module(module).app)
    return render_document(merged_document(apps))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.openapi_document", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="fail if the stored document is out of date")
    args = parser.parse_args(argv)
    document = generate()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != document:
            print(f"{DOCUMENT.relative_to(ROOT)} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(document, encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
