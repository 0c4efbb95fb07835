from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from boosts import services, tasks
from boosts.models import Boost, Registration, Satisfaction
from boosts.selectors import satisfaction_summary
from coach.models import Exercise
from mallette.models import Practice, Theme
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def host_client(host):
    c = Client()
    c.force_login(host)
    return c


def form_data(**overrides):
    theme = Theme.objects.first()
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    data = {
        "title": "Conduire le changement",
        "description": "Trois leviers en 45 minutes.",
        "themes": [theme.pk],
        "day": day,
        "start_time": "10:00",
        "duration_minutes": "45",
        "format": "online",
        "meeting_url": "https://teams.example.test/r/abc",
        "room": "",
        "capacity": "30",
        "resources": "",
        "replay_url": "",
        "followup_question": "",
        "repeat": "",
        "count": "1",
    }
    data.update(overrides)
    return data


def test_host_creates_a_boost(host_client, host):
    response = host_client.post(reverse("boosts:create"), form_data())
    assert response.status_code == 302
    boost = Boost.objects.get()
    assert boost.host == host and boost.capacity == 30
    local = timezone.localtime(boost.starts_at)
    assert (local.hour, local.minute) == (10, 0)
    page = host_client.get(response["Location"]).content.decode()
    assert boost.checkin_code in page


