"""“Most evoked”: coach questions matched to practices, rankings, candidate practices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campus.models import Role
from coach.models import AnswerKind, Conversation, Exchange
from mallette import mentions
from mallette.models import Mention, MentionWatermark, Practice, PracticeStatus, UnmatchedText
from tests.factories import ManagerFactory

DELEGATION = "Comment déléguer un dossier complexe à un agent en précisant le résultat attendu ?"
REMOTE = "Comment garder le lien avec mon équipe en télétravail ?"
HOLIDAYS = [
    "Comment organiser les congés d'été de mon équipe ?",
    "Comment organiser les congés d’été de mon équipe ?",
    "Comment bien organiser les congés d'été de mon équipe ?",
    "Comment organiser les congés d'été dans mon équipe ?",
]


def later():
    """Detection reads texts once they have settled: run it as if a few minutes had passed."""
    return timezone.now() + mentions.SETTLE + timedelta(minutes=1)


def ask(user, text, kind=AnswerKind.ANSWER):
    conversation = Conversation.objects.create(user=user, title=text[:40])
    return Exchange.objects.create(
        conversation=conversation, question=text, question_scrubbed=text, kind=kind
    )


@pytest.fixture
def colleague(organism):
    return ManagerFactory(organism=organism)


def test_coach_questions_become_mentions_without_any_text(manager, library):
    delegation = ask(manager, DELEGATION)
    remote = ask(manager, REMOTE)
    ask(manager, "Quelle est la capitale de l'Australie ? déléguer", kind=AnswerKind.OFF_TOPIC)
    ask(manager, DELEGATION, kind=AnswerKind.SAFETY)
    report = mentions.mentions_detect(now=later())
    assert report.texts == 4
    rows = {(m.source_ref, m.practice_id) for m in Mention.objects.all()}
    assert (f"coach.exchange:{delegation.pk}", library["deleguer"].pk) in rows
    assert (f"coach.exchange:{remote.pk}", library["teletravail"].pk) in rows
    assert len(rows) == 2  # off-topic and safety questions are never matched
    mention = Mention.objects.get(practice=library["deleguer"])
    assert mention.organisation_id == manager.organisation_id
    assert mention.organism_id == manager.organism_id
    assert mention.source == "coach" and mention.similarity >= mentions.MATCH_THRESHOLD
    assert mention.day == timezone.localdate()
    text_fields = {f.name for f in Mention._meta.fields if f.get_internal_type() == "TextField"}
    assert text_fields == set()


def test_detection_is_incremental_and_idempotent(manager, library):
    ask(manager, DELEGATION)
    assert mentions.mentions_detect(now=later()).texts == 1
    assert mentions.mentions_detect(now=later()).texts == 0  # the watermark moved on
    ask(manager, REMOTE)
    assert mentions.mentions_detect(now=later()).texts == 1
    assert Mention.objects.count() == 2
    mentions.sources_reset()
    assert mentions.mentions_detect(now=later()).texts == 2
    assert Mention.objects.count() == 2  # re-reading stores nothing twice
    assert (
        MentionWatermark.objects.get(source="coach.exchange").last_key
        == Exchange.objects.latest("pk").pk
    )


def test_fresh_texts_wait_for_the_settle_delay(manager, library):
    ask(manager, DELEGATION)
    assert mentions.mentions_detect(now=timezone.now()).texts == 0
    assert mentions.mentions_detect(now=later()).texts == 1


def test_a_running_detection_blocks_a_second_one(manager, library):
    from django.core.cache import cache

    ask(manager, DELEGATION)
    cache.add(mentions.DETECT_LOCK, 1)
    assert mentions.mentions_detect(now=later()).texts == 0
    cache.delete(mentions.DETECT_LOCK)
    assert mentions.mentions_detect(now=later()).texts == 1


def test_only_practices_the_author_may_see_are_matched(manager, outsider, library):
    ask(outsider, DELEGATION)
    ask(outsider, "Relire les objectifs de l’an dernier avant l’entretien annuel de l’agent")
    mentions.mentions_detect(now=later())
    seen = set(Mention.objects.values_list("practice_id", "organisation_id"))
    assert (library["deleguer"].pk, outsider.organisation_id) in seen  # editorial: shared
    assert all(pk != library["national"].pk for pk, _ in seen)  # the other organisation's


def test_calibrated_rule_keeps_close_seconds_only():
    m = mentions.Match
    kept = mentions.matches_kept([m(1, 0.90, 1), m(2, 0.895, 1), m(3, 0.885, 1), m(4, 0.89, 1)])
    assert [x.practice_id for x in kept] == [1, 2]  # 0.885 is beyond the margin; top 3 only
    assert mentions.matches_kept([m(1, 0.879, 1)]) == []


def test_recurring_unmatched_needs_become_one_proposal_in_the_moderation_queue(
    client, manager, colleague, library
):
    ask(manager, HOLIDAYS[0])
    ask(manager, HOLIDAYS[1])
    mentions.mentions_detect(now=later())
    assert UnmatchedText.objects.count() == 2
    assert not Practice.objects.filter(status=PracticeStatus.REVIEW).exists()  # 1 person
    ask(manager, HOLIDAYS[2])
    mentions.mentions_detect(now=later())
    assert not Practice.objects.filter(status=PracticeStatus.REVIEW).exists()  # still 1 person
    ask(colleague, HOLIDAYS[3])
    report = mentions.mentions_detect(now=later())
    assert report.proposals == 1
    proposal = Practice.objects.get(status=PracticeStatus.REVIEW)
    assert proposal.source == "coach" and proposal.organisation_id == manager.organisation_id
    assert proposal.author is None and proposal.anonymous
    assert "congés d" in proposal.title and "2 managers" in proposal.summary
    assert proposal.body.count("\n- ") == 3  # the four scrubbed questions, quoted
    # A new text on the same need joins the proposal: nothing is proposed twice.
    ask(ManagerFactory(organism=manager.organism), HOLIDAYS[0])
    assert mentions.mentions_detect(now=later()).proposals == 0
    assert Practice.objects.filter(status=PracticeStatus.REVIEW).count() == 1
    assert UnmatchedText.objects.filter(proposal=proposal).count() == 5
    moderator = ManagerFactory(organism=manager.organism, roles=[Role.MANAGER, Role.MODERATOR])
    client.force_login(moderator)
    queue = client.get(reverse("mallette:moderation")).context["items"]
    assert [item["practice"] for item in queue] == [proposal]


def test_candidate_text_is_quoted_without_markdown_structure():
    assert mentions._markdown_plain("[clic](http://x) **gras**") == (
        "\\[clic\\]\\(http://x\\) \\*\\*gras\\*\\*"
    )


@pytest.fixture
def evoked(manager, outsider, library):
    """Mentions in the manager's organism, elsewhere in their organisation, and another's."""
    org, organism = manager.organisation, manager.organism
    today = timezone.localdate()

    def add(practice, n, *, organism=organism, organisation=org, days_ago=1):
        for i in range(n):
            Mention.objects.create(
                practice=practice,
                organisation=organisation,
                organism=organism,
                source="coach",
                source_ref=f"test:{practice.pk}:{organisation.pk}:{days_ago}:{i}",
                similarity=0.9,
                day=today - timedelta(days=days_ago),
            )

    add(library["deleguer"], 3)
    add(library["teletravail"], 5, organism=None)  # another organism of the organisation
    add(library["merci"], 4, days_ago=60)
    add(library["feedback"], 9, organisation=outsider.organisation, organism=None)
    return library


def test_most_evoked_ranks_by_period_and_scope(manager_client, evoked):
    url = reverse("mallette:most_evoked")
    response = manager_client.get(url)
    ranked = [(p.title, p.mention_count) for p in response.context["page"].object_list]
    assert ranked == [(evoked["teletravail"].title, 5), (evoked["deleguer"].title, 3)]
    ranked = [p.pk for p in manager_client.get(url, {"period": 90}).context["page"].object_list]
    assert ranked == [evoked["teletravail"].pk, evoked["merci"].pk, evoked["deleguer"].pk]
    response = manager_client.get(url, {"period": 90, "scope": "organisme"})
    assert [p.pk for p in response.context["page"].object_list] == [
        evoked["merci"].pk,
        evoked["deleguer"].pk,
    ]
    html = response.content.decode()
    assert "4 mentions" in html and "Dans mon organisme, sur 90 jours" in html
    assert evoked["feedback"].title not in manager_client.get(url, {"period": 90}).content.decode()
    assert manager_client.get(url, {"period": "7", "scope": "x"}).status_code == 200


def test_most_evoked_is_scoped_to_the_outsiders_own_organisation(client, outsider, evoked):
    client.force_login(outsider)
    page = client.get(reverse("mallette:most_evoked")).context["page"]
    assert [(p.pk, p.mention_count) for p in page.object_list] == [(evoked["feedback"].pk, 9)]


def test_most_evoked_page_has_constant_queries(manager_client, manager, evoked, make_practice):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            manager_client.get(reverse("mallette:most_evoked"), {"period": 90})
        return len(ctx.captured_queries)

    before = queries()
    for i in range(6):
        practice = make_practice(f"Pratique évoquée {i}", "Résumé.", slug=f"evoquee-{i}")
        Mention.objects.create(
            practice=practice,
            organisation=manager.organisation,
            source="coach",
            source_ref=f"q:{i}",
            similarity=0.9,
            day=timezone.localdate(),
        )
    assert queries() == before


def test_the_practice_page_shows_its_mention_counts(manager_client, evoked):
    practice = evoked["merci"]
    html = manager_client.get(
        reverse("mallette:practice", args=[practice.pk, practice.slug])
    ).content.decode()
    assert "Évoquée 4 fois en 90 jours" in html
    ctx = manager_client.get(
        reverse("mallette:practice", args=[practice.pk, practice.slug])
    ).context["mentions"]
    assert (ctx.organisation_30, ctx.organisation_90, ctx.organism_90) == (0, 4, 4)


def test_mentions_are_read_only_in_the_admin(rf, admin_user, evoked):
    # Checked on the ModelAdmins: the admin pages also render every other app's sidebar.
    from django.contrib import admin

    from mallette.models import Comment

    request = rf.get("/")
    request.user = admin_user
    for model in (Mention, UnmatchedText):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, None)
        assert not model_admin.has_delete_permission(request, None)
        assert model_admin.has_view_permission(request, None)
    assert admin.site._registry[Mention].get_queryset(request).count() == 21
    comments = admin.site._registry[Comment]
    assert not comments.has_add_permission(request)
    assert {"hide", "unhide"} <= set(comments.get_actions(request))
