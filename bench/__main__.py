"""Farewatch benchmarks: deterministic counts first, times as ratios measured in the same run.

Everything runs on this machine: DynamoDB is moto in-process (tables from template.yaml), the fare
API is the Amadeus simulator on a loopback port, and each worker thread is its own "container"
(its own fare service and token memory) sharing only DynamoDB, as Lambda containers do.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
FIGURES_FILE = ROOT / "bench" / "out" / "figures.json"  # git-ignored

# Every figure of the run by name, one number each: written to FIGURES_FILE at the end.
FIGURES: dict[str, float] = {}

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "CACHE_TABLE": "CacheTable",
        "PRICE_HISTORY_TABLE": "PriceHistoryTable",
        "SEARCH_STATS_TABLE": "SearchStatsTable",
        "TRACKERS_TABLE": "TrackersTable",
        "WATCHED_ROUTES_TABLE": "WatchedRoutesTable",
        "ALERTS_TABLE": "AlertsTable",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "FarewatchBench",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "AMADEUS_CLIENT_ID": CLIENT_ID,
        "AMADEUS_CLIENT_SECRET": CLIENT_SECRET,
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("FAREWATCH_AWS_ENDPOINT", None)


@contextlib.contextmanager
def moto_one_call_at_a_time() -> Iterator[None]:
    """DynamoDB applies each conditional write atomically; moto's in-process backend does not across
    threads, so two bench "containers" could now and then both take one lease (a 51st search in about
    one fleet run in six). As the local stack's embedded AWS does, serve one call at a time."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def one_at_a_time(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    BotocoreStubber.__call__ = one_at_a_time  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]


def main() -> None:
    from moto import mock_aws

    from amadeus_sim.app import Simulator
    from fare_sim.server import start
    from farewatch_local.aws import provision
    from farewatch_local.template import load_template

    # The cache's figures are measured with the simulator's rate limit off; workload 1b repeats the
    # fleet workload under Amadeus's 10 TPS to show what the limit costs.
    simulator = Simulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limit_tps=0)
    server = start(simulator, port=0)
    os.environ["AMADEUS_BASE_URL"] = server.url
    try:
        with mock_aws(), moto_one_call_at_a_time():
            provision(load_template(ROOT / "template.yaml"), endpoint_url=None)
            print("Farewatch benchmarks (figures, not pass/fail)\n")
            fleet_workload(simulator, first_day=20, label="1)", name="fleet")
            cold_stampede(simulator)
            simulator.rate_limit_tps = 10
            fleet_workload(
                simulator, first_day=100, label="1b) under the simulator's 10 TPS limit:", name="fleet_10tps"
            )
            simulator.rate_limit_tps = 0
            dynamo_calls_per_request()
            poll_cycle(simulator)
            calendar(simulator)
    finally:
        server.stop()
    from bench.poll_budget import poll_budget_month

    poll_budget_month()
    import_times()
    build_size()
    stack_figures()
    if os.environ.get("BENCH_SKIP_LOAD") != "1":
        load_run()
    write_figures()


def write_figures() -> None:
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_FILE.write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")
    print(f"figures as JSON ({len(FIGURES)} named numbers): {FIGURES_FILE}")


