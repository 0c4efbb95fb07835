"""The AI gateway: every call to a language or embedding model goes through this package.

Feature apps use only this module::

    from campus import ai

    ai.chat(messages, *, feature, user=None, organisation=None, schema=None, stream=False,
            fallback=None, temperature=None, max_tokens=None) -> ChatResult | ChatStream
    ai.can_generate(organisation=None) -> bool
    ai.generation_status(organisation=None) -> GenerationStatus
    ai.embed(texts, *, kind, feature="embeddings", user=None, organisation=None)
        -> list[list[float]]                      # 384-d unit vectors
    ai.embedding_model_id() -> str                # store it next to every vector
    ai.embedding_dimensions() -> int              # 384
    ai.anonymise(text, *, known_names=()) -> str  # local PII scrubber; text never leaves

The backend comes from settings, read at call time: ``CAMPUS_AI_BACKEND = "local"`` (default,
offline) or ``"openai"`` (any OpenAI-compatible endpoint; see ``campus.ai.backends``, the only
module that imports the SDK).

Generation without a model. The local backend has no generative model: ``chat()`` raises
:class:`LocalGenerationUnavailable`. A feature either checks ``can_generate()`` first and
writes its own extractive or templated text, or passes ``fallback=`` (a callable returning
that text, or a dict when ``schema`` is given) and always gets a result.

Monthly cap. Before each generation call the organisation's estimated spend this month is
compared with ``Organisation.ai_monthly_budget_eur``. Over the cap, ``chat()`` raises
:class:`AIBudgetExceeded` without contacting the endpoint; with ``fallback=`` it returns the
fallback text as a ``ChatResult`` with ``degraded=True`` and a French ``notice`` to display.
Embeddings are recorded in the ledger but never capped: search must keep working.

Outages. The SDK retries once (``CAMPUS_LLM_MAX_RETRIES``) within ``CAMPUS_LLM_TIMEOUT``
seconds per attempt; then :class:`AIUnavailable` is raised (French message in ``notice`` and
``str()``), or the fallback is returned with ``degraded=True``. The outage is remembered in the
shared cache for ``backends.OUTAGE_SECONDS``: meanwhile calls fail at once instead of each
waiting for the timeout, and ``can_generate()`` is False. Celery tasks retry on
``AIUnavailable`` with backoff and jitter (``campus.ai.retry.ai_task``).

Structured output. With ``schema`` (a JSON Schema), the model is asked for JSON, the answer is
validated locally, and an invalid one is sent back once with the error; a second invalid
answer raises :class:`AIInvalidOutput`. ``ChatResult.parsed`` holds the validated object.
Whatever the model returns is data: templates escape it, nothing is marked safe.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, overload

from django.conf import settings
from django.utils.translation import gettext

from campus.ai.embeddings import EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL_ID

if TYPE_CHECKING:
    from campus.models import Organisation, User

__all__ = [
    "AIBudgetExceeded",
    "AIError",
    "AIInvalidOutput",
    "AIUnavailable",
    "ChatResult",
    "ChatStream",
    "GenerationStatus",
    "LocalGenerationUnavailable",
    "Usage",
    "anonymise",
    "can_generate",
    "chat",
    "embed",
    "embedding_dimensions",
    "embedding_model_id",
    "generation_status",
]

Message = Mapping[str, Any]
Fallback = Callable[[], "str | dict[str, Any]"]


# --- Errors: each carries a French message for users in ``notice`` (also ``str(exc)``). ----------


class AIError(Exception):
    """Base of the gateway's expected failures."""

    #: True when a fallback answering for this error is a degradation worth telling the user.
    degraded = True

    def __init__(self, notice: str = "", *, detail: str = "") -> None:
        self.notice = notice or self.default_notice()
        #: Technical detail for logs; never shown to users (may quote model output).
        self.detail = detail
        super().__init__(self.notice)

    def default_notice(self) -> str:
        return gettext("Le service d’intelligence artificielle n’a pas pu répondre.")


