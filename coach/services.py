"""Writes of the coach: asking, finishing a streamed answer, rating, deleting."""

from __future__ import annotations

from django.db import transaction

from campus import ai
from campus.analytics.models import Feature
from campus.analytics.services import activity_record
from campus.models import User
from coach import answering
from coach.answering import Answer, Prepared
from coach.models import AnswerKind, Conversation, Exchange
from mallette.models import Practice
from mallette.selectors import practices_visible_to

TITLE_LENGTH = 80


def _title(question: str) -> str:
    return question if len(question) <= TITLE_LENGTH else question[: TITLE_LENGTH - 1] + "…"


def _store(exchange: Exchange, answer: Answer) -> None:
    exchange.answer = answer.text
    exchange.kind = answer.kind
    exchange.safety_topic = answer.safety_topic
    exchange.source_ids = [p.pk for p in answer.practices]
    exchange.theme_slug = answer.practices[0].primary_theme.slug if answer.practices else ""
    exchange.followups = answer.followups
    exchange.backend = answer.backend
    exchange.notice = answer.notice[:400]
    exchange.complete = True


def question_ask(
    *, user: User, question: str, conversation: Conversation | None = None, stream: bool = False
) -> Exchange:
    """Answer ``question`` for ``user`` in ``conversation`` (a new one when None).

    With ``stream`` and a language model available, the exchange is saved unfinished with the
    practices retrieved as context; ``answer_stream`` writes the answer. Otherwise the answer
    (LLM, or extractive offline) is written now. The model is called outside any transaction.
    """
    prepared = answering.coach_prepare(question, user=user)
    exchange = Exchange(
        question=prepared.question, question_scrubbed=prepared.scrubbed, kind=prepared.kind
    )
    generate = prepared.kind == AnswerKind.ANSWER and ai.can_generate(user.organisation)
    if stream and generate:
        exchange.complete = False
        exchange.backend = "openai"
        exchange.source_ids = [p.pk for p in prepared.practices]
        exchange.theme_slug = prepared.practices[0].primary_theme.slug
    elif generate:
        _store(
            exchange,
            answering.generated_answer(prepared, user=user, organisation=user.organisation),
        )
    else:
        _store(exchange, answering.offline_answer(prepared))
    with transaction.atomic():
        if conversation is None:
            conversation = Conversation.objects.create(user=user, title=_title(prepared.question))
        exchange.conversation = conversation
        exchange.save()
        conversation.save(update_fields=["updated_at"])
        activity_record(user=user, feature=Feature.COACH, action="question")
    return exchange


def prepared_for_stream(exchange: Exchange, user: User) -> Prepared:
    """Rebuild what ``coach_prepare`` decided for an unfinished exchange, from what was stored
    (the retrieved practices still visible to the user, in their original order)."""
    found = {
        p.pk: p
        for p in practices_visible_to(user)
        .filter(pk__in=exchange.source_ids)
        .select_related("primary_theme")
        .prefetch_related("themes")
    }
    practices: list[Practice] = [found[pk] for pk in exchange.source_ids if pk in found]
    return Prepared(
        question=exchange.question,
        scrubbed=exchange.question_scrubbed,
        kind=AnswerKind.ANSWER,
        practices=practices,
        close=practices[: answering.EXTRACTIVE_PRACTICES],
    )


def answer_finish(
    *, exchange: Exchange, prepared: Prepared, text: str, backend: str, notice: str
) -> None:
    """Store the streamed answer once complete (citations validated and renumbered)."""
    if backend == "openai":
        final, cited = answering.finalise_generated(prepared, text)
    else:
        final, cited = text, list(prepared.close)
    result = Answer(
        kind=AnswerKind.ANSWER,
        text=final,
        practices=cited,
        followups=answering.followups_of(prepared, cited),
        scrubbed=prepared.scrubbed,
        backend=backend,
        notice=notice,
    )
    _store(exchange, result)
    exchange.save()


def exchange_rate(*, exchange: Exchange, rating: int, comment: str = "") -> None:
    exchange.rating = rating
    exchange.rating_comment = comment.strip()[:2000]
    exchange.save(update_fields=["rating", "rating_comment"])


def conversation_delete(*, conversation: Conversation) -> None:
    conversation.delete()


def conversations_delete_all(*, user: User) -> int:
    deleted, _ = Conversation.objects.filter(user=user).delete()
    return deleted
