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


def fake_distribution(python: Path, name: str, files: dict[str, str]) -> None:
    info = python / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    for relative, text in files.items():
        (python / relative).parent.mkdir(parents=True, exist_ok=True)
        (python / relative).write_text(text)
    listed = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{relative},,\n" for relative in listed))


def test_what_the_runtime_provides_is_removed_file_by_file_and_nothing_else(tmp_path: Path) -> None:
    python = tmp_path / "python"
    fake_distribution(python, "python-dateutil", {"dateutil/__init__.py": "", "dateutil/tz/tz.py": ""})
    fake_distribution(python, "six", {"six.py": ""})
    fake_distribution(python, "urllib3", {"urllib3/__init__.py": ""})
    (python / "dateutil" / "__pycache__").mkdir()
    (python / "dateutil" / "__pycache__" / "__init__.cpython-311.pyc").write_text("")
    provided = tmp_path / "runtime-provided.txt"
    provided.write_text(
        "# the runtime's SDK\nboto3==1.0\npython-dateutil==2.9.0.post0  # botocore's\nsix==1.17.0\n"
    )

    layer_trim.drop_distributions(python, layer_trim.provided_names(provided))

    assert layer_trim.provided_names(provided) == ["boto3", "python-dateutil", "six"]
    assert sorted(path.relative_to(python).as_posix() for path in python.rglob("*")) == [
        "urllib3",
        "urllib3-1.0.dist-info",
        "urllib3-1.0.dist-info/METADATA",
        "urllib3-1.0.dist-info/RECORD",
        "urllib3/__init__.py",
    ]


def test_charset_normalizer_without_its_compiled_accelerators_still_detects_encodings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import charset_normalizer

    python = tmp_path / "python"
    shutil.copytree(Path(charset_normalizer.__file__).parent, python / "charset_normalizer")

    layer_trim.drop_accelerators(python)

    assert not list((python / "charset_normalizer").glob("*.so"))
    # The trimmed copy, imported under its own name beside the venv's (its imports are relative).
    package = python / "charset_normalizer"
    spec = importlib.util.spec_from_file_location(
        "charset_copy", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "charset_copy", copy)
    spec.loader.exec_module(copy)
    assert sys.modules["charset_copy.md"].__file__.endswith("md.py")
    samples = [
        "Zürich, Genève, Köln: les prix baissent à Noël. " * 10,
        "東京から大阪までの最安値は一万円です。" * 10,
        "Москва — Санкт-Петербург, самый дешёвый билет. " * 10,
    ]
    for sample in samples:
        for encoding in ("utf-8", "cp1252", "shift_jis", "cp1251"):
            data = sample.encode(encoding, "ignore")
            best, expected = copy.from_bytes(data).best(), charset_normalizer.from_bytes(data).best()
            assert (best.encoding, str(best)) == (expected.encoding, str(expected))
    for name in [name for name in sys.modules if name.startswith("charset_copy.")]:
        monkeypatch.delitem(sys.modules, name)
