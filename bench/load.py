"""Load run: the `make dev` stack, in-process on free loopback ports, under N concurrent clients.

Each client is a thread with its own requests.Session and its own registered user. For the run's
duration it mixes price hits (a warmed set of keys), price misses (new keys, and nocache refreshes of
warmed ones; both share one rate so that the fare API's 10 TPS limit is a realistic ceiling, not the
whole story), tracker CRUD (create, get, update with the version read, list, delete or keep) and
alert listing. It prints requests/s, latency percentiles overall and per kind, unexpected statuses,
lost writes (every tracker created and not deleted must be listed at the end, with its last update)
and upstream calls per 1,000 requests from the simulator's counters. Figures, not pass/fail.

    python -m bench.load [--clients 20] [--seconds 60] [--misses-per-second 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import logging
import os
import random
import sys
import threading
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

PASSWORD = "load-run password"  # a throwaway account on a throwaway local stack
ROUTE_PAIRS = [("JFK", "LAX"), ("LHR", "CDG"), ("SFO", "NRT"), ("ORD", "MIA"), ("BOS", "SEA")]
ROUTE_PAIRS += [(destination, origin) for origin, destination in ROUTE_PAIRS]
HOT_KEYS = 20  # price keys warmed before the clock starts: the "popular routes" of the mix
MAX_KEPT_TRACKERS = 40  # below the 50-tracker limit per user, so a create is never refused for it
TIMEOUT_SECONDS = 30.0  # API Gateway gives up at 29 s

# What a correct answer looks like, per kind of request; anything else is counted as an error.
EXPECTED_STATUS: Mapping[str, frozenset[int]] = {
    "price_hit": frozenset({200, 404}),  # 404 no_offers is an answer (and cached like one)
    "price_miss": frozenset({200, 404}),
    "price_nocache": frozenset({200, 404}),
    "tracker_create": frozenset({201}),
    "tracker_get": frozenset({200}),
    "tracker_update": frozenset({200}),
    "tracker_list": frozenset({200}),
    "tracker_delete": frozenset({204}),
    "alerts_list": frozenset({200}),
}


@dataclass(frozen=True)
class PriceKey:
    origin: str
    destination: str
    date: str

    def params(self) -> dict[str, str]:
        return {"origin": self.origin, "destination": self.destination, "date": self.date}


@dataclass
class Sample:
    kind: str
    status: int  # 0: no HTTP answer (connection error or client timeout)
    seconds: float


@dataclass
class TrackerState:
    tracker_id: str
    version: int
    target_price: str


@dataclass
class ClientResult:
    samples: list[Sample] = field(default_factory=list)
    kept: dict[str, TrackerState] = field(default_factory=dict)  # created, not deleted: must be listed
    first_errors: dict[tuple[str, int], str] = field(default_factory=dict)  # one body per unexpected status
    created: int = 0
    deleted: int = 0


class RateGate:
    """At most `per_second` permits per second across all clients (a token bucket, burst of one second)."""

    def __init__(self, per_second: float) -> None:
        self._rate = per_second
        self._tokens = min(per_second, 1.0)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        if self._rate <= 0:
            return False
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._rate, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class MissKeys:
    """Price keys nobody has asked for yet: every draw is a cache miss."""

    def __init__(self, taken: set[PriceKey], rng: random.Random) -> None:
        today = dt.date.today()
        self._keys = [
            PriceKey(origin, destination, (today + dt.timedelta(days=days)).isoformat())
            for origin, destination in ROUTE_PAIRS
            for days in range(20, 340)
        ]
        self._keys = [key for key in self._keys if key not in taken]
        rng.shuffle(self._keys)
        self._lock = threading.Lock()

    def take(self) -> PriceKey | None:
        with self._lock:
            return self._keys.pop() if self._keys else None


class Client:
    """One simulated user: its own session, account and trackers."""

    def __init__(self, api: str, number: int, run_id: str, seed: int) -> None:
        self.api = api
        self.session = requests.Session()
        self.email = f"load-{run_id}-{number}@example.com"
        self.rng = random.Random(seed * 1000 + number)
        self.token = ""
        self.result = ClientResult()
        self._cycle: list[str] = []  # the remaining steps of the current tracker's life
        self._current: TrackerState | None = None

    def call(
        self, kind: str | None, method: str, path: str, *, body: Any = None, params: Any = None
    ) -> requests.Response | None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                f"{self.api}{path}",
                json=body,
                params=params,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException:
            response = None
        if kind is not None:
            status = response.status_code if response is not None else 0
            self.result.samples.append(Sample(kind, status, time.perf_counter() - started))
            if status not in EXPECTED_STATUS[kind]:
                body = response.text[:300] if response is not None else "no answer"
                self.result.first_errors.setdefault((kind, status), body)
        return response

    def sign_up(self) -> None:
        body = {"email": self.email, "password": PASSWORD}
        registered = self.call(None, "POST", "/auth/register", body=body)
        login = self.call(None, "POST", "/auth/login", body=body)
        if registered is None or registered.status_code != 202 or login is None or login.status_code != 200:
            raise RuntimeError(f"could not sign up {self.email}")
        self.token = login.json()["data"]["access_token"]

    # -- one step of the mix -------------------------------------------------------------------

    def step(self, hot: list[PriceKey], misses: MissKeys, miss_gate: RateGate) -> None:
        roll = self.rng.random()
        if roll < 0.55:
            self.price(hot, misses, miss_gate)
        elif roll < 0.90:
            self.tracker_step(hot)
        else:
            self.call("alerts_list", "GET", "/alerts")

    def price(self, hot: list[PriceKey], misses: MissKeys, miss_gate: RateGate) -> None:
        if self.rng.random() < 0.2 and miss_gate.try_take():
            if self.rng.random() < 0.7:
                key = misses.take()
                if key is not None:
                    self.call("price_miss", "GET", "/flights/price", params=key.params())
                    return
            params = {**self.rng.choice(hot).params(), "nocache": "1"}
            self.call("price_nocache", "GET", "/flights/price", params=params)
            return
        self.call("price_hit", "GET", "/flights/price", params=self.rng.choice(hot).params())

    def tracker_step(self, hot: list[PriceKey]) -> None:
        if self._current is None or not self._cycle:
            self._create(hot)
            return
        step = self._cycle.pop(0)
        tracker = self._current
        if step == "get":
            self.call("tracker_get", "GET", f"/tracked-flights/{tracker.tracker_id}")
        elif step == "update":
            target = f"{self.rng.randint(50, 400)}.{self.rng.randint(0, 99):02d}"
            body = {"version": tracker.version, "target_price": target}
            response = self.call(
                "tracker_update", "PATCH", f"/tracked-flights/{tracker.tracker_id}", body=body
            )
            if response is not None and response.status_code == 200:
                tracker.version = int(response.json()["data"]["version"])
                tracker.target_price = target
        elif step == "list":
            self.call("tracker_list", "GET", "/tracked-flights")
        elif step == "end":
            # Most trackers are deleted; one in three is kept, to be found at the end of the run.
            if self.rng.random() < 1 / 3 and len(self.result.kept) < MAX_KEPT_TRACKERS:
                self._current = None
                return
            response = self.call("tracker_delete", "DELETE", f"/tracked-flights/{tracker.tracker_id}")
            if response is not None and response.status_code == 204:
                self.result.kept.pop(tracker.tracker_id, None)
                self.result.deleted += 1
            self._current = None

    def _create(self, hot: list[PriceKey]) -> None:
        key = self.rng.choice(hot)
        target = f"{self.rng.randint(50, 400)}.00"
        body = {
            "origin": key.origin,
            "destination": key.destination,
            "departure_date": key.date,
            "target_price": target,
        }
        response = self.call("tracker_create", "POST", "/tracked-flights", body=body)
        if response is None or response.status_code != 201:
            return
        data = response.json()["data"]
        self._current = TrackerState(str(data["id"]), int(data["version"]), target)
        self.result.kept[self._current.tracker_id] = self._current
        self.result.created += 1
        self._cycle = ["get", "update", "list", "end"]

    def run_until(self, deadline: float, hot: list[PriceKey], misses: MissKeys, gate: RateGate) -> None:
        # Each client opens as a visitor does, a popular price and then a tracker, so that a short run
        # (the e2e smoke: 3 s on a busy machine) still covers both; the random mix follows.
        self.call("price_hit", "GET", "/flights/price", params=self.rng.choice(hot).params())
        self.tracker_step(hot)
        while time.monotonic() < deadline:
            self.step(hot, misses, gate)

    # -- the end of the run --------------------------------------------------------------------

    def lost_writes(self) -> tuple[int, int, int]:
        """(trackers kept but not listed, listed but deleted or never created, kept with a lost update)."""
        response = self.call(None, "GET", "/tracked-flights")
        if response is None or response.status_code != 200:
            return len(self.result.kept), 0, 0
        listed = {str(row["id"]): row for row in response.json()["data"]}
        missing = sum(1 for tracker_id in self.result.kept if tracker_id not in listed)
        unexpected = sum(1 for tracker_id in listed if tracker_id not in self.result.kept)
        stale = sum(
            1
            for tracker_id, state in self.result.kept.items()
            if tracker_id in listed
            and (
                int(listed[tracker_id]["version"]) != state.version
                or listed[tracker_id]["target_price"] != state.target_price
            )
        )
        return missing, unexpected, stale


# -- the local stack ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StackUrls:
    api: str
    simulator: str


@contextlib.contextmanager
def local_stack() -> Iterator[StackUrls]:
    """The `make dev` stack in this process, on free loopback ports. Its poller runs only on
    POST /__local/poll: a scheduled cycle mid-run would add upstream calls no request asked for."""
    from farewatch_local.stack import LocalStack, StackConfig

    exported = {
        name: value
        for name, value in os.environ.items()
        if name.startswith(("AMADEUS_", "FAREWATCH_")) and name != "FAREWATCH_HOST"
    }
    exported["FAREWATCH_POLL_INTERVAL_SECONDS"] = "0"
    config = StackConfig(
        host="127.0.0.1",
        api_port=0,
        simulator_port=0,
        aws_port=0,
        exported=exported,
        # The handlers' INFO lines, one per request or more, would be the run's whole output.
        parameter_overrides={"LogLevel": "ERROR"},
    )
    # The embedded AWS would log every call it serves.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        # The gateway prints one line per request to stdout: not wanted here, the figures are.
        with LocalStack(config) as stack, contextlib.redirect_stdout(io.StringIO()):
            yield StackUrls(api=stack.api_url, simulator=stack.amadeus_url)


def simulator_calls(simulator: str) -> dict[str, int]:
    return dict(requests.get(f"{simulator}/__sim/stats", timeout=10).json())


# -- the run -----------------------------------------------------------------------------------


@dataclass
class LoadReport:
    clients: int
    seconds: float
    samples: list[Sample]
    missing: int
    unexpected: int
    stale_updates: int
    created: int
    deleted: int
    kept: int
    upstream: dict[str, int]
    first_errors: dict[tuple[str, int], str] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def server_errors(self) -> int:
        return sum(1 for sample in self.samples if sample.status >= 500 or sample.status == 0)

    def errors_by_status(self) -> Counter[tuple[str, int]]:
        return Counter(
            (sample.kind, sample.status)
            for sample in self.samples
            if sample.status not in EXPECTED_STATUS[sample.kind]
        )

    @property
    def lost_writes(self) -> int:
        return self.missing + self.unexpected + self.stale_updates


def percentile(sorted_seconds: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_seconds:
        return 0.0
    rank = max(1, min(len(sorted_seconds), round(fraction * len(sorted_seconds) + 0.5)))
    return sorted_seconds[rank - 1]


def run_load(
    api: str, simulator: str, *, clients: int, seconds: float, misses_per_second: float, seed: int = 7
) -> LoadReport:
    run_id = f"{int(time.time())}{random.Random(seed).randint(0, 9999):04d}"
    rng = random.Random(seed)
    today = dt.date.today()
    hot = [
        PriceKey(origin, destination, (today + dt.timedelta(days=days)).isoformat())
        for origin, destination in ROUTE_PAIRS
        for days in (30, 45)
    ][:HOT_KEYS]
    misses = MissKeys(set(hot), rng)
    team = [Client(api, number, run_id, seed) for number in range(clients)]

    # Before the clock: accounts (bcrypt is slow on purpose) and the popular keys in the cache.
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(lambda client: client.sign_up(), team))
    warm = requests.Session()
    for key in hot:
        warm.get(f"{api}/flights/price", params=key.params(), timeout=TIMEOUT_SECONDS)

    gate = RateGate(misses_per_second)
    before = simulator_calls(simulator)
    started = time.monotonic()
    deadline = started + seconds
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(lambda client: client.run_until(deadline, hot, misses, gate), team))
    elapsed = time.monotonic() - started
    after = simulator_calls(simulator)

    missing = unexpected = stale = 0
    for client in team:
        lost, extra, stale_update = client.lost_writes()
        missing, unexpected, stale = missing + lost, unexpected + extra, stale + stale_update
    return LoadReport(
        clients=clients,
        seconds=elapsed,
        samples=[sample for client in team for sample in client.result.samples],
        missing=missing,
        unexpected=unexpected,
        stale_updates=stale,
        created=sum(client.result.created for client in team),
        deleted=sum(client.result.deleted for client in team),
        kept=sum(len(client.result.kept) for client in team),
        upstream={name: after.get(name, 0) - before.get(name, 0) for name in after},
        first_errors={key: body for client in team for key, body in client.result.first_errors.items()},
    )


def format_report(report: LoadReport) -> str:
    lines = [f"Load: {report.clients} clients for {report.seconds:.1f} s against the local stack (loopback)"]
    throughput = report.requests / max(report.seconds, 1e-9)
    lines.append(f"   requests: {report.requests}   throughput: {throughput:.1f} req/s")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for sample in report.samples:
        by_kind[sample.kind].append(sample.seconds)
    lines.append(f"   {'kind':<16}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    rows = [("all", [sample.seconds for sample in report.samples])]
    rows += [(kind, by_kind[kind]) for kind in EXPECTED_STATUS if by_kind.get(kind)]
    for kind, values in rows:
        ordered = sorted(values)
        p50, p95, p99 = (percentile(ordered, fraction) * 1000 for fraction in (0.50, 0.95, 0.99))
        lines.append(f"   {kind:<16}{len(ordered):>7}{p50:>9.0f}{p95:>9.0f}{p99:>9.0f}")
    errors = report.errors_by_status()
    if errors:
        listed = ", ".join(
            f"{kind} {status or 'no answer'}: {count}" for (kind, status), count in sorted(errors.items())
        )
        lines.append(f"   unexpected statuses: {listed}")
        for (kind, status), body in sorted(report.first_errors.items()):
            lines.append(f"     e.g. {kind} {status}: {body}")
    else:
        lines.append("   unexpected statuses: none")
    lines.append(f"   5xx (or no answer): {report.server_errors}")
    lines.append(
        f"   trackers: {report.created} created, {report.deleted} deleted, {report.kept} kept;"
        f" lost writes: {report.lost_writes} (kept but not listed {report.missing},"
        f" listed but not kept {report.unexpected}, last update not seen {report.stale_updates})"
    )
    # Requests sent upstream; the ones the simulator's 10 TPS quota refused are among the searches.
    searches, tokens = report.upstream.get("search_requests", 0), report.upstream.get("token_requests", 0)
    upstream_total = searches + tokens
    per_thousand = upstream_total * 1000 / max(report.requests, 1)
    lines.append(
        f"   upstream calls: {upstream_total} ({searches} searches, of which"
        f" {report.upstream.get('rate_limited', 0)} refused by the 10 TPS limit; {tokens} token requests)"
        f" = {per_thousand:.1f} per 1,000 requests"
    )
    return "\n".join(lines)


def report_as_json(report: LoadReport) -> dict[str, Any]:
    """The figures for a program (the smoke test) rather than a person."""
    return {
        "clients": report.clients,
        "seconds": round(report.seconds, 3),
        "requests": report.requests,
        "requests_per_second": round(report.requests / max(report.seconds, 1e-9), 1),
        "requests_by_kind": dict(Counter(sample.kind for sample in report.samples)),
        "server_errors": report.server_errors,
        "unexpected_statuses": {
            f"{kind} {status}": count for (kind, status), count in report.errors_by_status().items()
        },
        "lost_writes": report.lost_writes,
        "trackers": {"created": report.created, "deleted": report.deleted, "kept": report.kept},
        "upstream": report.upstream,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients, each its own user")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the mix runs")
    parser.add_argument(
        "--misses-per-second",
        type=float,
        default=3.0,
        help="ceiling on cache misses + nocache refreshes across all clients (the fare API allows 10 TPS)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    options = parser.parse_args(argv)
    if options.clients < 1 or options.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    with local_stack() as urls:
        report = run_load(
            urls.api,
            urls.simulator,
            clients=options.clients,
            seconds=options.seconds,
            misses_per_second=options.misses_per_second,
            seed=options.seed,
        )
    print(json.dumps(report_as_json(report)) if options.json else format_report(report), flush=True)
    return 1 if report.server_errors or report.lost_writes else 0


if __name__ == "__main__":
    sys.exit(main())
