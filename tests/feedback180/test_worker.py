"""A real Celery worker is killed in the middle of the processing job: nothing is lost,
nothing is done twice."""

from __future__ import annotations

import os
import signal
import time

import pytest

from campus import jobs
from campus.models import Job
from feedback180 import services
from feedback180.models import Campaign, Response
from tests.feedback180.conftest import all_items

pytestmark = [pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def themes(transactional_db):
    """An earlier transactional test may have flushed the themes the harvest files under."""
    from mallette.corpus import themes_load
    from mallette.models import Theme

    themes_load(theme_model=Theme)


@pytest.fixture
def slow_steps(monkeypatch):
    """Each response takes a second in the worker (read from the environment it inherits)."""
    monkeypatch.setenv("CAMPUS_FEEDBACK180_STEP_DELAY", "1")


def _wait(predicate, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_killing_the_worker_mid_job_loses_nothing_and_duplicates_nothing(
    themes,
    slow_steps,
    open_campaign,
    celery_worker_process,
    settings,
    django_capture_on_commit_callbacks,
):
    from mallette.models import Practice, PracticeSource

    campaign, tokens = open_campaign(k=5)
    for email in tokens:
        services.response_submit(
            token=tokens[email],
            answers=all_items(campaign),
            comments={"keep": "Il remercie chaque personne pour le travail accompli."},
        )
    with django_capture_on_commit_callbacks(execute=True):
        job = services.campaign_close(campaign=campaign)

    def some_done() -> bool:
        return Response.objects.filter(campaign=campaign, processed=True).count() >= 2

    _wait(some_done)
    os.kill(celery_worker_process.pid, signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    done = Response.objects.filter(campaign=campaign, processed=True).count()
    assert 2 <= done < 7, done
    assert Job.objects.get(pk=job.pk).state == Job.State.RUNNING

    # The sweeper finds the job whose heartbeat stopped and re-enqueues it; here the
    # re-enqueued message is run in this process, as a fresh worker would.
    monkey = pytest.MonkeyPatch()
    monkey.setenv("CAMPUS_FEEDBACK180_STEP_DELAY", "0")
    settings.CAMPUS_JOB_STALE_SECONDS = 0
    sent: list[str] = []
    monkey.setattr(jobs, "job_enqueue", lambda **kw: sent.append(kw["job_id"]))
    time.sleep(0.1)
    assert jobs.jobs_sweep()["requeued"] == 1
    assert sent == [str(job.pk)]
    from feedback180.tasks import campaign_process

    campaign_process.apply(kwargs={"job_id": str(job.pk)})
    monkey.undo()

    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.attempts == 2
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.released and campaign.response_count == 7
    rows = list(Response.objects.filter(campaign=campaign).values("raw_comments", "comments"))
    assert len(rows) == 7
    assert all(r["raw_comments"] == {} and r["comments"]["keep"] for r in rows)
    assert Practice.objects.filter(source=PracticeSource.FEEDBACK).count() == 1
