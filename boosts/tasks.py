"""Celery tasks of the boosts: thin (ids in, a service call), idempotent, retried here."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from boosts import notifications, services
from boosts.models import Boost, BoostStatus, Registration
from campus.notify import NotificationError

logger = logging.getLogger(__name__)


@shared_task(
    name="boosts.tasks.registrations_notify",
    bind=True,
    acks_late=True,
    max_retries=5,
    default_retry_delay=120,
)
def registrations_notify(
    self: Any, registration_ids: list[int], kind: str, sequence: int | None = None
) -> int:
    """Send one kind of message to these registrations. A change message whose SEQUENCE is
    older than the boost's is skipped: a newer one is on its way."""
    sent = 0
    failed: list[int] = []
    for registration in Registration.objects.filter(pk__in=registration_ids).select_related(
        "boost", "boost__host", "user"
    ):
        if kind == "changed" and sequence is not None and registration.boost.sequence != sequence:
            continue
        try:
            notifications.registration_send(registration, kind)
            sent += 1
        except NotificationError as exc:
            logger.warning(
                "boost message %s to registration %s failed: %s", kind, registration.pk, exc
            )
            failed.append(registration.pk)
    if failed:
        raise self.retry(kwargs={"registration_ids": failed, "kind": kind, "sequence": sequence})
    return sent


@shared_task(name="boosts.tasks.reminders_send", acks_late=True)
def reminders_send(now: str | None = None) -> dict[str, int]:
    """Every 5 minutes from beat: claims due reminders (recorded on the registration, so
    never twice) and sends them. ``now`` (ISO 8601) exists for tests."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    due = services.reminders_due(now=moment)
    for kind, ids in due.items():
        for start in range(0, len(ids), 200):
            registrations_notify.delay(registration_ids=ids[start : start + 200], kind=kind)
    return {kind: len(ids) for kind, ids in due.items()}


@shared_task(name="boosts.tasks.followups_send", acks_late=True)
def followups_send() -> int:
    """Hourly: follow-up exercises of the boosts that ended (each boost once)."""
    now = timezone.now()
    count = 0
    candidates = Boost.objects.filter(
        status=BoostStatus.SCHEDULED,
        followup_sent_at__isnull=True,
        followup_practice__isnull=False,
        starts_at__lte=now,
        starts_at__gte=now - timedelta(days=7),
    ).select_related("followup_practice")
    for boost in candidates:
        if boost.is_past(now):
            count += len(services.followup_exercises_create(boost=boost))
    return count
