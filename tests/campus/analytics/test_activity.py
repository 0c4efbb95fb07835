from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory

from campus.analytics.models import Activity, Device, Feature
from campus.analytics.services import activity_purge, activity_record, device_of, months_back
from campus.analytics.tasks import activity_purge as activity_purge_task

pytestmark = pytest.mark.django_db

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"


def test_recording_twice_the_same_day_keeps_one_row(manager):
    activity_record(user=manager, feature=Feature.COACH, action="question")
    activity_record(user=manager, feature=Feature.COACH, action="question")
    activity_record(user=manager, feature=Feature.COACH, action="exercise")
    assert Activity.objects.filter(user=manager).count() == 2


def test_a_row_holds_the_organisation_level_and_month_but_no_content(manager):
    activity_record(user=manager, feature=Feature.SELFDIAG, action="start")
    row = Activity.objects.get(user=manager)
    assert row.organisation_id == manager.organisation_id
    assert row.organism_id == manager.organism_id
    assert row.level == manager.level
    assert row.month == row.day.replace(day=1)
    field_names = {f.name for f in Activity._meta.get_fields()}
    assert not field_names & {"ip", "ip_address", "user_agent", "content", "text", "object_id"}


def test_device_is_coarse_and_comes_from_the_user_agent(manager):
    request = RequestFactory().get("/", HTTP_USER_AGENT=IPHONE)
    assert device_of(request) == Device.MOBILE
    assert device_of(RequestFactory().get("/", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux)")) == (
        Device.DESKTOP
    )
    assert device_of(None) == Device.DESKTOP
    activity_record(user=manager, feature=Feature.MALLETTE, action="view", request=request)
    assert Activity.objects.get(user=manager).device == Device.MOBILE


def test_anonymous_visitors_and_unknown_features_are_not_recorded(manager):
    from django.contrib.auth.models import AnonymousUser

    activity_record(user=AnonymousUser(), feature=Feature.COACH, action="question")
    activity_record(user=manager, feature="unknown", action="x")
    assert not Activity.objects.exists()


def _row(user, day: dt.date, action: str = "a") -> Activity:
    return Activity.objects.create(
        user=user,
        organisation=user.organisation,
        organism=user.organism,
        level=user.level,
        feature=Feature.COACH,
        action=action,
        day=day,
        month=day.replace(day=1),
    )


def test_purge_keeps_thirteen_months(manager):
    today = dt.date(2026, 11, 23)
    kept = _row(manager, months_back(dt.date(2026, 11, 1), 12))  # 2025-11-01
    gone = _row(manager, dt.date(2025, 10, 31))
    assert activity_purge(today=today) == 1
    assert Activity.objects.filter(pk=kept.pk).exists()
    assert not Activity.objects.filter(pk=gone.pk).exists()


def test_the_purge_task_runs_the_service(manager):
    _row(manager, dt.date(2000, 1, 1))
    assert activity_purge_task.apply().get() == 1


@pytest.mark.django_db
def test_a_proposed_practice_counts_as_a_contribution_without_its_text(manager):
    from campus.analytics.models import Activity
    from mallette.corpus import themes_load
    from mallette.models import Theme
    from mallette.services import practice_propose

    themes = themes_load(theme_model=Theme)
    practice_propose(
        author=manager,
        data={
            "title": "Un rituel du vendredi",
            "summary": "Cinq minutes pour dire ce qui a marché dans la semaine.",
            "situation": "",
            "body": "- Demandez à chacun une réussite.",
            "pitfalls": "",
            "level": "all",
            "anonymous": False,
            "primary_theme": themes["meetings"],
        },
    )
    row = Activity.objects.get(user=manager)
    assert (row.feature, row.action) == ("mallette", "contribute")
    assert "rituel" not in " ".join(str(v) for v in vars(row).values())


# --- The feature apps record their uses ------------------------------------------------------


def _actions(user) -> list[str]:
    return sorted(f"{a.feature}.{a.action}" for a in Activity.objects.filter(user=user))


def test_starting_a_diagnosis_records_a_start_once(manager):
    from selfdiag import services as selfdiag_services

    first = selfdiag_services.diagnosis_start(user=manager)
    again = selfdiag_services.diagnosis_start(user=manager)  # resuming the same draft
    assert first.pk == again.pk
    assert _actions(manager) == ["selfdiag.start"]


def test_closing_a_campaign_records_a_close_only_when_the_manager_does(manager, member):
    from feedback180 import services as feedback_services
    from feedback180.models import Campaign, CampaignStatus

    def campaign(user):
        return Campaign.objects.create(
            organisation=user.organisation,
            manager=user,
            status=CampaignStatus.OPEN,
            closes_on=dt.date.today() + dt.timedelta(days=3),
            opened_at=dt.datetime.now(dt.UTC),
        )

    feedback_services.campaign_close(campaign=campaign(manager))
    assert _actions(manager) == ["feedback180.close"]
    feedback_services.campaign_close(campaign=Campaign.objects.get(manager=manager))
    assert _actions(manager) == ["feedback180.close"]  # already closed: nothing new

    other = campaign(member)
    Campaign.objects.filter(pk=other.pk).update(closes_on=dt.date(2000, 1, 1))
    assert feedback_services.campaigns_close_due() == 1
    assert _actions(member) == []  # the daily job closed it, not the manager


def test_reading_a_practice_records_a_view_with_the_device(client, manager):
    from django.urls import reverse

    from mallette.models import Practice, PracticeStatus, Theme

    theme, _created = Theme.objects.get_or_create(slug="delegation", defaults={"label": "D"})
    practice = Practice.objects.create(
        slug="deleguer",
        title="Déléguer",
        summary="Résumé.",
        body="- Faites le point.",
        primary_theme=theme,
        status=PracticeStatus.PUBLISHED,
    )
    practice.themes.set([theme])
    client.force_login(manager)
    url = reverse("mallette:practice", args=[practice.pk, practice.slug])
    assert client.get(url, HTTP_USER_AGENT=IPHONE).status_code == 200
    assert client.get(url).status_code == 200  # the same day: still one row
    row = Activity.objects.get(user=manager, feature=Feature.MALLETTE)
    assert (row.action, row.device) == ("view", Device.MOBILE)
