from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def corpus_sample(empty_library, make_practice):
    make_practice(
        "Déléguer un dossier complexe",
        "Confier un dossier avec des points d’étape.",
        themes=("delegation",),
    )
    make_practice(
        "Garder le lien en télétravail",
        "Un rituel en visio les jours à distance.",
        themes=("remote", "meetings"),
    )
    make_practice(
        "Remercier précisément", "Un merci qui cite le fait et l’effet.", themes=("recognition",)
    )


def test_json_output_lists_results_with_theme_slugs(corpus_sample):
    out = io.StringIO()
    call_command(
        "mallette_search",
        "Comment garder le lien avec mon équipe à distance ?",
        "--json",
        "--limit",
        "2",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert len(data["results"]) == 2
    first = data["results"][0]
    assert set(first) == {"id", "title", "themes", "score"}
    assert first["themes"] == ["remote", "meetings"]
    assert data["results"][0]["score"] >= data["results"][1]["score"]


def test_jsonl_answers_each_line_in_order(corpus_sample, monkeypatch):
    lines = [
        json.dumps({"question": "confier un dossier"}),
        "pas du json",
        json.dumps({"question": "dire merci"}),
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("mallette_search", "--jsonl", "--limit", "1", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 3
    assert rows[0]["results"][0]["themes"][0] == "delegation"
    assert "error" in rows[1]
    assert rows[2]["results"][0]["themes"][0] == "recognition"


def test_a_missing_question_is_a_clear_error(corpus_sample):
    with pytest.raises(CommandError, match="question"):
        call_command("mallette_search")


def test_index_command_indexes_changed_practices_only(empty_library, make_practice):
    practice = make_practice(
        "Organiser un point d’équipe", "Un point court chaque lundi.", themes=("meetings",)
    )
    out = io.StringIO()
    call_command("mallette_index", stdout=out)
    assert "1 pratique(s) indexée(s)" in out.getvalue()
    practice.refresh_from_db()
    assert practice.embedding is not None and practice.search_vector
    out = io.StringIO()
    call_command("mallette_index", stdout=out)
    assert "0 pratique(s) indexée(s)" in out.getvalue()
    practice.summary = "Un point court chaque lundi matin, debout."
    practice.revision += 1
    practice.save()
    call_command("mallette_index", stdout=io.StringIO())
    practice.refresh_from_db()
    assert practice.indexed_revision == practice.revision
