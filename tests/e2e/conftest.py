"""The `make dev` stack as a subprocess, on free loopback ports, talked to over HTTP like curl would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DevStack:
    api: str
    sim: str
    process: subprocess.Popen[str]
    aws: str
    log_path: Path
    env: dict[str, str]

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def operator(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """The operator command, run as a person would run it against this stack."""
        command = [sys.executable, "-m", "tools.admin", *arguments, "--local", "--endpoint", self.aws]
        return subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60)

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(f"{self.api}{path}", params=params, timeout=30)

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: object,
    ) -> requests.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"{self.api}{path}", headers=sent, timeout=30, **kwargs)  # type: ignore[arg-type]

    def sim_stats(self) -> dict[str, int]:
        return requests.get(f"{self.sim}/__sim/stats", timeout=5).json()

    def searches_served(self) -> int:
        """Searches the simulator answered or failed on purpose, less those its 10 TPS quota turned
        away: a refusal is the quota at work (other tests in the session fill it), not a fetch."""
        stats = self.sim_stats()
        return stats["search_requests"] - stats.get("rate_limited", 0)

    def sim_fault(self, mode: str, count: int | None = None) -> None:
        body: dict[str, object] = {"mode": mode}
        if count is not None:
            body["count"] = count
        requests.post(f"{self.sim}/__sim/faults", json=body, timeout=5).raise_for_status()


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`make dev` as a developer starts it: the Amadeus simulator behind the functions."""
    yield from run_dev_stack(tmp_path_factory, "dev")


@pytest.fixture(scope="session")
def duffel_dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`FAREWATCH_FARE_SOURCE=duffel make dev`: the Duffel simulator behind the functions."""
    yield from run_dev_stack(tmp_path_factory, "dev-duffel", {"FAREWATCH_FARE_SOURCE": "duffel"})


def run_dev_stack(
    tmp_path_factory: pytest.TempPathFactory, name: str, extra_env: dict[str, str] | None = None
) -> Iterator[DevStack]:
    """Start the stack on free ports, wait until it answers, yield it, stop it, check its log."""
    ports = {
        "FAREWATCH_PORT": free_port(),
        "FAREWATCH_SIM_PORT": free_port(),
        "FAREWATCH_AWS_PORT": free_port(),
    }
    # The stack gets a developer's environment, not the one the other suites set for themselves.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "AMADEUS_", "DUFFEL_"))
        and key not in TEST_ENVIRONMENT
        and key != "FAREWATCH_FARE_SOURCE"  # each fixture names its source
    }
    env.update({variable: str(port) for variable, port in ports.items()})
    env.update(extra_env or {})
    # Upstream counts are asserted exactly: polls run only when a test asks (POST /__local/poll).
    env["FAREWATCH_POLL_INTERVAL_SECONDS"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(
        str(ROOT / part)
        for part in ("layers/common", "functions/price", "functions/users", "functions/poller", "local")
    )
    log_path = tmp_path_factory.mktemp(name) / "stack.log"
    log = log_path.open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "farewatch_local"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = DevStack(
        f"http://127.0.0.1:{ports['FAREWATCH_PORT']}",
        f"http://127.0.0.1:{ports['FAREWATCH_SIM_PORT']}",
        process,
        f"http://127.0.0.1:{ports['FAREWATCH_AWS_PORT']}",
        log_path,
        env,
    )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"make dev stack exited early:\n{log.read()}")
        try:
            if stack.get("/flights/ping").status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            log.seek(0)
            pytest.fail(f"make dev stack did not answer within 60 s:\n{log.read()}")
        time.sleep(0.2)
    yield stack
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.seek(0)
    output = log.read()
    assert "Traceback" not in output, output
