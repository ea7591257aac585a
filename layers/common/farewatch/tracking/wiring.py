"""The tracking composition root: TrackingService from Settings and the shared FareService."""

from __future__ import annotations

from functools import lru_cache

from farewatch.clock import SystemClock
from farewatch.settings import get_settings
from farewatch.store.history import PriceHistoryStore
from farewatch.store.tracking import AlertStore, TrackingStore
from farewatch.tracking.service import TrackingService


@lru_cache(maxsize=1)
def tracking_service() -> TrackingService:
    from farewatch.wiring import fare_service

    settings = get_settings()
    return TrackingService(
        fares=fare_service(),
        store=TrackingStore(),
        alerts=AlertStore(),
        history=PriceHistoryStore(),
        clock=SystemClock(),
        max_active_trackers=settings.max_active_trackers,
        poll_interval_seconds=settings.watched_route_poll_seconds,
    )
