"""The fleet's upstream schedule in DynamoDB (CacheTable, `pace#<source>`): one slot per request.

The item holds `next_at`, the earliest time the next upstream request may be sent. A caller claims a
slot with one conditional UpdateItem, and every claimed slot is at least `interval` after the one
claimed before it, in whatever container:

- busy (`now <= next_at <= latest`): ADD `interval` to `next_at`; the slot is the old `next_at`;
- idle (`next_at < now`, or no item yet): SET `next_at = now + interval`; the slot is `now`.

Both are atomic on the item, so slots are handed out in one order, each `interval` after the last
(an idle claim is later still: the previous slot was before `now - interval`). Nobody reads first:
a claim usually costs one UpdateItem, two when this container guessed the state wrong, and a
consistent GetItem more only when both conditions failed (a race, or no slot before `latest`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from farewatch.store.conditions import update_unless_condition_failed
from farewatch.store.models import UpstreamPaceRecord

ATTEMPTS = 4
RETENTION_SECONDS = 86_400.0  # an idle source's schedule is tidied away after a day


class UpstreamPaceStore:
    def __init__(self, source: str) -> None:
        self._pk = f"pace#{source}"
        self._busy_hint = False  # what this container saw last: try that path first
        self._next_at: float | None = None  # the schedule's next slot after this container's last claim

    def claim(self, *, now: float, interval: float, latest: float) -> float | None:
        """A send time in [now, latest], `interval` apart from every other claim; None if none is free."""
        for _ in range(ATTEMPTS):
            # Busy when the slot after this container's own last claim is still ahead, or was less
            # than a second ago and the schedule looked busy then (other containers may have moved
            # it on); idle after a longer pause. A wrong guess costs the other UpdateItem.
            busy = (
                self._busy_hint
                if self._next_at is None
                else now <= self._next_at or (self._busy_hint and now <= self._next_at + 1.0)
            )
            paths = (self._claim_busy, self._claim_idle) if busy else (self._claim_idle, self._claim_busy)
            for path in paths:
                slot = path(now, interval, latest)
                if slot is not None:
                    return slot
            record = self._read()
            if record is not None and record.next_at is not None and float(record.next_at) > latest:
                self._busy_hint = True
                return None
        return None

    def _claim_busy(self, now: float, interval: float, latest: float) -> float | None:
        record = UpstreamPaceRecord(self._pk)
        claimed = update_unless_condition_failed(
            record,
            actions=[UpstreamPaceRecord.next_at.add(interval)],
            condition=(UpstreamPaceRecord.next_at >= now) & (UpstreamPaceRecord.next_at <= latest),
        )
        self._busy_hint = claimed
        if not claimed or record.next_at is None:
            return None
        self._next_at = float(record.next_at)
        return float(record.next_at) - interval

    def _claim_idle(self, now: float, interval: float, latest: float) -> float | None:
        record = UpstreamPaceRecord(self._pk)
        claimed = update_unless_condition_failed(
            record,
            actions=[
                UpstreamPaceRecord.next_at.set(now + interval),
                UpstreamPaceRecord.purge_at.set(datetime.fromtimestamp(now + RETENTION_SECONDS, tz=UTC)),
            ],
            condition=UpstreamPaceRecord.next_at.does_not_exist() | (UpstreamPaceRecord.next_at < now),
        )
        self._busy_hint = not claimed
        if claimed:
            self._next_at = now + interval
        return now if claimed else None

    def _read(self) -> UpstreamPaceRecord | None:
        try:
            return UpstreamPaceRecord.get(self._pk, consistent_read=True)
        except UpstreamPaceRecord.DoesNotExist:
            return None
