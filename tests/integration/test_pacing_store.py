"""The fleet's upstream schedule in DynamoDB (store.pacing) on moto: slots one interval apart, and what
a claim costs a container that sends back to back or after pauses."""

from __future__ import annotations

import pytest

from bench.dynamo_calls import DynamoCallCounter
from farewatch.store.pacing import UpstreamPaceStore

INTERVAL = 0.125  # 8 per second


@pytest.mark.usefixtures("aws")
def test_back_to_back_claims_get_consecutive_slots_for_one_update_each():
    store, start = UpstreamPaceStore("bench-source"), 1_000_000.0

    with DynamoCallCounter().installed() as counter:
        slots = [store.claim(now=start + 0.01 * n, interval=INTERVAL, latest=start + 20) for n in range(6)]

    assert slots == [start + INTERVAL * n for n in range(6)]
    assert counter.calls == {"UpdateItem": 6}


@pytest.mark.usefixtures("aws")
def test_claims_after_pauses_and_bursts_after_them_cost_one_update_each():
    store, start = UpstreamPaceStore("bench-source"), 2_000_000.0
    moments = [start, start + 3, start + 3.01, start + 3.02, start + 9, start + 20, start + 20.05]

    with DynamoCallCounter().installed() as counter:
        slots = [store.claim(now=now, interval=INTERVAL, latest=now + 20) for now in moments]

    assert slots == [start, start + 3, start + 3.125, start + 3.25, start + 9, start + 20, start + 20.125]
    assert counter.calls == {"UpdateItem": len(moments)}
