from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from campus.access import get_job_for_user
from campus.models import Job, User

HOME_TEAM_LIMIT = 12


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The manager's home: one card per feature with its next step."""
    user = request.user
    reports = list(
        user.reports.filter(is_active=True)
        .only("first_name", "last_name", "email", "job_title", "level", "manager_id")
        .order_by("last_name", "first_name")[: HOME_TEAM_LIMIT + 1]
    )
    team_size = (
        len(reports)
        if len(reports) <= HOME_TEAM_LIMIT
        else user.reports.filter(is_active=True).count()
    )
    context = {
        "team_size": team_size,
        "reports": reports[:HOME_TEAM_LIMIT],
        "line_manager": (
            User.objects.only("first_name", "last_name", "email", "job_title")
            .filter(pk=user.manager_id)
            .first()
            if user.manager_id
            else None
        ),
        "organism": user.organism,
        "recent_jobs": list(Job.objects.filter(owner=user).order_by("-created_at")[:3]),
    }
    return render(request, "campus/home.html", context)


@login_required
@never_cache
def job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    """A job's progress: the full page, or the polling fragment for htmx."""
    job = get_job_for_user(request.user, job_id)
    if request.htmx:
        response = render(request, "campus/partials/job_progress.html", {"job": job})
        if job.is_finished:
            # Tell htmx to stop polling: the fragment it receives has no hx-trigger.
            response["HX-Trigger"] = "job-finished"
        return response
    return render(request, "campus/job.html", {"job": job})


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "campus/accessibility.html", {})


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "campus/privacy.html", {})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Pages without a <link rel=icon> (the Django admin) make browsers ask for /favicon.ico."""
    return redirect(static("img/favicon.svg"), permanent=True)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
