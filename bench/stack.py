"""Bench: figures taken through the `make dev` stack, each a ratio measured within this one run.

1. Cold start per function: a fresh interpreter with the function's own environment (the one the
   local stack gives its instances: PYTHONPATH of its code and layer, its variables, the embedded AWS
   and the simulator) imports the handler module, which runs its warm-up (the token for the price
   function): its *init*. The same interpreter then handles one typical first event of that function
   (a cache miss for the price function, a signed-in `GET /users/me` and `GET /tracked-flights` for
   the users function, one SQS batch for the workers, a schedule tick for the dispatcher, the page for
   the web function): its *first request*. Their sum is the *cold total*, what a cold container costs
   the caller who meets it, so that a cost moved from init to the first request does not pass for a
   saving. Compared with a bare `import boto3` in the same environment, interleaved, median of 5.
   `--before <tree>` also runs every case with another checkout's functions and layer (the same
   stack, interleaved with this tree's), for before/after figures measured in one run.
2. Hit latency: sequential GET /flights/price cache hits on one warmed key, interleaved with
   GET /flights/ping through the same gateway, p50/p95 of each and their ratio.

Runs in its own process (the local stack's AWS must not meet the bench's in-process moto):

    python -m bench.stack --json <file> [--before <checkout>]   # writes its figures there, prints them
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
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

INIT_SAMPLES = 5
LATENCY_SAMPLES = 300
ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench cold start password"
# A fresh interpreter: the handler's import (init), then one event through the handler (first request).
# Only the standard library before the handler, as in Lambda's runtime and the local stack's instances.
_COLD_START = """
import importlib, json, sys, time
started = time.perf_counter()
module = importlib.import_module(sys.argv[1])
initialised = time.perf_counter()
if len(sys.argv) == 2:
    print(json.dumps({"init": initialised - started}))
    sys.exit(0)

class Context:
    function_version, log_group_name, log_stream_name = "$LATEST", "", ""
    identity = client_context = None
    aws_request_id = "bench-cold-start"
    def __init__(self, name):
        self.function_name, self.memory_limit_in_mb = name, 512
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + name
        self.deadline = time.monotonic() + 60
    def get_remaining_time_in_millis(self):
        return int((self.deadline - time.monotonic()) * 1000)

with open(sys.argv[3]) as file:
    event = json.load(file)
context = Context(sys.argv[4])
handled = time.perf_counter()
answer = getattr(module, sys.argv[2])(event, context)
done = time.perf_counter()
print(json.dumps({"init": initialised - started, "first": done - handled, "answer": answer}, default=str))
"""


@dataclass(frozen=True)
class FirstEvent:
    """A function's typical first event: `event(n)` builds the n-th one (n is unique in the run, so a
    price miss is a miss every time); `expect` says the answer is the one meant."""

    name: str  # the figure's name: the function's logical id, or that plus the request
    function: str  # logical id in template.yaml
    request: str  # what the event is, for the printout
    event: Callable[[int], dict[str, Any]]
    expect: Callable[[Any], bool]


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


def api_event(
    method: str, path: str, query: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A REST API proxy event as API Gateway sends it (the parts our functions and Powertools read)."""
    sent = {"Host": "127.0.0.1", "User-Agent": "bench", "X-Forwarded-Proto": "http", **(headers or {})}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {name: [value] for name, value in sent.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {name: [value] for name, value in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/local{path}",
            "accountId": "123456789012",
            "stage": "local",
            "requestId": "bench-cold-start",
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "bench"},
            "domainName": "127.0.0.1",
            "apiId": "local",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def sqs_event(body: dict[str, Any], queue: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
        ]
    }


def _status(expected: int) -> Callable[[Any], bool]:
    return lambda answer: isinstance(answer, dict) and answer.get("statusCode") == expected


