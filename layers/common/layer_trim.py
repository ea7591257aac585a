"""What `sam build` leaves out of CommonLayer after pip installed its requirements (run by the Makefile;
not shipped itself). Each cut is a file nothing in Farewatch reads, so no import changes:

- Powertools' Swagger UI assets (1.6 MiB): read only by `enable_swagger()`, which Farewatch never calls
  (the OpenAPI document is served by our own routes).
- dnspython (1.5 MiB), email-validator's dependency for its DNS deliverability check: Farewatch calls
  `validate_email(..., check_deliverability=False)`, and email-validator imports `dns` only for that
  check (lazily), so the package is never imported.
- pydantic's mypy plugin (`pydantic/mypy.py`): imported by mypy only, never at run time.
- charset-normalizer's two compiled accelerators (`cd` and `md`, 0.5 MiB): the wheel ships their Python
  source beside them (the same modules its pure-Python wheel is made of), which Python imports once
  the extension is gone; requests uses it only to guess the text encoding of an answer that names
  none, and Farewatch reads every answer as JSON.
- airportsdata's rows without an IATA code (20,000 of its 28,000 rows, 2 MiB): Farewatch reads only
  `airportsdata.load("IATA")`, which skips those rows; the kept rows are byte for byte the original,
  so that call answers exactly as with the full file (tests/unit/test_layer_trim.py) and reads a
  quarter of the rows at cold start.

It also removes what the python3.11 runtime provides (runtime-provided.txt: boto3 and botocore with
their own dependencies): every file each of those distributions installed, as its RECORD lists them.

Usage: python layer_trim.py <the layer's python/ folder> [runtime-provided.txt]
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

SWAGGER_ASSETS = (
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.min.css",
)
UNUSED_MODULES = ("pydantic/mypy.py",)
UNUSED_PACKAGES = ("dns",)
UNUSED_DISTRIBUTIONS = ("dnspython",)
ACCELERATED_PACKAGES = ("charset_normalizer",)
AIRPORTS_CSV = "airportsdata/airports.csv"
# A row whose first field (the ICAO code: letters and digits, quoted) is followed by an empty IATA code.
_NO_IATA = re.compile(r'^"[^"]*","",')


def iata_rows(lines: Iterable[str]) -> Iterator[str]:
    """The CSV's header and every row that has an IATA code, unchanged and in order."""
    for number, line in enumerate(lines):
        if number == 0 or not _NO_IATA.match(line):
            yield line


def _normalised(name: str) -> str:
    """A distribution name as PEP 503 compares them (`python_dateutil` is `python-dateutil`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def provided_names(requirements: Path) -> list[str]:
    """The distribution names a requirements file pins (`name==version` lines; comments skipped)."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text(encoding="utf8").splitlines())
    return [line.split("==", 1)[0].strip() for line in lines if line]


def drop_distributions(python: Path, names: Iterable[str]) -> None:
    """Remove every file the named distributions installed into `python` (their RECORD), then the
    folders that leaves empty; a name that is not installed there is skipped."""
    wanted = {_normalised(name) for name in names}
    for distribution in importlib.metadata.distributions(path=[str(python)]):
        if _normalised(distribution.metadata["Name"]) not in wanted:
            continue
        folders = set()
        for file in distribution.files or ():
            path = Path(distribution.locate_file(file))
            folders.update(parent for parent in path.parents if python in parent.parents)
            path.unlink(missing_ok=True)
        for folder in sorted(folders, key=lambda folder: len(folder.parts), reverse=True):
            shutil.rmtree(folder / "__pycache__", ignore_errors=True)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def drop_accelerators(python: Path) -> None:
    """Remove a package's compiled extensions whose Python source sits beside them."""
    for package in ACCELERATED_PACKAGES:
        for extension in (python / package).glob("*.so"):
            if (extension.parent / f"{extension.name.split('.', 1)[0]}.py").is_file():
                extension.unlink()


def trim(python: Path, provided: Path | None = None) -> None:
    if provided is not None:
        drop_distributions(python, provided_names(provided))
    drop_accelerators(python)
    for asset in SWAGGER_ASSETS:
        (python / asset).unlink(missing_ok=True)
    for module in UNUSED_MODULES:
        (python / module).unlink(missing_ok=True)
    for package in UNUSED_PACKAGES:
        shutil.rmtree(python / package, ignore_errors=True)
    for distribution in UNUSED_DISTRIBUTIONS:
        for info in python.glob(f"{distribution}-*.dist-info"):
            shutil.rmtree(info)
    airports = python / AIRPORTS_CSV
    with airports.open(encoding="utf8", newline="") as source:
        kept = "".join(iata_rows(source))
    airports.write_text(kept, encoding="utf8", newline="")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: python layer_trim.py <the layer's python/ folder> [runtime-provided.txt]")
    trim(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else None)
