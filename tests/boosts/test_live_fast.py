"""The live room's fast path (boosts/middleware.py): participants' polls answered from Redis
alone, with exactly the answers the full stack gives."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from boosts import services
from boosts.middleware import PASS_FRESH_SECONDS, PASS_MAX_AGE
from tests.factories import ManagerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

PASS = re.compile(r"hx-headers='\{\"X-Live-Pass\": \"([^\"]+)\"\}'")


def enter(client: Client, boost) -> str:
    """Open the room page like a browser and return the pass it carries."""
    page = client.get(reverse("boosts:live", args=[boost.pk])).content.decode()
    match = PASS.search(page)
    assert match, "the room page gives participants a pass"
    return match.group(1)


def committed(fn, *args, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


@pytest.fixture
def participant(live_boost, manager):
    c = Client()
    c.force_login(manager)
    return c, enter(c, live_boost)


def poll(client, url, room_pass, etag=""):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_X_LIVE_PASS": room_pass}
    if etag:
        headers["HTTP_IF_NONE_MATCH"] = etag
    return client.get(url, **headers)


def later(monkeypatch, seconds: float) -> None:
    """Move the clock the passes are signed and checked with."""
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + seconds)


def test_unchanged_polls_answer_304_without_any_query(
    live_boost, participant, django_assert_num_queries
):
    client, room_pass = participant
    committed(
        services.poll_launch,
        poll=services.poll_create(boost=live_boost, kind="single", prompt="?", options=["A", "B"]),
    )
    for name in ("boosts:live_questions", "boosts:live_poll"):
        url = reverse(name, args=[live_boost.pk])
        first = poll(client, url, room_pass)
        assert first.status_code == 200
        with django_assert_num_queries(0):
            again = poll(client, url, room_pass, first["ETag"])
        assert again.status_code == 304
        assert again["ETag"] == first["ETag"]


def test_new_questions_come_from_the_shared_cache_with_my_own_votes(
    live_boost, manager, organism, participant, django_assert_num_queries
):
    client, room_pass = participant
    url = reverse("boosts:live_questions", args=[live_boost.pk])
    other = ManagerFactory(organism=organism)
    mine = committed(services.question_ask, boost=live_boost, user=other, body="Première")
    committed(services.question_vote_toggle, question=mine, user=manager)
    etag = poll(client, url, room_pass)["ETag"]  # full path: caches my votes
    committed(services.question_ask, boost=live_boost, user=other, body="Seconde")
    # Someone else's poll renders the new version once for everyone.
    other_client = Client()
    other_client.force_login(other)
    assert poll(other_client, url, enter(other_client, live_boost)).status_code == 200
    with django_assert_num_queries(0):
        fresh = poll(client, url, room_pass, etag)
    html = fresh.content.decode()
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    assert "Seconde" in html and "Première" in html
    assert f'aria-pressed="true" data-q="{mine.pk}">Retirer mon vote<' in html
    # Identical to what the full stack answers for the same version.
    full = client.get(url, HTTP_HX_REQUEST="true")
    assert full["ETag"] == fresh["ETag"] and full.content == fresh.content


def test_my_vote_is_never_shown_stale(live_boost, manager, organism, participant):
    client, room_pass = participant
    url = reverse("boosts:live_questions", args=[live_boost.pk])
    question = committed(
        services.question_ask, boost=live_boost, user=ManagerFactory(organism=organism), body="?"
    )
    etag = poll(client, url, room_pass)["ETag"]
    committed(services.question_vote_toggle, question=question, user=manager)
    voted = poll(client, url, room_pass, etag)
    assert f'aria-pressed="true" data-q="{question.pk}">' in voted.content.decode()
    committed(services.question_vote_toggle, question=question, user=manager)
    again = poll(client, url, room_pass, voted["ETag"])
    assert f'aria-pressed="false" data-q="{question.pk}">' in again.content.decode()


@pytest.mark.parametrize("spoil", ["tampered", "other_boost", "other_person", "expired"])
def test_a_bad_pass_takes_the_full_path_and_gets_the_right_answer(
    spoil, live_boost, make_boost, manager, organism, participant, monkeypatch
):
    client, room_pass = participant
    url = reverse("boosts:live_questions", args=[live_boost.pk])
    etag = poll(client, url, room_pass)["ETag"]
    if spoil == "tampered":
        room_pass = room_pass[:-2] + ("AA" if not room_pass.endswith("AA") else "BB")
    elif spoil == "other_boost":
        other_boost = make_boost(starts_at=live_boost.starts_at)
        room_pass = enter(client, other_boost)
    elif spoil == "other_person":
        someone = Client()
        someone.force_login(ManagerFactory(organism=organism))
        room_pass = enter(someone, live_boost)
    else:
        later(monkeypatch, PASS_MAX_AGE + 60)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = poll(client, url, room_pass, etag)
    assert response.status_code == 304  # the same answer...
    assert len(ctx.captured_queries) > 0  # ...from the full stack


def test_a_pass_past_its_freshness_takes_the_full_path_once_and_is_renewed(
    live_boost, participant, monkeypatch, django_assert_num_queries
):
    client, room_pass = participant
    url = reverse("boosts:live_updates", args=[live_boost.pk])
    etag = poll(client, url, room_pass)["ETag"]
    assert "X-Live-Pass" not in poll(client, url, room_pass, etag)  # fresh: nothing to renew
    later(monkeypatch, PASS_FRESH_SECONDS + 5)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = poll(client, url, room_pass, etag)
    assert response.status_code == 304 and len(ctx.captured_queries) > 0  # access checked again
    renewed = response["X-Live-Pass"]
    assert renewed != room_pass
    with django_assert_num_queries(0):
        again = poll(client, url, renewed, etag)
    assert again.status_code == 304 and again["X-Live-Fast"] == "1"
    assert "X-Live-Pass" not in again


def test_a_pass_past_its_maximum_age_is_not_renewed(live_boost, participant, monkeypatch):
    client, room_pass = participant
    url = reverse("boosts:live_updates", args=[live_boost.pk])
    etag = poll(client, url, room_pass)["ETag"]
    later(monkeypatch, PASS_MAX_AGE + 60)
    response = poll(client, url, room_pass, etag)
    assert response.status_code == 304  # still answered by the full stack...
    assert "X-Live-Pass" not in response  # ...but the page must be reloaded for a new pass


@pytest.mark.parametrize("change", ["deactivated", "password_changed", "other_session"])
def test_a_stale_pass_is_not_renewed_once_access_is_lost(
    change, live_boost, manager, participant, monkeypatch
):
    client, room_pass = participant
    url = reverse("boosts:live_updates", args=[live_boost.pk])
    etag = poll(client, url, room_pass)["ETag"]
    if change == "deactivated":
        manager.is_active = False
        manager.save(update_fields=["is_active"])
    elif change == "password_changed":  # elsewhere: this session's hash no longer matches
        manager.set_password("un-nouveau-mot-de-passe-2026")
        manager.save(update_fields=["password"])
    else:  # the pass replayed from another session of the same person
        client.logout()
        client.force_login(manager)
    later(monkeypatch, PASS_FRESH_SECONDS + 5)
    response = poll(client, url, room_pass, etag)
    assert "X-Live-Pass" not in response
    if change != "other_session":
        assert response.status_code == 302 and "/comptes/" in response["Location"]


def test_an_outsider_with_a_stolen_stale_pass_gets_404_and_no_pass(
    live_boost, participant, monkeypatch
):
    _client, room_pass = participant
    url = reverse("boosts:live_updates", args=[live_boost.pk])
    other = OrganisationFactory(name="Autre", slug="autre-org")
    outsider = Client()
    outsider.force_login(ManagerFactory(organism__branch__organisation=other, organisation=other))
    for moment in (0, PASS_FRESH_SECONDS + 5):
        later(monkeypatch, moment)
        response = poll(outsider, url, room_pass)
        assert response.status_code == 404
        assert "X-Live-Pass" not in response


def test_a_logged_out_session_is_not_answered_by_the_fast_path(live_boost, participant):
    client, room_pass = participant
    url = reverse("boosts:live_questions", args=[live_boost.pk])
    etag = poll(client, url, room_pass)["ETag"]
    cookie = client.cookies["sessionid"].value
    client.logout()
    client.cookies["sessionid"] = cookie  # an old cookie replayed with the pass
    response = poll(client, url, room_pass, etag)
    assert response.status_code == 302 and "/comptes/" in response["Location"]


def test_hosts_get_no_pass(live_boost, host):
    c = Client()
    c.force_login(host)
    page = c.get(reverse("boosts:live", args=[live_boost.pk])).content.decode()
    assert "X-Live-Pass" not in page


def test_a_busy_room_is_served_the_last_render_for_at_most_a_second(
    live_boost, organism, participant, monkeypatch
):
    client, room_pass = participant
    url = reverse("boosts:live_questions", args=[live_boost.pk])
    author = ManagerFactory(organism=organism)
    committed(services.question_ask, boost=live_boost, user=author, body="Première")
    first = poll(client, url, room_pass)  # renders and remembers the latest fragment
    committed(services.question_ask, boost=live_boost, user=author, body="Seconde")
    # Not rendered yet: the fragment of a moment ago, under its own ETag (so the next poll
    # asks again), without the full stack.
    served = poll(client, url, room_pass)
    assert served["X-Live-Fast"] == "1"
    assert served["ETag"] == first["ETag"] and "Seconde" not in served.content.decode()
    assert poll(client, url, room_pass, first["ETag"]).status_code == 304
    # A second later the full stack renders the new version.
    from django.utils import timezone

    real_now = timezone.now
    monkeypatch.setattr(
        timezone, "now", lambda: real_now() + timedelta(seconds=services.LIVE_STALE_SECONDS + 0.5)
    )
    fresh = poll(client, url, room_pass, first["ETag"])
    assert fresh.status_code == 200 and "X-Live-Fast" not in fresh
    assert "Seconde" in fresh.content.decode()


def test_live_poll_results_are_shared_and_my_answer_stays_mine(
    live_boost, manager, organism, participant, django_assert_num_queries
):
    client, room_pass = participant
    url = reverse("boosts:live_poll", args=[live_boost.pk])
    question = services.poll_create(boost=live_boost, kind="single", prompt="?", options=["A", "B"])
    committed(services.poll_launch, poll=question)
    committed(services.poll_results_show, poll=question, shown=True)
    option_a, option_b = question.options.order_by("position")
    committed(services.poll_answer, poll=question, user=manager, option_ids=[option_b.pk])
    first = poll(client, url, room_pass)  # full path: caches my part and the results
    assert "Réponse enregistrée." in first.content.decode()
    assert "csrfmiddlewaretoken" not in first.content.decode()  # htmx sends the token
    others = [ManagerFactory(organism=organism) for _ in range(3)]
    for person in others:
        committed(services.poll_answer, poll=question, user=person, option_ids=[option_a.pk])
    viewer = Client()
    viewer.force_login(others[0])
    poll(viewer, url, enter(viewer, live_boost))  # renders the new results once
    with django_assert_num_queries(0):
        fresh = poll(client, url, room_pass, first["ETag"])
    html = fresh.content.decode()
    assert fresh.status_code == 200 and fresh["X-Live-Fast"] == "1"
    assert "Résultats (4 réponses)" in html
    assert f'value="{option_b.pk}" checked' in html and f'value="{option_a.pk}" checked' not in html
    full = client.get(url, HTTP_HX_REQUEST="true")
    assert full["ETag"] == fresh["ETag"] and full.content == fresh.content


def test_the_single_poll_brings_both_regions_out_of_band(
    live_boost, organism, participant, django_assert_num_queries
):
    client, room_pass = participant
    url = reverse("boosts:live_updates", args=[live_boost.pk])
    committed(
        services.poll_launch,
        poll=services.poll_create(boost=live_boost, kind="single", prompt="?", options=["A", "B"]),
    )
    first = poll(client, url, room_pass)  # the full path renders and fills the cache
    html = first.content.decode()
    assert first.status_code == 200
    assert '<section id="live-questions" hx-swap-oob="true"' in html
    assert '<section id="live-poll" hx-swap-oob="true"' in html
    with django_assert_num_queries(0):
        assert poll(client, url, room_pass, first["ETag"]).status_code == 304
    author = ManagerFactory(organism=organism)
    committed(services.question_ask, boost=live_boost, user=author, body="Nouvelle question")
    other = Client()
    other.force_login(author)
    poll(other, url, enter(other, live_boost))  # renders the new version once for everyone
    with django_assert_num_queries(0):
        fresh = poll(client, url, room_pass, first["ETag"])
    assert fresh.status_code == 200 and fresh["X-Live-Fast"] == "1"
    assert "Nouvelle question" in fresh.content.decode()
    full = client.get(url, HTTP_HX_REQUEST="true")
    assert full["ETag"] == fresh["ETag"] and full.content == fresh.content


def test_the_host_always_gets_fresh_regions(live_boost, host, manager):
    c = Client()
    c.force_login(host)
    url = reverse("boosts:live_updates", args=[live_boost.pk])
    committed(services.question_ask, boost=live_boost, user=manager, body="Pour l’animateur")
    response = c.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "ETag" not in response
    assert "Pour l’animateur" in response.content.decode()
    assert "Marquer répondu" in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["vote", "answer"])
def test_after_my_vote_or_answer_my_next_poll_takes_the_fast_path(
    action, live_boost, manager, organism, participant, django_assert_num_queries
):
    """The post's response renders the new versions for me (and the room): the next poll
    needs no database (real commits here, as in production, so the versions move at once)."""
    client, room_pass = participant
    question = services.question_ask(
        boost=live_boost, user=ManagerFactory(organism=organism), body="Comment faire ?"
    )
    survey = services.poll_create(boost=live_boost, kind="single", prompt="?", options=["A", "B"])
    services.poll_launch(poll=survey)
    url = reverse("boosts:live_updates", args=[live_boost.pk])
    etag = poll(client, url, room_pass)["ETag"]
    if action == "vote":
        posted = client.post(reverse("boosts:vote", args=[question.pk]), HTTP_HX_REQUEST="true")
        assert f'aria-pressed="true" data-q="{question.pk}">' in posted.content.decode()
    else:
        option = survey.options.first()
        posted = client.post(
            reverse("boosts:poll_answer", args=[survey.pk]),
            {"option": str(option.pk)},
            HTTP_HX_REQUEST="true",
        )
        assert "Réponse enregistrée." in posted.content.decode()
    assert posted.status_code == 200
    with django_assert_num_queries(0):
        after = poll(client, url, room_pass, etag)
    assert after.status_code == 200 and after["X-Live-Fast"] == "1"
    html = after.content.decode()
    if action == "vote":
        assert f'aria-pressed="true" data-q="{question.pk}">' in html
    else:
        assert "Réponse enregistrée." in html
    # The same answer as the full stack.
    full = client.get(url, HTTP_HX_REQUEST="true")
    assert full["ETag"] == after["ETag"] and full.content == after.content
