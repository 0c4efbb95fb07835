"""The organisation's book: contents, the PDF job with progress, access-checked download."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from campus.jobs import job_run
from campus.models import Job
from mallette import book as mallette_book
from mallette.models import Mention, PracticeUse, PracticeUseKind
from tests.factories import ManagerFactory, OrganismFactory


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def used(manager, outsider, library, make_practice):
    """The organisation uses two editorial practices; another organism and another
    organisation have practices of their own that must stay out."""
    today = timezone.localdate()
    for i in range(3):
        Mention.objects.create(
            practice=library["merci"],
            organisation=manager.organisation,
            source="coach",
            source_ref=f"t:{i}",
            similarity=0.9,
            day=today,
        )
    PracticeUse.objects.create(user=manager, practice=library["feedback"], kind=PracticeUseKind.USE)
    # Used elsewhere only: not in this organisation's book.
    PracticeUse.objects.create(
        user=outsider, practice=library["teletravail"], kind=PracticeUseKind.USE
    )
    other = OrganismFactory(branch=manager.organism.branch)
    make_practice(
        "Pratique d’un autre organisme", "Non.", organisation=manager.organisation, organism=other
    )
    make_practice("Pratique d’une autre organisation", "Non.", organisation=outsider.organisation)
    return library


def test_book_holds_own_practices_and_the_editorial_ones_in_use(manager, used):
    book = mallette_book.book_contents(manager)
    titles = [p.title for c in book.chapters for p in c.practices]
    assert set(titles) == {
        used["national"].title,
        used["local"].title,
        used["merci"].title,
        used["feedback"].title,
    }
    assert (book.own_count, book.editorial_count) == (2, 2)
    positions = [c.theme.position for c in book.chapters]
    assert positions == sorted(positions)
    merci = next(p for c in book.chapters for p in c.practices if p.pk == used["merci"].pk)
    assert (merci.mention_count, merci.editorial) == (3, True)


def test_most_evoked_come_first_within_a_theme(manager, used, make_practice):
    second = make_practice(
        "Dire merci en réunion",
        "Citer le fait devant l’équipe.",
        themes=("recognition",),
        organisation=manager.organisation,
    )
    Mention.objects.create(
        practice=second,
        organisation=manager.organisation,
        source="coach",
        source_ref="x:1",
        similarity=0.9,
        day=timezone.localdate(),
    )
    chapter = next(
        c for c in mallette_book.book_contents(manager).chapters if c.theme.slug == "recognition"
    )
    assert [p.pk for p in chapter.practices] == [used["merci"].pk, second.pk]


def test_book_job_builds_a_pdf_the_owner_alone_downloads(
    client, manager, outsider, used, media, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr("campus.jobs.job_enqueue", lambda **kw: enqueued.append(kw))
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mallette:book"))
    job = Job.objects.get(kind=mallette_book.BOOK_JOB_KIND)
    assert response["Location"] == reverse("mallette:book_job", args=[job.pk])
    assert enqueued == [{"job_id": str(job.pk), "task_name": "mallette.tasks.book_build"}]
    # A second click while it runs shows the same job instead of starting another one.
    client.post(reverse("mallette:book"))
    assert Job.objects.filter(kind=mallette_book.BOOK_JOB_KIND).count() == 1
    download = reverse("mallette:book_download", args=[job.pk])
    assert client.get(download).status_code == 404  # not built yet

    job_run(job_id=str(job.pk), fn=mallette_book.book_job)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.progress == 100 and job.result_url == download
    assert "4 pratiques" in job.message
    page = client.get(reverse("mallette:book_job", args=[job.pk])).content.decode()
    assert "Télécharger le livre (PDF)" in page
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    assert mallette_book.book_path(job_id=job.pk).is_relative_to(media)

    client.force_login(ManagerFactory(organism=manager.organism))  # a colleague
    assert client.get(download).status_code == 404
    assert client.get(reverse("mallette:book_job", args=[job.pk])).status_code == 404
    client.force_login(outsider)
    assert client.get(download).status_code == 404


def test_an_empty_book_fails_with_a_french_message(client, empty_library, manager, media):
    job = Job.objects.create(
        owner=manager,
        organisation=manager.organisation,
        kind=mallette_book.BOOK_JOB_KIND,
        title="Livre",
        task_name=mallette_book.BOOK_TASK_NAME,
        task_kwargs={"user_id": manager.pk},
    )
    job_run(
        job_id=str(job.pk),
        fn=mallette_book.book_job,
    )
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "aucune pratique publiée" in job.message


def test_other_jobs_are_not_books(client, manager, media):
    job = Job.objects.create(
        owner=manager,
        organisation=manager.organisation,
        kind="people_import",
        title="Import",
        task_name="campus.tasks.people_import",
    )
    client.force_login(manager)
    assert client.get(reverse("mallette:book_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("mallette:book_download", args=[job.pk])).status_code == 404


def test_the_printable_page_lists_the_book_by_theme(manager_client, used):
    response = manager_client.get(reverse("mallette:book_print"))
    html = response.content.decode()
    assert response.status_code == 200
    assert used["merci"].title in html and used["national"].title in html
    assert "Pratique d’un autre organisme" not in html
    assert "Pratique d’une autre organisation" not in html
    assert "css/mallette" in html  # the print stylesheet
    assert manager_client.get(reverse("mallette:book")).status_code == 200


def test_outsider_sees_only_their_own_organisations_book(client, outsider, used):
    client.force_login(outsider)
    html = client.get(reverse("mallette:book_print")).content.decode()
    assert used["teletravail"].title in html  # used in the outsider's organisation
    assert used["national"].title not in html and used["merci"].title not in html