class LocalGenerationUnavailable(AIError):
    """The local backend has no generative model: the feature writes its own text."""

    degraded = False  # the normal offline mode, not an incident

    def default_notice(self) -> str:
        return gettext(
            "Aucun modèle de langue n’est configuré sur ce campus : ce texte a été préparé "
            "sans génération automatique."
        )


class AIBudgetExceeded(AIError):
    """The organisation reached its monthly AI budget; the endpoint was not called."""

    def default_notice(self) -> str:
        return gettext(
            "Le budget mensuel d’intelligence artificielle de votre organisation est atteint : "
            "cette réponse a été préparée en mode simplifié, sans modèle de langue, jusqu’au "
            "mois prochain."
        )


class AIUnavailable(AIError):
    """The endpoint is down, too slow or saturated, after the client's retries.

    ``reason``: ``timeout``, ``connection``, ``rate_limited``, ``server_error``, ``rejected``
    (a 4xx other than 429), ``interrupted`` (a stream cut short) or ``outage`` (a recent
    failure is still remembered, the endpoint was not called).
    """

    def __init__(
        self,
        notice: str = "",
        *,
        reason: str = "outage",
        status: int | None = None,
        detail: str = "",
    ) -> None:
        self.reason = reason
        self.status = status
        super().__init__(notice, detail=detail)

    def default_notice(self) -> str:
        return gettext(
            "Le service d’intelligence artificielle est momentanément indisponible. Les "
            "fonctionnalités qui en dépendent fonctionnent en mode simplifié ; veuillez "
            "réessayer dans quelques minutes."
        )


