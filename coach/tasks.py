"""Celery tasks of the coach: thin wrappers (ids in, a service call, retries scheduled here).

``exercises_send_due`` is meant to run every hour from beat (safe to run at any time, any
number of times): see :mod:`coach.exercises` for the schedule and the idempotency rules.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from celery import shared_task
from django.utils import timezone

from coach import exercises

logger = logging.getLogger(__name__)


def _countdown(attempts: int) -> int:
    return int(exercises.backoff(attempts).total_seconds())


@shared_task(name="coach.tasks.exercises_send_due", acks_late=True)
def exercises_send_due(now: str | None = None) -> dict[str, Any]:
    """Hourly: retry what is due; on Monday from 9:00, fan out the missing exercises in batches.

    ``now`` (ISO 8601) exists for tests; beat calls it without arguments.
    """
    moment = datetime.fromisoformat(now) if now else timezone.now()
    outcome: dict[str, Any] = exercises.retries_run(now=moment)
    batches = 0
    if exercises.send_window_open(moment):
        week = exercises.week_of(timezone.localtime(moment).date())
        missing = exercises.exercises_missing_user_ids(week=week)
        for start in range(0, len(missing), exercises.BATCH_SIZE):
            exercises_send_batch.delay(
                user_ids=missing[start : start + exercises.BATCH_SIZE], week=week.isoformat()
            )
            batches += 1
        outcome["missing"] = len(missing)
    outcome["batches"] = batches
    logger.info("exercises_send_due: %s", outcome)
    return outcome


@shared_task(name="coach.tasks.exercises_send_batch", acks_late=True)
def exercises_send_batch(user_ids: list[int], week: str) -> dict[str, int]:
    failed = exercises.exercises_send_batch(user_ids=user_ids, week=date.fromisoformat(week))
    for delivery_id in failed:
        delivery_retry.apply_async(kwargs={"delivery_id": delivery_id}, countdown=_countdown(1))
    return {"users": len(user_ids), "failed": len(failed)}


@shared_task(name="coach.tasks.delivery_retry", bind=True, acks_late=True, max_retries=None)
def delivery_retry(self: Any, delivery_id: int) -> str:
    """One more try of a failed delivery; schedules the next one with backoff until
    ``exercises.MAX_ATTEMPTS`` (the attempt count lives on the row, not in Celery)."""
    from coach.models import ExerciseDelivery

    state = exercises.delivery_attempt(delivery_id=delivery_id)
    if state == ExerciseDelivery.State.FAILED:
        attempts = (
            ExerciseDelivery.objects.filter(pk=delivery_id)
            .values_list("attempts", flat=True)
            .first()
        ) or exercises.MAX_ATTEMPTS
        if attempts < exercises.MAX_ATTEMPTS:
            raise self.retry(countdown=_countdown(attempts))
    return state


@shared_task(name="coach.tasks.organism_post_retry", bind=True, acks_late=True, max_retries=None)
def organism_post_retry(self: Any, post_id: int) -> str:
    """One more try of an organism's weekly channel post (same rules as deliveries)."""
    from coach.models import OrganismPost

    state = exercises.post_attempt(post_id=post_id)
    if state == exercises.State.FAILED:
        attempts = (
            OrganismPost.objects.filter(pk=post_id).values_list("attempts", flat=True).first()
        ) or exercises.MAX_ATTEMPTS
        if attempts < exercises.MAX_ATTEMPTS:
            raise self.retry(countdown=_countdown(attempts))
    return state
