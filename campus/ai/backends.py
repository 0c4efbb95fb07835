"""Gateway backends. This is the only module in the project that imports the ``openai`` SDK.

``LocalBackend`` (``CAMPUS_AI_BACKEND=local``, the default) works offline. It embeds with the
bundled e5 model and has no generative model: its ``chat`` raises
``LocalGenerationUnavailable``. Feature apps check ``campus.ai.can_generate()`` first and use
their own extractive or templated text, or pass ``fallback=`` to ``campus.ai.chat``.

``OpenAIBackend`` (``CAMPUS_AI_BACKEND=openai``) talks to any OpenAI-compatible endpoint
(``CAMPUS_LLM_BASE_URL``, ``CAMPUS_LLM_API_KEY``, ``CAMPUS_LLM_MODEL``). The SDK client has
``timeout=CAMPUS_LLM_TIMEOUT`` per attempt and ``max_retries=CAMPUS_LLM_MAX_RETRIES`` (it
retries 408/409/429/5xx and connection errors itself, honouring Retry-After); longer retries
belong to Celery. Clients are cached per settings tuple, so settings are read at call time.

Structured output: ``response_format`` is a non-strict ``json_schema`` (accepted by OpenAI,
Mistral, vLLM, Ollama, Albert); providers that ignore it are covered by the local validation
with ``jsonschema`` and one re-ask. Embeddings go to the API only when
``CAMPUS_EMBEDDING_MODEL`` is set; that model must return 384 dimensions (the vector columns
are ``vector(384)``) or the first call raises ``ImproperlyConfigured``. Models whose name
contains ``e5`` get the e5 ``query: `` / ``passage: `` prefixes; others get the raw text.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

import openai
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from jsonschema import exceptions as jsonschema_exceptions
from jsonschema import validators as jsonschema_validators

from campus.ai import (
    AIInvalidOutput,
    AIUnavailable,
    ChatResult,
    ChatStream,
    LocalGenerationUnavailable,
    Usage,
)
from campus.ai.embeddings import EMBEDDING_DIMENSIONS, check_kind, check_texts, embed_local

logger = logging.getLogger(__name__)

OnUsage = Callable[[str, int, int], Usage]

# After a failure, further calls fail at once for this long instead of each waiting for the
# timeout: users get the degraded mode immediately. Shared by all processes through the cache.
OUTAGE_SECONDS = 30
_OUTAGE_KEY = "campus:ai:outage"
# A 4xx about this request only (too long, unsupported parameter): the endpoint itself is up.
_REQUEST_ONLY_STATUSES = {400, 413, 422}
# Inputs per embeddings request; providers cap it (Mistral and Albert lower than OpenAI).
API_EMBEDDING_BATCH = 64

# Prompt design: the re-ask quotes the validation error only, never the schema again, and asks
# for the bare object: models that wrap JSON in prose or fences usually comply on a re-ask.
REASK_PROMPT = (
    "Ta réponse précédente n’est pas exploitable ({error}). Réponds uniquement par l’objet "
    "JSON corrigé, conforme au schéma demandé, sans aucun texte autour."
)


# --- Outage memory -----------------------------------------------------------------------------


def mark_outage(reason: str) -> None:
    try:
        cache.set(_OUTAGE_KEY, reason, OUTAGE_SECONDS)
    except Exception:  # the cache being down must not hide the AI outage behind a 500
        logger.warning("could not remember the AI outage in the cache", exc_info=True)


def outage_active() -> bool:
    try:
        return cache.get(_OUTAGE_KEY) is not None
    except Exception:
        logger.warning("could not read the AI outage flag from the cache", exc_info=True)
        return False


def unavailable_from(exc: Exception) -> AIUnavailable:
    """Map an SDK or transport error to ``AIUnavailable`` and remember the outage."""
    status: int | None = None
    if isinstance(exc, openai.APITimeoutError):
        reason = "timeout"
    elif isinstance(exc, openai.APIConnectionError):
        reason = "connection"
    elif isinstance(exc, openai.RateLimitError):
        reason, status = "rate_limited", 429
    elif isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        reason = "server_error" if status >= 500 else "rejected"
    else:
        reason = "interrupted"
    if status is not None and 400 <= status < 500 and status != 429:
        # Usually configuration (key, model name, unsupported parameter): say so loudly.
        logger.error("AI endpoint rejected the request: HTTP %s (%s)", status, type(exc).__name__)
    else:
        logger.warning("AI endpoint unavailable: %s (%s)", reason, type(exc).__name__)
    if status not in _REQUEST_ONLY_STATUSES:
        mark_outage(reason)
    return AIUnavailable(reason=reason, status=status, detail=f"{type(exc).__name__}: {exc}")


# --- JSON output --------------------------------------------------------------------------------


def check_schema(schema: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.SchemaError`` on a malformed schema (a programming error)."""
    jsonschema_validators.validator_for(schema).check_schema(schema)


