"""Load the editorial corpus (``mallette/corpus/*.json``) into the database.

Idempotent: themes and editorial practices are matched by slug, so running it again after the
corpus files change updates the texts (and bumps ``revision`` so the index job re-embeds them)
without touching practices of organisations. Used by a data migration (with historical
models) and by ``manage.py mallette_load_corpus``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.utils import timezone

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
PRACTICE_KEYS = (
    "slug",
    "title",
    "summary",
    "situation",
    "actions",
    "pitfalls",
    "themes",
    "level",
    "tags",
)


def themes_data() -> dict[str, dict[str, str]]:
    return json.loads((CORPUS_DIR / "themes.json").read_text(encoding="utf-8"))


def practices_data() -> list[dict[str, Any]]:
    """Every practice of every theme file, in theme order then file order."""
    items: list[dict[str, Any]] = []
    for slug in themes_data():
        path = CORPUS_DIR / f"{slug}.json"
        if path.exists():
            items.extend(json.loads(path.read_text(encoding="utf-8")))
    return items


def markdown_list(lines: list[str]) -> str:
    return "\n".join(f"- {line.strip()}" for line in lines if line.strip())


def themes_load(*, theme_model: Any) -> dict[str, Any]:
    """Create missing themes (labels an HR admin changed are kept); returns them by slug."""
    themes = {}
    for position, (slug, data) in enumerate(themes_data().items(), start=1):
        theme, _created = theme_model.objects.get_or_create(
            slug=slug,
            defaults={
                "label": data["label"],
                "description": data["description"],
                "position": position,
            },
        )
        themes[slug] = theme
    return themes


def corpus_load(*, theme_model: Any, practice_model: Any) -> dict[str, int]:
    """Upsert the themes and the editorial practices; returns counts."""
    themes = themes_load(theme_model=theme_model)
    existing = {p.slug: p for p in practice_model.objects.filter(organisation__isnull=True)}
    now = timezone.now()
    created = updated = 0
    for item in practices_data():
        fields = {
            "title": item["title"].strip(),
            "summary": item["summary"].strip(),
            "situation": item.get("situation", "").strip(),
            "body": markdown_list(item["actions"]),
            "pitfalls": markdown_list(item.get("pitfalls", [])),
            "tags": [t.strip().lower() for t in item.get("tags", []) if t.strip()][:8],
            "level": item.get("level", "all"),
            "primary_theme": themes[item["themes"][0]],
        }
        practice = existing.get(item["slug"])
        if practice is None:
            practice = practice_model.objects.create(
                slug=item["slug"],
                organisation=None,
                source="editor",
                status="published",
                published_at=now,
                **fields,
            )
            created += 1
        else:
            changed = [k for k, v in fields.items() if getattr(practice, k) != v]
            if not changed:
                continue
            for key in changed:
                setattr(practice, key, fields[key])
            practice.revision += 1
            practice.save()
            updated += 1
        practice.themes.set([themes[slug] for slug in dict.fromkeys(item["themes"])])
    return {"themes": len(themes), "created": created, "updated": updated}
