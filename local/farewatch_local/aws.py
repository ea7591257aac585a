"""Embedded AWS: a moto server in this process, and the tables, secrets and queues of template.yaml in it.

Owns starting and stopping the moto server and provisioning every resource the template declares,
through boto3, the way CloudFormation would create them (DLQs before the queues that redrive to them).
"""

from __future__ import annotations

import errno
import json
import socket
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from farewatch_local.template import QueueSpec, TableSpec, Template, TemplateError

LOCAL_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"aws_access_key_id": "farewatch-local", "aws_secret_access_key": "farewatch-local"}


class CannotListen(Exception):
    """A server of the local stack cannot bind its address; the message says which and why."""

    def __init__(self, service: str, host: str, port: int, reason: str) -> None:
        super().__init__(f"{service} cannot listen on {host}:{port}: {reason}")
        self.service, self.host, self.port = service, host, port


class PortInUse(CannotListen):
    """A port the local stack needs is taken by another program."""

    def __init__(self, service: str, host: str, port: int) -> None:
        super().__init__(service, host, port, "the port is already in use")


def bind_listener(service: str, host: str, port: int) -> socket.socket:
    """A socket bound to host:port (0: a free port), or CannotListen / PortInUse saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(service, host, port) from None
        raise CannotListen(service, host, port, error.strerror or str(error)) from None
    return listener


def ensure_can_listen(service: str, host: str, port: int) -> None:
    """Fail with CannotListen before a server library would print its own error and exit the process."""
    bind_listener(service, host, port).close()


def url_for(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server bound to host:port."""
    if host in ("", "0.0.0.0"):  # noqa: S104  # nosec B104  # a wildcard bind is reached through loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _EmbeddedMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer that reports a failed bind instead of leaving start() waiting forever."""

    startup_failure: BaseException | None = None

    def _server_entry(self) -> None:
        try:
            super()._server_entry()
        except BaseException as failure:  # werkzeug exits (SystemExit) when it cannot bind
            if self._server is not None:
                raise
            self.startup_failure = failure
            self._server_ready_event.set()


@dataclass
class MotoHandle:
    host: str
    port: int
    _server: ThreadedMotoServer

    @property
    def url(self) -> str:
        return url_for(self.host, self.port)

    def stop(self) -> None:
        self._server.stop()


def start_moto(host: str = "127.0.0.1", port: int = 4566) -> MotoHandle:
    """Start moto's server on host:port (0 picks a free port) in a background thread."""
    ensure_can_listen("the embedded AWS", host, port)
    server = _EmbeddedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    if server.startup_failure is not None:
        raise PortInUse("the embedded AWS", host, port)
    _, bound_port = server.get_host_and_port()
    return MotoHandle(host=host, port=int(bound_port), _server=server)


def provision(template: Template, endpoint_url: str | None, region: str = LOCAL_REGION) -> None:
    """Create every table, secret and queue of the template at endpoint_url.

    endpoint_url None means boto3's default endpoint, i.e. moto's in-process mock inside `mock_aws()`.
    Resources that already exist are left as they are.
    """
    credentials: dict[str, Any] = LOCAL_CREDENTIALS if endpoint_url else {}

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **credentials)

    if template.tables:
        dynamodb = client("dynamodb")
        for table in template.tables:
            create_table(dynamodb, table)
    if template.secrets:
        secretsmanager = client("secretsmanager")
        for secret in template.secrets:
            request: dict[str, Any] = {"Name": secret.name}
            if secret.secret_string is not None:
                request["SecretString"] = secret.secret_string
            if secret.description:
                request["Description"] = secret.description
            _create_unless_exists(lambda request=request: secretsmanager.create_secret(**request))
    if template.queues:
        sqs = client("sqs")
        arns: dict[str, str] = {}
        for queue in queues_in_creation_order(template.queues):
            arns[queue.logical_id] = create_queue(sqs, queue, arns)


def create_table(dynamodb: Any, table: TableSpec) -> None:
    """One table, always on demand locally (capacity means nothing to moto), then its TTL."""
    request: dict[str, Any] = {
        "TableName": table.name,
        "AttributeDefinitions": [
            {"AttributeName": attribute.name, "AttributeType": attribute.type}
            for attribute in table.attribute_definitions
        ],
        "KeySchema": [{"AttributeName": key.name, "KeyType": key.key_type} for key in table.key_schema],
        "BillingMode": "PAY_PER_REQUEST",
    }
    for request_key, indexes in (
        ("GlobalSecondaryIndexes", table.global_secondary_indexes),
        ("LocalSecondaryIndexes", table.local_secondary_indexes),
    ):
        if indexes:
            request[request_key] = [
                {
                    "IndexName": index.name,
                    "KeySchema": [
                        {"AttributeName": key.name, "KeyType": key.key_type} for key in index.key_schema
                    ],
                    "Projection": dict(index.projection),
                }
                for index in indexes
            ]
    if table.stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view_type}
    if not _create_unless_exists(lambda: dynamodb.create_table(**request)):
        return
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )


def queues_in_creation_order(queues: list[QueueSpec]) -> list[QueueSpec]:
    """Dead-letter queues before the queues that redrive to them."""
    by_id = {queue.logical_id: queue for queue in queues}
    ordered: list[QueueSpec] = []
    visiting: set[str] = set()

    def visit(queue: QueueSpec) -> None:
        if queue in ordered:
            return
        if queue.logical_id in visiting:
            raise TemplateError(f"queue {queue.logical_id} is part of a redrive cycle")
        visiting.add(queue.logical_id)
        if queue.dead_letter_queue:
            visit(by_id[queue.dead_letter_queue])
        visiting.discard(queue.logical_id)
        ordered.append(queue)

    for queue in queues:
        visit(queue)
    return ordered


def create_queue(sqs: Any, queue: QueueSpec, created_arns: dict[str, str]) -> str:
    """One queue with its attributes and redrive policy; returns its ARN as the server knows it."""
    attributes = {"VisibilityTimeout": str(queue.visibility_timeout)}
    optional = {
        "MessageRetentionPeriod": queue.message_retention_seconds,
        "DelaySeconds": queue.delay_seconds,
        "ReceiveMessageWaitTimeSeconds": queue.receive_wait_seconds,
    }
    attributes.update({name: str(value) for name, value in optional.items() if value is not None})
    if queue.fifo:
        attributes["FifoQueue"] = "true"
        if queue.content_based_deduplication:
            attributes["ContentBasedDeduplication"] = "true"
    if queue.dead_letter_queue:
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": created_arns[queue.dead_letter_queue],
                "maxReceiveCount": queue.max_receive_count,
            }
        )
    queue_url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
    found = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(found["Attributes"]["QueueArn"])


_ALREADY_EXISTS = {"ResourceInUseException", "ResourceExistsException"}


def _create_unless_exists(create: Any) -> bool:
    """Run a create call; False when the resource was already there."""
    try:
        create()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _ALREADY_EXISTS:
            return False
        raise
    return True
