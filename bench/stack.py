"""Bench: figures taken through the `make dev` stack, each a ratio measured within this one run.

1. Init per function: a fresh interpreter with the function's own environment (the one the local
   stack gives its instances: PYTHONPATH of its code and layer, its variables, the embedded AWS and
   the simulator) imports the handler module, which runs its warm-up (the token for the price
   function). Compared with a bare `import boto3` in the same environment, interleaved, median of 5.
2. Hit latency: sequential GET /flights/price cache hits on one warmed key, interleaved with
   GET /flights/ping through the same gateway, p50/p95 of each and their ratio.

Runs in its own process (the local stack's AWS must not meet the bench's in-process moto):

    python -m bench.stack --json <file>     # writes its figures there, prints them
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

INIT_SAMPLES = 5
LATENCY_SAMPLES = 300
_IMPORT = (
    "import importlib, sys, time; started = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "print(time.perf_counter() - started)"
)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextlib.contextmanager
def running_stack() -> Iterator[Any]:
    from farewatch_local.stack import LocalStack, StackConfig

    config = StackConfig(
        host="127.0.0.1",
        api_port=0,
        simulator_port=0,
        aws_port=0,
        exported={"FAREWATCH_POLL_INTERVAL_SECONDS": "0"},
        parameter_overrides={"LogLevel": "ERROR"},
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        with LocalStack(config) as stack, contextlib.redirect_stdout(io.StringIO()):
            yield stack


def _seconds_to_import(module: str, environment: dict[str, str], cwd: str) -> float:
    output = subprocess.run(  # nosec B603  # our own interpreter and module
        [sys.executable, "-c", _IMPORT, module],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def init_figures(stack: Any) -> dict[str, Any]:
    """Median init of each function's handler module and of `import boto3`, sampled in turns."""
    pools = dict(stack.functions.items())
    samples: dict[str, list[float]] = {name: [] for name in pools}
    boto3_samples: list[float] = []
    price_pool = next(pool for pool in pools.values() if pool.function.handler.startswith("price_api."))
    for _ in range(INIT_SAMPLES):
        boto3_samples.append(
            _seconds_to_import("boto3", price_pool._environment, str(price_pool.function.code_uri))
        )
        for name, pool in pools.items():
            module = pool.function.handler.rsplit(".", 1)[0]
            samples[name].append(_seconds_to_import(module, pool._environment, str(pool.function.code_uri)))
    boto3_ms = statistics.median(boto3_samples) * 1000
    functions = {}
    for name, values in sorted(samples.items()):
        init_ms = statistics.median(values) * 1000
        functions[name] = {"init_ms": round(init_ms, 1), "init_ratio_to_boto3": round(init_ms / boto3_ms, 2)}
    return {"import_boto3_ms": round(boto3_ms, 1), "functions": functions}


def latency_figures(api: str) -> dict[str, Any]:
    session = requests.Session()
    date = (dt.date.today() + dt.timedelta(days=45)).isoformat()
    price = f"{api}/flights/price"
    params = {"origin": "JFK", "destination": "LAX", "date": date}
    warmed = session.get(price, params=params, timeout=30)
    if warmed.status_code != 200:
        raise RuntimeError(f"could not warm the key: {warmed.status_code} {warmed.text[:200]}")
    for _ in range(20):  # every instance warm, every connection open
        session.get(f"{api}/flights/ping", timeout=30)
        session.get(price, params=params, timeout=30)
    pings: list[float] = []
    hits: list[float] = []
    not_cached = 0
    for _ in range(LATENCY_SAMPLES):
        started = time.perf_counter()
        session.get(f"{api}/flights/ping", timeout=30).raise_for_status()
        pings.append(time.perf_counter() - started)
        started = time.perf_counter()
        answer = session.get(price, params=params, timeout=30)
        hits.append(time.perf_counter() - started)
        answer.raise_for_status()
        not_cached += 0 if answer.json()["meta"]["cached"] else 1
    figures = {
        "ping_p50_ms": percentile(pings, 0.5) * 1000,
        "ping_p95_ms": percentile(pings, 0.95) * 1000,
        "hit_p50_ms": percentile(hits, 0.5) * 1000,
        "hit_p95_ms": percentile(hits, 0.95) * 1000,
    }
    rounded: dict[str, Any] = {name: round(value, 2) for name, value in figures.items()}
    rounded["hit_to_ping_p50_ratio"] = round(figures["hit_p50_ms"] / figures["ping_p50_ms"], 2)
    rounded["hit_to_ping_p95_ratio"] = round(figures["hit_p95_ms"] / figures["ping_p95_ms"], 2)
    rounded["samples"] = LATENCY_SAMPLES
    rounded["hits_not_cached"] = not_cached
    return rounded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    with running_stack() as stack:
        figures = {"init": init_figures(stack), "latency": latency_figures(stack.api_url)}
    init, latency = figures["init"], figures["latency"]
    print("7) Init per function (import + warm-up against the local stack, median of 5 fresh interpreters)")
    print(f"   import boto3: {init['import_boto3_ms']:.0f} ms")
    for name, values in init["functions"].items():
        print(f"   {name:<24} {values['init_ms']:6.0f} ms  ({values['init_ratio_to_boto3']:.2f}x boto3)")
    print(f"\n8) Local hit latency through the gateway ({latency['samples']} each, interleaved)")
    print(f"   /flights/ping:       p50 {latency['ping_p50_ms']:.1f} ms  p95 {latency['ping_p95_ms']:.1f} ms")
    print(f"   /flights/price hit:  p50 {latency['hit_p50_ms']:.1f} ms  p95 {latency['hit_p95_ms']:.1f} ms")
    print(
        f"   hit / ping: p50 {latency['hit_to_ping_p50_ratio']:.2f}x  "
        f"p95 {latency['hit_to_ping_p95_ratio']:.2f}x   (answers not cached: {latency['hits_not_cached']})\n"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("FAREWATCH_POLL_INTERVAL_SECONDS", "0")
    sys.exit(main())