def _no_failures(answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("batchItemFailures") == []


def _price_miss(answer: Any) -> bool:
    return _status(200)(answer) and json.loads(answer["body"])["meta"]["cached"] is False


def first_events(api: str) -> list[FirstEvent]:
    """One traveller signed up through the stack, with one tracker (whose watched route the worker
    polls); then each function's first event."""
    session = requests.Session()
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    session.post(f"{api}/auth/register", json={"email": email, "password": PASSWORD}, timeout=60)
    login = session.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD}, timeout=60)
    login.raise_for_status()
    signed_in = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    user = session.get(f"{api}/users/me", headers=signed_in, timeout=60).json()["data"]
    departure = (dt.date.today() + dt.timedelta(days=45)).isoformat()
    tracker = {"origin": "JFK", "destination": "LAX", "departure_date": departure, "notify_on_any_drop": True}
    session.post(f"{api}/tracked-flights", json=tracker, headers=signed_in, timeout=60).raise_for_status()
    route_key = f"JFK#LAX#{departure}#1#USD"  # FareQuery.cache_key of a one-way economy trip

    def price_miss(n: int) -> dict[str, Any]:
        day = (dt.date.today() + dt.timedelta(days=60 + n)).isoformat()
        return api_event("GET", "/flights/price", {"origin": "BOS", "destination": "SFO", "date": day})

    def password_reset(n: int) -> dict[str, Any]:
        mail = {"kind": "password_reset", "user_id": user["id"], "email": email, "token": uuid.uuid4().hex}
        return sqs_event({"account_mail": mail}, "NotifyQueue")

    tick = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    return [
        FirstEvent("PriceFunction", "PriceFunction", "GET /flights/price (a miss)", price_miss, _price_miss),
        FirstEvent(
            "UsersFunction",
            "UsersFunction",
            "GET /users/me (signed in)",
            lambda n: api_event("GET", "/users/me", headers=signed_in),
            _status(200),
        ),
        FirstEvent(
            "UsersFunction_trackers",
            "UsersFunction",
            "GET /tracked-flights (signed in)",
            lambda n: api_event("GET", "/tracked-flights", headers=signed_in),
            _status(200),
        ),
        FirstEvent(
            "PollWorkerFunction",
            "PollWorkerFunction",
            "one SQS batch (one watched route)",
            lambda n: sqs_event({"route_key": route_key}, "PollQueue"),
            _no_failures,
        ),
        FirstEvent(
            "PollDispatcherFunction",
            "PollDispatcherFunction",
            "a schedule tick",
            lambda n: {**tick, "id": str(uuid.uuid4()), "time": dt.datetime.now(dt.UTC).isoformat()},
            lambda answer: isinstance(answer, dict) and "routes_enqueued" in answer,
        ),
        FirstEvent(
            "NotifierFunction",
            "NotifierFunction",
            "one SQS record (an account mail)",
            password_reset,
            _no_failures,
        ),
        FirstEvent(
            "WebFunction", "WebFunction", "GET / (the page)", lambda n: api_event("GET", "/"), _status(200)
        ),
    ]


def _in_tree(environment: dict[str, str], cwd: str, tree: Path | None) -> tuple[dict[str, str], str]:
    """The same environment with another checkout's code and layer (`tree`), or this one's."""
    if tree is None:
        return environment, cwd
    here, there = str(ROOT), str(tree.resolve())
    return {name: value.replace(here, there) for name, value in environment.items()}, cwd.replace(here, there)


def _cold_start(
    handler: str, environment: dict[str, str], cwd: str, case: FirstEvent | None = None, n: int = 0
) -> dict[str, Any]:
    """`handler` (`module.function`, or a module alone: its import only) in a fresh interpreter."""
    module, _, function = handler.rpartition(".") if case is not None else (handler, "", "")
    arguments = [sys.executable, "-c", _COLD_START, module]
    with tempfile.TemporaryDirectory() as folder:
        if case is not None:
            event_file = Path(folder) / "event.json"
            event_file.write_text(json.dumps(case.event(n)))
            function_name = environment.get("AWS_LAMBDA_FUNCTION_NAME", case.function)
            arguments += [function, str(event_file), function_name]
        output = subprocess.run(  # nosec B603  # our own interpreter and module
            arguments, env=environment, cwd=cwd, capture_output=True, text=True, check=False
        )
    if output.returncode != 0:
        raise RuntimeError(f"{module} failed in a fresh interpreter:\n{output.stderr[-2000:]}")
    measured: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    if case is not None and not case.expect(measured.get("answer")):
        raise RuntimeError(f"{case.name}: {case.request} did not answer as meant: {str(measured)[:500]}")
    return measured


