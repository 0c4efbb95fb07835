"""Celery tasks of the 180° feedback: thin, ids in, idempotent."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from campus.ai import AIUnavailable
from campus.jobs import JobReporter, job_task
from campus.models import Job
from campus.notify import NotificationError
from feedback180 import services


@job_task(queue="ai", retry_on=(AIUnavailable,))
def campaign_process(job: Job, reporter: JobReporter, campaign_id: int) -> dict[str, Any]:
    return services.campaign_process(campaign_id=campaign_id, reporter=reporter)


@shared_task(
    name="feedback180.tasks.invitation_send",
    queue="email",
    acks_late=True,
    bind=True,
    max_retries=5,
)
def invitation_send(self: Any, invitation_id: int, reminder: bool = False) -> bool:
    try:
        return services.invitation_send(invitation_id=invitation_id, reminder=reminder)
    except NotificationError as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(
    name="feedback180.tasks.summary_send", queue="email", acks_late=True, bind=True, max_retries=5
)
def summary_send(self: Any, invitation_id: int) -> bool:
    try:
        return services.summary_send(invitation_id=invitation_id)
    except NotificationError as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(
    name="feedback180.tasks.prepared_notify",
    queue="email",
    acks_late=True,
    bind=True,
    max_retries=5,
)
def prepared_notify(self: Any, campaign_id: int) -> bool:
    try:
        return services.prepared_notify(campaign_id=campaign_id)
    except NotificationError as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(name="feedback180.tasks.campaigns_daily")
def campaigns_daily() -> dict[str, int]:
    """Daily: close the campaigns past their date (starting their processing), send the
    day-3 and day-7 reminders, open the day-60 re-checks."""
    return {
        "closed": services.campaigns_close_due(),
        "reminded": services.reminders_send(),
        "rechecks": services.rechecks_open_due(),
    }