class AIInvalidOutput(AIError):
    """The model's answer was not valid JSON for the schema, even after one re-ask."""

    def default_notice(self) -> str:
        return gettext(
            "La réponse du service d’intelligence artificielle n’a pas pu être exploitée. "
            "Veuillez réessayer."
        )


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """Tokens and estimated cost of one gateway call (all attempts of a re-ask included)."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_eur: Decimal

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            model=self.model,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_eur=self.cost_eur + other.cost_eur,
        )


@dataclass(frozen=True)
class ChatResult:
    text: str
    #: The validated JSON object when ``schema`` was given.
    parsed: Any = None
    usage: Usage | None = None
    #: ``"openai"`` when the endpoint answered, ``"local"`` when the fallback did.
    backend: str = "openai"
    #: True when the fallback answered because of the cap, an outage or an unusable answer.
    degraded: bool = False
    #: French message to show next to a degraded answer ("" otherwise).
    notice: str = ""


class ChatStream:
    """What ``chat(stream=True)`` returns: iterate it (once) for text chunks, in order.

    When the iteration ends, ``text`` holds the whole answer and ``usage`` its tokens; the
    ledger row is written then, also when the stream breaks or the reader stops early.
    ``close()`` ends it early: ``StreamingHttpResponse`` calls it when the browser leaves,
    so the stream can be handed to Django as is. Errors before the first chunk are raised
    by ``chat()`` itself; a stream cut short raises :class:`AIUnavailable` while iterating.
    """

    backend = "openai"
    degraded = False
    notice = ""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.usage: Usage | None = None
        self._iterator: Generator[str, None, None] | None = None
        self._closed = False

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def __iter__(self) -> Iterator[str]:
        if self._iterator is not None or self._closed:
            raise RuntimeError("a chat stream can be read only once")
        self._iterator = self._generate()
        return self._iterator

    def close(self) -> None:
        if self._iterator is not None:
            self._iterator.close()  # runs the generator's clean-up if it was started
        elif not self._closed:
            self._discard()
        self._closed = True

    def _generate(self) -> Generator[str, None, None]:
        raise NotImplementedError

    def _discard(self) -> None:
        """Clean up a stream closed before it was read."""


class _FallbackStream(ChatStream):
    def __init__(self, text: str, *, degraded: bool, notice: str) -> None:
        super().__init__()
        self._text = text
        self.backend = "local"
        self.degraded = degraded
        self.notice = notice

    def _generate(self) -> Generator[str, None, None]:
        if self._text:
            self.chunks.append(self._text)
            yield self._text


@dataclass(frozen=True)
class GenerationStatus:
    available: bool
    #: French message explaining why generation is off ("" when available or offline by
    #: configuration, which is the normal local mode).
    notice: str = ""
    #: ``""``, ``"local"``, ``"budget"`` or ``"outage"``.
    reason: str = ""


# --- Generation -------------------------------------------------------------------------------


def _organisation_of(user: User | None, organisation: Organisation | None) -> Organisation:
    if organisation is not None:
        return organisation
    if user is not None:
        return user.organisation
    raise ValueError("chat() needs organisation= or user= for the usage ledger and the cap")


def _blocker(organisation: Organisation | None) -> AIError | None:
    """Why generation cannot happen now, checked before any network call."""
    from campus.ai import backends, ledger

    backend = backends.get_backend()
    if backend.name != "openai":
        return LocalGenerationUnavailable()
    if organisation is not None and ledger.over_cap(organisation):
        return AIBudgetExceeded()
    if backends.outage_active():
        return AIUnavailable(reason="outage")
    return None


def generation_status(organisation: Organisation | None = None) -> GenerationStatus:
    """Whether ``chat()`` can generate now for this organisation, and if not, why."""
    blocker = _blocker(organisation)
    if blocker is None:
        return GenerationStatus(available=True)
    if isinstance(blocker, LocalGenerationUnavailable):
        return GenerationStatus(available=False, reason="local")
    reason = "budget" if isinstance(blocker, AIBudgetExceeded) else "outage"
    return GenerationStatus(available=False, notice=blocker.notice, reason=reason)


def can_generate(organisation: Organisation | None = None) -> bool:
    """False offline (local backend), over the organisation's monthly cap, or during an
    outage: the feature then writes its own extractive or templated text."""
    return generation_status(organisation).available


@overload
def chat(
    messages: Sequence[Message],
    *,
    feature: str,
    user: User | None = ...,
    organisation: Organisation | None = ...,
    schema: Mapping[str, Any] | None = ...,
    stream: Literal[False] = ...,
    fallback: Fallback | None = ...,
    temperature: float | None = ...,
    max_tokens: int | None = ...,
) -> ChatResult: ...


@overload
def chat(
    messages: Sequence[Message],
    *,
    feature: str,
    user: User | None = ...,
    organisation: Organisation | None = ...,
    schema: None = ...,
    stream: Literal[True],
    fallback: Fallback | None = ...,
    temperature: float | None = ...,
    max_tokens: int | None = ...,
) -> ChatStream: ...


def chat(
    messages: Sequence[Message],
    *,
    feature: str,
    user: User | None = None,
    organisation: Organisation | None = None,
    schema: Mapping[str, Any] | None = None,
    stream: bool = False,
    fallback: Fallback | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> ChatResult | ChatStream:
    """Ask the language model; returns a :class:`ChatResult`, or a :class:`ChatStream` when
    ``stream`` is true.

    ``messages`` are OpenAI-style ``{"role", "content"}`` dicts, already scrubbed of personal
    data. ``feature`` names the caller in the ledger (e.g. ``"coach.answer"``); ``user`` or
    ``organisation`` says who pays. Raises :class:`AIError` subclasses as documented in the
    module docstring, unless ``fallback`` is given.
    """
    from campus.ai import backends

    if not feature:
        raise ValueError("chat() needs a feature name for the usage ledger")
    if schema is not None and stream:
        raise ValueError("a schema-validated answer cannot be streamed")
    if schema is not None:
        backends.check_schema(schema)
    payer = _organisation_of(user, organisation)
    try:
        blocker = _blocker(payer)
        if blocker is not None:
            raise blocker
        backend = backends.get_backend()
        record = _recorder(user=user, organisation=payer, feature=feature, backend=backend.name)
        if stream:
            return backend.chat_stream(
                messages, temperature=temperature, max_tokens=max_tokens, on_usage=record
            )
        return backend.chat(
            messages,
            schema=schema,
            temperature=temperature,
            max_tokens=max_tokens,
            on_usage=record,
        )
    except AIError as exc:
        if fallback is None:
            raise
        return _fallback_result(exc, fallback, schema=schema, stream=stream)


def _fallback_result(
    exc: AIError, fallback: Fallback, *, schema: Mapping[str, Any] | None, stream: bool
) -> ChatResult | ChatStream:
    from campus.ai import backends

    notice = exc.notice if exc.degraded else ""
    value = fallback()
    if stream:
        return _FallbackStream(str(value), degraded=exc.degraded, notice=notice)
    if schema is not None:
        # The fallback is our own code: a mismatch is a bug, so let it raise loudly.
        if isinstance(value, str):
            text, parsed = value, backends.parse_json_output(value, schema)
        else:
            backends.validate_output(value, schema)
            text, parsed = backends.json_dumps(value), value
        return ChatResult(
            text=text, parsed=parsed, backend="local", degraded=exc.degraded, notice=notice
        )
    return ChatResult(text=str(value), backend="local", degraded=exc.degraded, notice=notice)


def _recorder(
    *, user: User | None, organisation: Organisation | None, feature: str, backend: str
) -> Callable[[str, int, int], Usage]:
    """A callback the backend calls once per answered request, to write the ledger row."""

    def record(model: str, prompt_tokens: int, completion_tokens: int) -> Usage:
        from campus.ai import ledger

        if organisation is None:
            cost = ledger.estimate_cost(
                prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
        else:
            cost = ledger.usage_record(
                user=user,
                organisation=organisation,
                feature=feature,
                model=model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                backend=backend,
            ).cost_eur
        return Usage(
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_eur=cost,
        )

    return record


# --- Embeddings -------------------------------------------------------------------------------


def embed(
    texts: Sequence[str],
    *,
    kind: Literal["query", "passage"],
    feature: str = "embeddings",
    user: User | None = None,
    organisation: Organisation | None = None,
) -> list[list[float]]:
    """One 384-d, L2-normalised vector per text, in order.

    ``kind="query"`` for what a person searches, ``"passage"`` for what is searched. Local
    (bundled e5 model) unless the backend is ``openai`` and ``CAMPUS_EMBEDDING_MODEL`` is set;
    API calls are written to the ledger when ``user`` or ``organisation`` is given, never
    capped, and raise :class:`AIUnavailable` when the endpoint is down (there is no local
    fallback: vectors from another model would not be comparable).
    """
    from campus.ai import backends

    payer = organisation if organisation is not None else getattr(user, "organisation", None)
    backend = backends.get_backend()
    record = _recorder(user=user, organisation=payer, feature=feature, backend=backend.name)
    return backend.embed(texts, kind=kind, on_usage=record)


def embedding_model_id() -> str:
    """Id of the model that :func:`embed` uses now; store it with each vector so that a
    change of model is detected and the vectors re-embedded by a background job."""
    if settings.CAMPUS_AI_BACKEND == "openai" and settings.CAMPUS_EMBEDDING_MODEL:
        return f"api:{settings.CAMPUS_EMBEDDING_MODEL}"
    return LOCAL_EMBEDDING_MODEL_ID


def embedding_dimensions() -> int:
    """Dimensions of every vector column (``vector(384)``), whatever the model."""
    return EMBEDDING_DIMENSIONS


# --- Anonymisation ------------------------------------------------------------------------------


def anonymise(text: str, *, known_names: Iterable[str] = ()) -> str:
    """Scrub personal data from ``text`` locally (``campus.ai.anonymise``; loads spaCy on
    first use, which is why it is imported here and not at the top)."""
    scrubber = importlib.import_module("campus.ai.anonymise")
    return scrubber.anonymise(text, known_names=known_names)


class _GatewayModule(types.ModuleType):
    """Importing the submodule ``campus.ai.anonymise`` makes Python bind it on this package
    under the same name as the public function above. Keep the function: ``ai.anonymise(...)``
    must stay callable whoever imported the submodule first."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "anonymise" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _GatewayModule
