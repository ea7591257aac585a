"""Section 7 of `make bench`: what a 14-day fare calendar costs, cold and warm.

The real fare service (its `calendar`, as GET /flights/calendar calls it) on moto with the template's
tables, against the simulator: upstream searches and DynamoDB calls per request, for a cold calendar
asked again until every date is priced, then the same calendar warm.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

DAYS = 14


def calendar_cost(simulator: Any) -> None:
    from bench.__main__ import new_container
    from bench.dynamo_calls import DynamoCallCounter
    from farewatch.fare_query import FareQuery
    from farewatch.settings import get_settings

    settings = get_settings()
    service = new_container()
    today = dt.date.today()
    trips = [
        FareQuery(origin="BOS", destination="SEA", departure_date=today + dt.timedelta(days=200 + n))
        for n in range(DAYS)
    ]
    service.fares(FareQuery(origin="BOS", destination="MIA", departure_date=today + dt.timedelta(days=250)))
    print(f"7) Fare calendar: {DAYS} dates, at most {settings.calendar_max_fetches} cold fetches per request")
    counter = DynamoCallCounter()
    for label in ("cold", "cold, asked again", "warm"):
        before = simulator.stats()["search_requests"]
        counter.reset()
        started = time.perf_counter()
        with counter.installed():
            days = service.calendar(
                trips,
                max_fetches=settings.calendar_max_fetches,
                budget_seconds=settings.calendar_budget_seconds,
            )
        elapsed = time.perf_counter() - started
        searches = simulator.stats()["search_requests"] - before
        priced = sum(1 for day in days if day.status == "ok")
        waiting = sum(1 for day in days if day.status == "not_fetched")
        print(
            f"   {label:<18} upstream searches {searches:>2}, priced {priced:>2}, not fetched {waiting:>2}, "
            f"DynamoDB calls {counter.total:>3} {dict(counter.calls)}, {elapsed * 1000:.0f} ms"
        )
    print()
