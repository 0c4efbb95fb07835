from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from boosts import services, tasks
from boosts.models import Registration, RegistrationStatus
from campus.models import Level
from tests.factories import BranchFactory, ManagerFactory, OrganismFactory

pytestmark = pytest.mark.django_db


def ics_of(message) -> str:
    [(name, content, mimetype)] = message.attachments
    assert name == "boost.ics"
    assert mimetype.startswith("text/calendar")
    return content.replace("\r\n ", "")


def test_manager_registers_in_one_click_and_gets_the_invitation(
    manager_client, manager, boost, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("boosts:register", args=[boost.pk]))
    assert response.status_code == 302
    registration = Registration.objects.get(boost=boost, user=manager)
    assert registration.status == RegistrationStatus.CONFIRMED
    [message] = mail.outbox
    assert message.to == [manager.email]
    assert "Inscription confirmée" in message.subject
    body = ics_of(message)
    assert "METHOD:REQUEST" in body and f"UID:boost-{boost.uid}@campus" in body
    page = manager_client.get(reverse("boosts:detail", args=[boost.pk]))
    assert "Vous êtes inscrit." in page.content.decode()
    download = manager_client.get(reverse("boosts:ics", args=[boost.pk]))
    assert download["Content-Type"].startswith("text/calendar")
    assert b"SEQUENCE:0" in download.content


