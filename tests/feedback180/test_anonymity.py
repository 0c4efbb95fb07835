"""The promise of the 180°: nothing links a response to a person, a link or a moment; nothing
is revealed under k or before close; k cannot move once the campaign is open."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.urls import reverse

from campus.models import Job
from feedback180 import services
from feedback180.models import Campaign, Invitation, InvitationLink, Response
from tests.feedback180.conftest import all_items, run_processing

pytestmark = pytest.mark.django_db


def test_no_column_links_a_response_to_an_invitation_person_ip_or_time():
    fields = {f.name: f for f in Response._meta.concrete_fields}
    assert set(fields) == {"id", "campaign", "answers", "raw_comments", "comments", "processed"}
    assert isinstance(fields["id"], models.UUIDField)
    relations = [f for f in fields.values() if f.is_relation]
    assert [f.related_model for f in relations] == [Campaign]
    assert not any(
        isinstance(
            f,
            (
                models.DateField,
                models.DateTimeField,
                models.TimeField,
                models.GenericIPAddressField,
            ),
        )
        for f in fields.values()
    )
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(cursor, "feedback180_response")
        }
    assert columns == {"id", "campaign_id", "answers", "raw_comments", "comments", "processed"}
    # And nothing points at responses from the invitation side.
    assert not any(f.related_model is Response for f in Invitation._meta.get_fields())
    assert not any(f.related_model is Response for f in InvitationLink._meta.get_fields())


def test_invitation_stores_no_time_of_answer():
    assert not any(
        isinstance(f, (models.DateField, models.DateTimeField))
        for f in Invitation._meta.concrete_fields
    )


def test_token_is_random_stored_hashed_and_burned_on_submit(open_campaign, client):
    campaign, tokens = open_campaign()
    assert len(tokens) == 7
    token = tokens["alice@campus.test"]
    assert len(token) >= 40
    assert not InvitationLink.objects.filter(token_hash=token).exists()
    assert InvitationLink.objects.filter(token_hash=services.token_hash(token)).exists()
    assert len(set(tokens.values())) == 7

    services.response_submit(token=token, answers=all_items(campaign), comments={})

    invitation = Invitation.objects.get(campaign=campaign, email="alice@campus.test")
    assert invitation.responded
    assert not invitation.links.exists()
    with pytest.raises(services.InvalidLink):
        services.response_submit(token=token, answers=all_items(campaign), comments={})
    assert Response.objects.filter(campaign=campaign).count() == 1
    page = client.get(reverse("feedback180:respond", args=[token]))
    assert page.status_code == 404
    assert "plus valide" in page.content.decode()


def test_link_works_without_an_account_and_expires_at_close(open_campaign, client):
    campaign, tokens = open_campaign()
    url = reverse("feedback180:respond", args=[tokens["bruno@campus.test"]])
    page = client.get(url)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    assert "Comment votre anonymat est protégé" in page.content.decode()
    services.campaign_close(campaign=campaign)
    assert client.get(url).status_code == 404
    assert not InvitationLink.objects.filter(invitation__campaign=campaign).exists()


def _answer(campaign, tokens, count, comments=None):
    for email in list(tokens)[:count]:
        services.response_submit(
            token=tokens[email], answers=all_items(campaign, 4), comments=comments or {}
        )


def test_with_k_minus_one_responses_nothing_is_revealed(open_campaign, manager_client):
    campaign, tokens = open_campaign(k=5)
    _answer(campaign, tokens, 4, {"keep": "Il écoute l’équipe avec attention."})

    campaign = run_processing(campaign)

    assert campaign.processed_at is not None
    assert not campaign.released
    assert campaign.results == {}
    assert not Response.objects.filter(campaign=campaign).exists()
    page = manager_client.get(reverse("feedback180:debrief", args=[campaign.pk])).content.decode()
    assert "seuil d’anonymat n’a pas été atteint" in page
    assert "Feedback et reconnaissance" not in page
    assert "écoute" not in page


def test_with_k_responses_results_are_revealed_only_after_close(open_campaign, manager_client):
    campaign, tokens = open_campaign(k=5)
    _answer(campaign, tokens, 5)

    before = manager_client.get(reverse("feedback180:debrief", args=[campaign.pk]))
    assert before.status_code == 302  # to the status page, which shows a count only
    status = manager_client.get(
        reverse("feedback180:campaign", args=[campaign.pk])
    ).content.decode()
    assert "5 réponses reçues sur 7" in status
    assert "Feedback et reconnaissance" not in status

    campaign = run_processing(campaign)

    assert campaign.released and campaign.response_count == 5
    page = manager_client.get(reverse("feedback180:debrief", args=[campaign.pk])).content.decode()
    assert "Feedback et reconnaissance" in page
    assert "4,0" in page or "4.0" in page


def test_an_item_answered_by_fewer_than_k_is_masked_and_left_out_of_its_competency(
    open_campaign,
):
    campaign, tokens = open_campaign(k=5)
    first = campaign.items[0]["id"]
    for n, email in enumerate(list(tokens)[:5]):
        answers = all_items(campaign, 4)
        if n == 0:
            answers[first] = 1
        else:
            answers.pop(first)  # "je ne sais pas"
        services.response_submit(token=tokens[email], answers=answers, comments={})
    campaign = run_processing(campaign)
    items = {i["id"]: i for i in campaign.results["items"]}
    assert items[first]["team"] is None
    sens = next(c for c in campaign.results["competencies"] if c["code"] == "sens")
    assert sens["team"] == 4.0  # the hidden 1 does not pull the mean: no subtraction possible


def test_changing_k_after_opening_is_refused(open_campaign, manager_client):
    campaign, _tokens = open_campaign(k=6)
    with pytest.raises(services.CampaignError):
        services.campaign_threshold_set(campaign=campaign, k=3)
    campaign.organisation.feedback_min_responses = 3
    campaign.organisation.save()
    campaign.refresh_from_db()
    assert campaign.min_responses == 6
    response = manager_client.post(
        reverse("feedback180:edit", args=[campaign.pk]),
        {"raters": "a@campus.test", "closes_on": "2099-01-01", "min_responses": 3},
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.min_responses == 6


def test_k_cannot_go_below_the_organisation_threshold(manager):
    campaign = services.campaign_create(manager=manager, created_by=manager)
    assert campaign.min_responses == 5
    with pytest.raises(services.CampaignError):
        services.campaign_threshold_set(campaign=campaign, k=4)
    services.campaign_threshold_set(campaign=campaign, k=7)
    assert Campaign.objects.get(pk=campaign.pk).min_responses == 7


def test_raw_verbatims_are_gone_after_processing(open_campaign):
    campaign, tokens = open_campaign(k=5)
    secret = "Alice Durand me l’a dit le mardi à la cantine"
    for email in list(tokens)[:5]:
        services.response_submit(
            token=tokens[email],
            answers=all_items(campaign),
            comments={"keep": f"Il prend le temps d’écouter. {secret}", "stop": ""},
        )
    assert Response.objects.filter(campaign=campaign).exclude(raw_comments={}).count() == 5

    campaign = run_processing(campaign)

    assert Job.objects.get(pk=campaign.job_id).state == Job.State.SUCCEEDED
    rows = list(Response.objects.filter(campaign=campaign).values("raw_comments", "comments"))
    assert len(rows) == 5
    assert all(r["raw_comments"] == {} for r in rows)
    assert all("Alice" not in r["comments"]["keep"] for r in rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM feedback180_response WHERE raw_comments::text LIKE %s",
            ["%Alice%"],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(*) FROM feedback180_campaign WHERE results::text LIKE %s", ["%Alice%"]
        )
        assert cursor.fetchone()[0] == 0


def test_processing_twice_changes_nothing(open_campaign):
    from feedback180.tasks import campaign_process
    from mallette.models import Practice, PracticeSource

    campaign, tokens = open_campaign(k=5)
    _answer(
        campaign, tokens, 5, {"keep": "Il remercie chacun pour le travail accompli en réunion."}
    )
    campaign = run_processing(campaign)
    results = campaign.results
    proposals = Practice.objects.filter(source=PracticeSource.FEEDBACK).count()
    services.campaign_process(campaign_id=campaign.pk)
    job = services.campaign_close(campaign=campaign)
    campaign_process.apply(kwargs={"job_id": str(job.pk)})
    campaign.refresh_from_db()
    assert campaign.results == results
    assert Practice.objects.filter(source=PracticeSource.FEEDBACK).count() == proposals
    assert Response.objects.filter(campaign=campaign).count() == 5


def test_the_organisation_threshold_in_force_at_opening_is_the_one_locked(
    manager, team, eager_tasks
):
    campaign = services.campaign_create(manager=manager, created_by=manager)
    assert campaign.min_responses == 5
    manager.organisation.feedback_min_responses = 6
    manager.organisation.save()
    campaign = services.campaign_open(campaign=Campaign.objects.get(pk=campaign.pk))
    assert Campaign.objects.get(pk=campaign.pk).min_responses == 6
