from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def people_import(request: HttpRequest) -> HttpResponse:
    if not request.user.is_hr_admin:
        raise Http404
    return render(request, "campus/people_import.html", {})


@login_required
def import_report(request: HttpRequest, job_id: str) -> HttpResponse:
    raise Http404
