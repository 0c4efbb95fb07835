from __future__ import annotations

import re

import pytest
from django.urls import reverse

from selfdiag.models import Diagnosis, DiagnosisStatus
from selfdiag.selectors import questionnaire_structure


@pytest.fixture
def draft(manager_client, manager, questionnaire):
    manager_client.post(reverse("selfdiag:start"))
    return Diagnosis.objects.get(user=manager, status=DiagnosisStatus.DRAFT)


def step_url(diagnosis, step):
    return reverse("selfdiag:step", args=[diagnosis.pk, step])


def items_of(diagnosis, step):
    structure = questionnaire_structure(diagnosis.questionnaire)
    return list(structure.competencies[step - 1].items.all())


def test_index_invites_to_start(manager_client, questionnaire):
    html = manager_client.get(reverse("selfdiag:index")).content.decode()
    assert "Commencer le diagnostic" in html
    assert "36 affirmations réparties en 9 compétences" in html


def test_start_creates_one_draft_and_resumes_it(manager_client, manager, questionnaire):
    first = manager_client.post(reverse("selfdiag:start"))
    draft = Diagnosis.objects.get(user=manager)
    assert first.url == step_url(draft, 1)
    manager_client.post(reverse("selfdiag:start"))
    assert Diagnosis.objects.filter(user=manager).count() == 1
    html = manager_client.get(reverse("selfdiag:index")).content.decode()
    assert "Reprendre mon diagnostic" in html


def test_a_step_shows_its_competency_as_labelled_radio_groups(manager_client, draft):
    response = manager_client.get(step_url(draft, 1))
    html = response.content.decode()
    assert "Étape 1 sur 10" in html
    assert "<h1>Donner du sens et communiquer</h1>" in html
    assert html.count("<fieldset") == 4
    assert html.count('type="radio"') == 20
    assert "Toujours ou presque" in html
    assert 'hx-post="' + reverse("selfdiag:autosave", args=[draft.pk]) in html


def test_next_without_every_answer_shows_french_errors_and_keeps_input(manager_client, draft):
    items = items_of(draft, 1)
    response = manager_client.post(
        step_url(draft, 1), {f"item_{items[0].pk}": "4", "action": "next"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Choisissez une réponse pour cet énoncé.") == 3
    checked = re.findall(r'<input type="radio" name="(item_\d+)" value="(\d)"[^>]*checked', html)
    assert checked == [(f"item_{items[0].pk}", "4")]
    draft.refresh_from_db()
    assert draft.answers == {str(items[0].pk): 4}  # what was given is saved anyway
    assert draft.step == 1


def test_a_complete_step_moves_on_and_saves(manager_client, draft):
    items = items_of(draft, 1)
    data = {f"item_{i.pk}": "5" for i in items} | {"action": "next"}
    response = manager_client.post(step_url(draft, 1), data)
    assert response.url == step_url(draft, 2)
    draft.refresh_from_db()
    assert draft.step == 2
    assert set(draft.answers.values()) == {5}
    # Going back shows the saved answers checked.
    html = manager_client.get(step_url(draft, 1)).content.decode()
    assert html.count("checked") == 4


def test_save_and_resume_later(manager_client, draft):
    manager_client.post(
        step_url(draft, 1), {"action": "next"} | {f"item_{i.pk}": "3" for i in items_of(draft, 1)}
    )
    items = items_of(draft, 2)
    response = manager_client.post(
        step_url(draft, 2), {f"item_{items[0].pk}": "2", "action": "save"}, follow=True
    )
    html = response.content.decode()
    assert "Vous reprendrez à l’étape 2" in html
    assert "reprenez à l’étape 2 sur 10" in html
    assert f'href="{step_url(draft, 2)}"' in html


def test_previous_keeps_a_partial_step(manager_client, draft):
    items = items_of(draft, 2)
    response = manager_client.post(
        step_url(draft, 2), {f"item_{items[1].pk}": "1", "action": "previous"}
    )
    assert response.url == step_url(draft, 1)
    draft.refresh_from_db()
    assert draft.answers == {str(items[1].pk): 1}


def test_htmx_autosave_saves_each_change(manager_client, draft):
    items = items_of(draft, 3)
    response = manager_client.post(
        reverse("selfdiag:autosave", args=[draft.pk]),
        {f"item_{items[0].pk}": "2", "item_999999": "5", "open_1": "x", "action": "next"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Réponses enregistrées à" in response.content.decode()
    draft.refresh_from_db()
    assert draft.answers == {str(items[0].pk): 2}


def test_out_of_scale_values_are_rejected_with_an_error(manager_client, draft):
    items = items_of(draft, 1)
    response = manager_client.post(
        step_url(draft, 1), {f"item_{items[0].pk}": "9", "action": "next"}
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    draft.refresh_from_db()
    assert draft.answers == {}


def test_submit_with_missing_answers_goes_back_to_the_first_incomplete_step(
    manager_client, draft, answer_all
):
    answer_all(draft)
    first = items_of(draft, 4)[0]
    draft.answers.pop(str(first.pk))
    draft.save()
    response = manager_client.post(step_url(draft, 10), {"action": "submit"}, follow=True)
    assert response.redirect_chain[-1][0] == step_url(draft, 4)
    assert "Il reste des énoncés sans réponse à l’étape 4" in response.content.decode()


def test_submit_freezes_results_and_shows_them(manager_client, draft, answer_all):
    answer_all(draft, lambda c, i: 5 if c == 1 else 2)
    first, second = draft.questionnaire.open_questions.order_by("position")
    response = manager_client.post(
        step_url(draft, 10),
        {
            "action": "submit",
            f"open_{first.pk}": "Mon équipe est débordée",
            f"open_{second.pk}": "",
        },
    )
    draft.refresh_from_db()
    assert response.url == reverse("selfdiag:result", args=[draft.pk])
    assert draft.status == DiagnosisStatus.SUBMITTED
    assert draft.latest
    assert draft.level == "proximity"
    assert draft.open_answers[str(first.pk)] == "Mon équipe est débordée"
    assert draft.results["strengths"][0] == "delegation"
    # Steps of a submitted diagnosis are gone.
    assert manager_client.get(step_url(draft, 1)).status_code == 404


def test_steps_out_of_range_are_404(manager_client, draft):
    assert manager_client.get(step_url(draft, 0)).status_code == 404
    assert manager_client.get(step_url(draft, 11)).status_code == 404


def test_outsider_gets_404_on_someone_elses_draft(client, draft, outsider, member):
    client.force_login(outsider)
    assert client.get(step_url(draft, 1)).status_code == 404
    assert client.post(reverse("selfdiag:autosave", args=[draft.pk]), {}).status_code == 404
    client.force_login(member)  # same organisation, still not theirs
    assert client.get(step_url(draft, 1)).status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, questionnaire):
    response = client.get(reverse("selfdiag:index"))
    assert response.status_code == 302 and "/login" in response.url or "connexion" in response.url
