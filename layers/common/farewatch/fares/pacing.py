"""Fleet-wide pacing of upstream requests: never send faster than the fare source allows.

Every HTTP attempt of a search (first tries and retries alike) first claims a slot in a schedule
shared by every container (`store.pacing`, one conditional UpdateItem), then waits for it. Slots are
`1 / per_second` apart, so no window of one second holds more than `per_second` requests, whichever
containers send them; set it below the source's published limit (Amadeus's test tier: 10 TPS, so 8 by
default) to leave room for clock skew between containers. A slot that would start too late for the
request's budget is not claimed: the call ends as `upstream_rate_limited` (503, or a stale answer).

Cost: one UpdateItem per upstream request (two when the schedule changed between idle and busy since
this container last looked), and the wait itself, which only a burst above the rate ever sees.
"""

from __future__ import annotations

from typing import Protocol

from farewatch.clock import Clock
from farewatch.errors import UpstreamUnavailable

# A slot this close to the deadline would leave no time for the request itself.
ATTEMPT_RESERVE_SECONDS = 1.0
MAX_CLAIMS = 3


class PaceSlots(Protocol):
    def claim(self, *, now: float, interval: float, latest: float) -> float | None: ...


class UpstreamPacer:
    def __init__(self, slots: PaceSlots, clock: Clock, *, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self._slots = slots
        self._clock = clock
        self.interval = 1.0 / per_second

    def wait_turn(self, *, deadline: float, what: str) -> None:
        """Return at this request's slot; raise 503 `upstream_rate_limited` if none fits the deadline.

        A caller that wakes more than half an interval after its slot (a busy CPU) claims a later
        one rather than send next to the callers whose slots followed its own.
        """
        for _ in range(MAX_CLAIMS):
            now = self._clock.now()
            latest = deadline - ATTEMPT_RESERVE_SECONDS
            slot = (
                self._slots.claim(now=now, interval=self.interval, latest=latest) if latest >= now else None
            )
            if slot is None:
                raise UpstreamUnavailable(
                    f"{what} is busy: no request slot fits this request's time budget; try again shortly.",
                    code="upstream_rate_limited",
                )
            self._clock.sleep(slot - self._clock.now())
            if self._clock.now() - slot <= self.interval / 2:
                return
        # Late every time: the machine, not the schedule, is the bottleneck; send now.
