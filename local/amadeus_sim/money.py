"""Currencies the simulator prices in: a fixed exchange-rate table, conversion and 2-decimal amounts.

The rates are frozen on purpose: price movement comes from the fare drift alone, never from
exchange rates, so a tracked price in EUR moves exactly when the same price in USD does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Currency:
    code: str
    name: str  # as Amadeus writes it in `dictionaries.currencies`
    per_us_dollar: Decimal


CURRENCIES: dict[str, Currency] = {
    currency.code: currency
    for currency in (
        Currency("USD", "US DOLLAR", Decimal("1")),
        Currency("EUR", "EURO", Decimal("0.92")),
        Currency("GBP", "POUND STERLING", Decimal("0.79")),
        Currency("JPY", "YEN", Decimal("151.20")),
        Currency("CAD", "CANADIAN DOLLAR", Decimal("1.36")),
        Currency("AUD", "AUSTRALIAN DOLLAR", Decimal("1.52")),
        Currency("NZD", "NEW ZEALAND DOLLAR", Decimal("1.66")),
        Currency("CHF", "SWISS FRANC", Decimal("0.88")),
        Currency("SEK", "SWEDISH KRONA", Decimal("10.60")),
        Currency("NOK", "NORWEGIAN KRONE", Decimal("10.80")),
        Currency("DKK", "DANISH KRONE", Decimal("6.87")),
        Currency("PLN", "ZLOTY", Decimal("3.98")),
        Currency("CNY", "YUAN RENMINBI", Decimal("7.24")),
        Currency("HKD", "HONG KONG DOLLAR", Decimal("7.82")),
        Currency("SGD", "SINGAPORE DOLLAR", Decimal("1.35")),
        Currency("INR", "INDIAN RUPEE", Decimal("83.30")),
        Currency("THB", "BAHT", Decimal("36.50")),
        Currency("AED", "UAE DIRHAM", Decimal("3.6725")),
        Currency("MXN", "MEXICAN PESO", Decimal("17.10")),
        Currency("BRL", "BRAZILIAN REAL", Decimal("5.05")),
        Currency("ZAR", "RAND", Decimal("18.60")),
    )
}


def is_known_currency(code: str) -> bool:
    return code in CURRENCIES


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def convert(amount: Decimal, source: str, target: str) -> Decimal:
    """`amount` in `source` expressed in `target`, unrounded (round once, at the end)."""
    if source == target:
        return amount
    return amount * CURRENCIES[target].per_us_dollar / CURRENCIES[source].per_us_dollar


def amount_text(amount: Decimal) -> str:
    """Amadeus sends every amount as a decimal string with two decimals, e.g. "342.20"."""
    return f"{to_cents(amount):.2f}"