def stack_figures() -> None:
    """`python -m bench.stack` in its own process (the local stack must not meet in-process moto)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "AMADEUS_"))}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in (".", "layers/common", "local"))
    out = FIGURES_FILE.parent / "stack.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "bench.stack", "--json", str(out)], cwd=ROOT, env=env, check=False)
    if not out.exists():
        print("   (the stack figures were not measured)\n")
        return
    figures = json.loads(out.read_text())
    FIGURES["import_boto3_ms"] = figures["init"]["import_boto3_ms"]
    for function, values in figures["init"]["functions"].items():
        FIGURES[f"init_ms_{function}"] = values["init_ms"]
        FIGURES[f"init_ratio_{function}"] = values["init_ratio_to_boto3"]
        FIGURES[f"first_request_ms_{function}"] = values["first_request_ms"]
        FIGURES[f"cold_total_ms_{function}"] = values["cold_total_ms"]
        FIGURES[f"cold_total_ratio_{function}"] = values["cold_total_ratio_to_boto3"]
    for name, value in figures["latency"].items():
        FIGURES[f"local_{name}"] = value


def poll_cycle(simulator) -> None:
    from bench.poll_cycle import poll_cycle as run_poll_cycle

    FIGURES.update(run_poll_cycle(simulator))


def calendar(simulator) -> None:
    from bench.calendar import calendar_cost

    calendar_cost(simulator)


def new_container():
    """A fare service with its own memory (token, HTTP session), like a fresh Lambda container."""
    from farewatch.clock import SystemClock
    from farewatch.composition import build_fare_service
    from farewatch.settings import get_settings

    return build_fare_service(get_settings(), SystemClock())


def queries(count: int, first_day: int) -> list:
    import datetime as dt

    from farewatch.fare_query import FareQuery

    routes = [("JFK", "LAX"), ("LHR", "CDG"), ("SFO", "NRT"), ("NYC", "LON"), ("ORD", "MIA")]
    today = dt.date.today()
    return [
        FareQuery(
            origin=routes[index % len(routes)][0],
            destination=routes[index % len(routes)][1],
            departure_date=today + dt.timedelta(days=first_day + index // len(routes)),
        )
        for index in range(count)
    ]


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in after}


def run_threads(workers: int, work: Callable[[int], None]) -> float:
    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def fleet_workload(simulator, *, first_day: int, label: str, name: str) -> None:
    keys = queries(50, first_day=first_day)
    requests_total, workers = 1000, 8
    plan = [keys[(index * 7) % len(keys)] for index in range(requests_total)]
    containers = [new_container() for _ in range(workers)]
    errors: list[Exception] = []
    before = simulator.stats()

    def work(worker: int) -> None:
        for query in plan[worker::workers]:
            try:
                containers[worker].fares(query)
            except Exception as error:
                errors.append(error)

    elapsed = run_threads(workers, work)
    stats = _delta(simulator.stats(), before)
    print(f"{label} {requests_total} price requests over {len(keys)} keys from {workers} concurrent workers")
    print(
        f"   upstream searches: {stats['search_requests']} requests sent, {stats['rate_limited']} refused "
        f"with 429 (distinct keys: {len(keys)})"
    )
    print(f"   token requests:    {stats['token_requests']}")
    print(f"   errors:            {len(errors)}   wall time: {elapsed:.2f} s")
    FIGURES[f"{name}_upstream_requests"] = stats["search_requests"]
    FIGURES[f"{name}_upstream_429"] = stats["rate_limited"]
    FIGURES[f"{name}_upstream_searches_answered"] = stats["search_requests"] - stats["rate_limited"]
    FIGURES[f"{name}_errors"] = len(errors)
    FIGURES[f"{name}_wall_seconds"] = round(elapsed, 2)
    for kind in sorted({type(error).__name__ + ": " + str(error) for error in errors})[:3]:
        print(f"     {kind}")
    print()


def cold_stampede(simulator) -> None:
    keys = queries(5, first_day=200)
    per_key = 16
    barrier = threading.Barrier(len(keys) * per_key)
    containers = [new_container() for _ in range(len(keys) * per_key)]
    errors: list[Exception] = []
    before = simulator.stats()

    def work(worker: int) -> None:
        barrier.wait()
        try:
            containers[worker].fares(keys[worker % len(keys)])
        except Exception as error:
            errors.append(error)

    elapsed = run_threads(len(containers), work)
    stats = _delta(simulator.stats(), before)
    print(f"2) {per_key} concurrent cold requests on each of {len(keys)} keys ({len(containers)} containers)")
    print(f"   upstream searches: {stats['search_requests']} (distinct keys: {len(keys)})")
    print(f"   token requests:    {stats['token_requests']} (the token was already shared in DynamoDB)")
    print(f"   errors:            {len(errors)}   wall time: {elapsed:.2f} s\n")
    FIGURES["stampede_upstream_requests"] = stats["search_requests"]
    FIGURES["stampede_errors"] = len(errors)


def dynamo_calls_per_request() -> None:
    """What one GET /flights/price asks DynamoDB: the fares, then the insight of the cheapest price."""
    from bench.dynamo_calls import DynamoCallCounter

    def price_request(service: Any, query: Any) -> None:
        service.priced(query)  # what the handler asks

    service = new_container()
    query = queries(1, first_day=300)[0]
    price_request(service, queries(1, first_day=301)[0])  # token in memory: measure the cache alone
    other = new_container()  # another container: the key is not in its memory
    price_request(other, queries(1, first_day=302)[0])
    time.sleep(get_fare_memory_seconds())  # what `other` read of the insight classes is past its bound
    counter = DynamoCallCounter()
    with counter.installed():
        price_request(service, query)
        miss = dict(counter.calls)
        counter.reset()
        price_request(service, query)
        hit = dict(counter.calls)
        counter.reset()
        price_request(other, query)
        other_hit = dict(counter.calls)
    print("3) DynamoDB calls per price request (fares and insight; search counts are written in batches)")
    print(f"   cache miss:                          {sum(miss.values())}  {miss}")
    print(f"   cache hit, same container:           {sum(hit.values())}  {hit}")
    print(f"   cache hit, another container's fetch: {sum(other_hit.values())}  {other_hit}\n")
    FIGURES["miss_dynamodb_calls"] = sum(miss.values())
    FIGURES["hit_dynamodb_calls"] = sum(hit.values())
    FIGURES["hit_other_container_dynamodb_calls"] = sum(other_hit.values())


def get_fare_memory_seconds() -> float:
    from farewatch.settings import get_settings

    return get_settings().fare_memory_seconds


def _import_seconds(statement: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(5):
        output = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return statistics.median(samples)


def import_times() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("layers/common", "functions/price"))
    env["TOKEN_PREFETCH"] = "false"  # measure the import, not a network call
    boto3_seconds = _import_seconds("import boto3", env)
    handler_seconds = _import_seconds("import price_api.handler", env)
    print("4) Cold start: import time (median of 5 fresh interpreters)")
    print(f"   import boto3:             {boto3_seconds * 1000:.0f} ms")
    ratio = handler_seconds / boto3_seconds
    print(f"   import price_api.handler: {handler_seconds * 1000:.0f} ms  ({ratio:.1f}x boto3)\n")
    FIGURES["import_only_ratio_price_api"] = round(ratio, 2)


def build_size() -> None:
    build = ROOT / ".aws-sam" / "build"
    print("5) sam build output")
    if not build.exists():
        print("   no .aws-sam/build: run `make sam-build` first (make bench does)\n")
        return
    for artifact in sorted(path for path in build.iterdir() if path.is_dir()):
        size = sum(file.stat().st_size for file in artifact.rglob("*") if file.is_file())
        print(f"   {artifact.name:<16} {size / 1_048_576:6.1f} MiB")
        if artifact.name == "CommonLayer":
            FIGURES["layer_mib"] = round(size / 1_048_576, 2)
    print()


def load_run() -> None:
    """`python -m bench.load` with its defaults, in its own process: it starts the whole local stack,
    whose environment and embedded AWS must not meet this process's in-process moto."""
    print("6) ", end="", flush=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "AMADEUS_"))}
    env["PYTHONPATH"] = os.pathsep.join(
        str(ROOT / part)
        for part in (".", "layers/common", "functions/price", "functions/users", "functions/poller", "local")
    )
    # Figures, not pass/fail: a run with errors prints them, and the benchmarks go on.
    subprocess.run([sys.executable, "-m", "bench.load"], cwd=ROOT, env=env, check=False)
    print()


if __name__ == "__main__":
    main()
