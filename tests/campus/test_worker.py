"""End to end through a real Celery worker process on the embedded Redis."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campus.models import Job, User

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def _wait_finished(job_id, timeout: float = 90) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still {job.state} ({job.progress} %: {job.message})")


def test_import_uploaded_by_hr_runs_in_a_real_worker(celery_worker_process, client, hr_admin):
    code = hr_admin.organism.code
    csv = (
        "email;prenom;nom;organisme;niveau;manager_email\n"
        f"chef@campus.test;Léa;Chef;{code};proximite;\n"
        f"agent1@campus.test;Hugo;Agent;{code};;chef@campus.test\n"
        f"agent2@campus.test;Inès;Agent;{code};;chef@campus.test\n"
    ).encode()
    client.force_login(hr_admin)
    response = client.post(
        reverse("people_import"),
        {"file": SimpleUploadedFile("annuaire.csv", csv, content_type="text/csv")},
    )
    assert response.status_code == 302
    job = Job.objects.get(owner=hr_admin)
    assert response["Location"] == reverse("job_status", args=[job.pk])

    job = _wait_finished(job.pk)

    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.progress == 100
    assert job.attempts == 1
    chef = User.objects.get(email="chef@campus.test")
    assert chef.is_manager
    assert set(chef.reports.values_list("email", flat=True)) == {
        "agent1@campus.test",
        "agent2@campus.test",
    }
    page = client.get(reverse("job_status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in page.content.decode()


def test_a_job_the_sweeper_requeues_is_picked_up_by_the_worker(celery_worker_process, hr_admin):
    from campus import jobs

    code = hr_admin.organism.code
    csv = f"email;prenom;nom;organisme\nx@campus.test;Xavier;Lost;{code}\n".encode()
    from campus.people_import import import_job_start

    with pytest.MonkeyPatch.context() as mp:
        # Simulate a worker crash before the task ever ran: the message is lost.
        mp.setattr(jobs, "job_enqueue", lambda **kw: None)
        job = import_job_start(
            owner=hr_admin,
            uploaded=SimpleUploadedFile("a.csv", csv, content_type="text/csv"),
            kind="csv",
            dry_run=False,
        )
    Job.objects.filter(pk=job.pk).update(
        created_at=job.created_at.replace(year=job.created_at.year - 1)
    )
    assert jobs.jobs_sweep()["requeued"] == 1

    job = _wait_finished(job.pk)
    assert job.state == Job.State.SUCCEEDED, job.message
    assert User.objects.filter(email="x@campus.test").exists()
