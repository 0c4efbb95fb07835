from __future__ import annotations

from collections import Counter
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pgvector.django import CosineDistance

from campus import ai
from campus.access import get_job_for_user
from campus.analytics.models import Feature
from campus.analytics.services import activity_record
from campus.jobs import job_create
from campus.models import Job
from campus.search import highlight
from mallette import book as mallette_book
from mallette import services
from mallette.forms import (
    CommentForm,
    MostEvokedFilterForm,
    PracticeFilterForm,
    PracticeProposalForm,
    PracticePublishForm,
    PracticeRejectForm,
)
from mallette.models import Practice, PracticeLevel, PracticeUseKind, Theme
from mallette.search import practices_search
from mallette.selectors import (
    MentionScope,
    can_moderate,
    comments_visible_to,
    contributions_of,
    favourites_of,
    get_comment_for_author,
    get_comment_for_moderator,
    get_practice_for_user,
    get_proposal_for_moderator,
    practice_mention_counts,
    practice_usage,
    practices_in_review_for,
    practices_most_evoked,
    practices_visible_to,
    similar_practices,
)

PAGE_SIZE = 10
# A question is answered from its best hits (three pages); beyond them results are rarely
# relevant, and 100 hits cost a 500 ms p95 at 50,000 practices (bench/bench_mallette.py).
MAX_SEARCH_RESULTS = 30
MODERATION_PAGE_SIZE = 10
COMMENTS_PAGE_SIZE = 10
MOST_EVOKED_PAGE_SIZE = 20


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


def _comments_context(
    request: HttpRequest, practice: Practice, *, form: CommentForm | None = None
) -> dict:
    page = Paginator(comments_visible_to(request.user, practice), COMMENTS_PAGE_SIZE).get_page(
        request.GET.get("commentaires")
    )
    return {
        "practice": practice,
        "comments": page,
        "comment_form": form or CommentForm(),
        "can_moderate": can_moderate(request.user),
    }


def _share_links(request: HttpRequest, practice: Practice) -> dict[str, str]:
    url = request.build_absolute_uri(
        reverse("mallette:practice", args=[practice.pk, practice.slug])
    )
    body = _("Une pratique de la mallette qui pourrait t’intéresser : %(title)s\n\n%(url)s") % {
        "title": practice.title,
        "url": url,
    }
    query = urlencode({"subject": practice.title, "body": body}, quote_via=quote)
    return {"share_url": url, "share_mailto": f"mailto:?{query}"}


def _practice_context(
    request: HttpRequest, practice: Practice, *, form: CommentForm | None = None
) -> dict:
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
    return {
        "themes": list(practice.themes.order_by("position")),
        "related": related,
        "usage": practice_usage(practice, request.user),
        "mentions": practice_mention_counts(practice, request.user),
        **_share_links(request, practice),
        **_comments_context(request, practice, form=form),
    }


@login_required
@require_GET
def practice_detail(request: HttpRequest, pk: int, slug: str = "") -> HttpResponse:
    practice = get_practice_for_user(request.user, pk)
    if slug != practice.slug:
        return redirect("mallette:practice", pk=practice.pk, slug=practice.slug, permanent=True)
    if request.htmx and request.GET.get("commentaires"):
        return render(
            request, "mallette/practice.html#comments", _comments_context(request, practice)
        )
    # One INSERT, a no-op after the first view of the day (HR analytics: practices viewed).
    activity_record(user=request.user, feature=Feature.MALLETTE, action="view", request=request)
    return render(request, "mallette/practice.html", _practice_context(request, practice))


