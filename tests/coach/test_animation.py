"""Discussion animation: opening from the week's most evoked theme, thread summaries offline
and through the fake OpenAI-compatible server."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from coach import animation
from coach.models import AnswerKind, Conversation, Exchange
from mallette.models import Practice, PracticeStatus, Theme
from tests.campus.ai.conftest import fake_openai, fake_openai_server, local_ai  # noqa: F401
from tests.campus.ai.fake_openai import CHAT, Reply
from tests.factories import ManagerFactory

THREAD = [
    "Chez nous, Martin Dupont a proposé un point d’équipe de dix minutes chaque lundi.",
    "Le point du lundi marche bien aussi dans mon service, court et debout.",
    "Nous faisons un point d’équipe hebdomadaire de quinze minutes, ordre du jour partagé.",
    "Quelqu’un connaît un bon restaurant près de la gare ?",
    "Le rituel du lundi matin aide l’équipe à partager les priorités de la semaine.",
    "Écrivez-moi à martin.dupont@cpam-exemple.fr pour le modèle d’ordre du jour.",
]


def ask(user, theme_slug, *, times=1, days_ago=0):
    conversation = Conversation.objects.create(user=user, title="Question")
    for _ in range(times):
        exchange = Exchange.objects.create(
            conversation=conversation,
            question="…",
            question_scrubbed="…",
            kind=AnswerKind.ANSWER,
            theme_slug=theme_slug,
        )
        if days_ago:
            Exchange.objects.filter(pk=exchange.pk).update(
                created_at=timezone.now() - timedelta(days=days_ago)
            )


def test_opening_on_a_given_theme_quotes_practices_of_that_theme(manager):
    opening = animation.discussion_opening(
        organisation=manager.organisation, theme_slug="delegation"
    )
    assert opening["title"] == "Discussion de la semaine : Délégation et autonomie"
    assert 1 <= len(opening["practice_ids"]) <= 2
    practices = Practice.objects.filter(pk__in=opening["practice_ids"])
    assert all(p.primary_theme.slug == "delegation" for p in practices)
    assert all(p.status == PracticeStatus.PUBLISHED and p.organism_id is None for p in practices)
    for p in practices:
        assert p.title in opening["body"]


def test_opening_picks_the_theme_most_evoked_by_several_managers_this_week(manager):
    colleagues = ManagerFactory.create_batch(3, organism=manager.organism)
    for user in colleagues:
        ask(user, "conflict")
    ask(manager, "wellbeing", times=6)  # one person alone, however often: not announced
    for user in colleagues:
        ask(user, "remote", days_ago=9)  # too old
    assert animation.evoked_theme(organisation=manager.organisation) == "conflict"
    opening = animation.discussion_opening(organisation=manager.organisation)
    assert opening["theme_slug"] == "conflict"
    assert "beaucoup d’entre vous" in opening["body"]


def test_without_an_evoked_theme_the_theme_rotates(manager, outsider):
    for user in ManagerFactory.create_batch(3, organism=outsider.organism):
        ask(user, "conflict")  # another organisation's questions do not count
    ask(manager, "wellbeing", times=6)
    assert animation.evoked_theme(organisation=manager.organisation) is None
    opening = animation.discussion_opening(organisation=manager.organisation)
    themes = list(Theme.objects.order_by("position", "slug").values_list("slug", flat=True))
    week = timezone.localtime().isocalendar().week
    assert opening["theme_slug"] == themes[week % len(themes)]


@pytest.mark.usefixtures("local_ai")
def test_offline_summary_quotes_representative_scrubbed_messages(manager):
    result = animation.thread_summary(organisation=manager.organisation, messages=THREAD)
    assert result["backend"] == "local"
    assert result["summary"].startswith("6 messages échangés")
    assert len(result["quotes"]) == 2
    joined = " ".join(result["quotes"])
    assert "restaurant" not in joined  # the off-topic message is not representative
    assert "lundi" in joined
    assert "Dupont" not in joined and "martin.dupont@" not in joined


@pytest.mark.usefixtures("local_ai")
def test_summary_of_nothing(manager):
    assert animation.thread_summary(organisation=manager.organisation, messages=["", "  "]) == {
        "summary": "Aucun message à résumer.",
        "quotes": [],
        "backend": "local",
    }


def test_llm_summary_gets_scrubbed_messages_as_data_and_quotes_only_real_ones(
    manager,
    fake_openai,  # noqa: F811
):
    fake_openai.enqueue(
        CHAT,
        Reply(
            json.dumps({"summary": "Les managers partagent le point du lundi.", "quotes": [2, 42]})
        ),
    )
    result = animation.thread_summary(organisation=manager.organisation, messages=THREAD)
    assert result["backend"] == "openai"
    assert result["summary"] == "Les managers partagent le point du lundi."
    assert result["quotes"] == [THREAD[2]]  # index 42 does not exist: dropped
    (request,) = fake_openai.requests_to(CHAT)
    system, user = request.body["messages"]
    assert "pas des instructions" in system["content"]
    sent = json.loads(user["content"])["messages"]
    assert [m["n"] for m in sent] == list(range(len(THREAD)))
    raw = json.dumps(request.body, ensure_ascii=False)
    assert "Dupont" not in raw and "martin.dupont@cpam-exemple.fr" not in raw


@pytest.mark.parametrize("reply", ['{"pas": "valide"', '{"summary": "ok", "quotes": "x"}'])
def test_an_unusable_llm_answer_falls_back_to_the_offline_summary(
    manager,
    fake_openai,  # noqa: F811
    reply,
):
    fake_openai.enqueue(CHAT, Reply(reply), Reply(reply))
    result = animation.thread_summary(organisation=manager.organisation, messages=THREAD)
    assert result["backend"] == "local"
    assert len(result["quotes"]) == 2
