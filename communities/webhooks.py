"""Announce new threads on a group's Teams or Slack incoming webhook."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.core.cache import cache
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from campus import notify
from communities.models import Post, Thread

logger = logging.getLogger(__name__)

ANNOUNCED_TTL = 7 * 86400


def is_slack(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() == "hooks.slack.com"


def thread_announce(*, thread_id: int) -> bool:
    """Post the thread's title and the start of its first message; at most once per thread.
    Closed groups announce the title only (their webhook is the members' own channel, but a
    channel may be wider than the group)."""
    thread = Thread.objects.select_related("group", "author").filter(pk=thread_id).first()
    if thread is None or not thread.group.webhook_url:
        return False
    key = f"communities:announced:{thread_id}"
    if not cache.add(key, 1, timeout=ANNOUNCED_TTL):
        return False
    first = Post.objects.filter(thread=thread).order_by("created_at", "pk").first()
    paragraphs = [
        _("Nouvelle discussion dans le groupe « %(group)s ».") % {"group": thread.group.name}
    ]
    if first is not None and thread.group.is_open and first.is_visible:
        paragraphs.append(Truncator(" ".join(first.body.split())).chars(300))
    url = notify.absolute_url(reverse("communities:thread", args=[thread.pk]))
    kwargs = {
        "title": thread.title,
        "paragraphs": paragraphs,
        "url": url,
        "button": _("Ouvrir la discussion"),
    }
    try:
        if is_slack(thread.group.webhook_url):
            notify.slack_post(thread.group.webhook_url, notify.slack_message(**kwargs))
        else:
            notify.teams_post(thread.group.webhook_url, notify.teams_card(**kwargs))
    except notify.NotificationError:
        cache.delete(key)  # let a retry (or the next run) try again
        logger.warning("communities: webhook of group %s failed", thread.group_id)
        raise
    return True
