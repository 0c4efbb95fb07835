"""The editorial corpus: at least 20 well-formed practices per theme, no duplicates."""

from __future__ import annotations

import re

import pytest

from mallette.corpus import practices_data, themes_data
from mallette.models import Practice, Theme

THEMES = themes_data()
PRACTICES = practices_data()
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def test_the_16_themes_keep_their_slugs():
    assert len(THEMES) == 16
    assert {"delegation", "feedback", "remote", "wellbeing", "digital"} <= set(THEMES)


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_each_theme_has_at_least_20_practices(theme):
    assert sum(1 for p in PRACTICES if p["themes"][0] == theme) >= 20


def test_at_least_400_practices_with_unique_slugs_and_titles():
    assert len(PRACTICES) >= 400
    slugs = [p["slug"] for p in PRACTICES]
    titles = [p["title"].strip().lower() for p in PRACTICES]
    assert len(set(slugs)) == len(slugs)
    assert len(set(titles)) == len(titles)


@pytest.mark.parametrize("item", PRACTICES, ids=lambda p: p["slug"])
def test_practice_is_well_formed(item):
    assert SLUG.match(item["slug"]) and len(item["slug"]) <= 80
    assert 10 <= len(item["title"]) <= 90
    assert 30 <= len(item["summary"]) <= 300
    assert item["situation"].strip()
    assert 3 <= len(item["actions"]) <= 6 and all(a.strip() for a in item["actions"])
    assert 1 <= len(item["pitfalls"]) <= 3
    assert 1 <= len(item["themes"]) <= 2 and all(t in THEMES for t in item["themes"])
    assert item["level"] in {"all", "proximity", "middle", "strategic", "director"}
    assert 2 <= len(item["tags"]) <= 5


@pytest.mark.django_db
def test_the_data_migration_loaded_the_corpus_as_published_editorial_practices():
    assert Theme.objects.count() == 16
    editorial = Practice.objects.filter(organisation__isnull=True, status="published")
    assert editorial.count() == len(PRACTICES)
    sample = editorial.get(slug=PRACTICES[0]["slug"])
    assert sample.body.startswith("- ")
    assert sample.primary_theme.slug == PRACTICES[0]["themes"][0]


@pytest.mark.django_db
def test_loading_the_corpus_again_changes_nothing():
    from mallette.corpus import corpus_load

    assert corpus_load(theme_model=Theme, practice_model=Practice) == {
        "themes": 16,
        "created": 0,
        "updated": 0,
    }


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 3}


def test_no_two_practices_are_near_duplicates_in_wording():
    """Lexical check (fast); `make eval` also reports the closest pairs by meaning."""
    bags = [(p["slug"], _words(p["title"] + " " + p["summary"])) for p in PRACTICES]
    worst = 0.0
    pair = None
    for i, (slug_a, a) in enumerate(bags):
        for slug_b, b in bags[i + 1 :]:
            score = len(a & b) / len(a | b)
            if score > worst:
                worst, pair = score, (slug_a, slug_b)
    assert worst < 0.5, pair
