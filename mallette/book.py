"""The organisation's book: its published practices, and the editorial ones it uses most,
grouped by theme with the most evoked first, as a printable HTML page and a designed PDF."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.jobs import JobError, JobReporter
from campus.models import Job, User
from mallette.models import Practice, PracticeUseKind, Theme
from mallette.selectors import practices_visible_to

BOOK_JOB_KIND = "mallette_book"
BOOK_TASK_NAME = "mallette.tasks.book_build"
# Mentions and uses are counted over this window to pick and order practices.
BOOK_WINDOW_DAYS = 90
# The editorial library holds hundreds of practices: the book keeps those the organisation
# uses most (by mentions and "I use it"), at most this many.
EDITORIAL_MAX = 60


@dataclass
class Chapter:
    theme: Theme
    practices: list[Practice] = field(default_factory=list)


@dataclass
class Book:
    organisation_name: str
    organism_name: str
    generated_at: datetime
    chapters: list[Chapter]
    own_count: int
    editorial_count: int

    @property
    def practice_count(self) -> int:
        return self.own_count + self.editorial_count


def book_contents(user: User, *, today: date | None = None) -> Book:
    """What the user's organisation's book holds, as the user may see it (their organism's
    own practices included, other organisms' never). A fixed number of queries."""
    since = (today or timezone.localdate()) - timedelta(days=BOOK_WINDOW_DAYS - 1)
    counted = practices_visible_to(user).annotate(
        mention_count=Count(
            "mentions",
            filter=Q(mentions__organisation_id=user.organisation_id, mentions__day__gte=since),
            distinct=True,
        ),
        use_count=Count(
            "uses",
            filter=Q(
                uses__kind=PracticeUseKind.USE, uses__user__organisation_id=user.organisation_id
            ),
            distinct=True,
        ),
    )
    own = list(counted.filter(organisation_id=user.organisation_id).select_related("primary_theme"))
    editorial = list(
        counted.filter(organisation__isnull=True)
        .filter(Q(mention_count__gt=0) | Q(use_count__gt=0))
        .select_related("primary_theme")
        .order_by("-mention_count", "-use_count", "title")[:EDITORIAL_MAX]
    )
    chapters: dict[int, Chapter] = {}
    for practice in own + editorial:
        practice.editorial = practice.organisation_id is None  # type: ignore[attr-defined]
        chapter = chapters.setdefault(
            practice.primary_theme_id, Chapter(theme=practice.primary_theme)
        )
        chapter.practices.append(practice)
    for chapter in chapters.values():
        chapter.practices.sort(key=lambda p: (-p.mention_count, -p.use_count, p.title))
    ordered = sorted(chapters.values(), key=lambda c: (c.theme.position, c.theme.label))
    return Book(
        organisation_name=user.organisation.name,
        organism_name=user.organism.name if user.organism_id else "",
        generated_at=timezone.now(),
        chapters=ordered,
        own_count=len(own),
        editorial_count=len(editorial),
    )


def book_html(book: Book, *, for_pdf: bool) -> str:
    return render_to_string("mallette/book_document.html", {"book": book, "for_pdf": for_pdf})


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # The document is self-contained: WeasyPrint must never fetch anything (no network).
    raise ValueError(f"blocked fetch: {url}")


def book_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML

    stylesheet = finders.find("css/mallette.css")
    if not stylesheet:
        raise FileNotFoundError("static/css/mallette.css")
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(
        stylesheets=[CSS(filename=stylesheet, url_fetcher=_no_fetch)]
    )


def book_path(*, job_id: object) -> Path:
    """Outside any public URL: served only through the access-checked download view."""
    return Path(settings.MEDIA_ROOT) / "mallette" / "books" / f"{job_id}.pdf"


def book_job(job: Job, reporter: JobReporter, *, user_id: int) -> dict[str, Any]:
    """Build the PDF of the job owner's organisation book."""
    from django.urls import reverse

    user = User.objects.select_related("organisation", "organism").filter(pk=user_id).first()
    if user is None or user.pk != job.owner_id:
        raise JobError(_("Ce livre ne peut plus être préparé : le compte a changé."))
    reporter.progress(5, _("Sélection des pratiques…"), force=True)
    book = book_contents(user)
    if not book.practice_count:
        raise JobError(
            _(
                "Votre organisation n’a encore aucune pratique publiée ni utilisée : le livre est vide."
            )
        )
    reporter.progress(
        25,
        _("Mise en page de %(n)d pratiques…") % {"n": book.practice_count},
        force=True,
    )
    html = book_html(book, for_pdf=True)
    reporter.progress(40, _("Création du PDF…"), force=True)
    pdf = book_pdf(html)
    reporter.progress(95, _("Enregistrement…"), force=True)
    path = book_path(job_id=job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pdf)
    os.replace(tmp, path)
    return {
        "message": _("Le livre est prêt : %(n)d pratiques, %(pages)s.")
        % {"n": book.practice_count, "pages": _("%(kb)d Ko") % {"kb": max(1, len(pdf) // 1024)}},
        "result_url": reverse("mallette:book_download", args=[job.pk]),
        "result_label": _("Télécharger le livre (PDF)"),
        "result": {"practices": book.practice_count},
    }
