"""The ``feedback180.verbatim`` source of the mallette's "most evoked" detection: released
comments only (scrubbed, reformulated, from campaigns that reached k)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mallette.mentions import Source, SourceText, after_watermark, source_register
from mallette.models import MentionSource

NAME = "feedback180.verbatim"


def _after(created_at: datetime | None, key: int, before: datetime, limit: int) -> list[SourceText]:
    from feedback180.models import Verbatim

    rows = (
        Verbatim.objects.filter(after_watermark(created_at, key), created_at__lt=before)
        .order_by("created_at", "pk")
        .values_list(
            "pk", "text", "created_at", "campaign__organisation_id", "campaign__organism_id"
        )[:limit]
    )
    return [
        SourceText(
            ref=f"{NAME}:{pk}",
            organisation_id=org_id,
            organism_id=organism_id,
            text=text or "",
            created_at=created,
            key=pk,
            author_id=None,  # anonymous by design: each verbatim counts as its own author
        )
        for pk, text, created, org_id, organism_id in rows
    ]


def _texts(refs: Sequence[str]) -> dict[str, str]:
    from feedback180.models import Verbatim

    pks = [int(ref.rsplit(":", 1)[1]) for ref in refs]
    return {
        f"{NAME}:{pk}": text
        for pk, text in Verbatim.objects.filter(pk__in=pks).values_list("pk", "text")
    }


SOURCE = source_register(Source(name=NAME, kind=MentionSource.FEEDBACK, after=_after, texts=_texts))
