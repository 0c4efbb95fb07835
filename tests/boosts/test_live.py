from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from boosts import services
from boosts.models import PollState, Question, Registration
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


def test_entering_the_live_room_checks_the_manager_in(live_boost, manager, manager_client):
    page = manager_client.get(reverse("boosts:live", args=[live_boost.pk]))
    assert page.status_code == 200
    assert Registration.objects.get(boost=live_boost, user=manager).checked_in_at is not None


def test_room_is_closed_before_the_boost(boost, manager, manager_client):
    page = manager_client.get(reverse("boosts:live", args=[boost.pk])).content.decode()
    assert "La salle est ouverte 15 minutes avant" in page
    assert not Registration.objects.filter(boost=boost, user=manager).exists()
    response = manager_client.post(
        reverse("boosts:ask", args=[boost.pk]), {"body": "Trop tôt ?"}, follow=True
    )
    assert "La salle est fermée" in response.content.decode()
    assert not Question.objects.exists()


def test_ask_without_javascript_redirects_and_shows_the_question(live_boost, manager_client):
    response = manager_client.post(
        reverse("boosts:ask", args=[live_boost.pk]), {"body": "Comment  dire non ?"}
    )
    assert response.status_code == 302
    page = manager_client.get(response["Location"]).content.decode()
    assert "Comment dire non ?" in page


