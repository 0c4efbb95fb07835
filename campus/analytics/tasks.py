from __future__ import annotations

from typing import Any

from celery import shared_task

from campus.analytics import export_services, services
from campus.jobs import JobReporter, job_task
from campus.models import Job


@shared_task(name="campus.tasks.activity_purge", acks_late=True)
def activity_purge() -> int:
    """Daily (beat): delete activity past the 13-month retention. Idempotent."""
    return services.activity_purge()


@job_task(queue="default")
def export_build(job: Job, reporter: JobReporter, *, export_id: int) -> dict[str, Any]:
    """An analytics export (CSV, XLSX or PDF) as a job with a progress bar."""
    return export_services.export_build(job, reporter, export_id=export_id)


@shared_task(name="campus.tasks.analytics_exports_purge", acks_late=True)
def exports_purge() -> int:
    """Daily (beat): delete export files older than 7 days; the log rows stay. Idempotent."""
    return export_services.exports_purge()


@shared_task(name="campus.tasks.analytics_monthly_reports", acks_late=True)
def monthly_reports_send() -> dict[str, int]:
    """Daily (beat) at 07:00: on the 1st, last month's PDF report to each subscribed analyst;
    other days only retry failed emails. Never twice (``last_sent_month`` is claimed)."""
    return export_services.monthly_reports_send()
