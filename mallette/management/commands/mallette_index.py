from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from mallette.services import practices_index


class Command(BaseCommand):
    help = "Met à jour l’index de recherche des pratiques (texte intégral et embeddings)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if options["verbosity"] >= 1:
                self.stdout.write(f"\r  {done}/{total} pratiques vectorisées", ending="")
                self.stdout.flush()

        count = practices_index(progress=progress)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"\n{count} pratique(s) indexée(s) en {elapsed:.1f} s.")