def test_invalid_form_answers_400_in_french_and_keeps_the_input(host_client):
    response = host_client.post(
        reverse("boosts:create"),
        form_data(meeting_url="", format="hybrid", capacity="0", title="Mon titre gardé"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Indiquez le lien de la réunion en ligne." in html
    assert "Indiquez la salle." in html
    assert "Mon titre gardé" in html
    assert not Boost.objects.exists()


def test_weekly_series_across_the_march_change_stays_at_10_paris(host_client, manager_client):
    response = host_client.post(
        reverse("boosts:create"), form_data(day="2027-03-21", repeat="weekly", count="3")
    )
    assert response.status_code == 302
    boosts = list(Boost.objects.order_by("starts_at"))
    assert len(boosts) == 3 and len({b.series for b in boosts}) == 1
    assert {timezone.localtime(b.starts_at).hour for b in boosts} == {10}
    assert [b.starts_at.astimezone(UTC).hour for b in boosts] == [9, 8, 8]  # CET, then CEST
    page = manager_client.get(reverse("boosts:detail", args=[boosts[1].pk])).content.decode()
    assert "de 10:00 à 10:45 (heure de Paris)" in page
    assert len({b.checkin_code for b in boosts}) == 3


def test_series_needs_two_sessions(host_client):
    response = host_client.post(reverse("boosts:create"), form_data(repeat="weekly", count="1"))
    assert response.status_code == 400
    assert "au moins deux séances" in response.content.decode()


def test_duplicate_prefills_the_form(host_client, boost):
    html = host_client.get(reverse("boosts:duplicate", args=[boost.pk])).content.decode()
    assert boost.title in html and "Dupliquer le boost" in html


def test_edit_notifies_registrants(host_client, boost, manager, django_capture_on_commit_callbacks):
    services.registration_create(boost=boost, user=manager)
    mail.outbox.clear()
    local = timezone.localtime(boost.starts_at)
    data = form_data(
        title=boost.title, day=local.date().isoformat(), start_time="15:30", capacity="10"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = host_client.post(reverse("boosts:edit", args=[boost.pk]), data)
    assert response.status_code == 302
    boost.refresh_from_db()
    assert boost.sequence == 1
    assert timezone.localtime(boost.starts_at).strftime("%H:%M") == "15:30"
    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_cancel_asks_then_cancels(host_client, boost):
    assert host_client.get(reverse("boosts:cancel", args=[boost.pk])).status_code == 200
    host_client.post(reverse("boosts:cancel", args=[boost.pk]))
    boost.refresh_from_db()
    assert boost.is_cancelled


def test_exports_escape_formulas(host_client, boost, organism):
    evil = ManagerFactory(organism=organism, last_name='=HYPERLINK("http://x")', first_name="+1")
    services.registration_create(boost=boost, user=evil)
    response = host_client.get(reverse("boosts:export", args=[boost.pk, "csv"]))
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Nom"
    assert rows[1][0] == '\'=HYPERLINK("http://x")' and rows[1][1] == "'+1"
    xlsx = host_client.get(reverse("boosts:export", args=[boost.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A2"].value == '\'=HYPERLINK("http://x")'
    assert sheet["A2"].data_type == "s"
    assert host_client.get(reverse("boosts:export", args=[boost.pk, "pdf"])).status_code == 404


def test_manager_and_outsider_get_404_on_host_pages(boost, manager_client, outsider):
    outsider_client = Client()
    outsider_client.force_login(outsider)
    for c in (manager_client, outsider_client):
        for name in ("host", "create", "stats"):
            assert c.get(reverse(f"boosts:{name}")).status_code == 404, name
        for name in ("duplicate", "edit", "cancel", "manage"):
            assert c.get(reverse(f"boosts:{name}", args=[boost.pk])).status_code == 404, name
        assert c.get(reverse("boosts:export", args=[boost.pk, "csv"])).status_code == 404
        assert c.post(reverse("boosts:poll_create", args=[boost.pk])).status_code == 404


def test_another_host_cannot_manage_my_boost(boost, organism):
    other = ManagerFactory(organism=organism, roles=["manager", "boost_host"])
    c = Client()
    c.force_login(other)
    assert c.get(reverse("boosts:manage", args=[boost.pk])).status_code == 404


def test_hr_admin_manages_every_boost_of_the_organisation(boost, hr_admin):
    c = Client()
    c.force_login(hr_admin)
    assert c.get(reverse("boosts:manage", args=[boost.pk])).status_code == 200
    assert boost.title in c.get(reverse("boosts:stats")).content.decode()


def test_satisfaction_is_anonymous_and_shown_from_5_answers(make_boost, organism, host_client):
    boost = make_boost(starts_at=timezone.now() - timedelta(hours=2))
    people = [ManagerFactory(organism=organism) for _ in range(5)]
    for person in people:
        Registration.objects.create(
            boost=boost, user=person, status="confirmed", checked_in_at=timezone.now()
        )
    for person in people[:4]:
        services.satisfaction_submit(boost=boost, user=person, overall=4, useful=5, recommend=True)
    with pytest.raises(services.BoostError):
        services.satisfaction_submit(
            boost=boost, user=people[0], overall=1, useful=1, recommend=False
        )
    assert not satisfaction_summary(boost).shown
    assert (
        "à partir de 5 réponses"
        in host_client.get(reverse("boosts:manage", args=[boost.pk])).content.decode()
    )
    c = Client()
    c.force_login(people[4])
    page = c.get(reverse("boosts:detail", args=[boost.pk])).content.decode()
    assert "Votre avis en 3 questions" in page
    bad = c.post(reverse("boosts:satisfaction", args=[boost.pk]), {"overall": "9"})
    assert bad.status_code == 400 and "Choisissez une note de 1 à 5." in bad.content.decode()
    c.post(
        reverse("boosts:satisfaction", args=[boost.pk]),
        {"overall": "5", "useful": "3", "recommend": "no"},
    )
    summary = satisfaction_summary(boost)
    assert summary.shown and summary.count == 5 and summary.recommend_percent == 80
    assert [f.name for f in Satisfaction._meta.get_fields()] == [
        "id",
        "boost",
        "overall",
        "useful",
        "recommend",
    ]  # nothing that points to a person or a time


def test_people_absent_cannot_answer_the_survey(make_boost, manager, manager_client):
    boost = make_boost(starts_at=timezone.now() - timedelta(hours=2))
    Registration.objects.create(boost=boost, user=manager, status="confirmed")
    assert (
        manager_client.post(reverse("boosts:satisfaction", args=[boost.pk]), {}).status_code == 404
    )


def test_after_the_boost_replay_practices_and_follow_up_exercise(
    make_boost, manager, manager_client
):
    theme = Theme.objects.filter(practices__isnull=False).first()
    practice = Practice.objects.filter(
        themes=theme, status="published", organisation__isnull=True
    ).first()
    boost = make_boost(
        starts_at=timezone.now() - timedelta(hours=2),
        themes=[theme],
        replay_url="https://replay.example.test/v/1",
        followup_practice=practice,
        followup_question="Qu’allez-vous essayer lundi ?",
    )
    Registration.objects.create(
        boost=boost, user=manager, status="confirmed", checked_in_at=timezone.now()
    )
    assert tasks.followups_send() == 1
    assert tasks.followups_send() == 0  # once per boost
    exercise = Exercise.objects.get(user=manager)
    assert exercise.practice == practice and exercise.question == "Qu’allez-vous essayer lundi ?"
    page = manager_client.get(reverse("boosts:detail", args=[boost.pk])).content.decode()
    assert "https://replay.example.test/v/1" in page
    assert practice.title in page
    assert reverse("coach:exercise_detail", args=[exercise.pk]) in page


def test_catalogue_filters_past_and_mine(make_boost, manager, manager_client):
    past = make_boost(title="Ancien boost", starts_at=timezone.now() - timedelta(days=3))
    soon = make_boost(title="Prochain boost")
    services.registration_create(boost=soon, user=manager)
    upcoming_page = manager_client.get(reverse("boosts:index")).content.decode()
    assert "Prochain boost" in upcoming_page and "Ancien boost" not in upcoming_page
    past_page = manager_client.get(reverse("boosts:index"), {"when": "past"}).content.decode()
    assert "Ancien boost" in past_page and "Prochain boost" not in past_page
    mine = manager_client.get(reverse("boosts:index"), {"when": "mine"}, HTTP_HX_REQUEST="true")
    assert "Prochain boost" in mine.content.decode() and "<html" not in mine.content.decode()
    assert past.pk


def test_poll_form_errors_are_french_and_keep_the_input(host_client, live_boost):
    response = host_client.post(
        reverse("boosts:poll_create", args=[live_boost.pk]),
        {"kind": "single", "prompt": "Gardée ?", "options": "Une seule"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Proposez au moins deux réponses" in html and "Gardée ?" in html
    ok = host_client.post(
        reverse("boosts:poll_create", args=[live_boost.pk]),
        {"kind": "words", "prompt": "Un mot ?", "options": ""},
    )
    assert ok.status_code == 302
    assert live_boost.polls.get().kind == "words"


def test_reminder_also_goes_to_the_managers_teams_webhook(make_boost, manager, monkeypatch):
    from boosts import notifications
    from coach.models import ExercisePreference

    ExercisePreference.objects.create(
        user=manager, teams_webhook_url="https://x.webhook.office.com/hook"
    )
    posted = []
    monkeypatch.setattr(notifications.notify, "teams_post", lambda url, card: posted.append(card))
    start = timezone.now() + timedelta(minutes=10)
    boost = make_boost(starts_at=start)
    Registration.objects.create(
        boost=boost, user=manager, status="confirmed", queued_at=timezone.now() - timedelta(days=2)
    )
    assert tasks.reminders_send(now=timezone.now().isoformat())["reminder_soon"] == 1
    assert len(posted) == 1 and "Dans 15 minutes" in str(posted[0])
    assert len(mail.outbox) == 1


def test_a_cancelled_boost_cannot_be_edited(host_client, boost, host):
    services.boost_cancel(boost=boost, by=host)
    response = host_client.post(reverse("boosts:edit", args=[boost.pk]), form_data())
    assert response.status_code == 302
    boost.refresh_from_db()
    assert boost.title != "Conduire le changement"
