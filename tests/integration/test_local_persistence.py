"""The embedded AWS keeps its state in the data folder: restored on the next start, saved every few
seconds and at stop. In one process moto's backends are shared, so a "new process" here is a reset
of every backend followed by a start on the same state file."""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.core.base_backend import BackendDict

from farewatch_local import aws as embedded
from farewatch_local.aws import AwsStateError, EmbeddedAws, client, provision
from farewatch_local.stack import LocalStack, StackConfig, StackError
from farewatch_local.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def new_process() -> None:
    """What a fresh interpreter has: no moto backend at all."""
    BackendDict.reset()


@pytest.fixture
def state_file(tmp_path: Path) -> Iterator[Path]:
    new_process()
    yield tmp_path / "aws-state.pickle"
    new_process()


def started(state_file: Path) -> EmbeddedAws:
    aws = EmbeddedAws("127.0.0.1", 0, state_file)
    aws.start()
    provision(load_template(TEMPLATE), aws.url)
    return aws


def test_tables_queues_and_secrets_survive_a_clean_stop(state_file: Path) -> None:
    first = started(state_file)
    client("dynamodb", first.url).put_item(TableName="UsersTable", Item={"pk": {"S": "user#1"}})
    sqs = client("sqs", first.url)
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="PollQueue")["QueueUrl"], MessageBody="route#1")
    signing_key = client("secretsmanager", first.url).get_secret_value(SecretId="JwtSigningKey")[
        "SecretString"
    ]
    first.stop()
    new_process()

    second = started(state_file)
    try:
        item = client("dynamodb", second.url).get_item(TableName="UsersTable", Key={"pk": {"S": "user#1"}})
        sqs = client("sqs", second.url)
        queue_url = sqs.get_queue_url(QueueName="PollQueue")["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", [])
        key = client("secretsmanager", second.url).get_secret_value(SecretId="JwtSigningKey")["SecretString"]
    finally:
        second.stop()

    assert item["Item"]["pk"] == {"S": "user#1"}
    assert [message["Body"] for message in messages] == ["route#1"]
    assert key == signing_key  # tokens signed before the restart still verify
    assert second.restored_from is not None


def test_what_other_services_hold_survives_too(state_file: Path) -> None:
    first = started(state_file)
    ses = client("sesv2", first.url)
    ses.create_email_identity(EmailIdentity="alerts@farewatch.example")
    ses.send_email(
        FromEmailAddress="alerts@farewatch.example",
        Destination={"ToAddresses": ["alice@example.com"]},
        Content={"Simple": {"Subject": {"Data": "Price drop"}, "Body": {"Text": {"Data": "JFK-LAX 240"}}}},
    )
    first.stop()
    new_process()

    second = started(state_file)
    try:
        identities = client("sesv2", second.url).list_email_identities()["EmailIdentities"]
        sent = client("ses", second.url).get_send_statistics()["SendDataPoints"]
    finally:
        second.stop()

    assert [identity["IdentityName"] for identity in identities] == ["alerts@farewatch.example"]
    assert sum(point["DeliveryAttempts"] for point in sent) == 1


def test_a_change_is_on_disk_within_seconds_without_a_stop(state_file: Path) -> None:
    aws = started(state_file)
    try:
        time.sleep(0.1)
        client("dynamodb", aws.url).put_item(
            TableName="AlertsTable", Item={"user_id": {"S": "u"}, "alert_id": {"S": "a"}}
        )
        written_at = time.time()
        deadline = written_at + embedded.SNAPSHOT_SECONDS + 5
        saved = {"saved_at": 0.0}
        while time.time() < deadline and saved["saved_at"] <= written_at:
            time.sleep(0.2)
            if state_file.exists():
                saved = pickle.loads(state_file.read_bytes())
    finally:
        aws._stopping.set()  # a crash: the periodic snapshot was the last one written
    new_process()

    assert saved["saved_at"] - written_at <= embedded.SNAPSHOT_SECONDS + 1
    second = started(state_file)
    try:
        found = client("dynamodb", second.url).get_item(
            TableName="AlertsTable", Key={"user_id": {"S": "u"}, "alert_id": {"S": "a"}}
        )
    finally:
        second.stop()
    assert "Item" in found


def test_an_unreadable_state_file_is_one_clear_error_and_is_kept(state_file: Path) -> None:
    state_file.write_bytes(b"not a pickle")

    with pytest.raises(AwsStateError, match=r"cannot be read .*make dev-reset"):
        EmbeddedAws("127.0.0.1", 0, state_file).start()
    assert state_file.read_bytes() == b"not a pickle"


def test_a_state_file_of_another_moto_version_is_refused(state_file: Path) -> None:
    state_file.write_bytes(pickle.dumps({"moto": "0.0.1", "saved_at": 0, "backends": {}}))

    with pytest.raises(AwsStateError, match=r"saved by moto 0\.0\.1"):
        EmbeddedAws("127.0.0.1", 0, state_file).start()


def test_a_saved_table_whose_keys_the_template_has_changed_is_refused(state_file: Path) -> None:
    aws = EmbeddedAws("127.0.0.1", 0, state_file)
    aws.start()
    try:
        client("dynamodb", aws.url).create_table(
            TableName="UsersTable",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        with pytest.raises(AwsStateError, match="saved table UsersTable has other keys or indexes"):
            provision(load_template(TEMPLATE), aws.url)
    finally:
        aws.stop()


def test_a_second_stack_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "stack.json").write_text(json.dumps({"pid": 4242}))
    first = embedded_folder_lock(data)
    try:
        with pytest.raises(StackError, match=r"another local stack \(pid 4242\) is running"):
            LocalStack(StackConfig(api_port=0, simulator_port=0, aws_port=0, data_dir=data)).start()
    finally:
        first.stop()


def embedded_folder_lock(folder: Path):  # type: ignore[no-untyped-def]
    from farewatch_local.stack import _DataFolder

    return _DataFolder(folder, reset=False)


def test_reset_empties_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "aws-state.pickle").write_bytes(b"old")

    embedded_folder_lock(data).stop()
    assert (data / "aws-state.pickle").exists()
    from farewatch_local.stack import _DataFolder

    _DataFolder(data, reset=True).stop()
    assert not (data / "aws-state.pickle").exists()
