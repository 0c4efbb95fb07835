from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pgvector.django import CosineDistance

from campus import ai
from campus.search import highlight
from mallette import services
from mallette.forms import (
    PracticeFilterForm,
    PracticeProposalForm,
    PracticePublishForm,
    PracticeRejectForm,
)
from mallette.models import Practice, PracticeLevel, PracticeUseKind, Theme
from mallette.search import practices_search
from mallette.selectors import (
    can_moderate,
    contributions_of,
    favourites_of,
    get_practice_for_user,
    get_proposal_for_moderator,
    practice_usage,
    practices_in_review_for,
    practices_visible_to,
    similar_practices,
)

PAGE_SIZE = 10
# A question is answered from its best hits (three pages); beyond them results are rarely
# relevant, and 100 hits cost a 500 ms p95 at 50,000 practices (bench/bench_mallette.py).
MAX_SEARCH_RESULTS = 30
MODERATION_PAGE_SIZE = 10


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Browse and search the practices: filters, facets, highlighted snippets, pagination."""
    themes = list(Theme.objects.all())
    form = PracticeFilterForm(request.GET or None, themes=themes)
    data = form.cleaned_data if form.is_valid() else {}
    query = (data.get("q") or "").strip()
    theme = data.get("theme") or ""

    scoped = practices_visible_to(request.user)
    if data.get("level"):
        scoped = scoped.filter(level__in=[data["level"], PracticeLevel.ALL])
    if data.get("source"):
        scoped = scoped.filter(source=data["source"])

    if query:
        hits = practices_search(scoped, query, limit=MAX_SEARCH_RESULTS)
        theme_counts = Counter(t.slug for h in hits for t in h.obj.themes.all())
        if theme:
            hits = [h for h in hits if any(t.slug == theme for t in h.obj.themes.all())]
        items: list = [h.obj for h in hits]
    else:
        counted = scoped.values("themes__slug").annotate(n=Count("pk", distinct=True))
        theme_counts = Counter({row["themes__slug"]: row["n"] for row in counted})
        listing = scoped.select_related("primary_theme").prefetch_related("themes")
        if theme:
            listing = listing.filter(themes__slug=theme)
        items = listing.order_by("primary_theme__position", "title")

    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "practice": practice,
            "snippet": highlight(practice.summary, query, max_words=45) if query else None,
            "title": highlight(practice.title, query, max_words=40) if query else None,
        }
        for practice in page.object_list
    ]
    facets = [
        {"theme": t, "count": theme_counts.get(t.slug, 0), "selected": t.slug == theme}
        for t in themes
    ]
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "query": query,
        "page": page,
        "rows": rows,
        "facets": facets,
        "querystring": params.urlencode(),
        "filter_params": {k: v for k, v in params.items() if k != "theme"},
        "can_moderate": can_moderate(request.user),
    }
    template = "mallette/index.html#results" if request.htmx else "mallette/index.html"
    return render(request, template, context)


@login_required
@require_GET
def practice_detail(request: HttpRequest, pk: int, slug: str = "") -> HttpResponse:
    practice = get_practice_for_user(request.user, pk)
    if slug != practice.slug:
        return redirect("mallette:practice", pk=practice.pk, slug=practice.slug, permanent=True)
    related: list[Practice] = []
    if practice.embedding is not None:
        related = list(
            practices_visible_to(request.user)
            .exclude(pk=practice.pk)
            .exclude(embedding__isnull=True)
            .select_related("primary_theme")
            .annotate(distance=CosineDistance("embedding", practice.embedding))
            .order_by("distance")[:4]
        )
    themes = list(practice.themes.order_by("position"))
    return render(
        request,
        "mallette/practice.html",
        {
            "practice": practice,
            "themes": themes,
            "related": related,
            "usage": practice_usage(practice, request.user),
        },
    )


@login_required
@require_POST
def practice_use_toggle(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """ "J’utilise cette pratique" / favourite: htmx swaps the buttons, otherwise redirect back."""
    if kind not in PracticeUseKind.values:
        raise Http404
    practice = get_practice_for_user(request.user, pk)
    services.practice_use_toggle(user=request.user, practice=practice, kind=kind)
    if request.htmx:
        return render(
            request,
            "mallette/practice.html#usage",
            {"practice": practice, "usage": practice_usage(practice, request.user)},
        )
    return redirect("mallette:practice", pk=practice.pk, slug=practice.slug)


@login_required
@require_GET
def favourites(request: HttpRequest) -> HttpResponse:
    return render(
        request, "mallette/favourites.html", {"practices": list(favourites_of(request.user))}
    )


def _proposal_text(data: dict) -> str:
    return "\n".join(p for p in (data["title"], data["summary"], data.get("situation")) if p)


@login_required
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest) -> HttpResponse:
    """Propose a practice: the form, a preview with similar practices, then the submission."""
    form = PracticeProposalForm(request.POST or None)
    context: dict = {"form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            similar = similar_practices(request.user, _proposal_text(data))
            context |= {
                "preview": data,
                "preview_themes": [t for t in (data["primary_theme"], data["second_theme"]) if t],
                "preview_level": PracticeLevel(data["level"]).label,
                "similar": similar,
                "duplicate": next((s for s in similar if s.duplicate), None),
            }
        else:
            services.practice_propose(author=request.user, data=data)
            messages.success(
                request,
                _("Merci ! Votre pratique est envoyée en relecture. Vous suivez son statut ici."),
            )
            return redirect("mallette:mine")
    return render(request, "mallette/propose.html", context)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    return render(
        request, "mallette/mine.html", {"practices": list(contributions_of(request.user))}
    )


@login_required
@require_GET
def moderation(request: HttpRequest) -> HttpResponse:
    """The review queue, oldest first, each proposal with the existing practices it resembles.

    Paginated: each proposal costs one embedding and one search. Proposals are compared as
    queries; their own index is built by the beat job once they are published."""
    page = Paginator(practices_in_review_for(request.user), MODERATION_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    proposals = list(page.object_list)
    vectors = ai.embed([p.index_text() for p in proposals], kind="query") if proposals else []
    items = [
        {
            "practice": p,
            "similar": similar_practices(
                request.user, p.index_text(), exclude_pk=p.pk, query_vector=list(vector)
            ),
        }
        for p, vector in zip(proposals, vectors, strict=True)
    ]
    return render(
        request,
        "mallette/moderation.html",
        {
            "items": items,
            "page": page,
            "publish_form": PracticePublishForm(),
            "reject_form": PracticeRejectForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def moderation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    practice = get_proposal_for_moderator(request.user, pk)
    form = PracticeProposalForm(
        request.POST or None, initial=PracticeProposalForm.initial_for(practice)
    )
    if request.method == "POST" and form.is_valid():
        services.practice_update(practice=practice, data=form.cleaned_data, editor=request.user)
        messages.success(request, _("La proposition est modifiée."))
        return redirect("mallette:moderation")
    return render(request, "mallette/moderation_edit.html", {"form": form, "practice": practice})


@login_required
@require_POST
def moderation_publish(request: HttpRequest, pk: int) -> HttpResponse:
    practice = get_proposal_for_moderator(request.user, pk)
    form = PracticePublishForm(request.POST)
    form.is_valid()  # a lone optional checkbox: always valid
    services.practice_publish(
        practice=practice,
        moderator=request.user,
        national=bool(form.cleaned_data.get("national")),
    )
    messages.success(
        request,
        _("« %(title)s » est publiée : elle sera dans la recherche d’ici quelques minutes.")
        % {"title": practice.title},
    )
    return redirect("mallette:moderation")


@login_required
@require_http_methods(["GET", "POST"])
def moderation_reject(request: HttpRequest, pk: int) -> HttpResponse:
    practice = get_proposal_for_moderator(request.user, pk)
    form = PracticeRejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.practice_reject(
            practice=practice, moderator=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("« %(title)s » est refusée.") % {"title": practice.title})
        return redirect("mallette:moderation")
    return render(request, "mallette/moderation_reject.html", {"form": form, "practice": practice})


@login_required
@require_POST
def moderation_merge(request: HttpRequest, pk: int) -> HttpResponse:
    practice = get_proposal_for_moderator(request.user, pk)
    target = get_practice_for_user(request.user, request.POST.get("target"))
    services.practice_merge(practice=practice, target=target, moderator=request.user)
    messages.success(
        request,
        _("« %(title)s » est fusionnée dans « %(target)s ».")
        % {"title": practice.title, "target": target.title},
    )
    return redirect("mallette:moderation")
