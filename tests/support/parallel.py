"""Calls made side by side, each on its own thread, all released at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def side_by_side(*calls: Callable[[], Any]) -> list[Any]:
    """Every call's result, in order; the calls start together (a barrier) and run concurrently."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
