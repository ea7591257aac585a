"""The load run (`python -m bench.load`) in miniature, so the tool cannot rot: two clients for three
seconds against its own local stack, in a subprocess like a person would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_ENVIRONMENT

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_load_run_loses_no_write_and_answers_no_5xx():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "AMADEUS_")) and key not in TEST_ENVIRONMENT
    }
    env["PYTHONPATH"] = os.pathsep.join(
        str(ROOT / part)
        for part in (".", "layers/common", "functions/price", "functions/users", "functions/poller", "local")
    )
    command = [sys.executable, "-m", "bench.load", "--clients", "2", "--seconds", "3", "--json"]

    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)

    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["server_errors"] == 0 and figures["unexpected_statuses"] == {}
    assert figures["lost_writes"] == 0
    assert figures["trackers"]["created"] > 0 and figures["requests_by_kind"].get("price_hit", 0) > 0
    assert "Traceback" not in run.stderr, run.stderr
