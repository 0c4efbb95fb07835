from __future__ import annotations

from typing import Any

from celery import shared_task

from campus import jobs
from campus.analytics.tasks import activity_purge  # noqa: F401  (registered with Celery)
from campus.models import Job
from campus.people_import import people_import_job


@shared_task(name="campus.tasks.jobs_sweep")
def jobs_sweep() -> dict[str, int]:
    return jobs.jobs_sweep()


@shared_task(name="campus.tasks.ping")
def ping(value: str) -> str:
    """Round-trip check used by health probes and the worker test."""
    return value


@jobs.job_task()
def people_import(job: Job, reporter: jobs.JobReporter, **kwargs: Any) -> dict[str, Any]:
    """Import the people and teams file an HR admin uploaded (campus.people_import)."""
    return people_import_job(job, reporter, **kwargs)
