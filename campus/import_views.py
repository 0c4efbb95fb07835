"""The people and teams import: upload page, rejected-rows report, CSV template."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from campus.access import get_job_for_user
from campus.forms import PeopleImportForm
from campus.people_import import (
    COLUMNS,
    IMPORT_JOB_KIND,
    import_job_start,
    import_report_path,
)

# The template: one director, one manager, one collaborator, with a new organism and teams.
TEMPLATE_ROWS = [
    list(COLUMNS),
    [
        "claire.martin@cpam-rhone.fr",
        "Claire",
        "Martin",
        "cpam-rhone",
        "CPAM du Rhône",
        "maladie",
        "Auvergne-Rhône-Alpes",
        "direction",
        "Direction",
        "",
        "direction",
        "",
        "direction",
        "admin_rh",
        "Directrice",
    ],
    [
        "karim.benali@cpam-rhone.fr",
        "Karim",
        "Benali",
        "cpam-rhone",
        "",
        "",
        "",
        "accueil-lyon",
        "Accueil Lyon 3e",
        "direction",
        "accueil-lyon",
        "claire.martin@cpam-rhone.fr",
        "proximite",
        "",
        "Responsable d’accueil",
    ],
    [
        "lea.dubois@cpam-rhone.fr",
        "Léa",
        "Dubois",
        "cpam-rhone",
        "",
        "",
        "",
        "accueil-lyon",
        "",
        "",
        "",
        "karim.benali@cpam-rhone.fr",
        "",
        "",
        "Conseillère d’accueil",
    ],
]


def _hr_admin_only(request: HttpRequest) -> None:
    if not request.user.is_hr_admin:
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def people_import(request: HttpRequest) -> HttpResponse:
    """Upload form; a valid upload starts the import job and shows its progress page."""
    _hr_admin_only(request)
    if request.method == "POST":
        form = PeopleImportForm(request.POST, request.FILES)
        if form.is_valid():
            job = import_job_start(
                owner=request.user,
                uploaded=form.cleaned_data["file"],
                kind=form.file_kind,
                dry_run=form.cleaned_data["dry_run"],
            )
            return redirect("job_status", job_id=job.pk)
    else:
        form = PeopleImportForm()
    return render(request, "campus/people_import.html", {"form": form})


@login_required
@require_GET
@never_cache
def import_report(request: HttpRequest, job_id: str) -> FileResponse:
    """The rejected rows of one of the user's own import jobs."""
    _hr_admin_only(request)
    job = get_job_for_user(request.user, job_id)
    if job.kind != IMPORT_JOB_KIND:
        raise Http404
    path = import_report_path(job_id=job.pk)
    if not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"rapport-import-{job.created_at:%Y-%m-%d-%H%M}.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_GET
def people_import_template(request: HttpRequest) -> HttpResponse:
    """An example file with every column, ready to open in Excel (";", UTF-8 with BOM)."""
    _hr_admin_only(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="modele.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerows(TEMPLATE_ROWS)
    return response
