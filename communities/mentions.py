"""The ``community.post`` source of the mallette's "most evoked" detection.

Visible posts (not hidden, not deleted, not written by the coach) are read past the
watermark; the detection stores only practice ids and the opaque reference
``community.post:<id>``, never the text. Wording for a candidate proposal is scrubbed of
personal data first (``campus.ai.anonymise``), like the coach's questions.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime

from communities.models import Post
from mallette.mentions import Source, SourceText, after_watermark, source_register
from mallette.models import MentionSource

SOURCE_NAME = "community.post"


def _after(created_at: datetime | None, key: int, before: datetime, limit: int) -> list[SourceText]:
    rows = (
        Post.objects.filter(after_watermark(created_at, key), created_at__lt=before)
        .order_by("created_at", "pk")
        .values_list(
            "pk",
            "body",
            "created_at",
            "hidden",
            "deleted",
            "author_id",
            "thread__group__organisation_id",
            "author__organism_id",
        )[:limit]
    )
    items = []
    for pk, body, created, hidden, deleted, author_id, org_id, organism_id in rows:
        # Hidden, deleted and coach posts are read (the watermark moves on) but never matched.
        readable = not hidden and not deleted and author_id is not None
        items.append(
            SourceText(
                ref=f"{SOURCE_NAME}:{pk}",
                organisation_id=org_id,
                organism_id=organism_id,
                text=body if readable else "",
                created_at=created,
                key=pk,
                author_id=author_id,
            )
        )
    return items


def _texts(refs: Sequence[str]) -> dict[str, str]:
    pks = [int(ref.rsplit(":", 1)[1]) for ref in refs]
    rows = list(
        Post.objects.filter(pk__in=pks, hidden=False, deleted=False).values_list("pk", "body")
    )
    if not rows:
        return {}
    scrubber = importlib.import_module("campus.ai.anonymise")
    scrubbed = scrubber.anonymise_many([body for _pk, body in rows])
    return {f"{SOURCE_NAME}:{pk}": text for (pk, _body), text in zip(rows, scrubbed, strict=True)}


SOURCE = source_register(
    Source(name=SOURCE_NAME, kind=MentionSource.COMMUNITY, after=_after, texts=_texts)
)
