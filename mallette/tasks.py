from __future__ import annotations

from typing import Any

from celery import shared_task

from campus.jobs import JobReporter, job_task
from campus.models import Job
from mallette import book
from mallette.mentions import mentions_detect
from mallette.services import practices_index


@shared_task(name="mallette.tasks.practices_index", queue="ai", acks_late=True)
def practices_index_task() -> int:
    """Re-index practices whose text changed (beat, every few minutes; cheap when idle)."""
    return practices_index()


@shared_task(name="mallette.tasks.mentions_detect", queue="ai", acks_late=True)
def mentions_detect_task() -> dict[str, int]:
    """Match new campus texts to practices (beat, every 15 minutes; incremental, idempotent)."""
    report = mentions_detect()
    return {
        "texts": report.texts,
        "mentions": report.mentions,
        "unmatched": report.unmatched,
        "proposals": report.proposals,
    }


@job_task(queue="default")
def book_build(job: Job, reporter: JobReporter, *, user_id: int) -> dict[str, Any]:
    """The organisation's book as a PDF (a job with a progress bar)."""
    return book.book_job(job, reporter, user_id=user_id)
