"""A small real library for the coach: practices of the editorial corpus, really indexed.

Embeddings come from the bundled model; a per-process memo avoids recomputing the same
passages for every test (it stores real outputs, it fakes nothing).
"""

from __future__ import annotations

import pytest

from campus import ai
from mallette.corpus import markdown_list, practices_data, themes_load
from mallette.models import Practice, PracticeStatus, Theme
from mallette.services import practices_index

PER_THEME = 3
_memo: dict[tuple[str, str], list[float]] = {}
_real_embed = ai.embed


def memo_embed(texts, *, kind, **kwargs):
    missing = [t for t in texts if (kind, t) not in _memo]
    if missing:
        for text, vector in zip(missing, _real_embed(missing, kind=kind, **kwargs), strict=True):
            _memo[(kind, text)] = vector
    return [_memo[(kind, t)] for t in texts]


def corpus_subset(per_theme: int = PER_THEME) -> dict[str, Practice]:
    """``per_theme`` practices of each of the 16 themes of the editorial corpus, published and
    indexed (replacing whatever practices exist); returns them by slug."""
    Practice.objects.all().delete()
    themes = themes_load(theme_model=Theme)
    seen: dict[str, int] = {}
    practices = {}
    for item in practices_data():
        primary = item["themes"][0]
        if seen.get(primary, 0) >= per_theme:
            continue
        seen[primary] = seen.get(primary, 0) + 1
        practice = Practice.objects.create(
            slug=item["slug"],
            title=item["title"],
            summary=item["summary"],
            situation=item.get("situation", ""),
            body=markdown_list(item["actions"]),
            pitfalls=markdown_list(item.get("pitfalls", [])),
            primary_theme=themes[primary],
            level=item.get("level", "all"),
            status=PracticeStatus.PUBLISHED,
        )
        practice.themes.set([themes[s] for s in item["themes"]])
        practices[item["slug"]] = practice
    practices_index()
    return practices


@pytest.fixture
def coach_library(db, monkeypatch, settings):
    """A 48-practice library of real corpus practices, really indexed (memoised embeddings)."""
    settings.CAMPUS_AI_BACKEND = "local"
    settings.CAMPUS_EMBEDDING_MODEL = ""
    monkeypatch.setattr(ai, "embed", memo_embed)
    return corpus_subset()


from tests.campus.ai.conftest import fake_openai, fake_openai_server  # noqa: E402, F401
from tests.mallette.conftest import empty_library, make_practice  # noqa: E402, F401
