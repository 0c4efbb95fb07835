from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from campus import ai
from mallette.models import Practice, Theme
from mallette.services import practices_index
from selfdiag import services
from selfdiag.models import Diagnosis
from tests.factories import ManagerFactory, OrganismFactory

LOW_CHANGE = lambda c, i: 1 if c == 4 else 4  # noqa: E731  "changement" (5th) is weakest


def result_url(diagnosis):
    return reverse("selfdiag:result", args=[diagnosis.pk])


def test_result_page_shows_scores_radar_table_and_highlights(manager_client, manager, submitted):
    diagnosis = submitted(manager, LOW_CHANGE)
    html = manager_client.get(result_url(diagnosis)).content.decode()
    assert '<svg class="sd-radar"' in html and 'role="img"' in html
    assert "<polygon" in html and "4,0" not in re.findall(r'points="[^"]*"', html)[0]
    assert '<caption id="scores-caption">Scores sur 5 par compétence</caption>' in html
    assert "Vos points d’appui" in html and "Vos pistes de progrès" in html
    assert diagnosis.results["improvements"][0] == "changement"
    # The weakest competency scores 1,0 (French decimals). Délégation and coopération have a
    # reverse-scored item (4 counts 2): 3.5 each; overall (6 × 4 + 2 × 3.5 + 1) / 9 = 3.56.
    assert "<td>1,0</td>" in html and "<td>3,5</td>" in html
    assert "3,6 <span>/ 5</span>" in html
    assert "Votre score d’ensemble est de 3,6 sur 5" in html


def test_practices_are_recommended_from_the_themes_of_each_improvement_area(
    manager_client, manager, submitted
):
    diagnosis = submitted(manager, LOW_CHANGE)
    recommendations = diagnosis.results["recommendations"]
    assert set(recommendations) == set(diagnosis.results["improvements"])
    change = Practice.objects.filter(pk__in=recommendations["changement"])
    assert 3 <= change.count() <= 5
    for practice in change:
        assert {t.slug for t in practice.themes.all()} & {"change", "digital"}
    all_ids = [pk for pks in recommendations.values() for pk in pks]
    assert len(all_ids) == len(set(all_ids))  # a practice is proposed once
    html = manager_client.get(result_url(diagnosis)).content.decode()
    assert html.count('action="' + reverse("selfdiag:plan_add") + '"') == len(all_ids)
    assert 'name="source" value="selfdiag"' in html


def test_open_answers_steer_the_practices_by_meaning(manager, submitted, answer_all):
    change = Theme.objects.get(slug="change")
    target = Practice.objects.create(
        slug="vaincre-resistances-outil",
        title="Vaincre les résistances au nouvel outil",
        summary="Quand une réorganisation impose un nouvel outil et que les agents résistent.",
        body="- Faites tester l’outil par des volontaires.",
        primary_theme=change,
        status="published",
    )
    target.themes.set([change])
    practices_index(queryset=Practice.objects.filter(pk=target.pk))
    plain = submitted(manager, LOW_CHANGE)
    assert target.pk not in plain.results["recommendations"]["changement"]

    diagnosis = services.diagnosis_start(user=manager)
    answer_all(diagnosis, LOW_CHANGE)
    question = diagnosis.questionnaire.open_questions.first()
    services.diagnosis_save(
        diagnosis=diagnosis,
        open_answers={question.pk: "Mon service est réorganisé, les agents résistent à l’outil"},
    )
    with_text = services.diagnosis_submit(diagnosis=diagnosis)
    assert with_text.results["recommendations"]["changement"][0] == target.pk


def test_result_page_has_a_constant_number_of_queries(
    client, manager, submitted, django_assert_num_queries, peer_diagnoses
):
    first = submitted(manager, LOW_CHANGE)
    client.force_login(manager)
    with django_assert_num_queries(8):
        client.get(result_url(first))
    # More history, more peers, more practices in the plan: same count.
    second = submitted(manager)
    peers = ManagerFactory.create_batch(12, organism=manager.organism)
    peer_diagnoses(peers, second.scores)
    for pk in next(iter(second.results["recommendations"].values())):
        services.action_add(user=manager, practice=Practice.objects.get(pk=pk))
    cache.clear()
    client.force_login(manager)  # the session lives in the cache too
    with django_assert_num_queries(8):
        response = client.get(result_url(second))
    assert "Médiane de votre niveau" in response.content.decode()
    # Peer medians come from the cache on the next views: two queries fewer.
    with django_assert_num_queries(6):
        client.get(result_url(second))


def test_peer_comparison_is_hidden_below_ten_diagnoses(
    manager_client, manager, submitted, peer_diagnoses
):
    peers = ManagerFactory.create_batch(8, organism=manager.organism)
    peer_diagnoses(peers, {"sens": 2.0})
    diagnosis = submitted(manager)
    html = manager_client.get(result_url(diagnosis)).content.decode()
    assert "Médiane de votre niveau" not in html
    assert "elle apparaîtra quand au moins 10 d’entre eux auront fait le diagnostic" in html
    assert "series-peers" not in html


