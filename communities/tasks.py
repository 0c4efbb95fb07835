"""Celery tasks of the communities: thin, idempotent, ids only."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.urls import reverse
from django.utils.translation import gettext as _

from campus.jobs import JobError, JobReporter, job_task
from campus.models import Job
from communities import animation, digest, webhooks


@shared_task(
    name="communities.tasks.thread_announce",
    queue="default",
    acks_late=True,
    bind=True,
    max_retries=3,
)
def thread_announce(self: Any, *, thread_id: int) -> bool:
    """Announce a new thread on its group's Teams/Slack webhook (once per thread)."""
    from campus.notify import NotificationError

    try:
        return webhooks.thread_announce(thread_id=thread_id)
    except NotificationError as exc:
        raise self.retry(exc=exc, countdown=120) from exc


@shared_task(name="communities.tasks.digests_send", queue="email", acks_late=True)
def digests_send() -> int:
    """Beat (daily): enqueue one digest per member due for one."""
    user_ids = digest.users_due()
    for user_id in user_ids:
        digest_send.delay(user_id=user_id)
    return len(user_ids)


@shared_task(
    name="communities.tasks.digest_send",
    queue="email",
    acks_late=True,
    bind=True,
    max_retries=3,
)
def digest_send(self: Any, *, user_id: int) -> bool:
    from campus.notify import NotificationError

    try:
        return digest.digest_send(user_id=user_id)
    except NotificationError as exc:
        raise self.retry(exc=exc, countdown=300) from exc


@shared_task(name="communities.tasks.discussions_open", queue="default", acks_late=True)
def discussions_open() -> int:
    """Beat (weekly, Monday morning): the coach opens a discussion in the animated groups."""
    return animation.discussions_open_weekly()


@job_task(queue="ai")
def thread_summarise(job: Job, reporter: JobReporter, *, thread_id: int) -> dict[str, Any]:
    from communities.models import Thread

    thread = Thread.objects.select_related("group__organisation").filter(pk=thread_id).first()
    if thread is None or thread.group.organisation_id != job.organisation_id:
        raise JobError(_("Cette discussion n’existe plus."))
    reporter.progress(10, _("Lecture de la discussion…"))
    summary = animation.thread_summarise(thread=thread)
    return {
        "result": summary,
        "result_url": reverse("communities:thread", args=[thread.pk]) + "#resume",
        "result_label": _("Voir le résumé"),
        "message": _("Résumé prêt."),
    }