def test_empty_question_is_refused_in_french_and_the_fragment_keeps_the_form(
    live_boost, manager_client
):
    response = manager_client.post(
        reverse("boosts:ask", args=[live_boost.pk]), {"body": "  "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Écrivez votre question." in response.content.decode()
    assert "HX-Trigger" not in response


def test_question_text_is_escaped(live_boost, manager):
    services.question_ask(boost=live_boost, user=manager, body="<script>alert(1)</script>")
    from django.test import Client

    c = Client()
    c.force_login(manager)
    html = c.get(reverse("boosts:live_questions", args=[live_boost.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_another_manager_upvotes_and_can_take_the_vote_back(live_boost, manager, organism, client):
    question = services.question_ask(boost=live_boost, user=manager, body="Et le télétravail ?")
    other = ManagerFactory(organism=organism)
    client.force_login(other)
    url = reverse("boosts:vote", args=[question.pk])
    fragment = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    question.refresh_from_db()
    assert question.votes == 1
    assert 'aria-pressed="true"' in fragment and "1 vote" in fragment
    client.post(url, HTTP_HX_REQUEST="true")
    question.refresh_from_db()
    assert question.votes == 0


def test_host_marks_answered_and_hides_participants_cannot(
    live_boost, manager, manager_client, host
):
    question = services.question_ask(boost=live_boost, user=manager, body="Hors sujet")
    url = reverse("boosts:moderate", args=[question.pk])
    assert manager_client.post(url, {"action": "hide"}).status_code == 404
    from django.test import Client

    host_c = Client()
    host_c.force_login(host)
    host_c.post(url, {"action": "answered"})
    host_c.post(url, {"action": "hide"})
    question.refresh_from_db()
    assert question.answered_at and question.hidden
    html = manager_client.get(reverse("boosts:live_questions", args=[live_boost.pk])).content
    assert b"Hors sujet" not in html
    assert "Hors sujet" in host_c.get(reverse("boosts:live", args=[live_boost.pk])).content.decode()
    assert host_c.post(url, {"action": "??"}).status_code == 400


def test_single_choice_poll_answers_and_live_results(live_boost, manager, organism, host):
    poll = services.poll_create(
        boost=live_boost, kind="single", prompt="Votre style ?", options=["Direct", "Doux"]
    )
    services.poll_launch(poll=poll)
    direct, doux = poll.options.all()
    from django.test import Client

    c = Client()
    c.force_login(manager)
    c.post(reverse("boosts:poll_answer", args=[poll.pk]), {"option": [direct.pk]})
    c.post(reverse("boosts:poll_answer", args=[poll.pk]), {"option": [doux.pk]})  # changes mind
    other = ManagerFactory(organism=organism)
    services.poll_answer(poll=poll, user=other, option_ids=[doux.pk])
    with pytest.raises(services.BoostError):
        services.poll_answer(poll=poll, user=other, option_ids=[direct.pk, doux.pk])
    html = c.get(reverse("boosts:live_poll", args=[live_boost.pk])).content.decode()
    assert "Résultats" not in html  # not shown to participants yet
    h = Client()
    h.force_login(host)
    host_html = h.get(reverse("boosts:live_poll", args=[live_boost.pk])).content.decode()
    assert "Résultats (2 réponses)" in host_html
    assert 'value="100"' in host_html and "<meter" in host_html
    services.poll_results_show(poll=poll, shown=True)
    assert (
        "Résultats (2 réponses)"
        in c.get(reverse("boosts:live_poll", args=[live_boost.pk])).content.decode()
    )


def test_multiple_choice_and_word_cloud(live_boost, manager):
    multi = services.poll_create(
        boost=live_boost, kind="multiple", prompt="Outils ?", options=["Teams", "Mail", "Café"]
    )
    services.poll_launch(poll=multi)
    a, b, _c = multi.options.all()
    services.poll_answer(poll=multi, user=manager, option_ids=[a.pk, b.pk])
    assert multi.answers.count() == 2
    words = services.poll_create(boost=live_boost, kind="words", prompt="Un mot ?", options=[])
    services.poll_launch(poll=words)
    multi.refresh_from_db()
    assert multi.state == PollState.CLOSED  # one open poll at a time
    services.poll_answer(poll=words, user=manager, text="Confiance, écoute ; Confiance")
    assert sorted(words.answers.values_list("word", flat=True)) == ["confiance", "écoute"]
    services.poll_close(poll=words)
    with pytest.raises(services.BoostError):
        services.poll_answer(poll=words, user=manager, text="trop tard")


def test_polling_fragments_use_a_constant_number_of_queries(live_boost, organism, manager):
    people = [ManagerFactory(organism=organism) for _ in range(3)]
    poll = services.poll_create(boost=live_boost, kind="single", prompt="?", options=["A", "B"])
    services.poll_launch(poll=poll)
    from django.test import Client

    c = Client()
    c.force_login(manager)
    c.get(reverse("boosts:live", args=[live_boost.pk]))  # check-in done once

    def count(url: str, **headers: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url, **headers).status_code == 200
        return len(ctx.captured_queries)

    q_url = reverse("boosts:live_questions", args=[live_boost.pk])
    p_url = reverse("boosts:live_poll", args=[live_boost.pk])
    small = (count(q_url), count(p_url), count(q_url, HTTP_HX_REQUEST="true"))
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        _many_writes(live_boost, people, manager, poll)
    large = (count(q_url), count(p_url), count(q_url, HTTP_HX_REQUEST="true"))
    assert small == large
    # The user, the boost, its communities (the access check), then the fragment's reads.
    assert large[0] <= 4 and large[1] <= 7 and large[2] <= 5


def _many_writes(live_boost, people, manager, poll) -> None:
    for person in people:
        for i in range(5):
            q = services.question_ask(boost=live_boost, user=person, body=f"Question {i}")
            services.question_vote_toggle(question=q, user=manager)
        services.poll_answer(poll=poll, user=person, option_ids=[poll.options.first().pk])


def test_unchanged_fragment_answers_304_from_its_etag(live_boost, manager_client, manager):
    url = reverse("boosts:live_questions", args=[live_boost.pk])
    first = manager_client.get(url)
    etag = first["ETag"]
    assert manager_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.question_ask(boost=live_boost, user=manager, body="Nouveau")
    changed = manager_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and "Nouveau" in changed.content.decode()


def test_checkin_by_short_code(live_boost, manager, manager_client, boost):
    bad = manager_client.post(reverse("boosts:checkin"), {"code": "ZZZZZZ"})
    assert bad.status_code == 200 and "ne correspond à aucun boost" in bad.content.decode()
    response = manager_client.post(
        reverse("boosts:checkin"), {"code": live_boost.checkin_code.lower()}
    )
    assert response.status_code == 302
    assert Registration.objects.get(boost=live_boost, user=manager).checked_in_at
    early = manager_client.post(reverse("boosts:checkin"), {"code": boost.checkin_code})
    assert "ne correspond à aucun boost" in early.content.decode()


def test_outsider_cannot_vote_answer_or_moderate(live_boost, manager, outsider, client):
    question = services.question_ask(boost=live_boost, user=manager, body="?")
    poll = services.poll_create(boost=live_boost, kind="words", prompt="?", options=[])
    services.poll_launch(poll=poll)
    client.force_login(outsider)
    assert client.post(reverse("boosts:vote", args=[question.pk])).status_code == 404
    assert client.post(reverse("boosts:moderate", args=[question.pk])).status_code == 404
    assert client.post(reverse("boosts:poll_answer", args=[poll.pk])).status_code == 404
    assert client.post(reverse("boosts:poll_control", args=[poll.pk])).status_code == 404
    assert (
        client.post(reverse("boosts:checkin"), {"code": live_boost.checkin_code}).status_code == 200
    )
    assert not Registration.objects.filter(user=outsider).exists()


def test_a_vote_keeps_the_poll_fragment_cached_but_my_own_answer_refreshes_it(
    live_boost, manager, manager_client, organism
):
    from django.test import TestCase

    poll = services.poll_create(boost=live_boost, kind="single", prompt="?", options=["A", "B"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.poll_launch(poll=poll)
    url = reverse("boosts:live_poll", args=[live_boost.pk])
    etag = manager_client.get(url)["ETag"]
    other = ManagerFactory(organism=organism)
    with TestCase.captureOnCommitCallbacks(execute=True):
        q = services.question_ask(boost=live_boost, user=other, body="?")
        services.question_vote_toggle(question=q, user=other)
        services.poll_answer(poll=poll, user=other, option_ids=[poll.options.first().pk])
    assert manager_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.poll_answer(poll=poll, user=manager, option_ids=[poll.options.first().pk])
    mine = manager_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert mine.status_code == 200 and "Réponse enregistrée." in mine.content.decode()


def test_polled_questions_are_shared_html_personalised_with_my_votes(
    live_boost, manager, organism, host
):
    from django.test import Client, TestCase

    other = ManagerFactory(organism=organism)
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = services.question_ask(boost=live_boost, user=manager, body="Première")
        second = services.question_ask(boost=live_boost, user=manager, body="Seconde")
        hidden = services.question_ask(boost=live_boost, user=manager, body="Masquée ici")
        services.question_moderate(question=hidden, hidden=True)
        services.question_vote_toggle(question=first, user=other)
    url = reverse("boosts:live_questions", args=[live_boost.pk])
    clients = {}
    for person in (manager, other):
        clients[person.pk] = Client()
        clients[person.pk].force_login(person)
    mine = clients[manager.pk].get(url, HTTP_HX_REQUEST="true").content.decode()
    theirs = clients[other.pk].get(url, HTTP_HX_REQUEST="true").content.decode()
    assert f'aria-pressed="true" data-q="{first.pk}">Retirer mon vote<' in theirs
    assert f'aria-pressed="false" data-q="{second.pk}">Moi aussi<' in theirs
    assert 'aria-pressed="true"' not in mine
    assert "csrfmiddlewaretoken" not in mine  # htmx sends the token from <body hx-headers>
    assert "Masquée ici" not in mine and "Première" in mine
    # Without JavaScript (the full page), the forms carry their token.
    full = clients[manager.pk].get(reverse("boosts:live", args=[live_boost.pk])).content.decode()
    assert "csrfmiddlewaretoken" in full
    host_client = Client()
    host_client.force_login(host)
    assert "Masquée ici" in host_client.get(url, HTTP_HX_REQUEST="true").content.decode()


def test_attendance_is_recorded_once_for_the_hr_analytics(live_boost, manager, manager_client):
    from campus.analytics.models import Activity

    for _ in range(2):
        manager_client.get(reverse("boosts:live", args=[live_boost.pk]))
    rows = Activity.objects.filter(user=manager, feature="boosts", action="attend")
    assert rows.count() == 1
