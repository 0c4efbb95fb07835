"""Synthesis rules, quotes, reminders, the daily task, harvest to the mallette."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from feedback180 import services
from feedback180.defaults import questionnaire_default
from feedback180.models import Campaign
from feedback180.synthesis import quotable, scores_compute, themes_compute
from mallette.models import Practice, PracticeSource, PracticeStatus
from tests.feedback180.conftest import all_items, run_processing


def _fake_embed(texts):
    """One axis per keyword: texts sharing a keyword are near, others orthogonal."""
    words = ["remercie", "autonomie", "réunion", "charge", "sens"]
    out = []
    for text in texts:
        vec = [1.0 if w in text.lower() else 0.0 for w in words] + [0.01]
        norm = sum(x * x for x in vec) ** 0.5
        out.append([x / norm for x in vec])
    return out


def test_quotes_need_two_responses_no_placeholder_and_a_short_text():
    q = questionnaire_default()
    q["competencies"] = [
        {"code": "feedback", "label": "Feedback", "description": "remercie"},
        {"code": "delegation", "label": "Délégation", "description": "autonomie"},
    ]
    comments = [
        {"keep": "Il remercie pour le travail."},
        {"keep": "Elle remercie souvent [une personne] devant tous."},
        {"keep": "Il remercie l’équipe."},
        {"start": "Plus d’autonomie, une histoire que moi seul ai vécue."},
    ]
    themes = themes_compute(questionnaire=q, comments=comments, k=5, embed=_fake_embed)
    assert [(t["question"], t["competency"], t["support"]) for t in themes] == [
        ("keep", "feedback", 3)
    ]
    (quote,) = themes[0]["quotes"]  # support under k: one quote, never the placeholder one
    assert "[une personne]" not in quote
    assert not quotable("x" * 300)
    assert not quotable("Merci à [une personne].")


def test_gaps_name_hidden_strengths_and_blind_spots():
    q = questionnaire_default()
    items = q["items"]
    team = [{i["id"]: (5 if i["competency"] == "sens" else 2) for i in items} for _ in range(5)]
    own = {i["id"]: (2 if i["competency"] == "sens" else 4) for i in items}
    result = scores_compute(questionnaire=q, answers=team, self_answers=own, k=5)
    assert "sens" in result["hidden_strengths"]
    assert "delegation" in result["blind_spots"]
    assert result["strengths"][0] == "sens"
    assert len(result["strengths"]) == 3 and len(result["improvements"]) == 3
    assert not set(result["strengths"]) & set(result["improvements"])


@pytest.mark.django_db
def test_reminders_on_day_3_and_7_go_only_to_those_who_have_not_answered(
    open_campaign, django_capture_on_commit_callbacks
):
    campaign, tokens = open_campaign()
    services.response_submit(token=tokens["alice@campus.test"], answers={}, comments={})
    today = timezone.localdate()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=today + timedelta(days=2)) == 0
        assert services.reminders_send(today=today + timedelta(days=3)) == 6
        assert services.reminders_send(today=today + timedelta(days=4)) == 0
    assert len(mail.outbox) == 6
    assert "alice@campus.test" not in {m.to[0] for m in mail.outbox}
    assert "Rappel" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=today + timedelta(days=7)) == 6
        assert services.reminders_send(today=today + timedelta(days=8)) == 0
    # Every link sent stays valid until the answer: the reminder's and the invitation's.
    campaign.refresh_from_db()
    assert campaign.reminders_sent == 2
    bruno = campaign.invitations.get(email="bruno@campus.test")
    assert bruno.links.count() == 3


@pytest.mark.django_db
def test_daily_task_closes_campaigns_past_their_date(open_campaign):
    campaign, _tokens = open_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(
        closes_on=timezone.localdate() - timedelta(days=1)
    )
    assert services.campaigns_close_due() == 1
    campaign.refresh_from_db()
    assert campaign.is_closed and campaign.job_id is not None
    assert services.campaigns_close_due() == 0


@pytest.mark.django_db
def test_recurring_keep_doing_comments_are_proposed_to_moderation_once(open_campaign):
    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:5]:
        services.response_submit(
            token=tokens[email],
            answers=all_items(campaign),
            comments={"keep": "Il remercie chaque personne pour le travail accompli."},
        )
    campaign = run_processing(campaign)
    proposals = Practice.objects.filter(source=PracticeSource.FEEDBACK)
    assert proposals.count() >= 1
    practice = proposals.first()
    assert practice.status == PracticeStatus.REVIEW
    assert practice.organisation_id == campaign.organisation_id and practice.organism_id is None
    assert practice.anonymous and practice.author_id is None
    assert campaign.manager.last_name not in practice.body
    assert services.harvest(campaign_id=campaign.pk) == 0


@pytest.mark.django_db
def test_a_failure_in_processing_is_reported_clearly(open_campaign, monkeypatch):
    from campus.models import Job

    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:5]:
        services.response_submit(token=tokens[email], answers=all_items(campaign), comments={})

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "practices_suggest", broken)
    campaign = run_processing(campaign)
    job = Job.objects.get(pk=campaign.job_id)
    assert job.state == Job.State.FAILED
    assert "erreur inattendue" in job.message
    assert campaign.processed_at is None and not campaign.released


@pytest.mark.django_db
def test_a_failed_processing_can_be_restarted_without_duplicates(open_campaign, monkeypatch):
    from campus.models import Job
    from feedback180.tasks import campaign_process

    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:5]:
        services.response_submit(token=tokens[email], answers=all_items(campaign), comments={})
    real = services.practices_suggest
    monkeypatch.setattr(services, "practices_suggest", lambda **kw: 1 / 0)
    campaign = run_processing(campaign)
    first = campaign.job_id
    monkeypatch.setattr(services, "practices_suggest", real)
    job = services.campaign_close(campaign=campaign)
    assert str(job.pk) != str(first)
    campaign_process.apply(kwargs={"job_id": str(job.pk)})
    assert Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED
    campaign.refresh_from_db()
    assert campaign.released and campaign.response_count == 5
    assert services.campaign_close(campaign=campaign).pk == job.pk


@pytest.mark.django_db
def test_day_60_recheck_goes_to_the_same_raters_with_the_same_k(
    open_campaign, client, manager_client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from feedback180.models import CampaignKind
    from tests.feedback180.conftest import tokens_from_outbox

    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:5]:
        services.response_submit(token=tokens[email], answers=all_items(campaign), comments={})
    campaign = run_processing(campaign)
    today = timezone.localdate()
    assert services.rechecks_open_due(today=today + timedelta(days=59)) == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.rechecks_open_due(today=today + timedelta(days=60)) == 1
    assert services.rechecks_open_due(today=today + timedelta(days=61)) == 0
    recheck = Campaign.objects.get(kind=CampaignKind.RECHECK)
    assert recheck.parent_id == campaign.pk and recheck.is_open
    assert recheck.min_responses == 5 and len(recheck.items) == 3
    links = tokens_from_outbox()
    assert set(links) == set(tokens)
    assert "Deux mois après" in mail.outbox[0].subject

    page = manager_client.get(reverse("feedback180:debrief", args=[campaign.pk])).content.decode()
    assert "En cours : 0 réponse" in page
    for email in list(links)[:4]:
        answers = {f"item_{i['id']}": "4" for i in recheck.items}
        sent = client.post(
            reverse("feedback180:respond", args=[links[email]]), {"step": "review", **answers}
        )
        assert sent.status_code == 302
    recheck = run_processing(recheck)
    assert not recheck.released  # 4 < k: nothing shown
    page = manager_client.get(reverse("feedback180:debrief", args=[campaign.pk])).content.decode()
    assert "pas été atteint pour le re-check" in page
    assert manager_client.get(reverse("feedback180:debrief", args=[recheck.pk])).status_code == 302


@pytest.mark.django_db
def test_released_verbatims_feed_the_mallette_mentions_source_once(open_campaign):
    from feedback180.models import Verbatim
    from mallette.mentions import SOURCES

    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:5]:
        services.response_submit(
            token=tokens[email],
            answers=all_items(campaign),
            comments={"keep": "Il organise un point d’équipe chaque lundi.", "stop": "Rien."},
        )
    campaign = run_processing(campaign)
    services.campaign_process(campaign_id=campaign.pk)
    verbatims = list(Verbatim.objects.filter(campaign=campaign))
    assert len(verbatims) == 5
    assert {v.question for v in verbatims} == {"keep"}
    assert len({v.created_at for v in verbatims}) == 1
    source = SOURCES["feedback180.verbatim"]
    items = source.after(None, 0, timezone.now() + timedelta(minutes=1), 100)
    assert len(items) == 5
    assert items[0].organisation_id == campaign.organisation_id and items[0].author_id is None
    assert source.texts([items[0].ref]) == {items[0].ref: items[0].text}


@pytest.mark.django_db
def test_no_verbatim_under_k(open_campaign):
    from feedback180.models import Verbatim

    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:4]:
        services.response_submit(
            token=tokens[email], answers=all_items(campaign), comments={"keep": "Il écoute."}
        )
    run_processing(campaign)
    assert not Verbatim.objects.exists()


@pytest.mark.django_db
def test_day_60_recheck_result_is_shown_next_to_the_debrief(
    open_campaign, client, manager_client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from feedback180.models import CampaignKind
    from tests.feedback180.conftest import tokens_from_outbox

    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:5]:
        services.response_submit(token=tokens[email], answers=all_items(campaign), comments={})
    campaign = run_processing(campaign)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.recheck_open(campaign=campaign)
    recheck = Campaign.objects.get(kind=CampaignKind.RECHECK)
    links = tokens_from_outbox()
    for n, email in enumerate(list(links)[:5]):
        answers = {f"item_{i['id']}": str(3 + n % 2) for i in recheck.items}
        url = reverse("feedback180:respond", args=[links[email]])
        assert client.post(url, {"step": "review", **answers}).status_code == 302
    recheck = run_processing(recheck)
    assert recheck.released and recheck.response_count == 5
    page = manager_client.get(reverse("feedback180:debrief", args=[campaign.pk])).content.decode()
    assert "Les changements annoncés par mon manager ont été mis en œuvre." in page
    assert "3,4" in page or "3.4" in page


@pytest.mark.django_db
def test_suggested_practices_are_the_closest_in_meaning_within_the_area(manager):
    """For an area to improve, the practices of its themes closest to the competency come
    first, not the alphabetical ones."""
    from mallette.corpus import themes_load
    from mallette.models import Practice, Theme
    from mallette.services import practices_index

    themes = themes_load(theme_model=Theme)
    Practice.objects.all().delete()
    made = {}
    for slug, title, summary in [
        ("a-lire", "Aménager les horaires d’été", "Planifier les congés et les horaires d’été."),
        (
            "feedback-precis",
            "Donner un feedback précis et régulier",
            "Un retour factuel, proche du moment, qui nomme le fait, son effet et l’attendu.",
        ),
        ("b-lire", "Bien ranger le bureau", "Ranger les dossiers papier du service."),
    ]:
        practice = Practice.objects.create(
            slug=slug,
            title=title,
            summary=summary,
            body="- Faites-le.",
            primary_theme=themes["feedback"],
            status="published",
        )
        practice.themes.set([themes["feedback"]])
        made[slug] = practice
    practices_index()
    campaign = Campaign(
        manager=manager,
        organisation=manager.organisation,
        questionnaire={
            "competencies": [
                {
                    "code": "feedback",
                    "label": "Feedback et reconnaissance",
                    "description": "Donner des retours réguliers, précis et constructifs.",
                    "themes": ["feedback"],
                }
            ]
        },
    )
    chosen = services.practices_suggest(campaign=campaign, codes=["feedback"], per_code=1)
    assert chosen == [made["feedback-precis"].pk]
