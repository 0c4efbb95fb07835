from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from pgvector.django import CosineDistance

from campus.search import highlight
from mallette.forms import PracticeFilterForm
from mallette.models import Practice, PracticeLevel, Theme
from mallette.search import practices_search
from mallette.selectors import get_practice_for_user, practices_visible_to

PAGE_SIZE = 10
# A question is answered from its best hits; beyond these, results are no longer relevant.
MAX_SEARCH_RESULTS = 100


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
        {"practice": practice, "themes": themes, "related": related},
    )
