"""`manage.py ai_eval`: the development sets of Campus's AI features, measured.

* PII (``pii_dev.jsonl``): share of ``pii`` strings gone from the anonymised text, share of
  ``quasi`` strings gone, share of ``keep`` strings still there (all case-insensitive), the
  throughput and the total time including the model load.
* Coach retrieval (``coach_dev.jsonl``): top-1 and top-3 theme accuracy of
  ``mallette.search.search_practices`` once the practice library exists.
* Coach answers (``coach_dev.jsonl`` and ``offtopic_dev.jsonl``): what ``manage.py coach_ask``
  returns — share of management questions with a cited practice of an expected theme in the
  top 3 (and not declined), share of off-topic questions declined with no source, latency.

The sets live outside the repository, in ``<repo>/../shared/eval/`` by default. ``--check``
exits with an error when a target is missed (PII removed ≥ 97 %, kept ≥ 95 %; coach answers
top-3 ≥ 90 %, off-topic declined 100 %).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PII_TARGET = 0.97
KEEP_TARGET = 0.95
COACH_TARGET = 0.90
NOT_AVAILABLE = "retrieval: not available yet (practice library not built)"


def _default_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "eval"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise CommandError(
            f"Jeu d’évaluation introuvable : {path}. Indiquez son chemin (--pii / --coach) "
            "ou placez les fichiers dans ../shared/eval/ à côté du dépôt."
        )
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CommandError(f"{path}, ligne {number} : JSON invalide ({exc.msg}).") from None
    return rows


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def pii_evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Run the anonymiser over the rows and score it; model load included in the time."""
    from campus.ai.anonymise import anonymise_many, anonymiser_warmup

    started = time.perf_counter()
    anonymiser_warmup()
    loaded = time.perf_counter()
    texts = [str(row.get("text", "")) for row in rows]
    names = [row.get("known_names") or [] for row in rows]
    outputs = anonymise_many(texts, known_names_list=names)
    finished = time.perf_counter()

    counts = {"pii": [0, 0], "quasi": [0, 0], "keep": [0, 0]}
    misses: list[dict[str, Any]] = []
    for row, output in zip(rows, outputs, strict=True):
        lowered = output.lower()
        leaked = [s for s in row.get("pii", []) if s.lower() in lowered]
        quasi_left = [s for s in row.get("quasi", []) if s.lower() in lowered]
        lost = [s for s in row.get("keep", []) if s.lower() not in lowered]
        for key, left in (("pii", leaked), ("quasi", quasi_left)):
            total = len(row.get(key, []))
            counts[key][0] += total - len(left)
            counts[key][1] += total
        counts["keep"][0] += len(row.get("keep", [])) - len(lost)
        counts["keep"][1] += len(row.get("keep", []))
        if leaked or lost:
            misses.append(
                {"id": row.get("id", ""), "leaked": leaked, "lost": lost, "output": output}
            )
    processing = finished - loaded
    return {
        "items": len(rows),
        "pii_removed": _share(*counts["pii"]),
        "pii_strings": counts["pii"][1],
        "quasi_removed": _share(*counts["quasi"]),
        "quasi_strings": counts["quasi"][1],
        "keep": _share(*counts["keep"]),
        "keep_strings": counts["keep"][1],
        "model_load_seconds": round(loaded - started, 2),
        "processing_seconds": round(processing, 2),
        "total_seconds": round(finished - started, 2),
        "texts_per_second": round(len(rows) / processing, 1) if processing > 0 else None,
        "misses": misses,
    }


def coach_evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Top-1 / top-3 theme accuracy of the practice search, or why it cannot run yet."""
    try:
        from mallette.search import search_practices
    except ImportError:
        return {"available": False, "reason": NOT_AVAILABLE}

    from django.db import DatabaseError

    top1 = top3 = 0
    any_result = False
    started = time.perf_counter()
    try:
        for row in rows:
            expected = set(row.get("themes", []))
            results = search_practices(str(row.get("question", "")), 3)
            any_result = any_result or bool(results)
            themes = [set(result.get("themes") or []) for result in results[:3]]
            if themes and themes[0] & expected:
                top1 += 1
            if any(t & expected for t in themes):
                top3 += 1
    except DatabaseError as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return {
            "available": False,
            "reason": f"{NOT_AVAILABLE} — base de données non migrée ({detail}) : "
            "lancez manage.py migrate",
        }
    if not any_result:
        return {"available": False, "reason": f"{NOT_AVAILABLE} — aucune pratique publiée"}
    elapsed = time.perf_counter() - started
    return {
        "available": True,
        "items": len(rows),
        "top1": _share(top1, len(rows)),
        "top3": _share(top3, len(rows)),
        "seconds": round(elapsed, 2),
    }


def coach_answers_evaluate(
    rows: list[dict[str, Any]], offtopic: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the coach answers (offline unless an LLM is configured), as ``coach_ask`` does."""
    from coach.answering import answer

    latencies: list[float] = []

    def ask(question: str) -> dict[str, Any]:
        started = time.perf_counter()
        data = answer(question).as_json()
        latencies.append(time.perf_counter() - started)
        return data

    top3 = declined_on_topic = 0
    for row in rows:
        data = ask(str(row.get("question", "")))
        expected = set(row.get("themes", []))
        declined_on_topic += bool(data["declined"])
        if not data["declined"] and any(expected & set(s["themes"]) for s in data["sources"][:3]):
            top3 += 1
    declined = 0
    for row in offtopic:
        data = ask(str(row.get("question", "")))
        declined += bool(data["declined"] and not data["sources"])
    latencies.sort()
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)] if latencies else 0.0
    return {
        "items": len(rows),
        "top3": _share(top3, len(rows)),
        "declined_on_topic": declined_on_topic,
        "offtopic_items": len(offtopic),
        "offtopic_declined": _share(declined, len(offtopic)),
        "p95_ms": round(p95 * 1000),
    }


