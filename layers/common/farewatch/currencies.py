"""ISO 4217 currency codes: the active list, and the subset a fare can be priced in.

Written from the ISO 4217 list one as in force in 2026. Recent changes reflected here: Bulgaria
adopted the euro on 2026-01-01 (BGN withdrawn), the Caribbean guilder XCG replaced the Netherlands
Antillean guilder ANG (2025), ZWG replaced ZWL (2024), SLE replaced SLL, and HRK, CUC, MRO, STD,
VEF and BYR are long gone. Update this file when ISO publishes an amendment that matters to us.
"""

from __future__ import annotations

# Whitespace-separated tables read better than 180 quoted strings, one per line.
ACTIVE_CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD
    SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF
    XPT XSU XTS XUA XXX YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905
)

# Active codes that are not money anyone pays a fare in: fund and accounting units, bond-market
# units, precious metals, special drawing rights, the testing code and "no currency".
NON_MONEY_CODES: frozenset[str] = frozenset(
    """
    BOV CHE CHW CLF COU MXV USN UYI UYW
    XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX
    """.split()  # noqa: SIM905
)

FARE_CURRENCIES: frozenset[str] = ACTIVE_CURRENCIES - NON_MONEY_CODES
"""The currencies a fare query may ask for."""
