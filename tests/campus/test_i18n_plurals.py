"""The French catalogue (locale/fr): French plural forms for the French source strings.

Without a catalogue entry Django falls back to the English rule (singular only for 1), so a page
would say "0 réponses". The catalogue copies each plural msgid as its own translation under
``plural=(n > 1)``. These tests keep it in step with the code without needing GNU gettext: they
extract the plural strings the way ``makemessages`` does (Django's own ``templatize`` for
templates, the ``ngettext`` keywords for Python), and read the .po and the .mo in Python."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation.template import templatize

from campus.people_import import ImportSummary
from communities import services as community_services
from communities.models import Thread
from tests.communities.conftest import access_of, make_group

ROOT = Path(settings.BASE_DIR)
MESSAGES = ROOT / "locale" / "fr" / "LC_MESSAGES"
PO = MESSAGES / "django.po"
MO = MESSAGES / "django.mo"
PLURAL_FORMS = "nplurals=2; plural=(n > 1);"
OUT_OF_DATE = "run `make messages` and commit locale/fr/ (see README, Developing)"

# (msgctxt or None, msgid, msgid_plural)
Plural = tuple[str | None, str, str]


# --- Reading the catalogue -------------------------------------------------------------------------
@dataclass
class PoEntry:
    context: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


_PO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _po_string(quoted: str) -> str:
    assert quoted.startswith('"') and quoted.endswith('"'), quoted
    return re.sub(r"\\(.)", lambda m: _PO_ESCAPES[m[1]], quoted[1:-1])


def read_po(path: Path) -> list[PoEntry]:
    """Entries of a .po file, header first; obsolete (``#~``) entries are left out."""
    entries: list[PoEntry] = []
    entry = PoEntry()
    started = False  # a keyword line of ``entry`` was read
    last = ""  # the keyword that continuation lines extend

    def finish() -> None:
        nonlocal entry, started
        if started:
            entries.append(entry)
        entry, started = PoEntry(), False

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#~"):
            continue
        if not line.strip() or line.startswith("#"):
            # A comment belongs to the next entry.
            finish()
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith('"'):
            value = _po_string(line)
        else:
            keyword, _, quoted = line.partition(" ")
            if keyword == "msgctxt" or (keyword == "msgid" and last != "msgctxt"):
                finish()
            started, last, value = True, keyword, _po_string(quoted)
            if last == "msgstr":
                last = "msgstr[0]"
            if last.startswith("msgstr"):
                entry.msgstr[int(last[7:-1])] = ""
        if last.startswith("msgstr"):
            entry.msgstr[int(last[7:-1])] += value
        else:
            attribute = {"msgctxt": "context", "msgid": "msgid", "msgid_plural": "msgid_plural"}
            name = attribute[last]
            setattr(entry, name, (getattr(entry, name) or "") + value)
    finish()
    return entries


def po_header(entries: list[PoEntry]) -> dict[str, str]:
    header = entries[0]
    assert header.msgid == "" and header.context is None, "the .po must start with its header"
    fields: dict[str, str] = {}
    for line in header.msgstr[0].splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def plurals_of(entries: list[PoEntry]) -> dict[Plural, PoEntry]:
    return {(e.context, e.msgid, e.msgid_plural): e for e in entries if e.msgid_plural}


# --- Extracting the plural strings from the code, as makemessages does --------------------------
_LITERAL = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
# What django.utils.translation.template.templatize writes for {% blocktranslate count %}.
_TEMPLATE_NGETTEXT = re.compile(rf" ngettext\(({_LITERAL}), ({_LITERAL}), count\) ")
_TEMPLATE_NPGETTEXT = re.compile(rf" npgettext\(({_LITERAL}), ({_LITERAL}), ({_LITERAL}),count\) ")
# makemessages' xgettext keywords with a plural (xgettext's own ngettext included).
_PYTHON_NGETTEXT = {"ngettext", "ngettext_lazy", "ungettext", "ungettext_lazy"}
_PYTHON_NPGETTEXT = {"npgettext", "npgettext_lazy"}


def _source_files() -> list[Path]:
    """Templates (TEMPLATES DIRS) and the project's own apps, skipping hidden folders like
    makemessages (so .venv's packages are not ours)."""
    roots = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    for config in apps.get_app_configs():
        path = Path(config.path)
        if path.is_relative_to(ROOT) and not path.relative_to(ROOT).parts[0].startswith("."):
            roots.append(path)
    files: set[Path] = set()
    for root in roots:
        for path in root.rglob("*"):
            relative = path.relative_to(ROOT).parts
            if path.suffix in (".py", ".html", ".txt") and not any(
                part.startswith(".") or part == "__pycache__" for part in relative
            ):
                files.add(path)
    return sorted(files)


def _python_plurals(source: str) -> list[Plural]:
    found: list[Plural] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        size = 2 if name in _PYTHON_NGETTEXT else 3 if name in _PYTHON_NPGETTEXT else 0
        strings = [
            a.value
            for a in node.args[:size]
            if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        # Like xgettext, only literal strings: a variable msgid cannot be in a catalogue.
        if size and len(strings) == size:
            found.append(
                (None, strings[0], strings[1])
                if size == 2
                else (strings[0], strings[1], strings[2])
            )
    return found


def _template_plurals(source: str, origin: str) -> list[Plural]:
    code = templatize(source, origin=origin)
    found: list[Plural] = [
        (None, ast.literal_eval(m[1]), ast.literal_eval(m[2]))
        for m in _TEMPLATE_NGETTEXT.finditer(code)
    ]
    found += [
        (ast.literal_eval(m[1]), ast.literal_eval(m[2]), ast.literal_eval(m[3]))
        for m in _TEMPLATE_NPGETTEXT.finditer(code)
    ]
    return found


def source_plurals() -> dict[Plural, list[str]]:
    """Every plural string in the code, with the files that use it."""
    found: dict[Plural, list[str]] = {}
    for path in _source_files():
        text = path.read_text(encoding="utf-8")
        relative = str(path.relative_to(ROOT))
        strings = (
            _python_plurals(text) if path.suffix == ".py" else _template_plurals(text, relative)
        )
        for plural in strings:
            found.setdefault(plural, []).append(relative)
    return found


@pytest.fixture(scope="module")
def entries() -> list[PoEntry]:
    return read_po(PO)


# --- The catalogue ---------------------------------------------------------------------------------
def test_catalogue_declares_the_french_plural_rule(entries):
    header = po_header(entries)
    assert header["Language"] == "fr"
    assert header["Plural-Forms"] == PLURAL_FORMS
    assert "fuzzy" not in entries[0].flags, "a fuzzy header is not compiled"
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    assert compiled.info()["plural-forms"] == PLURAL_FORMS
    assert [compiled.plural(n) for n in (0, 1, 2, 10)] == [0, 0, 1, 1]


def test_every_plural_string_of_the_code_is_in_the_catalogue(entries):
    in_code = source_plurals()
    # The extraction must keep working: these are used in templates and in Python code.
    assert (None, "%(counter)s réponse", "%(counter)s réponses") in in_code
    assert (None, "%(count)s personne importée", "%(count)s personnes importées") in in_code
    in_catalogue = plurals_of(entries)
    missing = [
        f"{plural[1]!r} ({', '.join(sorted(set(files)))})"
        for plural, files in in_code.items()
        if plural not in in_catalogue
    ]
    stale = [repr(plural[1]) for plural in in_catalogue if plural not in in_code]
    assert not missing, f"plural strings missing from locale/fr: {OUT_OF_DATE}: " + "; ".join(
        missing
    )
    assert not stale, f"plural strings no longer in the code: {OUT_OF_DATE}: " + "; ".join(stale)


def test_plural_entries_copy_the_french_text_and_nothing_else_is_translated(entries):
    wrong = []
    for e in entries[1:]:
        expected = {0: e.msgid, 1: e.msgid_plural} if e.msgid_plural else {0: ""}
        if e.msgstr != expected or "fuzzy" in e.flags:
            wrong.append(f"{e.msgid!r}: {e.msgstr!r} {sorted(e.flags)}")
    assert not wrong, f"{OUT_OF_DATE}; hand edits are overwritten: " + "; ".join(wrong)


def test_compiled_catalogue_matches_the_po(entries):
    """The .mo is what Django reads: it must hold exactly the .po's translations."""
    expected: dict[object, str] = {"": entries[0].msgstr[0]}
    for e in entries[1:]:
        key = f"{e.context}\x04{e.msgid}" if e.context is not None else e.msgid
        if e.msgid_plural:
            expected.update({(key, i): text for i, text in e.msgstr.items()})
        elif e.msgstr[0]:
            expected[key] = e.msgstr[0]
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    assert compiled._catalog == expected, f"locale/fr/LC_MESSAGES/django.mo is stale: {OUT_OF_DATE}"


def test_django_gives_the_singular_for_0_and_1_for_every_plural_string(entries):
    wrong = []
    with translation.override("fr"):
        for context, msgid, msgid_plural in plurals_of(entries):
            for n in (0, 1, 2):
                if context is None:
                    text = translation.ngettext(msgid, msgid_plural, n)
                else:
                    text = translation.npgettext(context, msgid, msgid_plural, n)
                if text != (msgid if n < 2 else msgid_plural):
                    wrong.append(f"{msgid!r} n={n}: {text!r}")
    assert not wrong, "settings.LOCALE_PATHS must include locale/: " + "; ".join(wrong)


def test_other_strings_keep_their_french_text():
    with translation.override("fr"):
        assert translation.gettext("Membres") == "Membres"
        assert translation.gettext("Français") == "Français"
        # Django's own French catalogue still applies to Django's strings.
        assert translation.gettext("This field is required.") == "Ce champ est obligatoire."


# --- Real templates and code -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0 pratique ·"), (1, "1 pratique ·"), (2, "2 pratiques ·")]
)
def test_practice_book_counts_practices_in_french(n, expected):
    book = SimpleNamespace(
        organisation_name="Caisse test", practice_count=n, chapters=[], generated_at=timezone.now()
    )
    with translation.override("fr"):
        html = render_to_string("mallette/partials/book_content.html", {"book": book})
    assert expected in html
    assert "0 thème ·" in html


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (0, "0 personne importée"),
        (1, "1 personne importée (1 créée)"),
        (2, "2 personnes importées (2 créées)"),
    ],
)
def test_import_summary_counts_people_in_french(created, expected):
    summary = ImportSummary(
        rows=created,
        created=created,
        updated=0,
        unchanged=0,
        teams=0,
        teams_created=0,
        organisms_created=0,
        dry_run=False,
    )
    with translation.override("fr"):
        assert summary.message().startswith(expected)


@pytest.mark.django_db
def test_thread_page_says_0_reponse_1_reponse_2_reponses(client, manager):
    group = make_group(manager)
    thread = community_services.thread_create(
        access=access_of(manager, group),
        author=manager,
        title="Comment déléguer sans tout contrôler ?",
        body="Je cherche des idées.",
    )
    client.force_login(manager)
    url = reverse("communities:thread", args=[thread.pk])
    for n, expected in (
        (0, r"\b0 réponse\b"),
        (1, r"\b1 réponse\b"),
        (2, r"\b2 réponses\b"),
    ):
        Thread.objects.filter(pk=thread.pk).update(reply_count=n)
        page = client.get(url).content.decode()
        assert re.search(expected, page), f"reply_count={n}"
