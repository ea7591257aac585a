"""`make dev` as a newcomer meets it: data that survives Ctrl-C and kill -9, `make dev-reset`,
`make grant-admin` from another terminal, a schedule that turns a price change into an alert with no
`POST /__local/poll`, and functions in processes that never wait for each other."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ROOT, DevStack, developer_environment
from tests.support.parallel import side_by_side

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


def register_and_sign_in(stack: DevStack, email: str) -> str:
    assert (
        stack.call("POST", "/auth/register", json={"email": email, "password": PASSWORD}).status_code == 202
    )
    return sign_in(stack, email)


def sign_in(stack: DevStack, email: str) -> str:
    login = stack.call("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["data"]["access_token"])


def day(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def track(
    stack: DevStack, token: str, origin: str, destination: str, date: str, **fields: Any
) -> dict[str, Any]:
    body = {"origin": origin, "destination": destination, "departure_date": date, **fields}
    created = stack.call("POST", "/tracked-flights", token=token, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json()["data"])


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """`make dev` with its defaults, on its own data folder; the tests stop and start it."""
    folder = tmp_path_factory.mktemp("restartable")
    stack = DevStack(developer_environment(folder / "data"), folder / "stack.log").start()
    yield stack
    if stack.process is not None:
        stack.stop()
    assert not any("Traceback" in output for output in stack.logs)


def test_the_banner_prints_the_data_folder_and_the_local_cadence(restartable: DevStack) -> None:
    banner = restartable.log_text()
    data = restartable.env["FAREWATCH_DATA_DIR"]

    assert (
        f"Data         {data} (empty at start; saved every 2 s and at stop; make dev-reset starts empty)"
        in banner
    )
    assert "PollDispatcherFunction every 30 s locally, every watched route" in banner
    assert "Fare cache   60 s" in banner
    assert "PriceFunction x2, UsersFunction x2" in banner


def test_after_ctrl_c_and_make_dev_again_the_account_tracker_and_history_are_there(
    restartable: DevStack,
) -> None:
    email, date = f"restart-{uuid.uuid4().hex[:8]}@example.com", day(60)
    old_token = register_and_sign_in(restartable, email)
    tracker = track(restartable, old_token, "BOS", "SEA", date, notify_on_any_drop=True)

    output = restartable.stop(signal.SIGINT)
    restartable.start()

    assert output.rstrip().endswith(
        f"farewatch-local: stopped (data saved in {restartable.env['FAREWATCH_DATA_DIR']})"
    )
    assert "restored as saved at" in restartable.log_text()
    token = sign_in(restartable, email)  # the old password
    listed = restartable.call("GET", f"/tracked-flights/{tracker['id']}", token=token)
    assert listed.status_code == 200 and listed.json()["data"]["current_price"] == tracker["current_price"]
    history = restartable.get("/flights/history", origin="BOS", destination="SEA", date=date).json()["data"]
    assert history["count"] >= 1 and history["latest"] == f"{tracker['current_price']} USD"
    # The signing key survived: a token issued before the restart still works.
    assert restartable.call("GET", "/users/me", token=old_token).json()["data"]["email"] == email


def test_kill_9_loses_at_most_the_last_seconds(restartable: DevStack) -> None:
    email = f"killed-{uuid.uuid4().hex[:8]}@example.com"
    register_and_sign_in(restartable, email)
    written_at = time.time()
    state_file = restartable.env["FAREWATCH_DATA_DIR"] + "/aws-state.pickle"
    deadline = written_at + 10
    while time.time() < deadline:  # the periodic snapshot, every 2 s while something changed
        with open(state_file, "rb") as file:
            if pickle.load(file)["saved_at"] > written_at:
                break
        time.sleep(0.2)
    saved_after = time.time() - written_at

    restartable.stop(signal.SIGKILL)
    restartable.start()

    assert saved_after < 4
    sign_in(restartable, email)


def test_a_second_stack_on_the_same_data_folder_explains_itself(restartable: DevStack) -> None:
    env = {**restartable.env, **developer_environment(restartable.env["FAREWATCH_DATA_DIR"])}  # type: ignore[arg-type]
    second = subprocess.run(
        [sys.executable, "-m", "farewatch_local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert second.returncode == 1
    assert re.fullmatch(
        r"farewatch-local: another local stack \(pid \d+\) is running with .*; stop it first\n", second.stderr
    )


def test_make_grant_admin_from_another_terminal_finds_the_running_stack(restartable: DevStack) -> None:
    email = f"operator-{uuid.uuid4().hex[:8]}@example.com"
    token = register_and_sign_in(restartable, email)
    # Another terminal: neither the ports nor the endpoint, only the data folder (make dev's default).
    env = {key: value for key, value in restartable.env.items() if not key.startswith("FAREWATCH_")}
    env["FAREWATCH_DATA_DIR"] = restartable.env["FAREWATCH_DATA_DIR"]

    granted = subprocess.run(
        ["make", "--no-print-directory", "grant-admin", f"EMAIL={email}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.strip().endswith(f"{email} is now admin")
    assert restartable.call("GET", "/users", token=token).status_code == 200


def test_make_dev_reset_starts_empty(restartable: DevStack) -> None:
    email = f"reset-{uuid.uuid4().hex[:8]}@example.com"
    register_and_sign_in(restartable, email)
    restartable.stop()

    restartable.start("--reset")

    assert "emptied, the local stack starts with no data" in restartable.log_text()
    assert (
        restartable.call("POST", "/auth/login", json={"email": email, "password": PASSWORD}).status_code
        == 401
    )


# -- the schedule ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ticking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """The local schedule on a one-second clock, with fares fresh three seconds: the minute of the
    defaults (30 s ticks, 60 s fares), compressed."""
    folder = tmp_path_factory.mktemp("ticking")
    env = developer_environment(
        folder / "data", FAREWATCH_POLL_INTERVAL_SECONDS="1", FARE_CACHE_TTL_SECONDS="3"
    )
    stack = DevStack(env, folder / "stack.log").start()
    yield stack
    assert "Traceback" not in stack.stop()


def test_a_pinned_price_change_becomes_an_alert_without_a_manual_poll(ticking: DevStack) -> None:
    date = day(70)
    token = register_and_sign_in(ticking, f"schedule-{uuid.uuid4().hex[:8]}@example.com")
    tracker = track(ticking, token, "ORD", "MIA", date, notify_on_any_drop=True)
    lower = round(float(tracker["current_price"]) * 0.8, 2)

    requests.put(
        f"{ticking.sim}/__sim/prices/ORD/MIA/{date}", json={"amount": lower}, timeout=5
    ).raise_for_status()
    deadline, alerts = time.monotonic() + 30, []
    while not alerts and time.monotonic() < deadline:
        time.sleep(0.5)
        alerts = ticking.call("GET", "/alerts", token=token).json()["data"]

    assert [(alert["kind"], alert["price"]) for alert in alerts] == [("price_drop", f"{lower:.2f}")]
    one_line = (
        r"poll cycle \(schedule\): \d+ routes polled, \d+ upstream calls, \d+ alerts created, "
        r"\d+ notifications in \d+\.\d s"
    )
    cycles = [line for line in ticking.log_text().splitlines() if line.startswith("poll cycle (schedule): ")]
    assert cycles and all(re.fullmatch(one_line, line) for line in cycles)


# -- functions in processes ------------------------------------------------------------------------


def both_instances_warm(stack: DevStack, function: str, path: str) -> None:
    """Requests side by side until the pool's second instance has started (the pool starts one lazily,
    when a request finds the first busy), so that what follows runs in two processes at once."""
    for _ in range(20):
        if f"{function}#2 cold start" in stack.log_text():
            return
        side_by_side(*[lambda: stack.call("GET", path)] * 4)
    pytest.fail(f"{function} never started a second instance")


def test_a_slow_price_request_leaves_users_me_unaffected(dev_stack: DevStack) -> None:
    token = register_and_sign_in(dev_stack, f"sidebyside-{uuid.uuid4().hex[:8]}@example.com")

    def timed_me_calls() -> list[float]:
        times = []
        for _ in range(100):
            started = time.perf_counter()
            assert dev_stack.call("GET", "/users/me", token=token).status_code == 200
            times.append(time.perf_counter() - started)
        return times

    both_instances_warm(dev_stack, "UsersFunction", "/users/me")
    alone = timed_me_calls()
    dev_stack.sim_fault("timeout", count=2)  # the next two searches each outlast the 10 s read timeout
    slow_started = time.perf_counter()
    slow, beside = side_by_side(
        lambda: dev_stack.get("/flights/price", origin="DEN", destination="SFO", date=day(80)),
        lambda: (time.sleep(0.5), timed_me_calls())[1],
    )
    slow_seconds = time.perf_counter() - slow_started

    print(
        f"\n/users/me p50 alone {statistics.median(alone) * 1000:.1f} ms, beside the slow price request "
        f"{statistics.median(beside) * 1000:.1f} ms (max {max(beside) * 1000:.0f} ms); 100 calls took "
        f"{sum(beside):.1f} s while the price request took {slow_seconds:.1f} s ({slow.status_code})"
    )
    assert slow_seconds > 10 and sum(beside) < slow_seconds / 2
    assert statistics.median(beside) < max(0.25, 3 * statistics.median(alone))


def test_concurrent_cold_price_requests_across_processes_make_one_upstream_search(
    dev_stack: DevStack,
) -> None:
    both_instances_warm(dev_stack, "PriceFunction", "/flights/ping")
    date, before = day(90), dev_stack.searches_served()

    answers = side_by_side(
        *[lambda: dev_stack.get("/flights/price", origin="SFO", destination="JFK", date=date)] * 8
    )

    assert [answer.status_code for answer in answers] == [200] * 8
    assert dev_stack.searches_served() - before == 1
    assert {answer.json()["data"]["price"] for answer in answers} == {answers[0].json()["data"]["price"]}
    served = re.findall(
        rf"GET /flights/price\?origin=SFO&destination=JFK&date={date} 200 \S+ (PriceFunction#\d)",
        dev_stack.log_text(),
    )
    assert len(set(served)) == 2  # both instances (processes) answered


def test_concurrent_creations_across_processes_never_pass_the_tracker_limit(dev_stack: DevStack) -> None:
    both_instances_warm(dev_stack, "UsersFunction", "/users/me")
    token = register_and_sign_in(dev_stack, f"limit-{uuid.uuid4().hex[:8]}@example.com")
    date = day(100)
    track(dev_stack, token, "LHR", "CDG", date, notify_on_any_drop=True)  # the route's fare is cached now

    def create(target: int) -> Callable[[], int]:  # 55 different trackers (the same twice is no copy)
        body = {"origin": "LHR", "destination": "CDG", "departure_date": date, "target_price": f"{target}.00"}
        return lambda: dev_stack.call("POST", "/tracked-flights", token=token, json=body).status_code

    statuses = side_by_side(*[create(100 + n) for n in range(55)])

    assert sorted(statuses) == [201] * 49 + [409] * 6  # 50 active trackers at most (MAX_ACTIVE_TRACKERS)
    assert len(dev_stack.call("GET", "/tracked-flights", token=token).json()["data"]) == 50


def test_concurrent_updates_with_one_version_let_exactly_one_win(dev_stack: DevStack) -> None:
    token = register_and_sign_in(dev_stack, f"version-{uuid.uuid4().hex[:8]}@example.com")
    tracker = track(dev_stack, token, "MAD", "BCN", day(110), target_price="80.00")

    for version in range(1, 6):
        statuses = side_by_side(
            *[
                lambda price=price, version=version: (
                    dev_stack.call(
                        "PATCH",
                        f"/tracked-flights/{tracker['id']}",
                        token=token,
                        json={"target_price": f"{price}.00", "version": version},
                    ).status_code
                )
                for price in (70, 60)
            ]
        )
        assert sorted(statuses) == [200, 409]


def test_concurrent_uses_of_one_refresh_token_never_both_succeed(dev_stack: DevStack) -> None:
    email = f"refresh-{uuid.uuid4().hex[:8]}@example.com"
    register_and_sign_in(dev_stack, email)
    for _ in range(3):
        login = dev_stack.call("POST", "/auth/login", json={"email": email, "password": PASSWORD})
        refresh_token = login.json()["data"]["refresh_token"]

        statuses = side_by_side(
            *[
                lambda token=refresh_token: (
                    dev_stack.call("POST", "/auth/refresh", json={"refresh_token": token}).status_code
                )
            ]
            * 2
        )

        assert statuses.count(200) <= 1 and set(statuses) <= {200, 401}


def test_each_functions_log_lines_carry_its_own_name(dev_stack: DevStack) -> None:
    date = day(120)
    token = register_and_sign_in(dev_stack, f"logs-{uuid.uuid4().hex[:8]}@example.com")
    track(dev_stack, token, "SEA", "BOS", date, notify_on_any_drop=True)  # UsersFunction fetches the fare
    dev_stack.get("/flights/price", origin="SEA", destination="BOS", date=date, nocache="1")  # PriceFunction

    searched = [
        json.loads(line)
        for line in dev_stack.log_text().splitlines()
        if line.startswith("{") and f'"fare_query":"SEA#BOS#{date}#1#USD"' in line
    ]

    assert [line["function_name"] for line in searched] == ["UsersFunction", "PriceFunction"]
