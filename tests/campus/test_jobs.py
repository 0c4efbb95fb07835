from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from campus import jobs
from campus.models import Job
from tests.factories import JobFactory


def _succeeding(job, reporter, *, rows: int):
    reporter.progress(50, "À mi-chemin", force=True)
    return {"message": f"{rows} lignes traitées.", "result": {"rows": rows}, "result_url": "/x/"}


def _failing_expectedly(job, reporter):
    raise jobs.JobError("Fichier illisible.", result={"report_url": "/rapport.csv"})


def _crashing(job, reporter):
    raise RuntimeError("boom")


def test_job_create_enqueues_only_after_commit(
    manager, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(jobs, "job_enqueue", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.job_create(
            owner=manager,
            kind="test",
            title="Essai",
            task_name="campus.tasks.ping",
            task_kwargs={"a": 1},
        )
    assert sent == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [{"job_id": str(job.pk), "task_name": "campus.tasks.ping"}]
    assert job.state == Job.State.PENDING
    assert job.organisation_id == manager.organisation_id


def test_job_run_records_progress_and_success(manager):
    job = JobFactory(owner=manager, task_kwargs={"rows": 12})
    jobs.job_run(job_id=str(job.pk), fn=_succeeding)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert job.progress == 100
    assert job.message == "12 lignes traitées."
    assert job.result == {"rows": 12}
    assert job.result_url == "/x/"
    assert job.attempts == 1
    assert job.finished_at is not None


def test_expected_failure_keeps_its_french_message_and_result(manager):
    job = JobFactory(owner=manager)
    jobs.job_run(job_id=str(job.pk), fn=_failing_expectedly)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.message == "Fichier illisible."
    assert job.result == {"report_url": "/rapport.csv"}


def test_unexpected_failure_shows_a_generic_message(manager):
    job = JobFactory(owner=manager)
    jobs.job_run(job_id=str(job.pk), fn=_crashing)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "erreur inattendue" in job.message
    assert "boom" not in job.message


def test_a_finished_job_is_not_run_twice(manager):
    job = JobFactory(owner=manager, state=Job.State.SUCCEEDED)
    called = []
    jobs.job_run(job_id=str(job.pk), fn=lambda *a, **k: called.append(1))
    assert called == []


@override_settings(CAMPUS_JOB_STALE_SECONDS=60, CAMPUS_JOB_MAX_ATTEMPTS=3)
def test_sweeper_requeues_stale_jobs_and_abandons_exhausted_ones(manager, monkeypatch):
    sent = []
    monkeypatch.setattr(jobs, "job_enqueue", lambda **kw: sent.append(kw["job_id"]))
    old = timezone.now() - timedelta(minutes=10)
    lost = JobFactory(owner=manager, state=Job.State.RUNNING, heartbeat_at=old, attempts=1)
    exhausted = JobFactory(owner=manager, state=Job.State.RUNNING, heartbeat_at=old, attempts=3)
    alive = JobFactory(owner=manager, state=Job.State.RUNNING, heartbeat_at=timezone.now())
    never_picked = JobFactory(owner=manager, state=Job.State.PENDING)
    Job.objects.filter(pk=never_picked.pk).update(created_at=old)

    assert jobs.jobs_sweep() == {"requeued": 2, "failed": 1}

    assert sorted(sent) == sorted([str(lost.pk), str(never_picked.pk)])
    lost.refresh_from_db()
    exhausted.refresh_from_db()
    alive.refresh_from_db()
    assert lost.state == Job.State.PENDING
    assert exhausted.state == Job.State.FAILED
    assert alive.state == Job.State.RUNNING


def test_owner_sees_the_job_page_with_a_progress_bar(manager_client, manager):
    job = JobFactory(owner=manager, state=Job.State.RUNNING, progress=40, message="Lecture…")
    html = manager_client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert '<progress max="100" value="40"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "Lecture…" in html


def test_htmx_poll_returns_the_fragment_and_stops_when_finished(manager_client, manager):
    job = JobFactory(owner=manager, state=Job.State.SUCCEEDED, progress=100, message="Terminé.")
    response = manager_client.get(reverse("job_status", args=[job.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "hx-trigger" not in html
    assert response["HX-Trigger"] == "job-finished"


def test_job_page_makes_no_extra_queries(manager_client, manager, django_assert_max_num_queries):
    job = JobFactory(owner=manager)
    manager_client.get(reverse("job_status", args=[job.pk]))  # warm the session cache
    with django_assert_max_num_queries(3):
        manager_client.get(reverse("job_status", args=[job.pk]), HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("job_id", ["00000000-0000-0000-0000-000000000000", "pas-un-uuid"])
def test_unknown_job_ids_give_404(manager_client, job_id):
    assert manager_client.get(reverse("job_status", args=[job_id])).status_code == 404


def test_outsider_gets_404_on_someone_elses_job(client, manager, outsider):
    job = JobFactory(owner=manager)
    client.force_login(outsider)
    assert client.get(reverse("job_status", args=[job.pk])).status_code == 404


def test_colleague_gets_404_on_someone_elses_job(client, manager, hr_admin):
    job = JobFactory(owner=manager)
    client.force_login(hr_admin)
    assert client.get(reverse("job_status", args=[job.pk])).status_code == 404


def test_a_retryable_outage_puts_the_job_back_to_waiting_and_reraises(manager):
    from campus.ai import AIUnavailable

    job = JobFactory(owner=manager)

    def outage(job, reporter):
        raise AIUnavailable("Le service d’IA ne répond pas.")

    with pytest.raises(AIUnavailable):
        jobs.job_run(job_id=str(job.pk), fn=outage, retry_on=(AIUnavailable,))
    job.refresh_from_db()
    assert job.state == Job.State.PENDING
    assert "nouvel essai" in job.message


def test_after_the_last_retry_an_outage_fails_the_job_with_its_french_message(manager):
    from campus.ai import AIUnavailable

    job = JobFactory(owner=manager)

    def outage(job, reporter):
        raise AIUnavailable("Le service d’IA ne répond pas.")

    jobs.job_run(job_id=str(job.pk), fn=outage)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.message.startswith("Le service d’IA")


def test_retry_delay_backs_off_with_jitter_and_a_cap():
    delays = [jobs.retry_delay(n) for n in range(12)]
    assert 7.5 <= delays[0] <= 15
    assert 15 <= delays[1] <= 30
    assert all(d <= 600 for d in delays)
