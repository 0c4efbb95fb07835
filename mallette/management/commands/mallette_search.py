"""Search the mallette from the command line.

    manage.py mallette_search "Comment déléguer sans perdre le contrôle ?" --json --limit 5
    manage.py mallette_search --jsonl < questions.jsonl     # {"question": ...} per line

Prints ``{"results": [{"id", "title", "themes", "score"}]}`` (one object per input line with
``--jsonl``, in order). Models load once per process.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mallette.search import search_practices


class Command(BaseCommand):
    help = "Cherche dans la mallette des pratiques (recherche hybride, par le sens et les mots)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("question", nargs="?", help="La question, en français.")
        parser.add_argument("--limit", type=int, default=5)
        parser.add_argument("--json", action="store_true", help="Sortie JSON.")
        parser.add_argument(
            "--jsonl", action="store_true", help='Lit des lignes JSON {"question": …} sur stdin.'
        )

    def handle(
        self, *args: Any, question: str | None, limit: int, json: bool, jsonl: bool, **options: Any
    ) -> None:
        if not 1 <= limit <= 100:
            raise CommandError("--limit doit être compris entre 1 et 100.")
        if jsonl:
            self._jsonl(limit)
            return
        if not question or not question.strip():
            raise CommandError(
                "Donnez une question, ou utilisez --jsonl avec des questions sur stdin."
            )
        results = search_practices(question, limit)
        if json:
            self.stdout.write(_dumps({"results": results}))
            return
        if not results:
            self.stdout.write("Aucune pratique trouvée.")
        for rank, item in enumerate(results, start=1):
            self.stdout.write(
                f"{rank}. {item['title']}  [{', '.join(item['themes'])}]  ({item['score']:.4f})"
            )

    def _jsonl(self, limit: int) -> None:
        failed = 0
        stdin = getattr(self, "stdin", None) or sys.stdin
        for number, line in enumerate(stdin, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                question = item["question"]
                if not isinstance(question, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                failed += 1
                self.stdout.write(
                    _dumps(
                        {
                            "results": [],
                            "error": f'ligne {number} : objet JSON avec une clé "question" (texte) attendu',
                        }
                    )
                )
                continue
            self.stdout.write(_dumps({"results": search_practices(question, limit)}))
            self.stdout.flush()
        if failed:
            raise CommandError(f"{failed} ligne(s) illisible(s).")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
