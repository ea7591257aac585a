"""What the layer's build leaves out (layers/common/layer_trim.py) changes nothing Farewatch reads."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import airportsdata
import layer_trim
import pytest


def load_iata_from(package: Path) -> dict:
    spec = importlib.util.spec_from_file_location("airportsdata_copy", package / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load("IATA")


def test_the_trimmed_airports_file_answers_load_iata_exactly_as_the_full_one(tmp_path: Path) -> None:
    copy = tmp_path / "python" / "airportsdata"
    shutil.copytree(Path(airportsdata.__file__).parent, copy)
    full_rows = (copy / "airports.csv").read_text(encoding="utf8").count("\n")

    layer_trim.trim(tmp_path / "python")

    kept_rows = (copy / "airports.csv").read_text(encoding="utf8").count("\n")
    assert load_iata_from(copy) == airportsdata.load("IATA")
    assert kept_rows < full_rows / 2  # most rows have no IATA code


def test_the_build_drops_swagger_assets_and_dnspython_and_keeps_their_neighbours(tmp_path: Path) -> None:
    python = tmp_path / "python"
    swagger = python / "aws_lambda_powertools/event_handler/openapi/swagger_ui"
    swagger.mkdir(parents=True)
    for name in ("__init__.py", "html.py", "swagger-ui-bundle.min.js", "swagger-ui.min.css"):
        (swagger / name).write_text("x")
    (python / "dns").mkdir()
    (python / "dns" / "__init__.py").write_text("x")
    (python / "dnspython-2.9.2.dist-info").mkdir()
    (python / "email_validator").mkdir()
    (python / "airportsdata").mkdir()
    (python / "airportsdata" / "airports.csv").write_text('"icao","iata"\n"KJFK","JFK"\n"00AA","",\n')

    layer_trim.trim(python)

    assert sorted(path.name for path in swagger.iterdir()) == ["__init__.py", "html.py"]
    assert sorted(path.name for path in python.iterdir()) == [
        "airportsdata",
        "aws_lambda_powertools",
        "email_validator",
    ]
    assert (python / "airportsdata" / "airports.csv").read_text() == '"icao","iata"\n"KJFK","JFK"\n'


def test_email_addresses_are_checked_without_dnspython(monkeypatch: pytest.MonkeyPatch) -> None:
    from farewatch.accounts.emails import normalise_email

    # As in the layer: `import dns` fails (and so would email-validator's deliverability module).
    for name in [name for name in sys.modules if name == "dns" or name.startswith("dns.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dns", None)
    monkeypatch.delitem(sys.modules, "email_validator.deliverability", raising=False)

    assert normalise_email(" Alice@Example.COM") == "alice@example.com"
