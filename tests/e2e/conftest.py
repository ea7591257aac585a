"""The `make dev` stack as a subprocess, on free loopback ports, talked to over HTTP like curl would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("layers/common", "functions/price", "functions/users", "functions/poller", "local")
PYTHONPATH = os.pathsep.join(str(ROOT / part) for part in PARTS)


PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def developer_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """A developer's shell on free ports and its own data folder, not the environment the other
    suites set for themselves."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "AMADEUS_", "DUFFEL_", "IGNAV_", "FAREWATCH_", "MAKE", "MFLAGS"))
        and key not in TEST_ENVIRONMENT
    }
    env.update(
        FAREWATCH_PORT=str(free_port()),
        FAREWATCH_SIM_PORT=str(free_port()),
        FAREWATCH_AWS_PORT=str(free_port()),
        FAREWATCH_DATA_DIR=str(data_dir),
        PYTHONPATH=PYTHONPATH,
    )
    env.update(extra)
    return env


@dataclass
class DevStack:
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[str] | None = None
    logs: list[str] = field(default_factory=list)  # the output of earlier runs of this stack

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.env['FAREWATCH_PORT']}"

    @property
    def sim(self) -> str:
        return f"http://127.0.0.1:{self.env['FAREWATCH_SIM_PORT']}"

    @property
    def aws(self) -> str:
        return f"http://127.0.0.1:{self.env['FAREWATCH_AWS_PORT']}"

    def start(self, *arguments: str) -> DevStack:
        """`make dev` (or `make dev-reset` with --reset), then wait until the API answers."""
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "farewatch_local", *arguments],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"make dev stack exited early:\n{self.log_text()}")
            try:
                if self.get("/flights/ping").status_code == 200 and "Ctrl-C stops" in self.log_text():
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"make dev stack did not answer within 90 s:\n{self.log_text()}")
            time.sleep(0.2)

    def stop(self, how: signal.Signals = signal.SIGINT) -> str:
        """Ctrl-C (or SIGKILL, SIGTERM); returns the run's output."""
        assert self.process is not None
        self.process.send_signal(how)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        output = self.log_text()
        self.logs.append(output)
        self.process = None
        return output

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

    def new_account(self, name: str) -> str:
        """A fresh account signed in, as a new user gets one: register (202, a verification mail is
        sent; signing in needs none), log in; its access token."""
        email = f"{name}-{uuid.uuid4().hex[:10]}@example.com"
        registered = self.call("POST", "/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 202, registered.text
        login = self.call("POST", "/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return str(login.json()["data"]["access_token"])

    def pin(self, origin: str, destination: str, date: str, amount: float) -> None:
        """The simulator's cheapest fare for a route and day, through its control route."""
        pinned = requests.put(
            f"{self.sim}/__sim/prices/{origin}/{destination}/{date}",
            json={"amount": amount, "currency": "USD"},
            timeout=5,
        )
        assert pinned.status_code == 200, pinned.text

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


@pytest.fixture(scope="session")
def ignav_dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`FAREWATCH_FARE_SOURCE=ignav make dev`: the Ignav simulator behind the functions."""
    yield from run_dev_stack(tmp_path_factory, "dev-ignav", {"FAREWATCH_FARE_SOURCE": "ignav"})


def run_dev_stack(
    tmp_path_factory: pytest.TempPathFactory, name: str, extra_env: dict[str, str] | None = None
) -> Iterator[DevStack]:
    """Start the stack, yield it, stop it, check its log. Upstream counts are asserted exactly, so
    polls run only when a test asks (POST /__local/poll), and fares stay fresh the deployed 600 s."""
    folder = tmp_path_factory.mktemp(name)
    env = developer_environment(
        folder / "data",
        FAREWATCH_POLL_INTERVAL_SECONDS="0",
        FAREWATCH_PARAMETER_OVERRIDES="FareCacheTtlSeconds=600",
        **(extra_env or {}),
    )
    stack = DevStack(env, folder / "stack.log").start()
    yield stack
    output = stack.stop(signal.SIGTERM)
    assert "Traceback" not in output, output