def test_peer_medians_by_level_and_organism(manager_client, manager, submitted, peer_diagnoses):
    same_level = ManagerFactory.create_batch(5, organism=manager.organism)
    other_organism = OrganismFactory(branch=manager.organism.branch)
    elsewhere = ManagerFactory.create_batch(5, organism=other_organism)
    directors = ManagerFactory.create_batch(4, organism=manager.organism, level="director")
    peer_diagnoses(same_level, {"sens": 2.0, "delegation": 5.0})
    peer_diagnoses(elsewhere, {"sens": 4.0, "delegation": 5.0})
    peer_diagnoses(directors, {"sens": 1.0, "delegation": 1.0})
    diagnosis = submitted(manager)  # 3.0 everywhere
    response = manager_client.get(result_url(diagnosis))
    groups = {g.kind: g for g in response.context["peer_groups"]}
    # Level: 5 × 2.0, 5 × 4.0 and the manager's 3.0 -> median 3.0 over 11 diagnoses.
    assert groups["level"].size == 11 and groups["level"].medians["sens"] == 3.0
    assert groups["level"].medians["delegation"] == 5.0
    # Organism: 5 × 2.0, 4 × 1.0, 3.0 -> 10 diagnoses, median of sens (2.0 + 2.0) / 2.
    assert groups["organism"].size == 10 and groups["organism"].medians["sens"] == 2.0
    html = response.content.decode()
    assert "Médiane de votre organisme" in html and "series-peers" in html


def test_only_the_latest_diagnosis_of_a_manager_counts_for_peers(manager, submitted):
    submitted(manager)
    submitted(manager)
    assert Diagnosis.objects.filter(user=manager, latest=True).count() == 1


def test_synthesis_uses_the_llm_with_scrubbed_open_answers(manager, answer_all, monkeypatch):
    seen = {}

    def fake_chat(messages, **kwargs):
        seen["messages"] = messages
        seen["feature"] = kwargs["feature"]
        return ai.ChatResult(text="Une synthèse rédigée par le modèle.")

    monkeypatch.setattr(ai, "can_generate", lambda organisation=None: True)
    monkeypatch.setattr(ai, "chat", fake_chat)
    monkeypatch.setattr(
        ai, "anonymise", lambda text, known_names=(): text.replace("Paul Durand", "[une personne]")
    )
    diagnosis = services.diagnosis_start(user=manager)
    answer_all(diagnosis)
    question = diagnosis.questionnaire.open_questions.first()
    services.diagnosis_save(
        diagnosis=diagnosis, open_answers={question.pk: "Paul Durand refuse de déléguer"}
    )
    done = services.diagnosis_submit(diagnosis=diagnosis)
    assert done.synthesis == "Une synthèse rédigée par le modèle."
    assert done.synthesis_generated
    prompt = "\n".join(m["content"] for m in seen["messages"])
    assert "Paul Durand" not in prompt and "[une personne] refuse de déléguer" in prompt
    assert seen["feature"] == "selfdiag.synthesis"


def test_offline_synthesis_is_written_from_the_scores(manager, submitted):
    first = submitted(manager, lambda c, i: 2)
    assert "Votre score d’ensemble est de" in first.synthesis
    assert not first.synthesis_generated
    second = submitted(manager, lambda c, i: 5 if c == 2 else 3)
    assert "Depuis votre diagnostic du" in second.synthesis
    assert "a progressé" in second.synthesis
    assert "« Feedback et reconnaissance » (+" in second.synthesis


def test_pdf_export_is_a_pdf_with_the_radar(manager_client, manager, submitted):
    diagnosis = submitted(manager, LOW_CHANGE)
    response = manager_client.get(reverse("selfdiag:result_pdf", args=[diagnosis.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="autodiagnostic-')
    assert response.content.startswith(b"%PDF")


def test_history_shows_every_diagnosis_and_the_evolution(manager_client, manager, submitted):
    submitted(manager, lambda c, i: 2)
    submitted(manager, lambda c, i: 4)
    html = manager_client.get(reverse("selfdiag:history")).content.decode()
    assert html.count("Diagnostic du") == 2
    assert "Évolution par compétence" in html
    assert html.count('class="sd-spark"') == 10  # overall + 9 competencies
    assert "<td>2,0</td><td>4,0</td>" in html


def test_a_new_diagnosis_is_suggested_after_six_months(manager_client, manager, submitted):
    from datetime import timedelta

    from django.utils import timezone

    diagnosis = submitted(manager)
    html = manager_client.get(reverse("selfdiag:index")).content.decode()
    assert "Nous vous suggérons un nouveau diagnostic" in html
    Diagnosis.objects.filter(pk=diagnosis.pk).update(
        submitted_at=timezone.now() - timedelta(days=200)
    )
    html = manager_client.get(reverse("selfdiag:index")).content.decode()
    assert "plus de six mois" in html


@pytest.mark.parametrize("name", ["selfdiag:result", "selfdiag:result_pdf"])
def test_outsider_and_colleagues_get_404_on_a_result(
    client, manager, member, outsider, submitted, name
):
    diagnosis = submitted(manager)
    for other in (outsider, member):
        client.force_login(other)
        assert client.get(reverse(name, args=[diagnosis.pk])).status_code == 404


def test_a_draft_has_no_result_page(manager_client, manager):
    draft = services.diagnosis_start(user=manager)
    assert manager_client.get(result_url(draft)).status_code == 404
