"""The cheapest offer is computed, and /search's selection filters and orders offers as asked."""

from __future__ import annotations

from decimal import Decimal

from farewatch.offers import cheapest, format_price, select_offers
from tests.support.offers import offer


def test_cheapest_is_computed_not_taken_from_upstream_order():
    offers = [offer("310.00", id="a"), offer("250.10", id="b"), offer("250.20", id="c")]

    assert cheapest(offers) == offers[1]


def test_cheapest_breaks_price_ties_by_shorter_duration():
    offers = [offer("250.00", id="long", minutes=600), offer("250.00", id="short", minutes=300)]

    best = cheapest(offers)

    assert best is not None and best.id == "short"


def test_no_offers_has_no_cheapest():
    assert cheapest([]) is None


def test_price_is_shown_with_two_decimals_and_the_currency():
    assert format_price(Decimal("250"), "USD") == "250.00 USD"
    assert format_price(Decimal("99.5"), "EUR") == "99.50 EUR"


def test_search_keeps_only_nonstop_offers_when_asked():
    offers = [offer("200.00", id="a", stops=1), offer("300.00", id="b", stops=0)]

    chosen = select_offers(offers, nonstop=True, sort="price", limit=10)

    assert [o.id for o in chosen] == ["b"]


def test_search_sorts_by_duration_then_price():
    offers = [offer("200.00", id="slow", minutes=500), offer("300.00", id="fast", minutes=300)]

    chosen = select_offers(offers, nonstop=False, sort="duration", limit=10)

    assert [o.id for o in chosen] == ["fast", "slow"]


def test_search_limits_the_number_of_offers_after_sorting():
    offers = [offer(f"{300 - i}.00", id=str(i)) for i in range(20)]

    chosen = select_offers(offers, nonstop=False, sort="price", limit=3)

    assert [o.price for o in chosen] == [Decimal("281.00"), Decimal("282.00"), Decimal("283.00")]


def test_a_failing_metrics_backend_never_fails_the_request():
    from farewatch.composition import PowertoolsFareMetrics

    class BrokenMetrics:
        def add_metric(self, **_: object) -> None:
            raise RuntimeError("metrics backend down")

    PowertoolsFareMetrics(BrokenMetrics()).record("FareCacheHit")  # type: ignore[arg-type]