def test_full_boost_puts_people_on_the_waiting_list_and_a_cancellation_promotes_the_first(
    make_boost, organism, django_capture_on_commit_callbacks
):
    boost = make_boost(capacity=1)
    first, second, third = (ManagerFactory(organism=organism) for _ in range(3))
    with django_capture_on_commit_callbacks(execute=True):
        r1 = services.registration_create(boost=boost, user=first)
        r2 = services.registration_create(boost=boost, user=second)
        r3 = services.registration_create(boost=boost, user=third)
    assert [r1.status, r2.status, r3.status] == ["confirmed", "waitlisted", "waitlisted"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(registration=r1)
    r2.refresh_from_db()
    r3.refresh_from_db()
    assert r2.status == "confirmed" and r3.status == "waitlisted"
    by_to = {m.to[0]: m for m in mail.outbox}
    assert "METHOD:CANCEL" in ics_of(by_to[first.email])
    assert "place s’est libérée" in by_to[second.email].subject
    assert "METHOD:REQUEST" in ics_of(by_to[second.email])
    assert third.email not in by_to


def test_registering_twice_is_harmless_and_re_registering_after_cancel_works(boost, manager):
    r = services.registration_create(boost=boost, user=manager)
    assert services.registration_create(boost=boost, user=manager).pk == r.pk
    services.registration_cancel(registration=r)
    again = services.registration_create(boost=boost, user=manager)
    assert again.pk == r.pk and again.status == "confirmed"


def test_cannot_register_to_a_past_or_cancelled_boost(make_boost, manager, host, manager_client):
    past = make_boost(starts_at=timezone.now() - timedelta(hours=2))
    with pytest.raises(services.BoostError):
        services.registration_create(boost=past, user=manager)
    cancelled = make_boost()
    services.boost_cancel(boost=cancelled, by=host)
    response = manager_client.post(reverse("boosts:register", args=[cancelled.pk]), follow=True)
    assert "Ce boost est annulé." in response.content.decode()
    assert not Registration.objects.filter(boost=cancelled).exists()


def test_changing_the_time_sends_a_new_sequence_to_registrants(
    boost, manager, host, django_capture_on_commit_callbacks
):
    services.registration_create(boost=boost, user=manager)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.boost_update(boost=boost, data={"description": "Nouveau texte"}, by=host)
    assert mail.outbox == []  # description only: nobody is disturbed
    with django_capture_on_commit_callbacks(execute=True):
        services.boost_update(
            boost=boost, data={"starts_at": boost.starts_at + timedelta(hours=1)}, by=host
        )
    [message] = mail.outbox
    assert "Changement" in message.subject
    assert "SEQUENCE:1" in ics_of(message)


def test_cancelling_the_boost_sends_a_cancel_to_everyone(
    make_boost, organism, host, django_capture_on_commit_callbacks
):
    boost = make_boost(capacity=1)
    a, b = ManagerFactory(organism=organism), ManagerFactory(organism=organism)
    services.registration_create(boost=boost, user=a)
    services.registration_create(boost=boost, user=b)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.boost_cancel(boost=boost, by=host)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([a.email, b.email])
    for message in mail.outbox:
        body = ics_of(message)
        assert "METHOD:CANCEL" in body and "SEQUENCE:1" in body


def test_audience_rules_hide_boosts_from_other_levels_branches_and_organisms(
    make_boost, manager, organism, client
):
    other_branch = BranchFactory(organisation=organism.organisation, code="famille")
    other_organism = OrganismFactory(branch=other_branch)
    hidden = [
        make_boost(title="Pour directeurs", audience_levels=[Level.DIRECTOR]),
        make_boost(title="Famille", audience_branch_ids=[other_branch.pk]),
        make_boost(title="Autre organisme", audience_organism_ids=[other_organism.pk]),
    ]
    shown = make_boost(
        title="Pour vous aussi",
        audience_levels=[Level.PROXIMITY],
        audience_branch_ids=[organism.branch_id],
        audience_organism_ids=[organism.pk],
    )
    client.force_login(manager)
    page = client.get(reverse("boosts:index")).content.decode()
    assert "Pour vous aussi" in page
    for boost in hidden:
        assert boost.title not in page
        assert client.get(reverse("boosts:detail", args=[boost.pk])).status_code == 404
        assert client.post(reverse("boosts:register", args=[boost.pk])).status_code == 404
    assert client.get(reverse("boosts:detail", args=[shown.pk])).status_code == 200


def test_outsider_gets_404_on_every_participant_view(boost, outsider, client):
    client.force_login(outsider)
    for name in ("detail", "ics", "live", "live_questions", "live_poll"):
        assert client.get(reverse(f"boosts:{name}", args=[boost.pk])).status_code == 404, name
    for name in ("register", "unregister", "satisfaction", "ask"):
        assert client.post(reverse(f"boosts:{name}", args=[boost.pk])).status_code == 404, name
    assert boost.title not in client.get(reverse("boosts:index")).content.decode()


def test_reminders_are_sent_once_the_day_before_and_15_minutes_before(
    make_boost, manager, django_capture_on_commit_callbacks
):
    start = timezone.now() + timedelta(days=2)
    boost = make_boost(starts_at=start)
    registration = services.registration_create(
        boost=boost, user=manager, now=timezone.now() - timedelta(days=1)
    )
    mail.outbox.clear()
    assert tasks.reminders_send(now=(start - timedelta(hours=30)).isoformat()) == {
        "reminder_soon": 0,
        "reminder_day": 0,
    }
    day_before = (start - timedelta(hours=20)).isoformat()
    assert tasks.reminders_send(now=day_before)["reminder_day"] == 1
    assert tasks.reminders_send(now=day_before)["reminder_day"] == 0  # idempotent
    soon = (start - timedelta(minutes=10)).isoformat()
    assert tasks.reminders_send(now=soon) == {"reminder_soon": 1, "reminder_day": 0}
    assert tasks.reminders_send(now=soon)["reminder_soon"] == 0
    assert [m.subject.split(" :")[0] for m in mail.outbox] == ["Demain", "Dans 15 minutes"]
    registration.refresh_from_db()
    assert registration.reminded_day_at and registration.reminded_soon_at


def test_calendar_feed_lists_my_boosts_and_needs_the_secret(boost, manager, manager_client, client):
    services.registration_create(boost=boost, user=manager)
    page = manager_client.get(reverse("boosts:calendar"))
    token = manager.boost_calendar.token
    assert token in page.content.decode()
    feed = client.get(reverse("boosts:calendar_feed", args=[token]))
    assert feed.status_code == 200 and f"UID:boost-{boost.uid}@campus".encode() in feed.content
    assert client.get(reverse("boosts:calendar_feed", args=["nope"])).status_code == 404
    manager_client.post(reverse("boosts:calendar"))
    assert client.get(reverse("boosts:calendar_feed", args=[token])).status_code == 404


def test_for_you_selection_follows_the_managers_themes(make_boost, manager, manager_client):
    from coach.models import ExercisePreference
    from mallette.models import Theme

    mine, other = Theme.objects.order_by("position")[:2]
    ExercisePreference.objects.create(user=manager, theme_slugs=[mine.slug])
    boost = make_boost(title="Sur mon thème", themes=[mine, other], capacity=3)
    services.registration_create(boost=boost, user=ManagerFactory(organism=manager.organism))
    make_boost(title="Sur un autre thème", themes=[Theme.objects.order_by("position")[2]])
    page = manager_client.get(reverse("boosts:index")).content.decode()
    for_you = page.split('id="pour-vous"')[1].split("</section>")[0]
    assert "Sur mon thème" in for_you and "Sur un autre thème" not in for_you
    assert "2 places libres" in for_you  # counted once, whatever the number of themes
    ExercisePreference.objects.filter(user=manager).update(theme_slugs=[mine.slug, other.slug])
    page = manager_client.get(reverse("boosts:index")).content.decode()
    assert "2 places libres" in page.split('id="pour-vous"')[1].split("</section>")[0]
