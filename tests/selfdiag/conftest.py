from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from selfdiag import services
from selfdiag.models import Diagnosis, DiagnosisStatus, Questionnaire
from selfdiag.selectors import questionnaire_current, questionnaire_structure


@pytest.fixture
def questionnaire(db) -> Questionnaire:
    return questionnaire_current(None)


@pytest.fixture
def answer_all() -> Callable[..., Diagnosis]:
    """Answer every item of a draft: ``value(competency_index, item_index) -> 1..5``."""

    def fill(diagnosis: Diagnosis, value: Callable[[int, int], int] = lambda c, i: 3) -> Diagnosis:
        structure = questionnaire_structure(diagnosis.questionnaire)
        answers = {
            item.pk: value(ci, ii)
            for ci, competency in enumerate(structure.competencies)
            for ii, item in enumerate(competency.items.all())
        }
        return services.diagnosis_save(diagnosis=diagnosis, answers=answers)

    return fill


@pytest.fixture
def submitted(answer_all) -> Callable[..., Diagnosis]:
    """A submitted diagnosis of ``user`` (through the real services)."""

    def make(user, value: Callable[[int, int], int] = lambda c, i: 3, **open_answers) -> Diagnosis:
        diagnosis = services.diagnosis_start(user=user)
        answer_all(diagnosis, value)
        return services.diagnosis_submit(diagnosis=diagnosis)

    return make


@pytest.fixture
def peer_diagnoses(questionnaire):
    """Fast peers: submitted 'latest' diagnoses written directly with the given scores."""

    def make(users, scores: dict[str, float]) -> list[Diagnosis]:
        now = timezone.now()
        return Diagnosis.objects.bulk_create(
            [
                Diagnosis(
                    user=u,
                    organisation_id=u.organisation_id,
                    questionnaire=questionnaire,
                    status=DiagnosisStatus.SUBMITTED,
                    submitted_at=now,
                    latest=True,
                    level=u.level,
                    organism_id=u.organism_id,
                    scores=scores,
                    overall=sum(scores.values()) / len(scores),
                    results={},
                )
                for u in users
            ]
        )

    return make
