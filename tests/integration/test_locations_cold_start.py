"""The airport data's cost at cold start: importing farewatch.locations reads nothing (a fresh
interpreter, as a Lambda cold start is)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "common"


def test_importing_the_module_does_not_read_the_airport_data():
    # Given a fresh interpreter (the Lambda cold start)
    script = "import sys, farewatch.locations; print('airportsdata' in sys.modules)"

    # When the module is imported
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(LAYER)},
    )

    # Then the airport data is not loaded yet
    assert result.stdout.strip() == "False"
