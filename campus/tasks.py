from __future__ import annotations

from celery import shared_task

from campus import jobs


@shared_task(name="campus.tasks.jobs_sweep")
def jobs_sweep() -> dict[str, int]:
    return jobs.jobs_sweep()


@shared_task(name="campus.tasks.ping")
def ping(value: str) -> str:
    """Round-trip check used by health probes and the worker test."""
    return value
