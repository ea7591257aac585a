"""Token sharing: memory first, then the shared store, then the fare API — refreshed by one caller."""

from __future__ import annotations

import pytest

from farewatch.clock import ManualClock
from farewatch.errors import UpstreamUnavailable
from farewatch.fares.token_manager import TokenManager
from farewatch.fares.tokens_api import IssuedToken
from tests.support.fakes import CountingIssuer, InMemoryTokenStore


def manager(clock, store, issuer, **kwargs) -> TokenManager:
    return TokenManager(issue=issuer, store=store, clock=clock, refresh_margin=300, **kwargs)


def test_first_get_fetches_a_token_and_shares_it_through_the_store():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)

    token = manager(clock, store, issuer).get()

    assert token == "token-1"
    assert store.token == IssuedToken("token-1", clock.now() + 1799)
    assert issuer.calls == 1


def test_repeated_gets_are_served_from_memory_without_a_new_token():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)
    tokens = manager(clock, store, issuer)

    answers = {tokens.get() for _ in range(100)}

    assert answers == {"token-1"}
    assert issuer.calls == 1


def test_a_second_container_reuses_the_shared_token():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)
    manager(clock, store, issuer).get()

    other_container = manager(clock, store, issuer)

    assert other_container.get() == "token-1"
    assert issuer.calls == 1


def test_token_is_refreshed_ahead_of_expiry():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)
    tokens = manager(clock, store, issuer)
    tokens.get()

    clock.advance(1799 - 299)  # inside the 300 s refresh margin, still valid

    assert tokens.get() == "token-2"
    assert issuer.calls == 2


def test_while_another_container_refreshes_the_current_token_stays_in_use():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)
    tokens = manager(clock, store, issuer)
    tokens.get()
    clock.advance(1600)
    assert store.try_lease(owner="someone-else", now=clock.now(), until=clock.now() + 10)

    assert tokens.get() == "token-1"
    assert issuer.calls == 1


def test_without_a_usable_token_a_caller_waits_for_the_refresher_instead_of_fetching():
    clock, store = ManualClock(), InMemoryTokenStore()
    assert store.try_lease(owner="someone-else", now=clock.now(), until=clock.now() + 10)

    class RefreshLands(ManualClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            store.save(IssuedToken("their-token", self.now() + 1799))

    waiting_clock = RefreshLands(clock.now())
    issuer = CountingIssuer(waiting_clock)
    tokens = TokenManager(issue=issuer, store=store, clock=waiting_clock)

    assert tokens.get() == "their-token"
    assert issuer.calls == 0


def test_a_stuck_refresher_does_not_block_forever():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)
    assert store.try_lease(owner="someone-else", now=clock.now(), until=clock.now() + 60)

    token = manager(clock, store, issuer, wait_seconds=5).get()

    assert token == "token-1"
    assert clock.now() >= 1_800_000_005.0


def test_invalidate_forgets_the_token_everywhere_and_the_next_get_fetches_once():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)
    tokens = manager(clock, store, issuer)
    dead = tokens.get()

    tokens.invalidate(dead)

    assert store.token is None
    assert tokens.get() == "token-2"
    assert tokens.get() == "token-2"
    assert issuer.calls == 2


def test_invalidating_an_already_replaced_token_keeps_the_new_one():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)
    first, second = manager(clock, store, issuer), manager(clock, store, issuer)
    old = first.get()
    first.invalidate(old)
    new = second.get()

    first.invalidate(old)  # a late 401 for the old token

    assert store.token is not None and store.token.value == new
    assert first.get() == new
    assert issuer.calls == 2


def test_failed_refresh_keeps_using_a_still_valid_token():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock)
    tokens = manager(clock, store, issuer)
    tokens.get()
    clock.advance(1600)
    issuer.fail = True

    assert tokens.get() == "token-1"
    assert store.lease_owner is None


def test_failed_fetch_without_any_token_raises_and_releases_the_lease():
    clock, store = ManualClock(), InMemoryTokenStore()
    issuer = CountingIssuer(clock, fail=True)

    with pytest.raises(UpstreamUnavailable):
        manager(clock, store, issuer).get()

    assert store.lease_owner is None