class Command(BaseCommand):
    help = (
        "Évalue les fonctions d’IA sur les jeux de développement : anonymisation (PII retirées, "
        "quasi-identifiants, termes conservés, débit) et recherche de pratiques (top-1/top-3)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--pii", metavar="CHEMIN", help="Jeu PII (pii_dev.jsonl par défaut).")
        parser.add_argument(
            "--coach", metavar="CHEMIN", help="Jeu du coach (coach_dev.jsonl par défaut)."
        )
        parser.add_argument(
            "--offtopic", metavar="CHEMIN", help="Questions hors sujet (offtopic_dev.jsonl)."
        )
        parser.add_argument("--json", action="store_true", help="Résultats en JSON.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Échoue si les cibles PII ne sont pas atteintes (≥ 97 % retirées, ≥ 95 % conservés).",
        )
        parser.add_argument(
            "--skip-coach", action="store_true", help="N’évalue pas la recherche de pratiques."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = _default_dir()
        pii_path = Path(options["pii"] or directory / "pii_dev.jsonl").expanduser()
        coach_path = Path(options["coach"] or directory / "coach_dev.jsonl").expanduser()
        pii_rows = _read_jsonl(pii_path)
        coach_rows = None if options["skip_coach"] else _read_jsonl(coach_path)
        pii = pii_evaluate(pii_rows)
        coach = None if coach_rows is None else coach_evaluate(coach_rows)
        answers = None
        if coach is not None and coach.get("available"):
            offtopic_path = Path(
                options["offtopic"] or directory / "offtopic_dev.jsonl"
            ).expanduser()
            answers = coach_answers_evaluate(coach_rows or [], _read_jsonl(offtopic_path))

        if options["json"]:
            report = {
                "pii": {k: v for k, v in pii.items() if k != "misses"},
                "coach": coach,
                "coach_answers": answers,
            }
            if options["verbosity"] >= 2:
                report["pii"]["misses"] = pii["misses"]
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            self._print(pii_path, pii, coach_path, coach, options["verbosity"])
            if answers is not None:
                w = self.stdout.write
                w("Coach answers (coach_ask)")
                w(f"  top-3 theme, not declined: {_percent(answers['top3'])}")
                w(f"  management questions declined: {answers['declined_on_topic']}")
                w(
                    f"  off-topic declined:  {_percent(answers['offtopic_declined'])} of "
                    f"{answers['offtopic_items']}"
                )
                w(f"  p95 per answer:      {answers['p95_ms']} ms")

        if options["check"]:
            failures = []
            if pii["pii_removed"] is not None and pii["pii_removed"] < PII_TARGET:
                failures.append(f"PII retirées {_percent(pii['pii_removed'])} < 97 %")
            if pii["keep"] is not None and pii["keep"] < KEEP_TARGET:
                failures.append(f"termes conservés {_percent(pii['keep'])} < 95 %")
            if answers is not None:
                if answers["top3"] is not None and answers["top3"] < COACH_TARGET:
                    failures.append(f"coach top-3 {_percent(answers['top3'])} < 90 %")
                if answers["offtopic_declined"] is not None and answers["offtopic_declined"] < 1:
                    failures.append(
                        f"hors sujet refusés {_percent(answers['offtopic_declined'])} < 100 %"
                    )
            if failures:
                raise CommandError("Cibles non atteintes : " + " ; ".join(failures) + ".")

    def _print(
        self,
        pii_path: Path,
        pii: dict[str, Any],
        coach_path: Path,
        coach: dict[str, Any] | None,
        verbosity: int,
    ) -> None:
        w = self.stdout.write
        w(f"PII anonymiser — {pii_path}")
        w(f"  items:          {pii['items']}")
        w(f"  PII removed:    {_percent(pii['pii_removed'])} of {pii['pii_strings']} strings")
        w(f"  quasi removed:  {_percent(pii['quasi_removed'])} of {pii['quasi_strings']} strings")
        w(f"  keep:           {_percent(pii['keep'])} of {pii['keep_strings']} strings")
        w(
            f"  throughput:     {pii['texts_per_second']} texts/s; total "
            f"{pii['total_seconds']} s including model load {pii['model_load_seconds']} s"
        )
        if verbosity >= 2:
            for miss in pii["misses"]:
                w(f"  - {miss['id']}: leaked={miss['leaked']} lost={miss['lost']}")
                w(f"      {miss['output']}")
        if coach is None:
            return
        w(f"Coach retrieval — {coach_path}")
        if not coach["available"]:
            w(f"  {coach['reason']}")
            return
        w(f"  items:          {coach['items']}")
        w(f"  top-1 theme:    {_percent(coach['top1'])}")
        w(f"  top-3 theme:    {_percent(coach['top3'])}")
        w(f"  time:           {coach['seconds']} s")
