"""Every PynamoDB connection of a thread shares one botocore session (farewatch.store): a cold
container loads the DynamoDB service model once, not once per table it touches."""

from __future__ import annotations

import threading

from farewatch import aws
from farewatch.store.models import FareCacheEntry, PriceObservation, RouteSearchCount
from farewatch.store.users import UserStore


def _session_of(model):
    return model._get_connection().connection.session


def test_given_models_on_different_tables_when_their_clients_are_made_then_one_thread_shares_one_session():
    sessions = {id(_session_of(model)) for model in (FareCacheEntry, PriceObservation, RouteSearchCount)}
    transactions = UserStore()._connection.session  # a store's own Connection, for its transactions

    assert len(sessions) == 1
    assert id(transactions) in sessions
    assert id(aws.thread_session()) in sessions  # the one SQS, SES, Secrets Manager... clients come from


def test_given_another_thread_when_it_uses_a_model_then_it_gets_a_session_of_its_own():
    here = _session_of(FareCacheEntry)
    there = []
    thread = threading.Thread(target=lambda: there.append(_session_of(FareCacheEntry)))
    thread.start()
    thread.join()

    assert there[0] is not here
    assert _session_of(FareCacheEntry) is here  # and this thread keeps its own


def _client_of(model):
    return model._get_connection().connection.client


def test_given_models_on_different_tables_when_their_clients_are_made_then_they_share_one_dynamodb_client():
    clients = {id(_client_of(model)) for model in (FareCacheEntry, PriceObservation, RouteSearchCount)}
    transactions = UserStore()._connection.client

    assert len(clients) == 1
    assert id(transactions) in clients
    # Other arguments (no PynamoDB config, another region) are another client.
    assert id(aws.client("dynamodb", region="us-east-1")) not in clients
    assert aws.client("dynamodb", region="eu-west-1") is not aws.client("dynamodb", region="us-east-1")


def test_given_a_shared_client_whose_credentials_are_empty_when_one_is_asked_for_then_a_new_one_is_made():
    first = aws.client("sqs", region="us-east-1")
    assert aws.client("sqs", region="us-east-1") is first
    signer = first._request_signer
    kept, signer._credentials = signer._credentials, None
    try:
        again = aws.client("sqs", region="us-east-1")
    finally:
        signer._credentials = kept

    assert again is not first
    assert again._request_signer._credentials
    assert aws.client("sqs", region="us-east-1") is again
