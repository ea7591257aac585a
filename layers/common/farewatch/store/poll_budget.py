"""The poller's daily upstream-search budget (CacheTable item `poll-budget#<YYYY-MM-DD>`).

`take` is one conditional UpdateItem (ADD 1 while below the limit), so concurrent workers never
spend more than the budget; the item expires two days after its day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from farewatch.store.conditions import update_unless_condition_failed
from farewatch.store.models import PollBudgetDay


class PollBudgetStore:
    def _pk(self, day: date) -> str:
        return f"poll-budget#{day.isoformat()}"

    def take(self, day: date, *, limit: int) -> bool:
        """One search of `day`'s budget; False when `limit` are spent already."""
        item = PollBudgetDay(self._pk(day))
        expires = datetime.combine(day + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
        return update_unless_condition_failed(
            item,
            actions=[PollBudgetDay.searches.add(1), PollBudgetDay.purge_at.set(expires)],
            condition=PollBudgetDay.searches.does_not_exist() | (PollBudgetDay.searches < limit),
        )

    def count(self, day: date, searches: int) -> None:
        """`searches` more made on `day` with no budget to keep (for GET /stats/poller): one ADD."""
        item = PollBudgetDay(self._pk(day))
        expires = datetime.combine(day + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
        item.update(actions=[PollBudgetDay.searches.add(searches), PollBudgetDay.purge_at.set(expires)])

    def used(self, day: date) -> int:
        try:
            return int(PollBudgetDay.get(self._pk(day), consistent_read=True).searches or 0)
        except DoesNotExist:
            return 0