def validate_output(data: Any, schema: Mapping[str, Any]) -> None:
    validator = jsonschema_validators.validator_for(schema)(schema)
    error = jsonschema_exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        path = "/".join(str(part) for part in error.absolute_path) or "racine"
        raise AIInvalidOutput(detail=f"non conforme au schéma en {path} : {error.message[:300]}")


_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)


def parse_json_output(text: str, schema: Mapping[str, Any]) -> Any:
    """The JSON object in the model's answer, validated against ``schema``."""
    candidate = text.strip()
    fenced = _FENCE.match(candidate)
    if fenced:
        candidate = fenced.group(1).strip()
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise AIInvalidOutput(detail=f"JSON invalide : {exc.msg}, position {exc.pos}") from None
    validate_output(data, schema)
    return data


def json_dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _schema_name(schema: Mapping[str, Any]) -> str:
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title") or "campus_output"))
    return name[:64]


def _estimate_tokens(text: str) -> int:
    # About four characters per token for French with BPE tokenisers: used only when the
    # endpoint reports no usage, so that the cap cannot be bypassed.
    return max(1, len(text) // 4)


def _messages_text(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(str(message.get("content") or "") for message in messages)


# --- Backends -----------------------------------------------------------------------------------


class LocalBackend:
    name = "local"

    def chat(self, messages: Sequence[Mapping[str, Any]], **kwargs: Any) -> ChatResult:
        raise LocalGenerationUnavailable()

    def chat_stream(self, messages: Sequence[Mapping[str, Any]], **kwargs: Any) -> ChatStream:
        raise LocalGenerationUnavailable()

    def embed(
        self, texts: Sequence[str], *, kind: str, on_usage: OnUsage | None = None
    ) -> list[list[float]]:
        return embed_local(texts, kind)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=8)
def _client(base_url: str | None, api_key: str, timeout: float, max_retries: int) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries
    )


