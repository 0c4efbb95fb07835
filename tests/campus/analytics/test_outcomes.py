"""The outcomes page: aggregates of results, never a small cell, never one manager's 180° result
nor a coach conversation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campus.models import Level
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db

URL = "/analyses/resultats/"


@pytest.fixture
def analyst_client(client, hr_analyst):
    client.force_login(hr_analyst)
    return client


@pytest.fixture
def questionnaire(db):
    from selfdiag.services import questionnaire_default_ensure

    return questionnaire_default_ensure()


@pytest.fixture
def codes(questionnaire):
    return list(questionnaire.competencies.values_list("code", flat=True))


def diagnose(user, questionnaire, scores: dict[str, float], *, days_ago: int = 0, latest=True):
    from selfdiag.models import Diagnosis

    if latest:
        Diagnosis.objects.filter(user=user, latest=True).update(latest=False)
    return Diagnosis.objects.create(
        user=user,
        organisation=user.organisation,
        questionnaire=questionnaire,
        status="submitted",
        submitted_at=timezone.now() - dt.timedelta(days=days_ago),
        latest=latest,
        level=user.level,
        organism=user.organism,
        scores=scores,
        overall=sum(scores.values()) / len(scores),
    )


def test_a_manager_gets_404(client, manager):
    client.force_login(manager)
    assert client.get(URL).status_code == 404


def test_score_distribution_with_quartiles_and_masked_bands(
    analyst_client, organism, questionnaire, codes
):
    """12 managers: 9 score 3.5 and 3 score 4.5 on the first competency. The 3 are masked,
    and the 9 too (else 12 - 9 gives them back); the quartiles of 12 people are shown."""
    people = ManagerFactory.create_batch(12, organism=organism, level=Level.PROXIMITY)
    for i, m in enumerate(people):
        diagnose(m, questionnaire, {code: (4.5 if i < 3 else 3.5) for code in codes})
    data = analyst_client.get(URL).context["data"]
    row = next(r for r in data.scores if r.code == codes[0])
    assert row.people.shown == 12
    assert row.quartiles == (3.5, 3.5, 3.75)
    keys = ["1-2", "2-3", "3-4", "4-5"]
    three_four, four_five = row.bands[keys.index("3-4")], row.bands[keys.index("4-5")]
    assert four_five.hidden and three_four.hidden
    assert row.bands[0].shown == 0
    # The level table: 12 proximity managers, nobody else.
    assert [(lv.level, lv.people.shown) for lv in data.levels] == [(Level.PROXIMITY, 12)]


def test_a_small_population_shows_no_score(analyst_client, organism, questionnaire, codes):
    people = ManagerFactory.create_batch(4, organism=organism, level=Level.DIRECTOR)
    for m in people:
        diagnose(m, questionnaire, dict.fromkeys(codes, 2.75))
    response = analyst_client.get(URL)
    data = response.context["data"]
    assert all(r.people.hidden and r.quartiles is None for r in data.scores)
    assert all(c.hidden or c.value == 0 for r in data.scores for c in r.bands)
    assert "2,75" not in response.content.decode()
    assert all(lv.people.hidden for lv in data.levels)


def test_levels_are_masked_with_their_complement(analyst_client, organism, questionnaire, codes):
    for level, count in ((Level.PROXIMITY, 14), (Level.DIRECTOR, 3)):
        for m in ManagerFactory.create_batch(count, organism=organism, level=level):
            diagnose(m, questionnaire, dict.fromkeys(codes, 3.0))
    data = analyst_client.get(URL).context["data"]
    levels = {lv.level: lv for lv in data.levels}
    assert levels[Level.DIRECTOR].people.hidden
    assert levels[Level.PROXIMITY].people.hidden  # 17 - 14 would give the 3 directors back
    assert all(v is None for v in levels[Level.PROXIMITY].medians.values())


def test_one_dimension_at_a_time_no_level_table_for_an_organism(
    analyst_client, organism, questionnaire, codes
):
    for m in ManagerFactory.create_batch(12, organism=organism):
        diagnose(m, questionnaire, dict.fromkeys(codes, 3.0))
    response = analyst_client.get(URL, {"perimetre": f"organism:{organism.pk}"})
    data = response.context["data"]
    assert data.levels == []
    assert data.scores[0].people.shown == 12


def test_evolution_between_first_and_latest_diagnosis(
    analyst_client, organism, questionnaire, codes
):
    people = ManagerFactory.create_batch(12, organism=organism)
    for i, m in enumerate(people):
        diagnose(m, questionnaire, dict.fromkeys(codes, 2.0), days_ago=200, latest=False)
        diagnose(m, questionnaire, dict.fromkeys(codes, 3.0 if i < 10 else 2.1))
    # A manager with one diagnosis only is not in the evolution.
    diagnose(ManagerFactory(organism=organism), questionnaire, dict.fromkeys(codes, 5.0))
    data = analyst_client.get(URL).context["data"]
    row = next(r for r in data.evolution if r.code == codes[0])
    assert row.people.shown == 12
    assert row.mean == round((10 * 1.0 + 2 * 0.1) / 12, 2)
    up, same, down = row.parts
    assert same.hidden and up.hidden  # 2 stable, and 12 - 0 - 10 would give them back
    assert down.shown == 0


def test_coach_topics_by_theme_without_any_conversation_content(analyst_client, organism):
    from coach.models import Conversation, Exchange
    from mallette.models import Theme

    Theme.objects.get_or_create(slug="delegation", defaults={"label": "Délégation"})
    Theme.objects.get_or_create(slug="conflict", defaults={"label": "Conflits"})
    for i, m in enumerate(ManagerFactory.create_batch(14, organism=organism)):
        conversation = Conversation.objects.create(user=m, title="Sujet confidentiel")
        Exchange.objects.create(
            conversation=conversation,
            question="Comment déléguer à Paul Secret ?",
            question_scrubbed="Comment déléguer ?",
            theme_slug="delegation" if i < 11 else "conflict",
        )
    response = analyst_client.get(URL)
    data = response.context["data"]
    assert [(r.theme, r.count, r.people) for r in data.coach] == [("delegation", 11, 11)]
    assert data.hidden_coach_themes == 1
    html = response.content.decode()
    assert "Paul Secret" not in html and "Sujet confidentiel" not in html
    assert "Comment déléguer" not in html


def test_most_evoked_practices_and_themes_from_k_texts(analyst_client, organism):
    from mallette.models import Mention, Practice, PracticeStatus, Theme

    theme, _created = Theme.objects.get_or_create(slug="delegation", defaults={"label": "Délég."})
    practices = []
    for title in ("Déléguer un dossier", "Rarement citée"):
        practice = Practice.objects.create(
            slug=title.lower().replace(" ", "-"),
            title=title,
            summary="Résumé.",
            body="- Corps.",
            primary_theme=theme,
            status=PracticeStatus.PUBLISHED,
        )
        practices.append(practice)
    today = timezone.localdate()
    Mention.objects.bulk_create(
        [
            Mention(
                practice=practices[0 if i < 12 else 1],
                organisation=organism.organisation,
                organism=organism,
                source="coach",
                source_ref=f"coach.exchange:{i}",
                similarity=0.8,
                day=today,
            )
            for i in range(15)
        ]
    )
    data = analyst_client.get(URL).context["data"]
    assert [(p.label, p.count) for p in data.practices] == [("Déléguer un dossier", 12)]
    assert [(t.label, t.count) for t in data.themes] == [(theme.label, 15)]
    by_level = analyst_client.get(URL, {"perimetre": f"level:{Level.PROXIMITY}"})
    assert by_level.context["data"].mentions_available is False


def test_campaign_participation_never_shows_a_manager(analyst_client, organism):
    from feedback180.models import Campaign, CampaignStatus

    now = timezone.now()
    people = ManagerFactory.create_batch(12, organism=organism, last_name="Unique-Nom")
    for m in people:
        Campaign.objects.create(
            organisation=m.organisation,
            manager=m,
            organism=organism,
            status=CampaignStatus.CLOSED,
            closes_on=timezone.localdate(),
            opened_at=now,
            closed_at=now,
            released=True,
            results={"secret": "résultat-individuel"},
        )
    response = analyst_client.get(URL)
    data = response.context["data"]
    assert data.campaigns[-1].closed.shown == 12
    html = response.content.decode()
    assert "Unique-Nom" not in html and "résultat-individuel" not in html


def test_outcomes_query_count_is_constant(
    client, hr_analyst, organism, questionnaire, codes, django_assert_max_num_queries
):
    client.force_login(hr_analyst)
    for m in ManagerFactory.create_batch(3, organism=organism):
        diagnose(m, questionnaire, dict.fromkeys(codes, 3.0))
    client.get(URL)
    with django_assert_max_num_queries(14) as few:
        assert client.get(URL).status_code == 200  # the diagnosis figures from the cache
    with django_assert_max_num_queries(len(few.captured_queries) + 3) as uncached:
        assert client.get(URL, {"perimetre": f"branch:{organism.branch_id}"}).status_code == 200
    for m in ManagerFactory.create_batch(20, organism=organism):
        diagnose(m, questionnaire, dict.fromkeys(codes, 2.0), days_ago=100, latest=False)
        diagnose(m, questionnaire, dict.fromkeys(codes, 3.0))
    # New diagnoses: the figures are computed again, with the same number of queries.
    with django_assert_max_num_queries(len(uncached.captured_queries)):
        response = client.get(URL, {"perimetre": f"branch:{organism.branch_id}"})
    assert response.context["data"].scores[0].people.shown == 23


def test_the_outcomes_report_has_every_table_of_the_page(
    hr_analyst, organism, questionnaire, codes
):
    from campus.analytics.tables import report_for

    diagnose(ManagerFactory(organism=organism), questionnaire, dict.fromkeys(codes, 3.0))
    report = report_for("outcomes", hr_analyst.organisation, {})
    keys = [t.key for t in report.tables]
    assert keys == [
        "scores",
        "scores-niveaux",
        "evolution",
        "campagnes-180",
        "pratiques-evoquees",
        "themes-evoques",
        "coach-themes",
    ]
