"""`manage.py seed_demo`: load the demo organisation (idempotent; `--reset` starts over)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from campus.demo import DEMO_LOGINS, DemoResetRefused, demo_delete, demo_min_managers, demo_seed


def _n(value: int) -> str:
    """French thousands separator (narrow no-break space): 1 000."""
    return f"{value:,}".replace(",", "\u202f")


class Command(BaseCommand):
    help = (
        "Charge l’organisation de démonstration : 33 organismes, 1 000 managers et leurs "
        "équipes. Ne fait rien si elle existe déjà."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--seed", type=int, default=2026, help="Graine du tirage (même graine, mêmes données)."
        )
        parser.add_argument(
            "--managers", type=int, default=1000, help="Nombre de managers (1 000 par défaut)."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Supprime d’abord l’organisation de démonstration et toutes ses personnes.",
        )

    def handle(self, *args: Any, seed: int, managers: int, reset: bool, **options: Any) -> None:
        if managers < demo_min_managers():
            raise CommandError(f"--managers doit valoir au moins {demo_min_managers()}.")
        if reset:
            try:
                deleted = demo_delete()
            except DemoResetRefused as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Organisation de démonstration supprimée ({_n(deleted)} personnes).")

        started = time.monotonic()
        counts = demo_seed(seed=seed, managers=managers)
        elapsed = f"{time.monotonic() - started:.1f}".replace(".", ",")
        if counts["created"]:
            self.stdout.write(
                self.style.SUCCESS(f"Organisation de démonstration créée en {elapsed} s.")
            )
        else:
            self.stdout.write(
                "L’organisation de démonstration existe déjà : rien n’a été créé "
                "(--reset pour la recréer)."
            )
        self.stdout.write(
            "\n".join(
                [
                    f"  {_n(counts['branches'])} branches, {_n(counts['organisms'])} organismes, "
                    f"{_n(counts['teams'])} équipes",
                    f"  {_n(counts['managers'])} managers : {_n(counts['director'])} directions, "
                    f"{_n(counts['strategic'])} stratégiques, {_n(counts['middle'])} "
                    f"intermédiaires, {_n(counts['proximity'])} de proximité",
                    f"  {_n(counts['collaborators'])} collaborateurs, {_n(counts['hr'])} comptes RH "
                    f"({_n(counts['people'])} personnes en tout)",
                    "",
                    f"Comptes de démonstration (mot de passe : {settings.CAMPUS_DEMO_PASSWORD}) :",
                    *(f"  {label:<22} {email}" for label, email in DEMO_LOGINS),
                ]
            )
        )
