"""Posts as HTML: the mallette's limited, sanitised Markdown, plus practice mentions.

A mention is the token ``#pratique-<id>`` (inserted by the ``#`` picker). It becomes a link
titled with the practice's title only for a reader who may see that practice; for anyone
else it stays a neutral label, so a title scoped to one organism never leaks to another.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from campus.models import User
from communities.selectors import MENTION, mentioned_ids
from mallette.markdown import render_markdown
from mallette.models import Practice
from mallette.selectors import practices_visible_to


def practice_titles(user: User, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """{id: (title, url)} of the mentioned practices the user may see (one query)."""
    ids = list(set(ids))
    if not ids:
        return {}
    rows = practices_visible_to(user).filter(pk__in=ids).values_list("pk", "title", "slug")
    return {pk: (title, reverse("mallette:practice", args=[pk, slug])) for pk, title, slug in rows}


def post_html(body: str, titles: dict[int, tuple[str, str]]) -> SafeString:
    html = render_markdown(body)

    def link(match) -> str:  # type: ignore[no-untyped-def]
        found = titles.get(int(match.group(1)))
        if found is None:
            return escape(_("[pratique de la mallette]"))
        title, url = found
        return format_html('<a class="practice-mention" href="{}">#{}</a>', url, title)

    # Safe: render_markdown disables raw HTML and sanitises with an allow-list; the only
    # markup added here is built by format_html, which escapes the title and the URL.
    return mark_safe(MENTION.sub(link, html))  # noqa: S308


def mentions_in(body: str, *, author: User) -> list[Practice]:
    """The practices a post mentions that its author may see (others are not recorded)."""
    ids = mentioned_ids(body)
    if not ids:
        return []
    return list(practices_visible_to(author).filter(pk__in=ids[:20]))
