"""Embedded AWS: moto's server in this process, the resources of template.yaml in it, and its state on disk.

moto answers one request at a time. DynamoDB applies each write and transaction atomically; moto does
not across threads, and the function processes call it concurrently. The same lock makes a snapshot
consistent: every moto backend in use (tables, queues, secrets, and whatever the functions create,
SES mail for instance) is pickled between two requests, every SNAPSHOT_SECONDS while something
changed and once more at stop, and put back before the first request of the next start.
"""

from __future__ import annotations

import json
import logging
import os
import pickle  # nosec B403  # the stack's own snapshots, in the developer's own data folder
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import boto3
import moto
from botocore.exceptions import ClientError
from moto.backends import get_backend
from moto.core.base_backend import BackendDict
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from fare_sim.server import RunningServer, start
from farewatch_local.template import REGION, QueueSpec, TableSpec, Template

logger = logging.getLogger(__name__)

LOCAL_KEY = "farewatch-local"  # the embedded AWS takes any credentials; these say where a call came from
SNAPSHOT_SECONDS = 2.0  # what a kill -9 can lose at most
_LOCKS = (type(threading.Lock()), type(threading.RLock()), threading.Condition, threading.Event)


class AwsStateError(Exception):
    """The saved state cannot be used; the message says why and how to start empty."""


def client(service: str, endpoint_url: str | None) -> Any:
    """A boto3 client of the embedded AWS (endpoint None: moto's in-process mock inside mock_aws())."""
    credentials = {"aws_access_key_id": LOCAL_KEY, "aws_secret_access_key": LOCAL_KEY} if endpoint_url else {}
    return boto3.client(service, endpoint_url=endpoint_url, region_name=REGION, **credentials)


class _Pickler(pickle.Pickler):
    """moto keeps locks and conditions in some backends (SQS queues): saved as new, unlocked ones."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCKS):
            return (
                type(obj) if isinstance(obj, threading.Condition | threading.Event) else _new_lock(obj),
                (),
            )
        return NotImplemented


def _new_lock(lock: Any) -> Any:
    return threading.RLock if isinstance(lock, type(threading.RLock())) else threading.Lock


class EmbeddedAws:
    """moto's server, one request at a time, with its state kept in `state_file` (None: kept nowhere)."""

    def __init__(self, host: str, port: int, state_file: Path | None = None) -> None:
        self._host, self._port, self.state_file = host, port, state_file
        self._app = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()
        self._changed = False
        self._stopping = threading.Event()
        self._server: RunningServer | None = None
        self._snapshots: threading.Thread | None = None
        self.restored_from: float | None = None  # when the restored snapshot was taken

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            self._changed = True
            return list(self._app(environ, start_response))

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded AWS is not running")
        return self._server.url

    def start(self) -> None:
        if self.state_file is not None and self.state_file.exists():
            self._restore(self.state_file)
        self._server = start(self, self._host, self._port, service="the embedded AWS")
        if self.state_file is not None:
            self._snapshots = threading.Thread(
                target=self._save_periodically, name="aws snapshots", daemon=True
            )
            self._snapshots.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._snapshots is not None:
            self._snapshots.join(timeout=10)
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.state_file is not None:
            self.save()

    def _save_periodically(self) -> None:
        while not self._stopping.wait(SNAPSHOT_SECONDS):
            try:
                self.save()
            except Exception:
                logger.exception("could not save the embedded AWS to %s", self.state_file)

    def save(self) -> None:
        """Write every moto backend in use to the state file, if anything changed since the last time."""
        assert self.state_file is not None
        with self._lock:
            if not self._changed and self.state_file.exists():
                return
            backends = {
                backend_dict.service_name: {
                    account: dict(regions) for account, regions in backend_dict.items()
                }
                for backend_dict in BackendDict._instances  # type: ignore[misc]
            }
            temporary = self.state_file.with_suffix(".tmp")
            with temporary.open("wb") as file:
                _Pickler(file, protocol=pickle.HIGHEST_PROTOCOL).dump(
                    {"moto": moto.__version__, "saved_at": time.time(), "backends": backends}
                )
                file.flush()
                os.fsync(file.fileno())
            self._changed = False
        os.replace(temporary, self.state_file)

    def _restore(self, state_file: Path) -> None:
        advice = "`make dev-reset` starts empty (it deletes that file)"
        try:
            with state_file.open("rb") as file:
                saved = pickle.load(file)  # noqa: S301  # nosec B301  # written by save() above
        except Exception as error:
            raise AwsStateError(
                f"{state_file} cannot be read ({type(error).__name__}: {error}); {advice}"
            ) from None
        if saved.get("moto") != moto.__version__:
            raise AwsStateError(
                f"{state_file} was saved by moto {saved.get('moto')}, not {moto.__version__}; {advice}"
            )
        for service, accounts in saved["backends"].items():
            backend_dict = get_backend(service)
            for account, regions in accounts.items():
                for region, backend in regions.items():
                    dict.__setitem__(backend_dict[account], region, backend)
        self.restored_from = float(saved["saved_at"])


