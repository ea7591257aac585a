"""Serving the Amadeus simulator over real HTTP: `server.start` on a free port and `python -m amadeus_sim`."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from amadeus_sim.app import Simulator
from fare_sim.server import RunningServer, start

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def running() -> Iterator[RunningServer]:
    server = start(Simulator(), port=0)
    yield server
    server.stop()


def test_start_on_port_zero_serves_on_a_free_port(running: RunningServer):
    assert running.port > 0
    assert running.url == f"http://127.0.0.1:{running.port}"
    assert requests.get(f"{running.url}/__sim/stats", timeout=5).json() == {
        "token_requests": 0,
        "search_requests": 0,
        "rate_limited": 0,
    }


def test_a_token_and_a_search_work_over_http(running: RunningServer):
    token = requests.post(
        f"{running.url}/v1/security/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "farewatch-local",
            "client_secret": "farewatch-local-secret",
        },
        timeout=5,
    ).json()["access_token"]
    departure = (dt.datetime.now(tz=dt.UTC).date() + dt.timedelta(days=30)).isoformat()

    answer = requests.get(
        f"{running.url}/v2/shopping/flight-offers",
        params={
            "originLocationCode": "JFK",
            "destinationLocationCode": "LAX",
            "departureDate": departure,
            "adults": 1,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/vnd.amadeus+json"
    assert answer.json()["data"]
    assert requests.get(f"{running.url}/__sim/stats", timeout=5).json() == {
        "token_requests": 1,
        "search_requests": 1,
        "rate_limited": 0,
    }


def test_serving_writes_no_request_lines(running: RunningServer, capfd: pytest.CaptureFixture[str]):
    requests.get(f"{running.url}/__sim/stats", timeout=5)
    requests.get(f"{running.url}/nowhere", timeout=5)

    captured = capfd.readouterr()

    assert "GET /" not in captured.err + captured.out


def test_stop_releases_the_port():
    server = start(Simulator(), port=0)
    server.stop()
    server.stop()  # a second stop is harmless

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/__sim/stats", timeout=2)


def test_python_m_amadeus_sim_serves_until_interrupted():
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "local"), "AMADEUS_CLIENT_ID": "from-env"}
    process = subprocess.Popen(
        [sys.executable, "-m", "amadeus_sim", "--port", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As a shell without job control starts `python -m amadeus_sim &`: with SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = next(word for word in banner.split() if word.startswith("http://"))
        token = requests.post(
            f"{url}/v1/security/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "from-env",
                "client_secret": "farewatch-local-secret",
            },
            timeout=5,
        )

        process.send_signal(signal.SIGINT)
        output, errors = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()

    assert token.status_code == 200
    assert process.returncode == 0
    assert "stopped" in output
    assert "Traceback" not in errors
