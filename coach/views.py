"""Pages of the coach: the chat, private history, ratings, streaming, HR topics."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from campus import ai
from campus.ratelimit import rate_limited
from coach import answering, selectors, services
from coach.forms import AskForm, RatingForm
from coach.models import Conversation, Exchange
from coach.selectors import cited_practices, conversations_of

logger = logging.getLogger(__name__)

# Questions per manager: a burst allowance and a daily ceiling (LLM budget and abuse).
ASK_LIMITS = [(60, 8), (86400, 150)]
CONVERSATIONS_PER_PAGE = 15

EXAMPLES = [
    "Comment faire participer une équipe qui reste silencieuse en réunion ?",
    "Comment déléguer un dossier sans perdre le contrôle ?",
    "Un agent conteste mes décisions devant l’équipe : comment réagir ?",
]


def _sidebar(request: HttpRequest) -> dict[str, object]:
    page = Paginator(
        conversations_of(request.user).only("pk", "title", "updated_at"), CONVERSATIONS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return {"conversations": page}


def _exchange_context(request: HttpRequest, exchanges: list[Exchange]) -> dict[str, object]:
    practices = cited_practices(request.user, exchanges)
    for exchange in exchanges:
        exchange.cited = [practices[pk] for pk in exchange.source_ids if pk in practices]
    return {"exchanges": exchanges}


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    form = AskForm(initial={"question": request.GET.get("q", "")[:2000]})
    return render(
        request,
        "coach/index.html",
        {
            "form": form,
            "examples": EXAMPLES,
            "generation": ai.generation_status(request.user.organisation),
            **_sidebar(request),
        },
    )


@login_required
@require_GET
def conversation(request: HttpRequest, pk: str) -> HttpResponse:
    conv = selectors.get_conversation_for_user(request.user, pk)
    exchanges = list(conv.exchanges.all())
    return render(
        request,
        "coach/conversation.html",
        {
            "conversation": conv,
            "form": AskForm(),
            "generation": ai.generation_status(request.user.organisation),
            **_exchange_context(request, exchanges),
            **_sidebar(request),
        },
    )


@login_required
@require_POST
def ask(request: HttpRequest) -> HttpResponse:
    conv: Conversation | None = None
    if request.POST.get("conversation"):
        conv = selectors.get_conversation_for_user(request.user, request.POST["conversation"])
    form = AskForm(request.POST)
    wait = 0
    if form.is_valid():
        wait = rate_limited("coach.ask", request.user.pk, ASK_LIMITS)
        if wait:
            form.add_error(
                "question",
                _(
                    "Vous avez posé beaucoup de questions en peu de temps : réessayez dans "
                    "%(seconds)s secondes."
                )
                % {"seconds": wait},
            )
    if not form.is_valid():
        status = 429 if wait else 400
        if request.htmx:
            return render(
                request,
                "coach/partials/ask_form.html",
                {"form": form, "conversation": conv},
                status=status,
            )
        template = "coach/conversation.html" if conv else "coach/index.html"
        context: dict[str, object] = {
            "form": form,
            "conversation": conv,
            "examples": EXAMPLES,
            **_sidebar(request),
        }
        if conv:
            context.update(_exchange_context(request, list(conv.exchanges.all())))
        return render(request, template, context, status=status)
    try:
        exchange = services.question_ask(
            user=request.user,
            question=form.cleaned_data["question"],
            conversation=conv,
            stream=bool(request.htmx),
        )
    except ai.AIError as exc:  # embeddings endpoint down: nothing was saved
        logger.warning("coach: question not answered: %s", exc.detail or exc)
        form.add_error(None, exc.notice)
        return render(
            request,
            "coach/index.html",
            {"form": form, "examples": EXAMPLES, **_sidebar(request)},
            status=503,
        )
    if request.htmx:
        response = render(
            request,
            "coach/partials/exchange.html",
            {
                "exchange": exchange,
                "new": True,
                **_exchange_context(request, [exchange]),
                **_sidebar(request),
            },
        )
        if conv is None:  # the first question opens a conversation: go to its page
            response["HX-Push-Url"] = reverse("coach:conversation", args=[exchange.conversation_id])
            response["HX-Retarget"] = "#conversation"
            response["HX-Reswap"] = "beforeend"
        return response
    return redirect(
        reverse("coach:conversation", args=[exchange.conversation_id]) + f"#echange-{exchange.pk}"
    )


@login_required
@require_GET
def exchange_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    exchange = selectors.get_exchange_for_user(request.user, pk)
    return render(
        request,
        "coach/partials/exchange.html",
        {"exchange": exchange, **_exchange_context(request, [exchange])},
    )


@login_required
@require_GET
def exchange_stream(request: HttpRequest, pk: int) -> HttpResponse:
    """The answer as it is written (text chunks); the page then swaps in the final fragment."""
    exchange = selectors.get_exchange_for_user(request.user, pk)
    if exchange.complete:
        return HttpResponse(exchange.answer, content_type="text/plain; charset=utf-8")
    prepared = services.prepared_for_stream(exchange, request.user)
    stream, chunks = answering.stream_chunks(prepared, user=request.user)

    def body() -> Iterator[str]:
        try:
            yield from chunks
        except ai.AIError as exc:  # the stream broke: keep what came, say so
            stream.notice = exc.notice
        finally:
            services.answer_finish(
                exchange=exchange,
                prepared=prepared,
                text=stream.text or answering.offline_answer(prepared).text,
                backend=stream.backend if stream.text else "local",
                notice=stream.notice,
            )

    response = StreamingHttpResponse(body(), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass chunks through
    return response


@login_required
@require_POST
def exchange_rate(request: HttpRequest, pk: int) -> HttpResponse:
    exchange = selectors.get_exchange_for_user(request.user, pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        services.exchange_rate(
            exchange=exchange,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
        )
    if request.htmx:
        return render(
            request,
            "coach/partials/rating.html",
            {"exchange": exchange, "rating_form": form, "saved": form.is_valid()},
            status=200 if form.is_valid() else 400,
        )
    if form.is_valid():
        messages.success(request, _("Merci, votre avis est enregistré."))
    else:
        messages.error(request, _("Choisissez « utile » ou « pas utile »."))
    return redirect(
        reverse("coach:conversation", args=[exchange.conversation_id]) + f"#echange-{exchange.pk}"
    )


@login_required
@require_POST
def conversation_delete(request: HttpRequest, pk: str) -> HttpResponse:
    conv = selectors.get_conversation_for_user(request.user, pk)
    services.conversation_delete(conversation=conv)
    messages.success(request, _("La conversation a été supprimée."))
    return redirect("coach:index")


@login_required
def conversations_delete_all(request: HttpRequest) -> HttpResponse:
    count = conversations_of(request.user).count()
    if request.method == "POST":
        services.conversations_delete_all(user=request.user)
        messages.success(request, _("Toutes vos conversations ont été supprimées."))
        return redirect("coach:index")
    return render(request, "coach/delete_all.html", {"count": count})


@login_required
@require_GET
def topics(request: HttpRequest) -> HttpResponse:
    return render(request, "coach/topics.html", selectors.coach_topics(request.user))
