"""The fleet's shared state across real processes: the memory tier's bounds, single flight, `nocache`,
stale answers, batched search statistics and fleet-wide pacing.

Each "container" is its own process (tests/support/container.py) running the production fare service
from the composition root, on a clock the test sets (nothing sleeps for real), against one moto server
and one Amadeus simulator on loopback ports, as Lambda containers share DynamoDB and the fare API.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from amadeus_sim.app import Simulator
from fare_sim.server import start
from farewatch_local.aws import provision
from farewatch_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "CACHE_TABLE": "CacheTable",
    "PRICE_HISTORY_TABLE": "PriceHistoryTable",
    "SEARCH_STATS_TABLE": "SearchStatsTable",
}
FRESH_SECONDS = 60
MEMORY_SECONDS = 5.0
PACE_PER_SECOND = 8.0

pytestmark = pytest.mark.xdist_group("fleet-processes")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.server import ThreadedMotoServer

    # DynamoDB applies each write atomically; moto's server threads do not: one lock restores that.
    lock = threading.RLock()
    originals = {}
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        originals[name] = original = getattr(DynamoDBBackend, name)

        def locked(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            with lock:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    environment = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        provision(load_template(ROOT / "template.yaml"), url)
        yield url
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    server = start(Simulator(rate_limit_tps=0), port=0)
    yield server
    server.stop()


class Container:
    def __init__(self, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(  # our own interpreter and module
            [sys.executable, "-m", "tests.support.container"],
            env=environment,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.read() == {"ready": True}

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the container process ended"
        return dict(json.loads(line))

    def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def ask(self, **command: Any) -> dict[str, Any]:
        self.send(**command)
        return self.read()

    def answer(
        self, date: str, *, now: float, nocache: bool = False, route: str = "JFK-LAX"
    ) -> dict[str, Any]:
        """The whole answer, with the entry's `fetched_at` and `fresh_until`."""
        origin, destination = route.split("-")
        return self.ask(
            op="fares", origin=origin, destination=destination, date=date, nocache=nocache, now=now
        )

    def fares(
        self, date: str, *, now: float, nocache: bool = False, route: str = "JFK-LAX"
    ) -> dict[str, Any]:
        """What the traveller sees: price, cached, stale (or the error)."""
        answer = self.answer(date, now=now, nocache=nocache, route=route)
        return {name: answer[name] for name in ("price", "cached", "stale", "error") if name in answer}

    def end(self) -> int:
        """A normal shutdown: the end of its input."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)


@pytest.fixture
def fleet(moto_url, simulator, tmp_path) -> Iterator[Any]:
    # No simulator reset between tests: it would forget the access token the containers share.
    requests.post(f"{simulator.url}/__sim/faults", json={"mode": "none"}, timeout=5).raise_for_status()
    started: list[Container] = []
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "AMADEUS_"))},
        **TABLES,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FAREWATCH_AWS_ENDPOINT": moto_url,
        "AMADEUS_BASE_URL": simulator.url,
        "AMADEUS_CLIENT_ID": "farewatch-local",
        "AMADEUS_CLIENT_SECRET": "farewatch-local-secret",
        "TOKEN_PREFETCH": "false",
        "FARE_CACHE_TTL_SECONDS": str(FRESH_SECONDS),
        "FARE_MEMORY_SECONDS": str(MEMORY_SECONDS),
        # These tests force refreshes seconds apart to see how memory answers them; the fleet-wide
        # limit on forced refreshes (one per key per 60 s) has its own tests (test_fare_service).
        "FORCE_REFRESH_MIN_SECONDS": "0",
        "SEARCH_STATS_FLUSH_SECONDS": "10",
        "UPSTREAM_REQUESTS_PER_SECOND": str(PACE_PER_SECOND),
        "UPSTREAM_MAX_ATTEMPTS": "1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("layers/common", "local", ".")),
    }

    class Fleet:
        sim = simulator.url

        def container(self, **overrides: str) -> Container:
            started.append(Container({**environment, **overrides}))
            return started[-1]

        def pin(self, date: str, amount: float, route: str = "JFK-LAX") -> None:
            origin, destination = route.split("-")
            url = f"{simulator.url}/__sim/prices/{origin}/{destination}/{date}"
            requests.put(url, json={"amount": amount}, timeout=5).raise_for_status()

        def fault(self, mode: str) -> None:
            requests.post(f"{simulator.url}/__sim/faults", json={"mode": mode}, timeout=5).raise_for_status()

        def searches(self) -> int:
            return int(requests.get(f"{simulator.url}/__sim/stats", timeout=5).json()["search_requests"])

    yield Fleet()
    requests.post(f"{simulator.url}/__sim/faults", json={"mode": "none"}, timeout=5)
    for container in started:
        container.kill()


def day(offset: int) -> str:
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


_BASES = iter(range(1, 1000))


def moment() -> float:
    """A start time of its own for each test: the clocks never go back, and the shared schedule and
    cache entries of one test are long gone by the next one's moment."""
    return time.time() + 1000.0 * next(_BASES)


# -- the memory tier -----------------------------------------------------------------------------


