"""`manage.py anonymise`: scrub personal data from JSON Lines, stdin → stdout, locally.

Each input line is an object with a ``text`` string and optionally ``known_names`` (a list of
full names of the team and its manager, matched as a deny-list). Each output line is the same
object, same keys in the same order, with ``text`` replaced by its anonymised version. A line
that cannot be read gets ``{"error": "..."}`` (in French) on its output line; the others go on,
and the command exits with status 1 at the end. Blank lines are skipped.

Lines are read and written in chunks so that a long stream is processed with bounded memory
and the spaCy model (loaded once) works on batches.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any, Protocol

from django.core.management.base import BaseCommand, CommandError

CHUNK = 256


def _lines(stream: IO[Any]) -> Iterator[str | bytes]:
    """Lines as bytes from a real stdin (decoded per line, so one bad line stays one error)."""
    buffer = getattr(stream, "buffer", None)
    source: Iterable[str | bytes] = buffer if buffer is not None else stream
    yield from source


_JSON_ERRORS = {
    "Expecting value": "valeur attendue",
    "Extra data": "données en trop après l’objet",
    "Unterminated string starting at": "chaîne non terminée",
    "Expecting property name enclosed in double quotes": "nom de clé entre guillemets attendu",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Invalid control character at": "caractère de contrôle interdit",
    "Invalid \\escape": "échappement invalide",
}


def _parse(raw: str | bytes, number: int) -> tuple[dict[str, Any] | None, str]:
    """The object of one line, or None and a French error message."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, f"ligne {number} : encodage invalide (UTF-8 attendu)"
    raw = raw.lstrip("\ufeff")
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        reason = _JSON_ERRORS.get(exc.msg, exc.msg)
        return None, f"ligne {number} : JSON invalide ({reason}, colonne {exc.colno})"
    if not isinstance(obj, dict):
        return None, f"ligne {number} : un objet JSON est attendu"
    if not isinstance(obj.get("text"), str):
        return None, f"ligne {number} : le champ « text » (texte) est obligatoire"
    names = obj.get("known_names", [])
    if names is None:
        names = []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None, f"ligne {number} : « known_names » doit être une liste de noms (textes)"
    return obj, ""


class Command(BaseCommand):
    help = (
        "Anonymise des textes en JSON Lines lus sur l’entrée standard "
        '({"text": ..., "known_names": [...]}) et écrit une ligne JSON par entrée, dans le '
        "même ordre, avec « text » anonymisé. Tout est traité localement."
    )
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)

    def handle(self, *args: Any, **options: Any) -> None:
        from campus.ai.anonymise import anonymise_many

        stdin = options.get("stdin") or sys.stdin
        out = self._output()
        errors = 0
        number = 0
        chunk: list[tuple[dict[str, Any] | None, str]] = []

        def flush() -> None:
            valid = [obj for obj, _error in chunk if obj is not None]
            texts = [obj["text"] for obj in valid]
            names = [obj.get("known_names") or [] for obj in valid]
            results = iter(anonymise_many(texts, known_names_list=names) if texts else [])
            for obj, error in chunk:
                if obj is None:
                    out.write(json.dumps({"error": error}, ensure_ascii=False) + "\n")
                else:
                    obj["text"] = next(results)
                    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            out.flush()
            chunk.clear()

        for raw in _lines(stdin):
            number += 1
            stripped = raw.strip()
            if not stripped:
                continue
            obj, error = _parse(raw, number)
            if obj is None:
                errors += 1
            chunk.append((obj, error))
            if len(chunk) >= CHUNK:
                flush()
        flush()
        if errors:
            raise CommandError(
                f"{errors} ligne(s) invalide(s) : voir les objets « error » en sortie."
            )

    def _output(self) -> _Writer:
        """UTF-8 whatever the locale when writing to the real stdout."""
        target = self.stdout._out
        if target is sys.stdout and hasattr(sys.stdout, "buffer"):
            sys.stdout.flush()
            return _Utf8Writer(sys.stdout.buffer)
        return target


class _Writer(Protocol):
    def write(self, text: str, /) -> Any: ...
    def flush(self) -> Any: ...


class _Utf8Writer:
    def __init__(self, binary: IO[bytes]):
        self.binary = binary

    def write(self, text: str) -> None:
        self.binary.write(text.encode("utf-8"))

    def flush(self) -> None:
        self.binary.flush()
