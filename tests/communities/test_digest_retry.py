"""A digest whose email fails is sent again on the next run, and only once when it works."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from campus.notify import NotificationError
from communities import digest, services, tasks
from communities.models import MemberSettings
from tests.communities.conftest import access_of

pytestmark = pytest.mark.django_db


def _failing_once(monkeypatch):
    real = digest.email_send
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise NotificationError("Le serveur de messagerie n’a pas accepté le courriel.")
        return real(**kwargs)

    monkeypatch.setattr(digest, "email_send", flaky)
    return calls


def test_a_failed_digest_is_sent_on_the_next_run_then_not_again(
    monkeypatch, manager, peer, group, thread
):
    calls = _failing_once(monkeypatch)
    with pytest.raises(NotificationError):
        digest.digest_send(user_id=peer.pk)
    assert mail.outbox == []
    prefs = MemberSettings.objects.filter(user=peer).first()
    assert prefs is None or prefs.last_digest_at is None
    assert peer.pk in digest.users_due()

    assert digest.digest_send(user_id=peer.pk) is True
    assert len(mail.outbox) == 1 and thread.title in mail.outbox[0].body
    assert peer.pk not in digest.users_due()

    assert digest.digest_send(user_id=peer.pk) is False  # idempotent: a duplicate run
    assert len(mail.outbox) == 1
    assert calls["n"] == 2


def test_a_failed_digest_keeps_the_previous_period_start(monkeypatch, manager, peer, group):
    """The retried digest still covers everything since the last digest that went out."""
    last = timezone.now() - timedelta(days=8)
    MemberSettings.objects.create(user=peer, digest="weekly", last_digest_at=last)
    services.thread_create(
        access=access_of(manager, group), author=manager, title="Sujet de la semaine", body="?"
    )
    _failing_once(monkeypatch)
    with pytest.raises(NotificationError):
        digest.digest_send(user_id=peer.pk)
    assert MemberSettings.objects.get(user=peer).last_digest_at == last
    assert digest.digest_send(user_id=peer.pk, now=timezone.now() + timedelta(days=1))
    assert "Sujet de la semaine" in mail.outbox[0].body


def test_the_task_retries_when_the_email_fails(monkeypatch, manager, peer, group, thread):
    _failing_once(monkeypatch)
    retried = {}

    def fake_retry(*, exc, countdown):
        retried["countdown"] = countdown
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.digest_send, "retry", fake_retry)
    with pytest.raises(RuntimeError):
        tasks.digest_send.run(user_id=peer.pk)
    assert retried == {"countdown": 300}
    assert tasks.digest_send.run(user_id=peer.pk) is True
    assert len(mail.outbox) == 1
