"""Registrants and attendance of one boost as CSV or XLSX (a few hundred rows: built in the
request; no job needed). Cells that a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from boosts.models import Boost, Registration
from campus.spreadsheets import safe_cell


def header() -> list[str]:
    return [
        _("Nom"),
        _("Prénom"),
        _("Adresse e-mail"),
        _("Organisme"),
        _("Niveau"),
        _("Statut"),
        _("Inscrit le"),
        _("Présent"),
    ]


def rows(boost: Boost) -> Iterable[list[object]]:
    registrations = (
        Registration.objects.filter(boost=boost)
        .select_related("user", "user__organism")
        .order_by("status", "user__last_name", "user__first_name", "pk")
    )
    for r in registrations:
        user = r.user
        yield [
            safe_cell(user.last_name),
            safe_cell(user.first_name),
            safe_cell(user.email),
            safe_cell(user.organism.name if user.organism_id else ""),
            str(user.get_level_display() or ""),
            str(r.get_status_display()),
            timezone.localtime(r.queued_at).strftime("%d/%m/%Y %H:%M"),
            timezone.localtime(r.checked_in_at).strftime("%d/%m/%Y %H:%M")
            if r.checked_in_at
            else "",
        ]


def as_csv(boost: Boost) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")  # French Excel expects semicolons
    writer.writerow(header())
    writer.writerows(rows(boost))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8


def as_xlsx(boost: Boost) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Inscrits"))
    sheet.append(header())
    for row in rows(boost):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