def init_figures(stack: Any, before: Path | None = None, runs: int = INIT_SAMPLES) -> dict[str, Any]:
    """Median init, first request and cold total of each function, and of `import boto3`, sampled in
    turns (this tree, then `before`'s, case by case)."""
    pools = dict(stack.functions.items())
    cases = first_events(stack.api_url)
    trees: dict[str, Path | None] = {"after": None, **({"before": before} if before is not None else {})}
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {(t, c.name): [] for t in trees for c in cases}
    boto3_samples: list[float] = []
    price_pool = pools["PriceFunction"]
    n = 0
    for _ in range(runs):
        boto3_samples.append(
            _cold_start("boto3", price_pool._environment, str(price_pool.function.code_uri))["init"]
        )
        for case in cases:
            pool = pools[case.function]
            for tree_name, tree in trees.items():
                n += 1
                environment, cwd = _in_tree(pool._environment, str(pool.function.code_uri), tree)
                samples[(tree_name, case.name)].append(
                    _cold_start(pool.function.handler, environment, cwd, case, n)
                )
    boto3_ms = statistics.median(boto3_samples) * 1000
    figures: dict[str, Any] = {"import_boto3_ms": round(boto3_ms, 1)}
    for tree_name in trees:
        functions: dict[str, Any] = {}
        for case in cases:
            measured = samples[(tree_name, case.name)]
            init_ms = statistics.median(m["init"] for m in measured) * 1000
            first_ms = statistics.median(m["first"] for m in measured) * 1000
            total_ms = statistics.median(m["init"] + m["first"] for m in measured) * 1000
            functions[case.name] = {
                "first_request": case.request,
                "init_ms": round(init_ms, 1),
                "init_ratio_to_boto3": round(init_ms / boto3_ms, 2),
                "first_request_ms": round(first_ms, 1),
                "cold_total_ms": round(total_ms, 1),
                "cold_total_ratio_to_boto3": round(total_ms / boto3_ms, 2),
            }
        figures["functions" if tree_name == "after" else "before"] = functions
    return figures


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


def _print_cold_starts(title: str, functions: dict[str, Any]) -> None:
    print(f"   {title}")
    print(f"   {'':<24} {'init':>14} {'first request':>14} {'cold total':>18}   first request")
    for name, values in functions.items():
        print(
            f"   {name:<24} {values['init_ms']:6.0f} ms {values['init_ratio_to_boto3']:5.2f}x"
            f" {values['first_request_ms']:11.0f} ms {values['cold_total_ms']:9.0f} ms"
            f" {values['cold_total_ratio_to_boto3']:5.2f}x   {values['first_request']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout whose functions and layer run interleaved (before/after)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=INIT_SAMPLES,
        help=f"fresh interpreters per case and tree (default {INIT_SAMPLES}); more for a noisy machine",
    )
    args = parser.parse_args(argv)
    with running_stack() as stack:
        figures = {
            "init": init_figures(stack, args.before, args.samples),
            "latency": latency_figures(stack.api_url),
        }
    init, latency = figures["init"], figures["latency"]
    print(
        f"7) Cold start per function (median of {args.samples} fresh interpreters; init = import + warm-up"
        " against the local stack; x = / import boto3 in the same run)"
    )
    print(f"   import boto3: {init['import_boto3_ms']:.0f} ms")
    _print_cold_starts("this tree:", init["functions"])
    if "before" in init:
        _print_cold_starts(f"before ({args.before}):", init["before"])
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
