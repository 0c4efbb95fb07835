from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from campus.access import get_job_for_user
from campus.models import Job


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The manager's home: one card per feature with its next step."""
    user = request.user
    recent_jobs = Job.objects.filter(owner=user).order_by("-created_at")[:3]
    context = {
        "team_size": user.reports.filter(is_active=True).count() if user.is_manager else 0,
        "recent_jobs": recent_jobs,
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
