from __future__ import annotations

from celery import shared_task

from campus.analytics import services


@shared_task(name="campus.tasks.activity_purge", acks_late=True)
def activity_purge() -> int:
    """Daily (beat): delete activity past the 13-month retention. Idempotent."""
    return services.activity_purge()
