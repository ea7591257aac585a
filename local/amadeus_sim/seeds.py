"""Deterministic stand-ins for randomness: every "random" choice is a hash of what it is about.

SHA-256 rather than hash(), so the same route, date and time bucket give the same fares in every
process and on every machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def fraction(*subject: object) -> float:
    """A number in [0, 1) fixed by `subject`."""
    text = "|".join(str(part) for part in subject)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def whole_number(low: int, high: int, *subject: object) -> int:
    """An integer in [low, high] (both included) fixed by `subject`."""
    return low + int(fraction(*subject) * (high - low + 1))


def pick(choices: Sequence[T], *subject: object) -> T:
    return choices[int(fraction(*subject) * len(choices))]


def shuffled(items: Sequence[T], identity: Callable[[T], object], *subject: object) -> list[T]:
    """`items` in an order fixed by `subject` and each item's identity (no random module involved)."""
    return sorted(items, key=lambda item: fraction(*subject, identity(item)))
