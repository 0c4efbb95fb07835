"""Pages of the coach: asking with and without JavaScript, privacy, rating, deleting, HR topics."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coach.models import AnswerKind, Conversation, Exchange
from coach.views import ASK_LIMITS
from tests.campus.ai.fake_openai import CHAT, Reply
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db

QUESTION = "Mon équipe reste silencieuse en réunion, comment la faire participer ?"


@pytest.fixture
def asked(coach_library, manager_client):
    """A conversation of the manager, with one answered question."""
    response = manager_client.post(reverse("coach:ask"), {"question": QUESTION})
    assert response.status_code == 302
    return Exchange.objects.get()


def test_chat_page_offers_examples_and_an_empty_history(coach_library, manager_client):
    response = manager_client.get(reverse("coach:index") + "?q=Comment+déléguer+%3F")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Aucune conversation pour l’instant" in html
    assert "Comment déléguer ?" in html  # ?q= prefills the question box
    assert "Pour commencer" in html


def test_asking_without_javascript_opens_a_conversation_with_cited_links(
    asked, manager_client, manager
):
    conversation = asked.conversation
    assert conversation.user == manager and asked.kind == AnswerKind.ANSWER
    assert asked.source_ids and asked.theme_slug == "meetings"
    response = manager_client.get(reverse("coach:conversation", args=[conversation.pk]))
    html = response.content.decode()
    assert QUESTION in html
    assert "Pratiques citées" in html
    assert reverse("mallette:practice", args=[asked.source_ids[0]]) in html
    assert "Cette réponse vous a-t-elle aidé ?" in html
    assert conversation.title in html  # in the history


def test_a_follow_up_question_stays_in_the_same_conversation(asked, manager_client):
    response = manager_client.post(
        reverse("coach:ask"),
        {"question": "Et comment déléguer l’animation ?", "conversation": asked.conversation_id},
    )
    assert response.status_code == 302
    assert Conversation.objects.count() == 1
    assert asked.conversation.exchanges.count() == 2


def test_asking_with_htmx_returns_the_exchange_fragment(coach_library, manager_client):
    response = manager_client.post(
        reverse("coach:ask"), {"question": QUESTION}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    exchange = Exchange.objects.get()
    assert f'id="echange-{exchange.pk}"' in html
    assert "<html" not in html
    # The first question opens a conversation: the page URL and the hidden field follow it.
    assert response["HX-Push-Url"] == reverse("coach:conversation", args=[exchange.conversation_id])
    assert f'value="{exchange.conversation_id}" hx-swap-oob="true"' in html
    # The history beside the chat lists the new conversation at once.
    assert 'id="coach-history"' in html and exchange.conversation.title in html


def test_an_empty_question_is_refused_in_french_and_keeps_nothing(coach_library, manager_client):
    response = manager_client.post(reverse("coach:ask"), {"question": "  "})
    assert response.status_code == 400
    assert "Écrivez votre question" in response.content.decode()
    assert not Exchange.objects.exists()


def test_a_too_long_question_is_refused_and_kept(coach_library, manager_client):
    text = "Comment " + "x" * 2100
    response = manager_client.post(reverse("coach:ask"), {"question": text})
    assert response.status_code == 400
    html = response.content.decode()
    assert "trop longue" in html and "xxxxxxxx" in html


def test_questions_are_rate_limited_per_manager(coach_library, manager_client, settings):
    window, allowed = ASK_LIMITS[0]
    for _ in range(allowed):
        assert manager_client.post(reverse("coach:ask"), {"question": QUESTION}).status_code == 302
    response = manager_client.post(reverse("coach:ask"), {"question": QUESTION})
    assert response.status_code == 429
    assert "beaucoup de questions" in response.content.decode()
    assert Exchange.objects.count() == allowed


def test_rating_an_answer_with_a_comment(asked, manager_client):
    url = reverse("coach:exchange_rate", args=[asked.pk])
    response = manager_client.post(url, {"rating": "-1", "comment": "Trop général"})
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.rating == -1 and asked.rating_comment == "Trop général"
    response = manager_client.post(url, {"rating": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Vous avez trouvé cette réponse utile." in response.content.decode()
    asked.refresh_from_db()
    assert asked.rating == 1


def test_an_invalid_rating_is_refused(asked, manager_client):
    response = manager_client.post(
        reverse("coach:exchange_rate", args=[asked.pk]),
        {"rating": "5"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    asked.refresh_from_db()
    assert asked.rating is None


@pytest.mark.parametrize("who", ["other_manager", "hr_admin", "outsider"])
def test_nobody_else_can_read_or_touch_a_conversation(asked, client, who, request, organism):
    other = (
        ManagerFactory(organism=organism, email="autre.manager@campus.test")
        if who == "other_manager"
        else request.getfixturevalue(who)
    )
    client.force_login(other)
    conversation_id, exchange_id = asked.conversation_id, asked.pk
    for method, url in [
        ("get", reverse("coach:conversation", args=[conversation_id])),
        ("post", reverse("coach:conversation_delete", args=[conversation_id])),
        ("get", reverse("coach:exchange", args=[exchange_id])),
        ("get", reverse("coach:exchange_stream", args=[exchange_id])),
        ("post", reverse("coach:exchange_rate", args=[exchange_id])),
    ]:
        assert getattr(client, method)(url, {"rating": "1"}).status_code == 404, url
    response = client.post(
        reverse("coach:ask"), {"question": QUESTION, "conversation": conversation_id}
    )
    assert response.status_code == 404
    assert Conversation.objects.filter(pk=conversation_id).exists()
    asked.refresh_from_db()
    assert asked.rating is None


def test_a_malformed_conversation_id_is_a_404(coach_library, manager_client):
    assert manager_client.get("/coach/conversations/pas-un-uuid/").status_code == 404


def test_deleting_a_conversation_and_all_of_them(asked, manager_client, manager):
    second = manager_client.post(
        reverse("coach:ask"), {"question": "Comment déléguer un dossier ?"}
    )
    assert second.status_code == 302
    assert Conversation.objects.filter(user=manager).count() == 2
    response = manager_client.post(
        reverse("coach:conversation_delete", args=[asked.conversation_id])
    )
    assert response.status_code == 302
    assert not Exchange.objects.filter(pk=asked.pk).exists()
    assert Conversation.objects.filter(user=manager).count() == 1

    page = manager_client.get(reverse("coach:delete_all"))
    assert "1 conversation" in page.content.decode()
    manager_client.post(reverse("coach:delete_all"))
    assert not Conversation.objects.filter(user=manager).exists()


def test_conversation_page_has_a_constant_number_of_queries(
    asked, manager_client, django_assert_max_num_queries
):
    url = reverse("coach:conversation", args=[asked.conversation_id])
    manager_client.get(url)
    with django_assert_max_num_queries(12) as few:
        manager_client.get(url)
    baseline = len(few.captured_queries)
    for question in ["Comment déléguer un dossier ?", "Comment remercier mon équipe ?"] * 2:
        manager_client.post(
            reverse("coach:ask"), {"question": question, "conversation": asked.conversation_id}
        )
    with django_assert_max_num_queries(baseline) as many:
        manager_client.get(url)
    assert len(many.captured_queries) == baseline


def test_streamed_answer_with_an_llm(coach_library, fake_openai, manager_client, manager):
    manager.organisation.ai_monthly_budget_eur = 100
    manager.organisation.save()
    response = manager_client.post(
        reverse("coach:ask"), {"question": QUESTION}, headers={"HX-Request": "true"}
    )
    exchange = Exchange.objects.get()
    assert not exchange.complete and exchange.answer == ""
    assert "data-coach-stream" in response.content.decode()
    first = exchange.source_ids[0]
    fake_openai.enqueue(CHAT, Reply(f"Donnez la parole dès le début [P{first}]. Merci."))
    stream = manager_client.get(reverse("coach:exchange_stream", args=[exchange.pk]))
    assert stream.streaming
    text = b"".join(stream.streaming_content).decode()
    assert text == f"Donnez la parole dès le début [P{first}]. Merci."
    exchange.refresh_from_db()
    assert exchange.complete and exchange.backend == "openai"
    assert exchange.answer == "Donnez la parole dès le début [1]. Merci."
    assert exchange.source_ids == [first]
    final = manager_client.get(reverse("coach:exchange", args=[exchange.pk])).content.decode()
    assert "data-coach-stream" not in final and "Pratiques citées" in final
    # A second call does not generate again.
    again = manager_client.get(reverse("coach:exchange_stream", args=[exchange.pk]))
    assert again.content.decode() == exchange.answer
    assert len(fake_openai.requests_to(CHAT)) == 1


def test_without_javascript_the_llm_answer_is_written_at_once(
    coach_library, fake_openai, manager_client, manager
):
    manager.organisation.ai_monthly_budget_eur = 100
    manager.organisation.save()
    fake_openai.enqueue(CHAT, Reply("Réponse complète."))
    manager_client.post(reverse("coach:ask"), {"question": QUESTION})
    exchange = Exchange.objects.get()
    assert exchange.complete and exchange.answer == "Réponse complète."
    assert exchange.backend == "openai" and exchange.source_ids


def test_hr_sees_only_aggregated_topics_above_the_threshold(
    coach_library, client, hr_admin, manager, organism
):
    managers = [ManagerFactory(organism=organism) for _ in range(10)]
    for person in managers:
        conv = Conversation.objects.create(user=person, title="q")
        Exchange.objects.create(
            conversation=conv, question="secret", question_scrubbed="secret", theme_slug="meetings"
        )
    for person in managers[:9]:
        conv = Conversation.objects.create(user=person, title="q")
        Exchange.objects.create(
            conversation=conv, question="secret", question_scrubbed="secret", theme_slug="remote"
        )
    client.force_login(hr_admin)
    html = client.get(reverse("coach:topics")).content.decode()
    assert "Réunions et rituels d" in html
    assert "Télétravail" not in html  # 9 managers: under the threshold
    assert "1 thème n’est pas affiché" in html
    assert "secret" not in html

    client.force_login(manager)
    assert client.get(reverse("coach:topics")).status_code == 404


def test_streamed_chunks_reach_the_browser_as_the_model_writes(
    coach_library, fake_openai, manager_client, manager
):
    """No buffering between the endpoint and the page: the first words are forwarded as soon
    as the model sends them, long before it has finished."""
    import time

    manager.organisation.ai_monthly_budget_eur = 100
    manager.organisation.save()
    manager_client.post(
        reverse("coach:ask"), {"question": QUESTION}, headers={"HX-Request": "true"}
    )
    exchange = Exchange.objects.get()
    fake_openai.enqueue(CHAT, Reply("Un deux trois quatre cinq six", chunk_delay=0.25))
    started = time.perf_counter()
    response = manager_client.get(reverse("coach:exchange_stream", args=[exchange.pk]))
    chunks = iter(response.streaming_content)
    first = next(chunks)
    first_at = time.perf_counter() - started
    rest = b"".join(chunks)
    total = time.perf_counter() - started
    assert first.decode().strip() == "Un"
    assert total >= 1.2  # five pauses of 0.25 s
    assert first_at < total - 1.0
    assert (first + rest).decode() == "Un deux trois quatre cinq six"


def test_asking_and_logging_in_are_counted_for_the_adoption_dashboard(
    coach_library, client, manager, password
):
    from campus.analytics.models import Activity

    assert client.login(email=manager.email, password=password)
    client.post(reverse("coach:ask"), {"question": QUESTION})
    client.post(reverse("coach:ask"), {"question": "Comment déléguer un dossier ?"})
    rows = set(Activity.objects.filter(user=manager).values_list("feature", "action"))
    assert rows == {("login", "login"), ("coach", "question")}  # once a day, no content
