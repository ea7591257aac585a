"""The smoke suite `make sam-local-test` runs through `sam local` (inside its network namespace): the
API through `sam local start-api` on :3000 and the poller through `sam local invoke`, every function in
a Lambda container that reaches the local stack's AWS (:4566) and simulator (:8081) through env.json.
Not collected by `make test` (run it with `python -m tests.sam_local`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SAM_API, SIMULATOR, AWS = (f"http://127.0.0.1:{port}" for port in (3000, 8081, 4566))
DATE = (dt.date.today() + dt.timedelta(days=40)).isoformat()
PASSWORD = "correct horse battery"
TIMEOUT = 120  # a request may start a container


def sam_invoke(function: str, event: dict[str, Any]) -> Any:
    """`sam local invoke` with the event; the function's answer (the last line SAM prints)."""
    event_file = Path(os.environ["SAM_LOCAL_WORK"]) / f"{function}-event.json"
    event_file.write_text(json.dumps(event))
    sam = [str(ROOT / ".venv-sam/bin/sam"), "local", "invoke", function, "--event", str(event_file)]
    options = ["--env-vars", "env.json", "--add-host", "host.docker.internal:172.17.0.1", "--skip-pull-image"]
    result = subprocess.run(
        [*sam, *options, "--region", "us-east-1"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def searches() -> int:
    return int(requests.get(f"{SIMULATOR}/__sim/stats", timeout=10).json()["search_requests"])


@pytest.fixture(scope="module")
def signed_in() -> str:
    email = f"sam-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD}
    registered = requests.post(f"{SAM_API}/auth/register", json=body, timeout=TIMEOUT)
    assert registered.status_code == 202, registered.text
    login = requests.post(f"{SAM_API}/auth/login", json=body, timeout=TIMEOUT)
    assert login.status_code == 200, login.text
    return str(login.json()["data"]["access_token"])


def test_ping_answers_pong_from_a_lambda_container() -> None:
    answer = requests.get(f"{SAM_API}/flights/ping", timeout=TIMEOUT)

    assert (answer.status_code, answer.json()) == (200, {"data": "pong"})


def test_the_second_price_request_is_a_cache_hit() -> None:
    query = {"origin": "JFK", "destination": "LAX", "date": DATE}
    before = searches()

    first = requests.get(f"{SAM_API}/flights/price", params=query, timeout=TIMEOUT)
    second = requests.get(f"{SAM_API}/flights/price", params=query, timeout=TIMEOUT)

    assert (first.status_code, second.status_code) == (200, 200), first.text + second.text
    assert (first.json()["meta"]["cached"], second.json()["meta"]["cached"]) == (False, True)
    assert first.json()["data"]["price"] == second.json()["data"]["price"]
    assert searches() - before == 1


def test_a_signed_in_user_reads_their_profile(signed_in: str) -> None:
    me = requests.get(
        f"{SAM_API}/users/me", headers={"Authorization": f"Bearer {signed_in}"}, timeout=TIMEOUT
    )

    assert me.status_code == 200 and me.json()["data"]["role"] == "user"


def test_a_drop_on_a_tracked_route_reaches_alerts_through_the_dispatcher_and_a_worker(signed_in: str) -> None:
    headers = {"Authorization": f"Bearer {signed_in}"}
    body = {"origin": "BOS", "destination": "SEA", "departure_date": DATE, "notify_on_any_drop": True}
    created = requests.post(f"{SAM_API}/tracked-flights", json=body, headers=headers, timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    lower = round(float(created.json()["data"]["current_price"]) * 0.8, 2)
    pin = {"amount": lower}
    requests.put(f"{SIMULATOR}/__sim/prices/BOS/SEA/{DATE}", json=pin, timeout=10).raise_for_status()
    query = {"origin": "BOS", "destination": "SEA", "date": DATE, "nocache": "1"}
    assert requests.get(f"{SAM_API}/flights/price", params=query, timeout=TIMEOUT).status_code == 200

    dispatched = sam_invoke(
        "PollDispatcherFunction", {"detail-type": "Scheduled Event", "detail": {"poll_now": True}}
    )
    sqs = boto3.client(
        "sqs", endpoint_url=AWS, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    queue = sqs.get_queue_url(QueueName="PollQueue")["QueueUrl"]
    messages = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2, AttributeNames=["All"]
    )
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:PollQueue",
            "awsRegion": "us-east-1",
        }
        for message in messages.get("Messages", [])
    ]
    worked = sam_invoke("PollWorkerFunction", {"Records": records})

    assert dispatched["routes_enqueued"] >= 1
    assert records and worked["batchItemFailures"] == []
    alerts = requests.get(f"{SAM_API}/alerts", headers=headers, timeout=TIMEOUT).json()["data"]
    assert [(alert["kind"], alert["price"]) for alert in alerts] == [("price_drop", f"{lower:.2f}")]
