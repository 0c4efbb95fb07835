from __future__ import annotations

import copy as copy_module
import json
from pathlib import Path

from django.contrib.admin.sites import site
from django.test import RequestFactory

from selfdiag import services
from selfdiag.admin import QuestionnaireAdmin
from selfdiag.models import Item, Questionnaire, QuestionnaireStatus
from selfdiag.selectors import questionnaire_current, questionnaire_structure

# The repository's copy of the 16 themes (the same slugs as ../shared/eval/themes.json).
THEMES = json.loads(
    (Path(__file__).resolve().parents[2] / "mallette" / "corpus" / "themes.json").read_text()
)


def test_the_default_questionnaire_maps_every_competency_to_mallette_themes(questionnaire):
    structure = questionnaire_structure(questionnaire)
    assert questionnaire.status == QuestionnaireStatus.PUBLISHED
    assert 8 <= len(structure.competencies) <= 10
    items = [i for c in structure.competencies for i in c.items.all()]
    assert 30 <= len(items) <= 40
    assert len(structure.open_questions) == 2
    assert [label for _, label in questionnaire.scale][0] == "Jamais"
    for competency in structure.competencies:
        slugs = [t.slug for t in competency.themes.all()]
        assert slugs and set(slugs) <= set(THEMES), competency.code
    covered = {t.slug for c in structure.competencies for t in c.themes.all()}
    assert {"delegation", "feedback", "recognition", "change", "remote", "wellbeing"} <= covered


def test_the_default_is_reloaded_if_every_questionnaire_was_deleted(db):
    Questionnaire.objects.all().delete()
    assert questionnaire_current(None).competencies.count() == 9


def test_an_organisation_questionnaire_wins_over_the_default(questionnaire, manager):
    own = services.questionnaire_new_version(questionnaire=questionnaire)
    own.organisation = manager.organisation
    own.version = 1
    own.save()
    assert questionnaire_current(manager.organisation) == questionnaire  # still a draft
    services.questionnaire_publish(questionnaire=own)
    assert questionnaire_current(manager.organisation) == own
    assert questionnaire_current(None) == questionnaire


def test_editing_makes_a_new_version_and_never_changes_past_results(
    questionnaire, manager, submitted
):
    past = submitted(manager, lambda c, i: 4 if c == 0 else 2)
    past.refresh_from_db()
    frozen = copy_module.deepcopy((past.scores, past.results))
    assert services.questionnaire_is_locked(questionnaire)

    copy = services.questionnaire_new_version(questionnaire=questionnaire)
    assert copy.version == questionnaire.version + 1
    assert copy.status == QuestionnaireStatus.DRAFT
    assert copy.competencies.count() == questionnaire.competencies.count()
    assert Item.objects.filter(competency__questionnaire=copy).count() == 36
    # The HR admin edits the new version: relabel, reverse an item, publish.
    first = copy.competencies.order_by("position").first()
    first.label = "Donner du sens (v2)"
    first.save()
    first.items.update(reverse_scored=True)
    services.questionnaire_publish(questionnaire=copy)
    questionnaire.refresh_from_db()
    assert questionnaire.status == QuestionnaireStatus.ARCHIVED

    past.refresh_from_db()
    assert (past.scores, past.results) == frozen
    assert past.results["competencies"][0]["label"] == "Donner du sens et communiquer"
    # A new diagnosis uses the new version.
    assert services.diagnosis_start(user=manager).questionnaire == copy


def test_a_questionnaire_with_diagnoses_is_read_only_in_the_admin(
    questionnaire, manager, hr_admin, submitted
):
    request = RequestFactory().get("/")
    request.user = hr_admin
    admin = QuestionnaireAdmin(Questionnaire, site)
    copy = services.questionnaire_new_version(questionnaire=questionnaire)
    assert admin.has_change_permission(request, copy)
    submitted(manager)
    assert not admin.has_change_permission(request, questionnaire)
    assert not admin.has_delete_permission(request, questionnaire)


def test_the_admin_action_creates_an_editable_version(questionnaire, client, hr_admin):
    client.force_login(hr_admin)
    response = client.post(
        "/admin/selfdiag/questionnaire/",
        {"action": "new_version", "_selected_action": [questionnaire.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Questionnaire.objects.filter(version=questionnaire.version + 1).exists()
    assert "créée en brouillon" in response.content.decode()
