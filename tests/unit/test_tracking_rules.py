"""SPEC §4 drop rules: target once then only on further falls; any drop against the last seen price."""

from __future__ import annotations

from decimal import Decimal

from farewatch.tracking.rules import AlertKind, TrackerMemory, alert_id, decide, remembered_after


def memory(target=None, any_drop=False, last_seen=None, last_alerted=None) -> TrackerMemory:
    return TrackerMemory(
        Decimal(target) if target else None,
        any_drop,
        Decimal(last_seen) if last_seen else None,
        Decimal(last_alerted) if last_alerted else None,
    )


def run(start: TrackerMemory, prices: list[str]) -> list[AlertKind | None]:
    kinds, state = [], start
    for raw in prices:
        price = Decimal(raw)
        decision = decide(state, price)
        kinds.append(decision.kind if decision else None)
        state = remembered_after(state, price, decision)
    return kinds


def test_reaching_the_target_alerts_once_then_only_on_further_falls():
    kinds = run(memory(target="200", last_seen="250"), ["210", "200", "200", "205", "199", "199.50", "150"])

    target = AlertKind.TARGET_REACHED
    assert kinds == [None, target, None, None, target, None, target]


def test_a_price_exactly_at_the_target_counts_as_reached():
    assert decide(memory(target="200.00", last_seen="300"), Decimal("200")).kind is AlertKind.TARGET_REACHED


def test_any_drop_alerts_against_the_last_seen_price():
    kinds = run(memory(any_drop=True, last_seen="300"), ["290", "295", "295", "294", "320", "310"])

    drop = AlertKind.PRICE_DROP
    assert kinds == [drop, None, None, drop, None, drop]


def test_a_rise_or_an_unchanged_price_alerts_nothing():
    start = memory(target="100", any_drop=True, last_seen="300")

    assert run(start, ["300", "310", "310"]) == [None, None, None]


def test_without_a_last_seen_price_there_is_no_drop():
    assert decide(memory(any_drop=True), Decimal("100")) is None


def test_both_rules_firing_give_one_target_alert():
    assert decide(memory(target="200", any_drop=True, last_seen="250"), Decimal("190")).kind is (
        AlertKind.TARGET_REACHED
    )


def test_the_alert_id_is_deterministic_per_tracker_observation_and_rule():
    first = alert_id("trk_1", 1_800_000_000.5, AlertKind.PRICE_DROP)

    assert first == alert_id("trk_1", 1_800_000_000.5, AlertKind.PRICE_DROP)
    assert len(first) == 24
    assert first != alert_id("trk_1", 1_800_000_000.5, AlertKind.TARGET_REACHED)
    assert first != alert_id("trk_2", 1_800_000_000.5, AlertKind.PRICE_DROP)
