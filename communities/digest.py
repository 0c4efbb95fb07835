"""The digest email: new threads in the member's groups and replies to their posts.

Each member chooses the frequency (weekly by default, daily, never). The beat task runs daily;
a member is due when their period has elapsed since their last digest. The email is sent under
the member's settings row lock and ``last_digest_at`` is written only once the mail server has
accepted it, in the same transaction: a duplicated task waits on the lock and then finds the
member no longer due (never two digests), and a failed email rolls the decision back, so the
digest goes out again on the task's retry or the next daily run (never a lost digest).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.models import User
from campus.notify import email_send
from communities.models import (
    DigestFrequency,
    MemberSettings,
    Membership,
    MembershipStatus,
    Post,
    Thread,
)

PERIODS = {DigestFrequency.DAILY: timedelta(days=1), DigestFrequency.WEEKLY: timedelta(days=7)}
# A little slack so that a beat run a few minutes early still counts the member as due.
SLACK = timedelta(hours=1)
MAX_ITEMS = 10


def users_due(*, now: datetime | None = None) -> list[int]:
    """Active members whose digest period has elapsed (members without settings: weekly)."""
    now = now or timezone.now()
    members = (
        Membership.objects.filter(status=MembershipStatus.ACTIVE, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    never = set(
        MemberSettings.objects.filter(digest=DigestFrequency.NEVER).values_list(
            "user_id", flat=True
        )
    )
    due_filter = Q()
    for freq, period in PERIODS.items():
        due_filter |= Q(digest=freq, last_digest_at__gt=now - period + SLACK)
    recent = set(MemberSettings.objects.filter(due_filter).values_list("user_id", flat=True))
    return sorted(uid for uid in set(members) if uid not in never and uid not in recent)


def digest_content(*, user: User, since: datetime) -> dict:
    groups = Membership.objects.filter(user=user, status=MembershipStatus.ACTIVE).values("group_id")
    threads = list(
        Thread.objects.filter(group_id__in=groups, created_at__gt=since)
        .exclude(author=user)
        .select_related("group")
        .order_by("-created_at")[:MAX_ITEMS]
    )
    replies = list(
        Post.objects.filter(
            thread__group_id__in=groups,
            thread__posts__author=user,
            created_at__gt=since,
            hidden=False,
            deleted=False,
        )
        .exclude(author=user)
        .select_related("thread__group", "author")
        .distinct()
        .order_by("-created_at")[:MAX_ITEMS]
    )
    return {"threads": threads, "replies": replies}


def digest_send(*, user_id: int, now: datetime | None = None) -> bool:
    """Send the member's digest if due and not empty; returns whether an email went out."""
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            return False
        prefs, _created = MemberSettings.objects.select_for_update().get_or_create(user=user)
        period = PERIODS.get(prefs.digest)
        if period is None:
            return False
        if prefs.last_digest_at and prefs.last_digest_at > now - period + SLACK:
            return False
        since = prefs.last_digest_at or now - period
        content = digest_content(user=user, since=since)
        if not content["threads"] and not content["replies"]:
            prefs.last_digest_at = now
            prefs.save(update_fields=["last_digest_at"])
            return False
        site = settings.CAMPUS_SITE_URL
        context = {
            "user": user,
            "site": site,
            "threads": [
                {
                    "title": t.title,
                    "group": t.group.name,
                    "url": site + reverse("communities:thread", args=[t.pk]),
                }
                for t in content["threads"]
            ],
            "replies": [
                {
                    "title": p.thread.title,
                    "author": str(p.author) if p.author else _("Le coach Liza"),
                    "url": site + reverse("communities:thread", args=[p.thread_id]),
                }
                for p in content["replies"]
            ],
            "settings_url": site + reverse("communities:settings"),
        }
        # Sent inside the transaction on purpose (not on_commit): a NotificationError raised
        # here leaves last_digest_at untouched, so the same digest is due again.
        email_send(
            to=user.email,
            subject=_("Vos communautés : les nouveautés"),
            template="communities/email/digest",
            context=context,
        )
        prefs.last_digest_at = now
        prefs.save(update_fields=["last_digest_at"])
    return True
