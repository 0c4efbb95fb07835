from __future__ import annotations

from celery import shared_task

from mallette.services import practices_index


@shared_task(name="mallette.tasks.practices_index", queue="ai", acks_late=True)
def practices_index_task() -> int:
    """Re-index practices whose text changed (beat, every few minutes; cheap when idle)."""
    return practices_index()
