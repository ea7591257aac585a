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