def test_a_forced_refresh_in_another_container_is_seen_within_the_memory_bound(fleet):
    t0 = moment()
    date = day(30)
    fleet.pin(date, 300)
    a, b = fleet.container(), fleet.container()
    assert a.fares(date, now=t0)["price"] == "300.00"
    assert a.fares(date, now=t0 + 1) == {"price": "300.00", "cached": True, "stale": False}
    searches = fleet.searches()

    fleet.pin(date, 250)
    refreshed = b.answer(date, now=t0 + 2, nocache=True)

    assert (refreshed["price"], refreshed["cached"]) == ("250.00", False)
    assert fleet.searches() == searches + 1
    # Within the bound A may still answer from memory; once the bound has passed since the refresh
    # was written, it answers the refreshed fares (from DynamoDB: no upstream call of its own).
    seen_by = refreshed["fetched_at"] + MEMORY_SECONDS
    assert a.fares(date, now=seen_by) == {"price": "250.00", "cached": True, "stale": False}
    assert a.fares(date, now=seen_by + 1) == {"price": "250.00", "cached": True, "stale": False}
    assert fleet.searches() == searches + 1


def test_an_entry_is_never_answered_fresh_from_memory_after_its_own_freshness_ends(fleet):
    t0 = moment()
    date = day(31)
    fleet.pin(date, 300)
    # A memory bound far longer than the entry's freshness: the entry's own end still wins.
    a = fleet.container(FARE_CACHE_TTL_SECONDS="5", FARE_MEMORY_SECONDS="60")
    first = a.answer(date, now=t0)
    assert first["price"] == "300.00"
    assert a.fares(date, now=first["fresh_until"] - 0.001)["cached"] is True
    searches = fleet.searches()

    fleet.pin(date, 280)
    expired = a.fares(date, now=first["fresh_until"])

    assert expired == {"price": "280.00", "cached": False, "stale": False}
    assert fleet.searches() == searches + 1


def test_an_expired_entry_is_answered_stale_when_upstream_fails_never_fresh(fleet):
    t0 = moment()
    date = day(32)
    fleet.pin(date, 300)
    a = fleet.container(FARE_CACHE_TTL_SECONDS="5", FARE_MEMORY_SECONDS="60")
    first = a.answer(date, now=t0)
    assert first["price"] == "300.00"

    fleet.fault("http500")
    answer = a.fares(date, now=first["fresh_until"])

    assert answer == {"price": "300.00", "cached": True, "stale": True}


def test_concurrent_cold_requests_in_three_processes_make_one_upstream_search(fleet):
    t0 = moment()
    date = day(33)
    fleet.pin(date, 310)
    containers = [fleet.container() for _ in range(3)]
    searches = fleet.searches()

    for container in containers:  # all three asked before any answer is read
        container.send(op="fares", origin="JFK", destination="LAX", date=date, nocache=False, now=t0)
    answers = [container.read() for container in containers]

    assert [answer["price"] for answer in answers] == ["310.00"] * 3
    assert fleet.searches() == searches + 1


def test_nocache_always_asks_upstream_even_when_memory_holds_a_fresh_entry(fleet):
    t0 = moment()
    date = day(34)
    fleet.pin(date, 300)
    a = fleet.container()
    a.fares(date, now=t0)
    searches = fleet.searches()

    fleet.pin(date, 260)
    answer = a.fares(date, now=t0 + 1, nocache=True)

    assert answer == {"price": "260.00", "cached": False, "stale": False}
    assert fleet.searches() == searches + 1
    assert a.fares(date, now=t0 + 2) == {"price": "260.00", "cached": True, "stale": False}


# -- search statistics ---------------------------------------------------------------------------


def searches_on(moto_url: str, day_text: str) -> dict[str, int]:
    import boto3

    table = boto3.resource("dynamodb", endpoint_url=moto_url, region_name="us-east-1").Table(
        "SearchStatsTable"
    )
    items = table.query(
        KeyConditionExpression="#d = :d",
        ExpressionAttributeNames={"#d": "day"},
        ExpressionAttributeValues={":d": day_text},
    )["Items"]
    return {str(item["route"]): int(item["searches"]) for item in items}


def test_search_totals_are_exact_after_a_normal_shutdown_and_on_sigterm(fleet, moto_url):
    t0 = moment()
    date = day(40)
    routes = ["BOS-SEA", "SEA-BOS", "ORD-MIA"]
    for route in routes:
        fleet.pin(date, 200, route=route)
    a, b, c = fleet.container(), fleet.container(), fleet.container()
    expected = {route: 0 for route in routes}
    for index in range(30):  # within 10 s of each container's first write: summed in memory
        route = routes[index % 3]
        for container in (a, b, c):
            container.fares(date, now=t0 + index * 0.25, route=route)
            expected[route] += 1
    stats_day = dt.datetime.fromtimestamp(t0, tz=dt.UTC).date().isoformat()
    written_before = sum(searches_on(moto_url, stats_day).get(route, 0) for route in routes)
    assert written_before < sum(expected.values())  # most counts were kept for a batch

    assert a.end() == 0 and b.end() == 0
    c.process.send_signal(signal.SIGTERM)
    assert c.process.wait(timeout=60) == 0

    counts = searches_on(moto_url, stats_day)
    assert {route: counts.get(route, 0) for route in routes} == expected


# -- pacing ----------------------------------------------------------------------------------------


def test_upstream_slots_from_three_processes_never_exceed_the_rate_in_any_second(fleet):
    t0 = moment()
    containers = [fleet.container() for _ in range(3)]
    start_at = t0

    for container in containers:
        container.send(op="pace", count=8, now=start_at)
    sent = sorted(at for container in containers for at in container.read()["sent_at"])

    assert len(sent) == 24
    interval = 1 / PACE_PER_SECOND
    assert all(later - earlier >= interval - 1e-6 for earlier, later in itertools.pairwise(sent))
    for first in sent:
        assert sum(1 for at in sent if first <= at < first + 1.0) <= PACE_PER_SECOND
    assert sent[0] == pytest.approx(start_at)
    assert sent[-1] == pytest.approx(start_at + 23 * interval)  # no slot lost either
