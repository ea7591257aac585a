"""One "Lambda container" in its own process, for the tests that need several (tests/integration/
test_fleet_across_processes.py): the production fare service from the composition root, on a clock
the test sets, talking to a moto server and the Amadeus simulator over loopback.

    python -m tests.support.container      # JSON commands on stdin, one answer per line on stdout

{"op": "fares", "origin": ..., "destination": ..., "date": ..., "nocache": false, "now": t}
    → {"price": "250.00", "cached": true, "stale": false, "fetched_at": t, "fresh_until": t}
      or {"error": "<code>"}
{"op": "pace", "count": n, "now": t}  → {"sent_at": [...]}: n upstream request slots, waited for
End of input: the process ends normally (what it kept for later is written at exit).
"""

from __future__ import annotations

import datetime as dt
import json
import sys


class SetClock:
    """The test's clock: set by each command, moved forward by sleeps (no real waiting)."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    def set(self, now: float) -> None:
        self._now = max(self._now, now)

    def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)


def main() -> None:
    import time

    from farewatch.composition import build_fare_service, upstream_pacer
    from farewatch.errors import UpstreamError
    from farewatch.fare_query import FareQuery
    from farewatch.settings import get_settings

    clock = SetClock(time.time())
    settings = get_settings()
    service = build_fare_service(settings, clock)
    pacer = upstream_pacer(settings, clock, "amadeus")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        clock.set(command["now"])
        answer: dict[str, object]
        if command["op"] == "fares":
            query = FareQuery(
                origin=command["origin"],
                destination=command["destination"],
                departure_date=dt.date.fromisoformat(command["date"]),
            )
            try:
                result = service.fares(query, force_refresh=command.get("nocache", False))
            except UpstreamError as error:
                answer = {"error": error.code}
            else:
                best = result.cheapest
                answer = {
                    "price": str(best.price) if best is not None else None,
                    "cached": result.cached,
                    "stale": result.stale,
                    "fetched_at": result.fetched_at,
                    "fresh_until": result.fresh_until,
                }
        elif command["op"] == "pace":
            assert pacer is not None, "UPSTREAM_REQUESTS_PER_SECOND is 0"
            sent_at = []
            for _ in range(command["count"]):
                pacer.wait_turn(deadline=clock.now() + 60, what="the test")
                sent_at.append(clock.now())
            answer = {"sent_at": sent_at}
        else:
            answer = {"error": f"unknown op {command['op']!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