class OpenAIBackend:
    name = "openai"

    def __init__(self, *, client: openai.OpenAI, model: str, embedding_model: str) -> None:
        self.client = client
        self.model = model
        self.embedding_model = embedding_model

    @classmethod
    def from_settings(cls) -> OpenAIBackend:
        if not settings.CAMPUS_LLM_MODEL:
            raise ImproperlyConfigured(
                "CAMPUS_LLM_MODEL must name the chat model when CAMPUS_AI_BACKEND is 'openai'."
            )
        client = _client(
            settings.CAMPUS_LLM_BASE_URL or None,
            # Self-hosted servers (vLLM, Ollama) need no key, but the SDK insists on one.
            settings.CAMPUS_LLM_API_KEY or "no-key",
            float(settings.CAMPUS_LLM_TIMEOUT),
            int(settings.CAMPUS_LLM_MAX_RETRIES),
        )
        return cls(
            client=client,
            model=settings.CAMPUS_LLM_MODEL,
            embedding_model=settings.CAMPUS_EMBEDDING_MODEL or "",
        )

    # -- chat --

    def _create(self, **params: Any) -> Any:
        try:
            return self.client.chat.completions.create(model=self.model, **params)
        except openai.APIError as exc:
            raise unavailable_from(exc) from exc

    @staticmethod
    def _params(temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if temperature is not None:
            params["temperature"] = temperature
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        return params

    def _answer(
        self, response: Any, messages: Sequence[Mapping[str, Any]], on_usage: OnUsage
    ) -> tuple[str, Usage]:
        text = ""
        if response.choices:
            text = response.choices[0].message.content or ""
        if response.usage is not None:
            prompt, completion = response.usage.prompt_tokens, response.usage.completion_tokens
        else:
            prompt, completion = _estimate_tokens(_messages_text(messages)), _estimate_tokens(text)
        return text, on_usage(response.model or self.model, prompt, completion)

    def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        schema: Mapping[str, Any] | None,
        temperature: float | None,
        max_tokens: int | None,
        on_usage: OnUsage,
    ) -> ChatResult:
        params = self._params(temperature, max_tokens)
        history = [dict(message) for message in messages]
        if schema is None:
            response = self._create(messages=history, **params)
            text, usage = self._answer(response, history, on_usage)
            return ChatResult(text=text, usage=usage)

        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": _schema_name(schema), "schema": dict(schema), "strict": False},
        }
        total: Usage | None = None
        for attempt in (1, 2):
            response = self._create(messages=history, **params)
            text, usage = self._answer(response, history, on_usage)
            total = usage if total is None else total + usage
            try:
                parsed = parse_json_output(text, schema)
            except AIInvalidOutput as exc:
                logger.warning("AI answer rejected (attempt %d): %s", attempt, exc.detail)
                if attempt == 2:
                    raise
                history += [
                    {"role": "assistant", "content": text},
                    {"role": "user", "content": REASK_PROMPT.format(error=exc.detail)},
                ]
                continue
            return ChatResult(text=text, parsed=parsed, usage=total)
        raise AssertionError("unreachable")

    def chat_stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        temperature: float | None,
        max_tokens: int | None,
        on_usage: OnUsage,
    ) -> ChatStream:
        history = [dict(message) for message in messages]
        stream = self._create(
            messages=history,
            stream=True,
            stream_options={"include_usage": True},
            **self._params(temperature, max_tokens),
        )
        return _OpenAIChatStream(
            stream,
            model=self.model,
            on_usage=on_usage,
            prompt_estimate=_estimate_tokens(_messages_text(history)),
        )

    # -- embeddings --

    def embed(
        self, texts: Sequence[str], *, kind: str, on_usage: OnUsage | None = None
    ) -> list[list[float]]:
        if not self.embedding_model:
            return embed_local(texts, kind)  # type: ignore[arg-type]
        check_kind(kind)
        items = check_texts(texts)
        if "e5" in self.embedding_model.lower():
            items = [f"{kind}: {text}" for text in items]
        if outage_active():
            raise AIUnavailable(reason="outage")
        vectors: list[list[float]] = []
        for start in range(0, len(items), API_EMBEDDING_BATCH):
            batch = items[start : start + API_EMBEDDING_BATCH]
            try:
                response = self.client.embeddings.create(
                    model=self.embedding_model, input=batch, encoding_format="float"
                )
            except openai.APIError as exc:
                raise unavailable_from(exc) from exc
            rows = sorted(response.data, key=lambda row: row.index)
            for row in rows:
                if len(row.embedding) != EMBEDDING_DIMENSIONS:
                    raise ImproperlyConfigured(
                        f"CAMPUS_EMBEDDING_MODEL={self.embedding_model!r} returns "
                        f"{len(row.embedding)} dimensions; the vector columns hold "
                        f"{EMBEDDING_DIMENSIONS}. Choose a {EMBEDDING_DIMENSIONS}-dimension "
                        "model or leave CAMPUS_EMBEDDING_MODEL empty for the bundled one."
                    )
                vectors.append(_normalise(row.embedding))
            if on_usage is not None:
                prompt = (
                    response.usage.prompt_tokens
                    if response.usage is not None
                    else sum(_estimate_tokens(text) for text in batch)
                )
                on_usage(self.embedding_model, prompt, 0)
        return vectors


def _normalise(vector: Sequence[float]) -> list[float]:
    norm = sum(value * value for value in vector) ** 0.5
    return [float(value) / norm for value in vector] if norm else [float(v) for v in vector]


class _OpenAIChatStream(ChatStream):
    def __init__(self, stream: Any, *, model: str, on_usage: OnUsage, prompt_estimate: int):
        super().__init__()
        self._stream = stream
        self._model = model
        self._on_usage = on_usage
        self._prompt_estimate = prompt_estimate
        self._counts: tuple[int, int] | None = None

    def _generate(self) -> Generator[str, None, None]:
        try:
            for chunk in self._stream:
                if chunk.usage is not None:
                    self._counts = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                if chunk.model:
                    self._model = chunk.model
                for choice in chunk.choices:
                    piece = choice.delta.content if choice.delta is not None else None
                    if piece:
                        self.chunks.append(piece)
                        yield piece
        except Exception as exc:  # transport errors surface raw from the SDK's iterator
            raise unavailable_from(exc) from exc
        finally:
            self._finish()

    def _discard(self) -> None:
        self._finish()

    def _finish(self) -> None:
        self._stream.close()
        # The tokens were spent even when the stream broke or the reader left early.
        prompt, completion = self._counts or (
            self._prompt_estimate,
            _estimate_tokens(self.text) if self.chunks else 0,
        )
        self.usage = self._on_usage(self._model, prompt, completion)


def get_backend() -> LocalBackend | OpenAIBackend:
    """The backend named by ``CAMPUS_AI_BACKEND``, read now."""
    if settings.CAMPUS_AI_BACKEND == "openai":
        return OpenAIBackend.from_settings()
    return LocalBackend()