@login_required
@require_POST
def comment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a comment: htmx swaps the comments section; without JS, back to the page."""
    practice = get_practice_for_user(request.user, pk)
    form = CommentForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            comment = services.comment_create(
                author=request.user, practice=practice, body=form.cleaned_data["body"]
            )
        except services.CommentRateLimited:
            form.add_error(
                None,
                _(
                    "Vous avez publié beaucoup de commentaires en peu de temps : réessayez dans "
                    "quelques minutes. Votre texte est conservé ci-dessous."
                ),
            )
            status = 429
        else:
            if request.htmx:
                context = _comments_context(request, practice)
                context["posted"] = comment
                return render(request, "mallette/practice.html#comments", context)
            messages.success(request, _("Votre commentaire est publié."))
            url = reverse("mallette:practice", args=[practice.pk, practice.slug])
            return redirect(f"{url}#commentaire-{comment.pk}")
    else:
        status = 400
    if request.htmx:
        # htmx swaps only 2xx answers by default: keep 200 so the errors are shown.
        return render(
            request,
            "mallette/practice.html#comments",
            _comments_context(request, practice, form=form),
        )
    return render(
        request,
        "mallette/practice.html",
        _practice_context(request, practice, form=form),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_comment_for_author(request.user, pk)
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        services.comment_update(comment=comment, body=form.cleaned_data["body"])
        messages.success(request, _("Votre commentaire est modifié."))
        practice = comment.practice
        url = reverse("mallette:practice", args=[practice.pk, practice.slug])
        return redirect(f"{url}#commentaire-{comment.pk}")
    return render(request, "mallette/comment_edit.html", {"form": form, "comment": comment})


@login_required
@require_POST
def comment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_comment_for_author(request.user, pk)
    practice = comment.practice
    services.comment_delete(comment=comment)
    messages.success(request, _("Votre commentaire est supprimé."))
    url = reverse("mallette:practice", args=[practice.pk, practice.slug])
    return redirect(f"{url}#commentaires")


@login_required
@require_POST
def comment_hide(request: HttpRequest, pk: int) -> HttpResponse:
    """A moderator hides a comment from the other managers, or shows it again."""
    comment = get_comment_for_moderator(request.user, pk)
    hidden = request.POST.get("hidden") != "0"
    services.comment_hide(comment=comment, moderator=request.user, hidden=hidden)
    messages.success(
        request,
        _("Le commentaire est masqué.") if hidden else _("Le commentaire est de nouveau visible."),
    )
    practice = comment.practice
    url = reverse("mallette:practice", args=[practice.pk, practice.slug])
    return redirect(f"{url}#commentaire-{comment.pk}")


@login_required
@require_GET
def most_evoked(request: HttpRequest) -> HttpResponse:
    """The practices most evoked in the campus's texts, over 30 or 90 days, nationally (the
    user's whole organisation) or in their organism."""
    themes = list(Theme.objects.all())
    form = MostEvokedFilterForm(request.GET or None, themes=themes)
    data = form.cleaned_data if form.is_valid() else {}
    days = data.get("period") or 30
    scope = data.get("scope") or MentionScope.NATIONAL
    if scope == MentionScope.ORGANISM and not request.user.organism_id:
        scope = MentionScope.NATIONAL
    ranked = practices_most_evoked(
        request.user, days=days, scope=scope, theme=data.get("theme") or ""
    )
    page = Paginator(ranked, MOST_EVOKED_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "days": days,
        "scope": scope,
        "rank_offset": page.start_index() - 1 if page.object_list else 0,
        "querystring": params.urlencode(),
    }
    template = "mallette/most_evoked.html#ranking" if request.htmx else "mallette/most_evoked.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    """The organisation's book: start the PDF job, or open the printable page."""
    if request.method == "POST":
        running = (
            Job.objects.filter(
                owner=request.user,
                kind=mallette_book.BOOK_JOB_KIND,
                state__in=[Job.State.PENDING, Job.State.RUNNING],
            )
            .order_by("-created_at")
            .first()
        )
        job = running or job_create(
            owner=request.user,
            kind=mallette_book.BOOK_JOB_KIND,
            title=_("Livre des pratiques · %(organisation)s")
            % {"organisation": request.user.organisation.name},
            task_name=mallette_book.BOOK_TASK_NAME,
            task_kwargs={"user_id": request.user.pk},
        )
        return redirect("mallette:book_job", job_id=job.pk)
    jobs = list(
        Job.objects.filter(owner=request.user, kind=mallette_book.BOOK_JOB_KIND).order_by(
            "-created_at"
        )[:5]
    )
    return render(request, "mallette/book.html", {"jobs": jobs})


@login_required
@require_GET
def book_print(request: HttpRequest) -> HttpResponse:
    """The book as a web page, laid out for printing (print CSS)."""
    contents = mallette_book.book_contents(request.user)
    return render(request, "mallette/book_print.html", {"book": contents})


def _book_job(request: HttpRequest, job_id: str) -> Job:
    job = get_job_for_user(request.user, job_id)
    if job.kind != mallette_book.BOOK_JOB_KIND:
        raise Http404
    return job


@login_required
@require_GET
@never_cache
def book_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """The book's progress, then its download link (the owner's only)."""
    return render(request, "mallette/book_job.html", {"job": _book_job(request, job_id)})


@login_required
@require_GET
@never_cache
def book_download(request: HttpRequest, job_id: str) -> FileResponse:
    job = _book_job(request, job_id)
    path = mallette_book.book_path(job_id=job.pk)
    if job.state != Job.State.SUCCEEDED or not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"livre-des-pratiques-{job.created_at:%Y-%m-%d}.pdf",
        content_type="application/pdf",
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
