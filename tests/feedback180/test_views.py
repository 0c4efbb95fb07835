"""Pages of the 180°: access (outsiders get 404 everywhere), forms in French, the rater flow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from feedback180 import services
from feedback180.models import Campaign, Invitation, Response
from selfdiag.models import Action, ActionSource
from tests.factories import ManagerFactory
from tests.feedback180.conftest import all_items, run_processing

pytestmark = pytest.mark.django_db

SOON = (timezone.localdate() + timedelta(days=20)).isoformat()

CAMPAIGN_VIEWS = [
    ("get", "feedback180:campaign"),
    ("get", "feedback180:edit"),
    ("get", "feedback180:self"),
    ("post", "feedback180:open"),
    ("post", "feedback180:close"),
    ("get", "feedback180:debrief"),
    ("post", "feedback180:reflection"),
    ("post", "feedback180:plan_add"),
    ("post", "feedback180:share"),
]


@pytest.mark.parametrize(("method", "name"), CAMPAIGN_VIEWS)
def test_another_manager_outsider_and_hr_get_404(method, name, client, manager, outsider, hr_admin):
    campaign = services.campaign_create(manager=manager, created_by=manager)
    colleague = ManagerFactory(organism=manager.organism)
    for intruder in (colleague, outsider, hr_admin):
        client.force_login(intruder)
        response = getattr(client, method)(reverse(name, args=[campaign.pk]))
        assert response.status_code == 404, (intruder, name)
    assert Campaign.objects.get(pk=campaign.pk).is_draft


def test_hr_view_is_404_for_managers(manager_client):
    assert manager_client.get(reverse("feedback180:hr")).status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, manager):
    campaign = services.campaign_create(manager=manager, created_by=manager)
    response = client.get(reverse("feedback180:debrief", args=[campaign.pk]))
    assert response.status_code == 302 and "/comptes/" in response["Location"]


def test_manager_prepares_with_the_team_as_default_raters(manager_client, manager, team):
    response = manager_client.post(reverse("feedback180:create"))
    campaign = Campaign.objects.get(manager=manager)
    assert response["Location"] == reverse("feedback180:edit", args=[campaign.pk])
    page = manager_client.get(response["Location"]).content.decode()
    assert "alice@campus.test" in page
    assert set(campaign.invitations.values_list("email", flat=True)) == {p.email for p in team}


def test_invalid_emails_are_refused_in_french_and_input_kept(manager_client, manager, team):
    campaign = services.campaign_create(manager=manager, created_by=manager)
    response = manager_client.post(
        reverse("feedback180:edit", args=[campaign.pk]),
        {
            "raters": "alice@campus.test\npas-une-adresse@\nbob@@x",
            "closes_on": SOON,
            "min_responses": "5",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Adresses non valides" in page
    assert "pas-une-adresse@" in page
    assert campaign.invitations.count() == len(team)


def test_pasted_list_replaces_the_raters(manager_client, manager, team):
    campaign = services.campaign_create(manager=manager, created_by=manager)
    response = manager_client.post(
        reverse("feedback180:edit", args=[campaign.pk]),
        {
            "raters": "Alice <alice@campus.test>; x@campus.test, y@campus.test z@campus.test,"
            "w@campus.test",
            "closes_on": SOON,
            "min_responses": "5",
        },
    )
    assert response.status_code == 302
    emails = set(campaign.invitations.values_list("email", flat=True))
    assert emails == {
        "alice@campus.test",
        "x@campus.test",
        "y@campus.test",
        "z@campus.test",
        "w@campus.test",
    }
    assert Invitation.objects.get(campaign=campaign, email="alice@campus.test").person is not None


def test_opening_with_fewer_raters_than_k_is_refused(manager_client, manager):
    campaign = services.campaign_create(manager=manager, created_by=manager)
    response = manager_client.post(reverse("feedback180:open", args=[campaign.pk]), follow=True)
    assert "Invitez au moins 5 personnes" in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).is_draft


def test_self_assessment_is_saved(manager_client, manager):
    campaign = services.campaign_create(manager=manager, created_by=manager)
    url = reverse("feedback180:self", args=[campaign.pk])
    assert "J’explique les raisons" in manager_client.get(url).content.decode()
    incomplete = manager_client.post(url, {"item_i1": "3"})
    assert "Il manque des réponses" in incomplete.content.decode()
    data = {f"item_{i['id']}": "2" for i in campaign.items}
    assert manager_client.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.self_answers == {i["id"]: 2 for i in campaign.items}


def test_opening_sends_one_link_to_each_rater(open_campaign):
    campaign, tokens = open_campaign()
    assert len(mail.outbox) == 7
    assert campaign.is_open
    assert set(campaign.invitations.values_list("sent", flat=True)) == {True}
    body = mail.outbox[0].body
    assert "anonyme" in body and "/feedback-180/repondre/" in body


def _form_data(campaign, value="4", **comments):
    data = {f"item_{i['id']}": value for i in campaign.items}
    data.update({f"comment_{k}": v for k, v in comments.items()})
    return data


def test_rater_sees_the_anonymised_preview_edits_it_and_sends(open_campaign, client):
    campaign, tokens = open_campaign()
    url = reverse("feedback180:respond", args=[tokens["chloe@campus.test"]])
    missing = client.post(url, {"step": "review", "comment_keep": "Texte gardé"})
    assert missing.status_code == 200
    assert "Il manque des réponses" in missing.content.decode()
    assert "Texte gardé" in missing.content.decode()

    review = client.post(
        url,
        {"step": "review", **_form_data(campaign, keep="Alice Durand dit qu’il écoute bien.")},
    )
    page = review.content.decode()
    assert "Relire avant d’envoyer" in page
    assert "Alice" not in page and "Durand" not in page
    assert not Response.objects.exists()

    sent = client.post(
        url,
        {"step": "send", **_form_data(campaign, keep="Il écoute bien, toujours disponible.")},
    )
    assert sent.status_code == 302 and sent["Location"] == reverse("feedback180:thanks")
    response = Response.objects.get()
    assert response.raw_comments == {"keep": "Il écoute bien, toujours disponible."}
    assert response.answers == all_items(campaign, 4)


def test_an_edit_that_reintroduces_a_name_is_shown_again_masked(open_campaign, client):
    campaign, tokens = open_campaign()
    url = reverse("feedback180:respond", args=[tokens["david@campus.test"]])
    again = client.post(url, {"step": "send", **_form_data(campaign, keep="Merci Alice Durand.")})
    assert again.status_code == 200
    assert "contenait encore des éléments identifiants" in again.content.decode()
    assert "Durand" not in again.content.decode()
    assert not Response.objects.exists()


def test_dont_know_answers_are_left_out(open_campaign, client):
    campaign, tokens = open_campaign()
    url = reverse("feedback180:respond", args=[tokens["emma@campus.test"]])
    data = _form_data(campaign)
    data["item_i1"] = "0"
    client.post(url, {"step": "send", **data})
    assert "i1" not in Response.objects.get().answers


def test_full_manager_loop_debrief_reflection_plan_and_share(
    open_campaign, manager_client, manager, django_capture_on_commit_callbacks
):
    campaign, tokens = open_campaign(k=5, self_answers={i["id"]: 5 for i in []})
    for n, email in enumerate(list(tokens)[:6]):
        services.response_submit(
            token=tokens[email],
            answers=all_items(campaign, 2 + n % 3),
            comments={
                "keep": "Il remercie chacun pour le travail accompli.",
                "start": "Donner plus d’autonomie sur les dossiers.",
            },
        )
    manager_client.post(reverse("feedback180:close", args=[campaign.pk]))
    campaign = Campaign.objects.get(pk=campaign.pk)
    status = manager_client.get(reverse("feedback180:campaign", args=[campaign.pk]))
    assert "job-progress" in status.content.decode()
    from feedback180.tasks import campaign_process

    campaign_process.apply(kwargs={"job_id": str(campaign.job_id)})
    page = manager_client.get(reverse("feedback180:debrief", args=[campaign.pk])).content.decode()
    assert "3 points forts" in page and "<svg" in page and "<table" in page

    url = reverse("feedback180:reflection", args=[campaign.pk])
    manager_client.post(url, {"surprise": "L’autonomie.", "confirm": "", "priority": "Déléguer"})
    campaign.refresh_from_db()
    assert campaign.reflection["priority"] == "Déléguer"

    plan = reverse("feedback180:plan_add", args=[campaign.pk])
    empty = manager_client.post(plan, {"practice": "", "title": ""})
    assert "Choisissez une pratique ou écrivez une action" in empty.content.decode()
    for title in [
        "Un point hebdomadaire",
        "Déléguer un dossier",
        "Remercier",
        "Demander un retour",
    ]:
        assert manager_client.post(plan, {"title": title, "due_date": ""}).status_code == 302
    fifth = manager_client.post(plan, {"title": "Une de trop"})
    assert "déjà 4 actions" in fifth.content.decode()
    actions = Action.objects.filter(owner=manager, source=ActionSource.FEEDBACK180)
    assert actions.count() == 4
    assert all(a.due_date is not None for a in actions)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("feedback180:share", args=[campaign.pk]))
    assert len(mail.outbox) == 7
    assert "Un point hebdomadaire" in mail.outbox[0].body
    assert "remercie chacun" not in mail.outbox[0].body


def test_hr_sees_participation_by_organism_only(client, hr_analyst, manager, open_campaign):
    campaign, tokens = open_campaign()
    services.response_submit(token=tokens["alice@campus.test"], answers={}, comments={})
    for n in range(2):
        other = ManagerFactory(organism=manager.organism)
        c = services.campaign_create(manager=other, created_by=hr_analyst, raters=[])
        services.campaign_update(
            campaign=c, closes_on=c.closes_on, emails=[f"r{n}{i}@campus.test" for i in range(5)]
        )
        services.campaign_open(campaign=c)
    client.force_login(hr_analyst)
    page = client.get(reverse("feedback180:hr")).content.decode()
    assert manager.organism.name in page
    assert "17" in page  # 7 + 5 + 5 invited
    assert manager.full_name not in page
    assert "alice@campus.test" not in page


def test_hr_masks_organisms_with_fewer_than_three_campaigns(client, hr_analyst, open_campaign):
    open_campaign()
    client.force_login(hr_analyst)
    page = client.get(reverse("feedback180:hr")).content.decode()
    assert "masqué" in page


def test_rater_link_page_shows_no_results_of_the_manager(open_campaign, client):
    campaign, tokens = open_campaign()
    run_processing  # noqa: B018 (imported for other tests)
    page = client.get(reverse("feedback180:respond", args=[tokens["farid@campus.test"]]))
    assert "Mon manager explique" in page.content.decode()


def test_hr_prepares_campaigns_for_a_group_of_managers(
    client, hr_admin, manager, team, eager_tasks, django_capture_on_commit_callbacks
):
    lonely = ManagerFactory(organism=manager.organism)  # no team: nothing to prepare
    busy = ManagerFactory(organism=manager.organism)
    from tests.factories import CollaboratorFactory

    CollaboratorFactory(organism=manager.organism, manager=busy)
    services.campaign_create(manager=busy, created_by=busy)
    client.force_login(hr_admin)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("feedback180:hr"), {"organism": manager.organism.pk})
    assert response.status_code == 302
    campaign = Campaign.objects.get(manager=manager)
    assert campaign.is_draft and campaign.created_by == hr_admin
    assert not Campaign.objects.filter(manager=lonely).exists()
    assert Campaign.objects.filter(manager=busy).count() == 1
    assert [m.to for m in mail.outbox] == [[manager.email]]
    # HR prepared it, yet only the manager can read it.
    assert client.get(reverse("feedback180:edit", args=[campaign.pk])).status_code == 404


def test_hr_analyst_cannot_prepare_campaigns(client, hr_analyst, manager, team):
    client.force_login(hr_analyst)
    assert client.get(reverse("feedback180:hr")).status_code == 200
    response = client.post(reverse("feedback180:hr"), {"organism": manager.organism.pk})
    assert response.status_code == 404
    assert not Campaign.objects.exists()


def test_hr_group_form_errors_are_in_french(client, hr_admin):
    client.force_login(hr_admin)
    page = client.post(reverse("feedback180:hr"), {"organism": ""}).content.decode()
    assert "Choisissez un organisme." in page


def test_debrief_page_has_a_constant_number_of_queries(
    open_campaign, manager_client, django_assert_max_num_queries
):
    campaign, tokens = open_campaign(k=5)
    for email in list(tokens)[:6]:
        services.response_submit(
            token=tokens[email],
            answers=all_items(campaign),
            comments={"keep": "Il remercie chacun pour le travail accompli."},
        )
    campaign = run_processing(campaign)
    with django_assert_max_num_queries(15):
        page = manager_client.get(reverse("feedback180:debrief", args=[campaign.pk]))
    assert page.status_code == 200
