"""The account-deletion registry: everything a user owns, removed before the user record goes.

Each cleaner takes a user id and deletes one kind of data of that user; it must succeed when there
is nothing to delete (deletion can be retried after a partial failure). A new kind of per-user data
(trackers, alerts) joins by adding its cleaner to ACCOUNT_DATA_CLEANERS, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from farewatch.store.auth_records import AuthRecordStore
from farewatch.store.tracking import AlertStore, TrackingStore

AccountCleaner = Callable[[str], None]


def delete_sign_in_records(user_id: str) -> None:
    """Refresh tokens, token families and the user's failed-login counter (AuthTable, by_user)."""
    AuthRecordStore().delete_records_of(user_id)


def delete_tracked_flights(user_id: str) -> None:
    """Trackers (uncounting their watched routes) and the user's tracker counter (TrackersTable)."""
    TrackingStore().delete_all_of(user_id)


def delete_alerts(user_id: str) -> None:
    """Price-drop alerts (AlertsTable)."""
    AlertStore().delete_all_of(user_id)


def delete_webhooks(user_id: str) -> None:
    """Webhook endpoints (with their secrets) and their delivery logs (WebhooksTable)."""
    from farewatch.store.webhooks import WebhookStore

    WebhookStore().delete_all_of(user_id)


# In order; the user record and its email claim are deleted after all of these succeed.
ACCOUNT_DATA_CLEANERS: tuple[AccountCleaner, ...] = (
    delete_sign_in_records,
    delete_tracked_flights,
    delete_alerts,
    delete_webhooks,
)
