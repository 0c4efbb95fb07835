"""Coach animation in the communities: the weekly discussion and thread summaries.

The texts come from the coach's animation service (``coach.animation``); this module only
posts them in groups that opted in (``Group.animated``) and stores summaries on the thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from campus import search
from communities.models import Group, Post, Thread
from communities.services import POST_WEIGHTS, THREAD_WEIGHTS, thread_notify_members

#: The "summarise" action appears from this many visible posts on.
SUMMARY_MIN_POSTS = 8


def iso_week(now: datetime) -> str:
    year, week, _day = timezone.localtime(now).isocalendar()
    return f"{year}-W{week:02d}"


def group_discussion_open(*, group: Group, now: datetime | None = None) -> Thread | None:
    """Open this week's coach discussion in ``group``; None when it is already open."""
    from coach.animation import discussion_opening

    now = now or timezone.now()
    week = iso_week(now)
    if Thread.objects.filter(group=group, coach_week=week).exists():
        return None
    opening = discussion_opening(organisation=group.organisation, theme_slug=None)
    body = opening["body"]
    if opening["practice_ids"]:
        body += "\n\n" + " ".join(f"#pratique-{pk}" for pk in opening["practice_ids"])
    try:
        with transaction.atomic():
            thread = Thread.objects.create(
                group=group,
                author=None,
                title=opening["title"][:160],
                by_coach=True,
                coach_week=week,
                last_activity_at=now,
            )
            search.search_vector_update(Thread.objects.filter(pk=thread.pk), weights=THREAD_WEIGHTS)
            post = Post.objects.create(thread=thread, author=None, body=body)
            post.mentioned_practices.set(opening["practice_ids"])
            search.search_vector_update(Post.objects.filter(pk=post.pk), weights=POST_WEIGHTS)
            thread_notify_members(thread=thread, post=post)
    except IntegrityError:  # opened concurrently by another run
        return None
    return thread


def discussions_open_weekly(*, now: datetime | None = None) -> int:
    """Every animated group gets its weekly discussion (idempotent within the week)."""
    opened = 0
    for group in Group.objects.filter(animated=True).select_related("organisation"):
        if group_discussion_open(group=group, now=now) is not None:
            opened += 1
    return opened


def thread_summarise(*, thread: Thread) -> dict[str, Any]:
    """Summarise the visible posts of ``thread`` with the coach and store the result."""
    from coach.animation import thread_summary

    bodies = list(
        Post.objects.filter(thread=thread, hidden=False, deleted=False)
        .order_by("created_at", "pk")
        .values_list("body", flat=True)
    )
    result = thread_summary(organisation=thread.group.organisation, messages=bodies)
    summary = {
        "summary": str(result.get("summary", "")),
        "quotes": [str(q) for q in result.get("quotes", [])][:3],
        "backend": str(result.get("backend", "")),
        "posts": len(bodies),
    }
    Thread.objects.filter(pk=thread.pk).update(summary=summary, summary_at=timezone.now())
    return summary
