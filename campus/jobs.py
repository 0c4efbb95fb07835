"""Long-running jobs: create, enqueue after commit, report progress, sweep stale ones.

A feature declares its task with :func:`job_task`; the web tier calls :func:`job_create`.
The ``Job`` row is the only source of truth: pages poll it, the sweeper repairs it.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.models import Job, User

logger = logging.getLogger(__name__)


class JobError(Exception):
    """An expected failure whose message (in French) is shown to the user as is.

    ``result`` is stored on the job (e.g. ``{"report_url": ...}`` for rejected import rows).
    """

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


def job_create(
    *,
    owner: User,
    kind: str,
    title: str,
    task_name: str,
    task_kwargs: dict[str, Any] | None = None,
) -> Job:
    """Create a job and enqueue its task once the surrounding transaction commits."""
    job = Job.objects.create(
        owner=owner,
        organisation_id=owner.organisation_id,
        kind=kind,
        title=title,
        task_name=task_name,
        task_kwargs=task_kwargs or {},
        message=_("En attente d’un processus de traitement…"),
    )
    job_id = str(job.pk)
    transaction.on_commit(lambda: job_enqueue(job_id=job_id, task_name=task_name))
    return job


def job_enqueue(*, job_id: str, task_name: str) -> None:
    from campus.celery import app

    app.send_task(task_name, kwargs={"job_id": job_id})


class JobReporter:
    """Handed to a job's function so it can report progress; writes are throttled."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last_write = timezone.now()

    def progress(self, percent: float, message: str = "", *, force: bool = False) -> None:
        now = timezone.now()
        pct = max(0, min(99, int(percent)))
        if not force and (now - self._last_write).total_seconds() < 0.5 and pct < 99:
            return
        self._last_write = now
        fields: dict[str, Any] = {"progress": pct, "heartbeat_at": now}
        if message:
            fields["message"] = message[:500]
        Job.objects.filter(pk=self.job.pk).update(**fields)


def job_task(
    *,
    queue: str = "default",
    retry_on: tuple[type[Exception], ...] = (),
    max_retries: int = 5,
) -> Callable:
    """Declare a Celery task running ``fn(job, reporter, **job.task_kwargs)``.

    The function returns a dict that may hold ``result_url``, ``result_label``, ``message``
    and any JSON-serialisable ``result``. Raising :class:`JobError` fails the job with that
    message; any other exception fails it with a generic French message (details logged).
    Exceptions in ``retry_on`` (e.g. ``campus.ai.AIUnavailable``) put the job back to waiting
    and retry the task with exponential backoff and jitter, up to ``max_retries`` times.
    """

    def decorator(fn: Callable[..., dict[str, Any] | None]) -> Any:
        @shared_task(
            name=f"{fn.__module__}.{fn.__name__}",
            queue=queue,
            acks_late=True,
            bind=True,
            max_retries=max_retries,
        )
        @functools.wraps(fn)
        def task(self: Any, job_id: str) -> None:
            final = self.request.retries >= max_retries
            try:
                job_run(job_id=job_id, fn=fn, retry_on=() if final else retry_on)
            except retry_on as exc:
                raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc

        return task

    return decorator


def retry_delay(retries: int) -> float:
    """Exponential backoff with full jitter: 15 s, 30 s, 60 s… capped at 10 minutes."""
    return random.uniform(0.5, 1.0) * min(600, 15 * 2**retries)  # noqa: S311 (not security)


def job_run(
    *,
    job_id: str,
    fn: Callable[..., dict[str, Any] | None],
    retry_on: tuple[type[Exception], ...] = (),
) -> None:
    now = timezone.now()
    updated = Job.objects.filter(
        pk=job_id, state__in=[Job.State.PENDING, Job.State.RUNNING]
    ).update(
        state=Job.State.RUNNING,
        started_at=now,
        heartbeat_at=now,
        message=_("Traitement en cours…"),
    )
    if not updated:
        logger.info("job %s is finished or gone; nothing to do", job_id)
        return
    job = Job.objects.get(pk=job_id)
    Job.objects.filter(pk=job_id).update(attempts=job.attempts + 1)
    reporter = JobReporter(job)
    try:
        outcome = fn(job, reporter, **job.task_kwargs) or {}
    except retry_on:
        Job.objects.filter(pk=job_id).update(
            state=Job.State.PENDING,
            heartbeat_at=timezone.now(),
            message=_("Service momentanément indisponible : nouvel essai automatique bientôt."),
        )
        raise
    except JobError as exc:
        _finish(job_id, Job.State.FAILED, str(exc), result=exc.result)
        return
    except SoftTimeLimitExceeded:
        _finish(job_id, Job.State.FAILED, _("Le traitement a pris trop de temps et a été arrêté."))
        return
    except Exception as exc:
        if _is_service_outage(exc):  # retryable ones were caught above while retries remain
            _finish(job_id, Job.State.FAILED, str(exc))
            return
        logger.exception("job %s (%s) failed", job_id, job.kind)
        _finish(
            job_id,
            Job.State.FAILED,
            _(
                "Une erreur inattendue a interrompu le traitement. Rien n’a été modifié ; veuillez réessayer."
            ),
        )
        return
    _finish(
        job_id,
        Job.State.SUCCEEDED,
        outcome.get("message") or _("Terminé."),
        result_url=outcome.get("result_url", ""),
        result_label=outcome.get("result_label", ""),
        result=outcome.get("result", {}),
    )


def _is_service_outage(exc: Exception) -> bool:
    """An AI failure (outage after the last retry, budget exceeded, unusable answer): its
    French message is meant for the user."""
    from campus.ai import AIError

    return isinstance(exc, AIError)


def _finish(job_id: str, state: str, message: str, **fields: Any) -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        state=state,
        message=message[:500],
        finished_at=now,
        heartbeat_at=now,
        progress=100 if state == Job.State.SUCCEEDED else F("progress"),
        **fields,
    )


def jobs_sweep() -> dict[str, int]:
    """Re-enqueue jobs whose worker vanished; fail those that exhausted their attempts."""
    stale_before = timezone.now() - timedelta(seconds=settings.CAMPUS_JOB_STALE_SECONDS)
    stale = list(
        Job.objects.filter(state__in=[Job.State.PENDING, Job.State.RUNNING])
        # pending jobs never picked up, or running jobs whose heartbeat stopped
        .filter(
            Q(heartbeat_at__lt=stale_before)
            | Q(heartbeat_at__isnull=True, created_at__lt=stale_before)
        )
        .values_list("pk", "task_name", "attempts")
    )
    requeued = failed = 0
    for pk, task_name, attempts in stale:
        if attempts >= settings.CAMPUS_JOB_MAX_ATTEMPTS:
            _finish(
                str(pk),
                Job.State.FAILED,
                _("Le traitement a été interrompu plusieurs fois et a été abandonné."),
            )
            failed += 1
            continue
        Job.objects.filter(pk=pk).update(
            state=Job.State.PENDING,
            heartbeat_at=timezone.now(),
            message=_("Interrompu ; relancé…"),
        )
        job_enqueue(job_id=str(pk), task_name=task_name)
        requeued += 1
    if requeued or failed:
        logger.warning("job sweep: %d re-enqueued, %d abandoned", requeued, failed)
    return {"requeued": requeued, "failed": failed}