# --------------------------------------------------------------------------------------------------
# Provisioning, the way CloudFormation would create the resources.


def provision(template: Template, endpoint_url: str | None) -> None:
    """Create every table, secret and queue of the template; those that exist are checked, not touched."""
    dynamodb = client("dynamodb", endpoint_url)
    for table in template.tables:
        create_table(dynamodb, table)
    secretsmanager = client("secretsmanager", endpoint_url)
    for secret in template.secrets:
        request: dict[str, Any] = {"Name": secret.name}
        if secret.description:
            request["Description"] = secret.description
        if secret.generate is not None:
            request["SecretString"] = secretsmanager.get_random_password(**secret.generate)["RandomPassword"]
        elif secret.secret_string is not None:
            request["SecretString"] = secret.secret_string
        _unless_exists(lambda request=request: secretsmanager.create_secret(**request))
    sqs = client("sqs", endpoint_url)
    for queue in sorted(template.queues, key=lambda queue: queue.dead_letter_queue is not None):
        target = queue.dead_letter_queue  # dead-letter queues first (they have none themselves)
        create_queue(sqs, queue, template.queue(target) if target else None)
    events = client("events", endpoint_url)
    for rule in template.rules:  # put_rule and put_targets replace what a restored state had
        events.put_rule(Name=rule.name, EventPattern=json.dumps(rule.pattern), State="ENABLED")
        events.put_targets(
            Rule=rule.name,
            Targets=[{"Id": queue_id, "Arn": template.queue(queue_id).arn} for queue_id in rule.queues],
        )
    sesv2 = client("sesv2", endpoint_url)
    for name in template.mail_configuration_sets:
        _unless_exists(lambda name=name: sesv2.create_configuration_set(ConfigurationSetName=name))
    for identity in template.mail_identities:  # the embedded SES takes an identity as verified
        _unless_exists(lambda identity=identity: sesv2.create_email_identity(EmailIdentity=identity))


def create_table(dynamodb: Any, table: TableSpec) -> None:
    """One table, always on demand locally (capacity means nothing to moto), then its TTL; a restored
    table must have the keys and indexes the template declares."""

    def keys(schema: Iterable[Any]) -> list[dict[str, str]]:
        return [{"AttributeName": key.name, "KeyType": key.key_type} for key in schema]

    indexes = {"Global": table.global_secondary_indexes, "Local": table.local_secondary_indexes}
    request: dict[str, Any] = {
        "TableName": table.name,
        "AttributeDefinitions": [
            {"AttributeName": a.name, "AttributeType": a.type} for a in table.attribute_definitions
        ],
        "KeySchema": keys(table.key_schema),
        "BillingMode": "PAY_PER_REQUEST",
    }
    for kind, specs in indexes.items():
        if specs:
            request[f"{kind}SecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": keys(index.key_schema),
                    "Projection": dict(index.projection),
                }
                for index in specs
            ]
    if _unless_exists(lambda: dynamodb.create_table(**request)):
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        return

    def shape(description: Mapping[str, Any]) -> tuple[Any, list[str]]:
        names = (i["IndexName"] for kind in indexes for i in description.get(f"{kind}SecondaryIndexes", []))
        return description["KeySchema"], sorted(names)

    if shape(dynamodb.describe_table(TableName=table.name)["Table"]) != shape(request):
        raise AwsStateError(
            f"the saved table {table.name} has other keys or indexes than template.yaml declares now; "
            "`make dev-reset` starts empty"
        )


def create_queue(sqs: Any, queue: QueueSpec, dead_letter_queue: QueueSpec | None) -> None:
    """One queue with its attributes and redrive policy (its dead-letter queue exists already)."""
    attributes = {"VisibilityTimeout": str(queue.visibility_timeout), **queue.attributes}
    if dead_letter_queue is not None:
        redrive = {"deadLetterTargetArn": dead_letter_queue.arn, "maxReceiveCount": queue.max_receive_count}
        attributes["RedrivePolicy"] = json.dumps(redrive)
    try:
        sqs.create_queue(QueueName=queue.name, Attributes=attributes)
    except ClientError as error:  # a restored queue whose attributes the template has changed since
        if error.response.get("Error", {}).get("Code") not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)


_EXISTS = {"ResourceInUseException", "ResourceExistsException", "AlreadyExistsException", "AlreadyExists"}
_EXISTS |= {"ConfigurationSetAlreadyExists", "ConfigurationSetAlreadyExistsException"}


def _unless_exists(create: Any) -> bool:
    """Run a create call; False when the resource was already there."""
    try:
        create()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _EXISTS:
            return False
        raise
    return True
