"""`manage.py import_people FILE`: the directory import, run synchronously (same rules as the
HR admin page: all or nothing, a report of the rejected rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from campus.models import Organisation
from campus.people_import import (
    ImportFileError,
    ImportRejected,
    file_too_large_message,
    import_report_write,
    people_import,
)


class Command(BaseCommand):
    help = (
        "Importe les personnes et les équipes d’un fichier CSV (UTF-8) ou Excel (.xlsx) : "
        "tout ou rien, avec un rapport des lignes rejetées."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="Fichier CSV ou XLSX à importer.")
        parser.add_argument(
            "--organisation",
            metavar="SLUG",
            help="Identifiant de l’organisation (facultatif s’il n’y en a qu’une).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Vérifie le fichier sans rien importer.",
        )
        parser.add_argument(
            "--report",
            metavar="CHEMIN",
            help="Où écrire le rapport des lignes rejetées (par défaut : à côté du fichier).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"]).expanduser()
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        size = path.stat().st_size
        if size > settings.CAMPUS_IMPORT_MAX_BYTES:
            raise CommandError(file_too_large_message(size))
        organisation = self._organisation(options["organisation"])
        verbosity = options["verbosity"]

        def progress(percent: float, message: str = "", *, force: bool = False) -> None:
            # Phase changes are forced; the row counters only show with -v 2.
            if message and (verbosity >= 2 or (force and verbosity >= 1)):
                self.stdout.write(f"{int(percent):3d} % · {message}")

        try:
            summary = people_import(
                path=path,
                organisation=organisation,
                dry_run=options["dry_run"],
                progress=progress,
            )
        except ImportFileError as exc:
            raise CommandError(exc.message) from None
        except ImportRejected as exc:
            report = Path(options["report"] or path.with_name(f"{path.stem}-rejets.csv"))
            import_report_write(rejections=exc.rejections, path=report)
            self.stderr.write(f"Rapport des lignes rejetées : {report}")
            raise CommandError(exc.summary(f"Rapport des lignes à corriger : {report}")) from None
        self.stdout.write(self.style.SUCCESS(summary.message()))

    def _organisation(self, slug: str | None) -> Organisation:
        if slug:
            try:
                return Organisation.objects.get(slug=slug)
            except Organisation.DoesNotExist:
                raise CommandError(f"Organisation inconnue : {slug}") from None
        organisations = list(Organisation.objects.order_by("slug")[:20])
        if len(organisations) == 1:
            return organisations[0]
        if not organisations:
            raise CommandError("Aucune organisation : créez-en une d’abord.")
        slugs = ", ".join(o.slug for o in organisations)
        raise CommandError(f"Précisez l’organisation avec --organisation ({slugs}).")
