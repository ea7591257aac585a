"""What `sam build` leaves out of CommonLayer after pip installed its requirements (run by the Makefile;
not shipped itself). Each cut is a file nothing in Farewatch reads, so no import changes:

- Powertools' Swagger UI assets (1.6 MiB): read only by `enable_swagger()`, which Farewatch never calls
  (the OpenAPI document is served by our own routes).
- dnspython (1.5 MiB), email-validator's dependency for its DNS deliverability check: Farewatch calls
  `validate_email(..., check_deliverability=False)`, and email-validator imports `dns` only for that
  check (lazily), so the package is never imported.
- pydantic's mypy plugin (`pydantic/mypy.py`): imported by mypy only, never at run time.
- airportsdata's rows without an IATA code (20,000 of its 28,000 rows, 2 MiB): Farewatch reads only
  `airportsdata.load("IATA")`, which skips those rows; the kept rows are byte for byte the original,
  so that call answers exactly as with the full file (tests/unit/test_layer_trim.py) and reads a
  quarter of the rows at cold start.

Usage: python layer_trim.py <the layer's python/ folder>
"""

from __future__ import annotations

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
AIRPORTS_CSV = "airportsdata/airports.csv"
# A row whose first field (the ICAO code: letters and digits, quoted) is followed by an empty IATA code.
_NO_IATA = re.compile(r'^"[^"]*","",')


def iata_rows(lines: Iterable[str]) -> Iterator[str]:
    """The CSV's header and every row that has an IATA code, unchanged and in order."""
    for number, line in enumerate(lines):
        if number == 0 or not _NO_IATA.match(line):
            yield line


def trim(python: Path) -> None:
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
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: python layer_trim.py <the layer's python/ folder>")
    trim(Path(sys.argv[1]))
