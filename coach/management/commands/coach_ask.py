"""Ask the coach from the command line.

    manage.py coach_ask "Comment déléguer sans perdre le contrôle ?" --json
    manage.py coach_ask --jsonl < questions.jsonl     # {"question": ...} per line

Prints ``{"answer", "declined", "sources": [{"id", "title", "themes"}]}`` (one object per input
line with ``--jsonl``, in order); ``declined`` is true, with no sources, for an off-topic
question or when nothing relevant was found. Models load once per process. The coach answers
as for the organisation given with ``--organisation`` (its slug; default: the only one, if
there is exactly one), from the editorial library and that organisation's national practices.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from campus.models import Organisation
from coach.answering import Answer, answer
from mallette.models import Practice
from mallette.services import practices_index


class Command(BaseCommand):
    help = "Pose une question au coach Liza (réponse citant la mallette, ou refus motivé)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("question", nargs="?", help="La question, en français.")
        parser.add_argument("--json", action="store_true", help="Sortie JSON.")
        parser.add_argument(
            "--jsonl", action="store_true", help='Lit des lignes JSON {"question": …} sur stdin.'
        )
        parser.add_argument("--organisation", help="Identifiant (slug) de l’organisation.")

    def handle(
        self,
        *args: Any,
        question: str | None,
        json: bool,
        jsonl: bool,
        organisation: str | None,
        **options: Any,
    ) -> None:
        org = self._organisation(organisation)
        scope = Q(organisation__isnull=True)
        if org is not None:
            scope |= Q(organisation=org)
        practices_index(queryset=Practice.objects.filter(scope))  # no-op when up to date
        if jsonl:
            self._jsonl(org)
            return
        if not question or not question.strip():
            raise CommandError(
                "Donnez une question, ou utilisez --jsonl avec des questions sur stdin."
            )
        result = answer(question, organisation=org)
        if json:
            self.stdout.write(_dumps(result.as_json()))
            return
        self.stdout.write(_text(result))

    def _organisation(self, slug: str | None) -> Organisation | None:
        if slug:
            found = Organisation.objects.filter(slug=slug).first()
            if found is None:
                raise CommandError(f"Aucune organisation « {slug} ».")
            return found
        organisations = list(Organisation.objects.all()[:2])
        return organisations[0] if len(organisations) == 1 else None

    def _jsonl(self, org: Organisation | None) -> None:
        failed = 0
        stdin = getattr(self, "stdin", None) or sys.stdin
        for number, line in enumerate(stdin, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                question = item["question"]
                if not isinstance(question, str) or not question.strip():
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                failed += 1
                self.stdout.write(
                    _dumps(
                        {
                            "answer": "",
                            "declined": True,
                            "sources": [],
                            "error": f'ligne {number} : objet JSON avec une clé "question" '
                            "(texte non vide) attendu",
                        }
                    )
                )
                continue
            self.stdout.write(_dumps(answer(question, organisation=org).as_json()))
            self.stdout.flush()
        if failed:
            raise CommandError(f"{failed} ligne(s) illisible(s).")


def _text(result: Answer) -> str:
    lines = [result.text]
    if result.practices:
        lines.append("")
        lines.append("Sources :")
        for number, practice in enumerate(result.practices, start=1):
            lines.append(f"  [{number}] {practice.title} (n° {practice.pk})")
    return "\n".join(lines)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
