"""Writes of the activity log: record a use, purge what is past retention."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone

from campus.analytics.models import RETENTION_MONTHS, Activity, Device, Feature
from campus.models import User

#: Substrings of a user agent that mean a phone or tablet. Coarse on purpose: the user agent
#: itself is never stored.
MOBILE_MARKERS = ("mobi", "android", "iphone", "ipad", "ipod", "windows phone")


def device_of(request: HttpRequest | None) -> str:
    if request is None:
        return Device.DESKTOP
    agent = request.headers.get("user-agent", "").lower()
    return Device.MOBILE if any(m in agent for m in MOBILE_MARKERS) else Device.DESKTOP


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_back(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months before ``month``."""
    index = month.year * 12 + (month.month - 1) - count
    return dt.date(index // 12, index % 12 + 1, 1)


def activity_record(
    *, user: User | object, feature: str, action: str, request: HttpRequest | None = None
) -> None:
    """Note that ``user`` used ``feature`` (one INSERT, no read). Idempotent per person,
    feature, action and day: a repeat is a no-op thanks to the unique constraint. Anonymous
    visitors and collaborators answering a 180° (no account) are never recorded."""
    if not getattr(user, "is_authenticated", False) or feature not in Feature.values:
        return
    today = timezone.localdate()
    Activity.objects.bulk_create(
        [
            Activity(
                user_id=user.pk,
                organisation_id=user.organisation_id,
                organism_id=user.organism_id,
                level=user.level or "",
                feature=feature,
                action=action[:40],
                day=today,
                month=month_start(today),
                device=device_of(request),
            )
        ],
        ignore_conflicts=True,
    )


def activity_purge(*, today: dt.date | None = None) -> int:
    """Delete the activity older than ``RETENTION_MONTHS`` months (the current month counts
    as one). Returns the number of rows deleted."""
    today = today or timezone.localdate()
    oldest_kept = months_back(month_start(today), RETENTION_MONTHS - 1)
    deleted, _ = Activity.objects.filter(month__lt=oldest_kept).delete()
    return deleted
