"""People and teams import: read a CSV or XLSX file, check every row, then apply all or nothing.

The file is the HR information system's export: one row per person, with their organism, team,
n+1 and managerial level. Three phases:

1. **Read**: the content decides the format (a zip is an XLSX, anything else must be UTF-8 text);
   headers are matched without regard to case or accents.
2. **Check**, in Python and in linear time: each row alone, then across rows (duplicates,
   organisms and teams defined somewhere in the file, n+1 present in the file or the database,
   cycles in n+1 and parent-team links, walking each chain once). Any rejected row stops the
   import and yields a report of every problem, so the HR team fixes the file in one go.
3. **Write**, in one transaction and a constant number of statements: ids for new rows are
   drawn from the sequences up front, so every link (n+1, team, parent, team manager) is known
   before writing and each table is written once: ``COPY`` straight into the tables for new
   rows, ``COPY`` into a temporary table then one ``UPDATE … FROM`` for existing ones.

Validation reads the database outside the write transaction so that the job page can show
progress (a job's progress row written inside the transaction would stay invisible until the
commit). A session advisory lock keeps two imports of one organisation from interleaving; the
database constraints catch anything else that changed meanwhile, and the import is then undone.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import io
import re
import secrets
import unicodedata
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campus.jobs import JobError, JobReporter, job_create
from campus.models import Job, Level, Organisation, Role, User
from campus.spreadsheets import safe_cell

IMPORT_JOB_KIND = "people_import"
IMPORT_TASK_NAME = "campus.tasks.people_import"

# Canonical column names, as documented on the import page.
REQUIRED_COLUMNS = ("email", "prenom", "nom", "organisme")
OPTIONAL_COLUMNS = (
    "organisme_libelle",
    "branche",
    "region",
    "equipe",
    "equipe_libelle",
    "equipe_parente",
    "equipe_dirigee",
    "manager_email",
    "niveau",
    "roles",
    "fonction",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Other spellings met in HR exports, after folding (lower case, no accents, "_" between words).
_COLUMN_ALIASES = {
    "e_mail": "email",
    "mail": "email",
    "courriel": "email",
    "adresse_mail": "email",
    "adresse_email": "email",
    "adresse_e_mail": "email",
    "first_name": "prenom",
    "last_name": "nom",
    "nom_de_famille": "nom",
    "code_organisme": "organisme",
    "libelle_organisme": "organisme_libelle",
    "code_equipe": "equipe",
    "libelle_equipe": "equipe_libelle",
    "email_manager": "manager_email",
    "email_n_1": "manager_email",
    "n_1": "manager_email",
    "role": "roles",
    "level": "niveau",
    "poste": "fonction",
}

_LEVELS = {
    "proximite": Level.PROXIMITY,
    "manager_de_proximite": Level.PROXIMITY,
    "proximity": Level.PROXIMITY,
    "intermediaire": Level.MIDDLE,
    "manager_intermediaire": Level.MIDDLE,
    "middle": Level.MIDDLE,
    "strategique": Level.STRATEGIC,
    "manager_strategique": Level.STRATEGIC,
    "strategic": Level.STRATEGIC,
    "direction": Level.DIRECTOR,
    "directeur": Level.DIRECTOR,
    "directrice": Level.DIRECTOR,
    "director": Level.DIRECTOR,
}
_ROLES = {
    "manager": Role.MANAGER,
    "collaborateur": Role.COLLABORATOR,
    "collaboratrice": Role.COLLABORATOR,
    "collaborator": Role.COLLABORATOR,
    "admin_rh": Role.HR_ADMIN,
    "administrateur_rh": Role.HR_ADMIN,
    "administratrice_rh": Role.HR_ADMIN,
    "hr_admin": Role.HR_ADMIN,
    "analyste_rh": Role.HR_ANALYST,
    "hr_analyst": Role.HR_ANALYST,
    "animateur": Role.BOOST_HOST,
    "animatrice": Role.BOOST_HOST,
    "boost_host": Role.BOOST_HOST,
    "moderateur": Role.MODERATOR,
    "moderatrice": Role.MODERATOR,
    "moderator": Role.MODERATOR,
}
_ROLE_ORDER = {role: index for index, role in enumerate(Role.values)}
# Roles granted inside the campus rather than by the HR system: an empty "roles" cell keeps them,
# so that importing the HR export never locks the HR administrators out.
_CAMPUS_ROLES = frozenset({Role.HR_ADMIN, Role.HR_ANALYST, Role.BOOST_HOST, Role.MODERATOR})
_LEVEL_NAMES = "proximité, intermédiaire, stratégique, direction"
_ROLE_NAMES = "manager, collaborateur, admin_rh, analyste_rh, animateur, moderateur"

# Field limits of campus.models (checked here so that no row fails inside the database).
_MAX = {
    "email": 254,
    "prenom": 150,
    "nom": 150,
    "organisme": 60,
    "organisme_libelle": 200,
    "region": 80,
    "equipe": 80,
    "equipe_libelle": 200,
    "equipe_parente": 80,
    "equipe_dirigee": 80,
    "fonction": 200,
}
_LENGTH_CHECKED = (
    "prenom",
    "nom",
    "organisme",
    "organisme_libelle",
    "region",
    "equipe",
    "equipe_libelle",
    "equipe_parente",
    "equipe_dirigee",
    "fonction",
)
_SHORTEST_MAX = min(_MAX[column] for column in _LENGTH_CHECKED)
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_ROLE_SPLIT = re.compile(r"[;,|]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_EXCEL_SEPARATOR = re.compile(r"sep=([;,\t|])[ \t]*(?:\r\n|\r|\n|$)", re.IGNORECASE)
_XLSX_MAX_UNCOMPRESSED_RATIO = 40  # a zip bomb would expand far beyond this
_HEAD_BYTES = 64 * 1024
_ADVISORY_LOCK_CLASS = 0x43414D50  # "CAMP": namespace of this lock among advisory locks


class Progress(Protocol):
    def __call__(self, percent: float, message: str = "", *, force: bool = False) -> None: ...


def _no_progress(percent: float, message: str = "", *, force: bool = False) -> None:
    return None


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message (in French) says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    email: str
    column: str
    reason: str
    kind: str  # short label used to summarise the rejections in one sentence


class ImportRejected(Exception):
    """Some rows are wrong: nothing was written. ``rejections`` feed the report."""

    def __init__(self, rejections: list[Rejection], *, rows: int) -> None:
        self.rejections = sorted(rejections, key=lambda r: r.line)
        self.rows = rows
        self.lines = len({r.line for r in rejections})
        super().__init__(self.summary(""))

    def summary(self, hint: str) -> str:
        count = number_format(self.lines, force_grouping=True)
        text = ngettext(
            "%(count)s ligne rejetée : rien n’a été importé.",
            "%(count)s lignes rejetées : rien n’a été importé.",
            self.lines,
        ) % {"count": count}
        kinds = Counter(r.kind for r in self.rejections).most_common(4)
        details = ", ".join(
            f"{kind} ({number_format(n, force_grouping=True)})" for kind, n in kinds
        )
        text += " " + _("Motifs : %(details)s.") % {"details": details}
        return f"{text} {hint}" if hint else text


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    created: int
    updated: int
    unchanged: int
    teams: int
    teams_created: int
    organisms_created: int
    dry_run: bool
    ignored_columns: tuple[str, ...] = ()

    @property
    def people(self) -> int:
        return self.created + self.updated + self.unchanged

    def message(self) -> str:
        """E.g. "170 000 personnes importées (20 000 créées, 150 000 mises à jour), 4 321
        équipes (12 créées)." Parts that are zero are left out (French counts 0 as singular,
        which the untranslated plural rule gets wrong)."""

        def n(value: int) -> str:
            return number_format(value, force_grouping=True)

        dry = self.dry_run
        unchanged = (
            ngettext("%(count)s inchangée", "%(count)s inchangées", self.unchanged)
            % {"count": n(self.unchanged)}
            if self.unchanged
            else ""
        )
        if dry:
            text = ngettext(
                "Vérification réussie : %(count)s personne prête à être importée",
                "Vérification réussie : %(count)s personnes prêtes à être importées",
                self.people,
            ) % {"count": n(self.people)}
            parts = [
                _("%(count)s à créer") % {"count": n(self.created)} if self.created else "",
                _("%(count)s à mettre à jour") % {"count": n(self.updated)} if self.updated else "",
                unchanged,
            ]
        else:
            text = ngettext(
                "%(count)s personne importée", "%(count)s personnes importées", self.people
            ) % {"count": n(self.people)}
            parts = [
                ngettext("%(count)s créée", "%(count)s créées", self.created)
                % {"count": n(self.created)}
                if self.created
                else "",
                ngettext("%(count)s mise à jour", "%(count)s mises à jour", self.updated)
                % {"count": n(self.updated)}
                if self.updated
                else "",
                unchanged,
            ]
        details = ", ".join(part for part in parts if part)
        if details:
            text += " (" + details + ")"
        if self.teams:
            text += ", " + ngettext("%(count)s équipe", "%(count)s équipes", self.teams) % {
                "count": n(self.teams)
            }
            if self.teams_created:
                new = (
                    _("%(count)s à créer")
                    if dry
                    else ngettext("%(count)s créée", "%(count)s créées", self.teams_created)
                )
                text += " (" + new % {"count": n(self.teams_created)} + ")"
        if self.organisms_created:
            text += ", " + (
                ngettext(
                    "%(count)s organisme à créer",
                    "%(count)s organismes à créer",
                    self.organisms_created,
                )
                if dry
                else ngettext(
                    "%(count)s organisme créé", "%(count)s organismes créés", self.organisms_created
                )
            ) % {"count": n(self.organisms_created)}
        text += "."
        if dry:
            text += " " + _("Rien n’a été importé (vérification seule).")
        if self.ignored_columns:
            text += " " + _("Colonnes ignorées : %(columns)s.") % {
                "columns": ", ".join(self.ignored_columns)
            }
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "people": self.people,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "teams": self.teams,
            "teams_created": self.teams_created,
            "organisms_created": self.organisms_created,
            "dry_run": self.dry_run,
        }


# --- Reading --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """Lower case, accents removed, runs of other characters as one "_": "Équipe dirigée" →
    "equipe_dirigee"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def _not_a_table() -> ImportFileError:
    return ImportFileError(
        _(
            "Ce fichier n’est ni un CSV ni un classeur Excel (.xlsx). Dans votre tableur, "
            "utilisez « Enregistrer sous » et choisissez « CSV UTF-8 » ou « Classeur Excel (.xlsx) »."
        )
    )


def _not_utf8(line: int) -> ImportFileError:
    return ImportFileError(
        _(
            "Le fichier n’est pas encodé en UTF-8 (premier caractère illisible ligne %(line)s). "
            "Dans Excel, utilisez « Enregistrer sous > CSV UTF-8 (délimité par des virgules) », "
            "puis déposez le nouveau fichier."
        )
        % {"line": line}
    )


def _empty_file() -> ImportFileError:
    return ImportFileError(_("Le fichier est vide : il doit contenir une ligne d’en-têtes."))


def import_file_kind(head: bytes, *, complete: bool) -> str:
    """Tell ``"csv"`` from ``"xlsx"`` by the first bytes of a file, or raise ImportFileError.

    ``complete`` says whether ``head`` is the whole file. For a CSV, the head must decode as
    UTF-8 and its header line (when the head holds it) must name the required columns.
    """
    if not head.strip(b" \t\r\n\xef\xbb\xbf") and (complete or not head):
        raise _empty_file()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _(
                "Ce fichier est au format Excel 97-2003 (.xls), qui n’est pas accepté. "
                "Enregistrez-le en « Classeur Excel (.xlsx) » ou en « CSV UTF-8 »."
            )
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            _(
                "Le fichier est encodé en UTF-16 (« Texte Unicode »), pas en UTF-8. "
                "Dans Excel, utilisez « Enregistrer sous > CSV UTF-8 (délimité par des virgules) »."
            )
        )
    binary_magic = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc")
    if head.startswith(binary_magic) or b"\x00" in head:
        raise _not_a_table()
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        raise _not_a_table()  # a web page or XML saved under a .csv name
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(head, final=complete)
    except UnicodeDecodeError as exc:
        raise _not_utf8(head.count(b"\n", 0, exc.start) + 1) from None
    text, delimiter = _excel_separator_line(text.lstrip("\ufeff"))
    header_line, *rest = _LINE_BREAK.split(text, maxsplit=1)
    if rest or complete:
        try:
            delimiter = delimiter or _delimiter_sniff(header_line)
            header = next(csv.reader([header_line], delimiter=delimiter), [])
        except csv.Error:
            header = [header_line]
        _columns_map(header)
    return "csv"


def _excel_separator_line(text: str) -> tuple[str, str]:
    """Excel may start a CSV with "sep=;", a line it hides: honour and drop it."""
    match = _EXCEL_SEPARATOR.match(text)
    if match is None:
        return text, ""
    return text[match.end() :], match.group(1)


def _delimiter_sniff(header_line: str) -> str:
    """The delimiter that splits the header line into the most cells (";" on a tie)."""
    best, best_count = ";", 0
    for delimiter in (";", ",", "\t"):
        try:
            count = len(next(csv.reader([header_line], delimiter=delimiter), []))
        except csv.Error:
            count = 0
        if count > best_count:
            best, best_count = delimiter, count
    return best


@dataclass
class _Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number as the spreadsheet shows it, cells)
    estimated_rows: int


@contextlib.contextmanager
def _table_open(path: Path) -> Iterator[_Table]:
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    kind = import_file_kind(head, complete=len(head) < _HEAD_BYTES)
    if kind == "xlsx":
        with _xlsx_open(path) as table:
            yield table
    else:
        yield _csv_open(path.read_bytes())


def _csv_open(data: bytes) -> _Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data.count(b"\n", 0, exc.start) + 1) from None
    text, delimiter = _excel_separator_line(text)
    if not text.strip():
        raise _empty_file()
    delimiter = delimiter or _delimiter_sniff(_LINE_BREAK.split(text, maxsplit=1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ImportFileError(
            _("La ligne d’en-têtes est illisible (%(error)s).") % {"error": exc}
        ) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        # Line numbers count records, as a spreadsheet numbers its rows (header = line 1).
        line = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(
                    _("La ligne %(line)s est illisible (%(error)s).")
                    % {"line": line + 1, "error": exc}
                ) from None
            line += 1
            yield line, cells

    return _Table(header=header, rows=rows(), estimated_rows=max(1, text.count("\n")))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a numeric code typed in Excel: 75 rather than 75.0
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


@contextlib.contextmanager
def _xlsx_open(path: Path) -> Iterator[_Table]:
    import openpyxl

    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise _not_a_table() from None
    if expanded > _XLSX_MAX_UNCOMPRESSED_RATIO * settings.CAMPUS_IMPORT_MAX_BYTES:
        raise ImportFileError(_("Ce classeur est trop volumineux une fois décompressé."))
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # any malformed workbook: the content is untrusted
        raise _not_a_table() from None
    try:
        if not workbook.worksheets:
            raise _empty_file()
        sheet = workbook.worksheets[0]
        source = sheet.iter_rows(values_only=True)
        try:
            first = next(source, None)
        except Exception:
            raise _not_a_table() from None
        if first is None:
            raise _empty_file()
        header = [_cell_text(value) for value in first]
        while header and not header[-1].strip():
            header.pop()

        def rows() -> Iterator[tuple[int, list[str]]]:
            line = 1
            try:
                for values in source:
                    line += 1
                    yield line, [_cell_text(value) for value in values]
            except ImportFileError:
                raise
            except Exception:
                raise ImportFileError(
                    _("La ligne %(line)s du classeur est illisible.") % {"line": line}
                ) from None

        yield _Table(header=header, rows=rows(), estimated_rows=max(1, (sheet.max_row or 2) - 1))
    finally:
        workbook.close()


def _columns_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Canonical column → index in the row, and the names of the columns ignored."""
    found: dict[str, int] = {}
    ignored: list[str] = []
    for index, raw in enumerate(header):
        key = _fold(raw)
        key = _COLUMN_ALIASES.get(key, key)
        if key in COLUMNS:
            if key in found:
                raise ImportFileError(
                    _("La colonne « %(column)s » apparaît plusieurs fois dans les en-têtes.")
                    % {"column": raw.strip()}
                )
            found[key] = index
        elif raw.strip():
            ignored.append(raw.strip())
    missing = [name for name in REQUIRED_COLUMNS if name not in found]
    if missing:
        present = [raw.strip() for raw in header if raw.strip()]
        shown = ", ".join(present[:30]) + (" …" if len(present) > 30 else "")
        message = _(
            "Colonnes obligatoires manquantes : %(missing)s. Colonnes trouvées : %(found)s."
        ) % {"missing": ", ".join(missing), "found": shown or _("aucune")}
        if len(present) <= 1:
            message += " " + _(
                "Vérifiez que les colonnes sont séparées par « ; » ou « , » et que la première "
                "ligne contient les en-têtes."
            )
        raise ImportFileError(message)
    return found, ignored


# --- Checking -------------------------------------------------------------------------------


# Layout of an existing person as loaded by _state_load (plain tuples: 170,000 of them).
_P_ID, _P_EMAIL, _P_ORGANISATION, _P_MANAGER, _P_LEVEL, _P_ROLES = range(6)
_P_FIRST_NAME, _P_LAST_NAME, _P_ORGANISM, _P_TEAM, _P_JOB_TITLE = range(6, 11)


class _Row:
    """One person of the file, once its own cells are checked."""

    __slots__ = (
        "line",
        "email",
        "first_name",
        "last_name",
        "org_key",
        "team_key",
        "manager",
        "level",
        "roles",
        "job_title",
        "existing",
        "changed",
    )

    line: int
    email: str
    first_name: str
    last_name: str
    org_key: str
    team_key: tuple[str, str] | None
    manager: str
    level: str
    roles: list[str] | None  # as given; the final list once _people_resolve has run
    job_title: str
    existing: tuple | None
    changed: bool


@dataclass
class _Team:
    code: str
    name: str = ""
    parent: str = ""  # folded code of the parent team, "" when no row gives one
    parent_line: int = 0
    leader: str = ""  # email of the person whose "equipe_dirigee" it is


@dataclass
class _OrganismDef:
    code: str
    name: str
    branch_id: int
    region: str


@dataclass
class _DbState:
    branches: dict[str, int]
    organisms: dict[str, tuple[int, str]]  # folded code → (id, code)
    org_key_by_id: dict[int, str]
    # (organism folded code, team folded code) → (id, code, name, parent_id, manager_id)
    teams: dict[tuple[str, str], tuple[int, str, str, int | None, int | None]]
    team_key_by_id: dict[int, tuple[str, str]]
    # lower-case email → [person tuples (see _P_*)], across every organisation
    people: dict[str, list[tuple]]
    email_by_id: dict[int, str]  # people of this organisation only


@dataclass
class _Plan:
    rows: list[_Row]
    columns: frozenset[str]
    state: _DbState
    new_organisms: dict[str, _OrganismDef]
    teams: dict[tuple[str, str], _Team]
    ignored_columns: tuple[str, ...] = ()
    total_rows: int = 0


def _state_load(organisation: Organisation) -> _DbState:
    """Everything the checks need, in four queries (no ORM objects)."""
    org_id = organisation.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, code FROM campus_branch WHERE organisation_id = %s", [organisation.pk]
        )
        branches = {code.lower(): pk for pk, code in cursor.fetchall()}
        cursor.execute(
            "SELECT id, code FROM campus_organism WHERE organisation_id = %s", [organisation.pk]
        )
        organisms: dict[str, tuple[int, str]] = {}
        for pk, code in cursor.fetchall():
            organisms.setdefault(code.lower(), (pk, code))
        org_key_by_id = {pk: key for key, (pk, _code) in organisms.items()}
        cursor.execute(
            "SELECT t.id, t.organism_id, t.code, t.name, t.parent_id, t.manager_id "
            "FROM campus_team t JOIN campus_organism o ON o.id = t.organism_id "
            "WHERE o.organisation_id = %s",
            [org_id],
        )
        teams: dict[tuple[str, str], tuple[int, str, str, int | None, int | None]] = {}
        team_key_by_id: dict[int, tuple[str, str]] = {}
        for pk, organism_id, code, name, parent_id, manager_id in cursor.fetchall():
            org_key = org_key_by_id.get(organism_id)
            if org_key is None:
                continue  # shadowed by another organism whose code differs only by case
            key = (org_key, code.lower())
            if key not in teams:
                teams[key] = (pk, code, name, parent_id, manager_id)
            team_key_by_id[pk] = key
        # Emails are unique across organisations: load them all to refuse someone else's.
        cursor.execute(
            "SELECT id, email, organisation_id, manager_id, level, roles, first_name, "
            "last_name, organism_id, team_id, job_title FROM campus_user"
        )
        people: dict[str, list[tuple]] = {}
        email_by_id: dict[int, str] = {}
        for person in cursor.fetchall():
            lower = person[1].lower()
            people.setdefault(lower, []).append(person)
            if person[_P_ORGANISATION] == org_id:
                email_by_id[person[_P_ID]] = lower
    return _DbState(
        branches=branches,
        organisms=organisms,
        org_key_by_id=org_key_by_id,
        teams=teams,
        team_key_by_id=team_key_by_id,
        people=people,
        email_by_id=email_by_id,
    )


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:10])
    return shown + (" …" if len(lines) > 10 else "")


def _plan_build(
    table: _Table,
    columns: dict[str, int],
    ignored: list[str],
    state: _DbState,
    organisation: Organisation,
    progress: Progress,
) -> _Plan:
    rejections: list[Rejection] = []
    header = table.header

    def label(column: str) -> str:
        """The column as the file names it, for the report."""
        return header[columns[column]].strip() if column in columns else column

    def reject(line: int, email: str, column: str, reason: str, kind: str) -> None:
        rejections.append(Rejection(line, email, label(column) if column else "", reason, kind))

    width = len(header)
    # Absent columns read the sentinel cell appended at index `width`: one C call per row.
    getter = itemgetter(*(columns.get(name, width) for name in COLUMNS))
    has = frozenset(columns)

    rows: list[_Row] = []
    lines_by_email: dict[str, list[int]] = {}
    org_defs: dict[str, tuple[int, str, str, str, str]] = {}  # first row defining a new organism
    org_spelling: dict[str, str] = {}  # folded code → the code as first written
    teams: dict[tuple[str, str], _Team] = {}
    leaders: dict[tuple[str, str], list[int]] = {}
    total = 0
    estimated = table.estimated_rows
    for line, cells in table.rows:
        if len(cells) != width:
            cells = cells[:width] + [""] * (width - len(cells))
        cells.append("")
        values = getter(cells)
        if not any(values):
            continue  # blank line
        total += 1
        if total % 10000 == 0:
            progress(
                5 + 40 * min(1.0, total / estimated),
                _("Lecture et vérification : %(count)s lignes…")
                % {"count": number_format(total, force_grouping=True)},
            )
        (
            email_raw,
            first_name,
            last_name,
            organism,
            organism_name,
            branch,
            region,
            team,
            team_name,
            team_parent,
            team_led,
            manager,
            level_raw,
            roles_raw,
            job_title,
        ) = [value.strip() for value in values]
        email = email_raw.lower()
        if not email:
            reject(line, email_raw, "email", _("adresse e-mail manquante"), _("e-mail manquant"))
        else:
            try:
                if len(email) > _MAX["email"]:
                    raise ValidationError("too long")
                validate_email(email)
            except ValidationError:
                reject(
                    line,
                    email_raw,
                    "email",
                    _("adresse e-mail invalide : « %(value)s »") % {"value": email_raw},
                    _("e-mail invalide"),
                )
            else:
                lines_by_email.setdefault(email, []).append(line)
        if not (first_name and last_name and organism):
            for column, value in (
                ("prenom", first_name),
                ("nom", last_name),
                ("organisme", organism),
            ):
                if not value:
                    reject(
                        line,
                        email_raw,
                        column,
                        _("cellule obligatoire vide : %(column)s") % {"column": label(column)},
                        _("cellule obligatoire vide"),
                    )
        texts = (
            first_name,
            last_name,
            organism,
            organism_name,
            region,
            team,
            team_name,
            team_parent,
            team_led,
            job_title,
        )
        if max(map(len, texts)) <= _SHORTEST_MAX:
            texts = ()  # the common case: nothing can be too long
        for column, value in zip(_LENGTH_CHECKED, texts, strict=False):
            if len(value) > _MAX[column]:
                reject(
                    line,
                    email_raw,
                    column,
                    _("texte trop long (%(length)s caractères, %(max)s au plus)")
                    % {"length": len(value), "max": _MAX[column]},
                    _("texte trop long"),
                )
        level = ""
        if level_raw:
            level = _LEVELS.get(_fold(level_raw), "")
            if not level:
                reject(
                    line,
                    email_raw,
                    "niveau",
                    _("niveau inconnu : « %(value)s » (valeurs possibles : %(values)s)")
                    % {"value": level_raw, "values": _LEVEL_NAMES},
                    _("niveau inconnu"),
                )
        roles: list[str] | None = None
        if roles_raw:
            roles = []
            for part in _ROLE_SPLIT.split(roles_raw):
                if not part.strip():
                    continue
                role = _ROLES.get(_fold(part))
                if role is None:
                    reject(
                        line,
                        email_raw,
                        "roles",
                        _("rôle inconnu : « %(value)s » (valeurs possibles : %(values)s)")
                        % {"value": part.strip(), "values": _ROLE_NAMES},
                        _("rôle inconnu"),
                    )
                elif role not in roles:
                    roles.append(role)
            roles = roles or None
        org_key = organism.lower()
        if org_key and org_key not in org_spelling:
            org_spelling[org_key] = organism
        if org_key and org_key not in state.organisms and organism_name and branch:
            org_defs.setdefault(org_key, (line, organism, organism_name, branch, region))
        team_key = None
        if team and org_key:
            team_key = (org_key, team.lower())
            info = teams.get(team_key)
            if info is None:
                info = teams[team_key] = _Team(code=team)
            if team_name and not info.name:
                info.name = team_name
            parent = team_parent.lower()
            if parent:
                if parent == team_key[1]:
                    reject(
                        line,
                        email_raw,
                        "equipe_parente",
                        _("une équipe ne peut pas être sa propre équipe parente"),
                        _("équipe parente invalide"),
                    )
                elif not info.parent:
                    info.parent, info.parent_line = parent, line
                elif info.parent != parent:
                    reject(
                        line,
                        email_raw,
                        "equipe_parente",
                        _(
                            "équipe parente « %(value)s » différente de celle donnée ligne "
                            "%(line)s pour l’équipe « %(team)s »"
                        )
                        % {"value": team_parent, "line": info.parent_line, "team": team},
                        _("équipe parente contradictoire"),
                    )
        elif team_parent and not team:
            reject(
                line,
                email_raw,
                "equipe_parente",
                _("équipe parente indiquée sans équipe"),
                _("équipe parente sans équipe"),
            )
        if team_led and org_key:
            leaders.setdefault((org_key, team_led.lower()), []).append(line)
        row = _Row()
        row.line, row.email, row.first_name, row.last_name = line, email, first_name, last_name
        row.org_key, row.team_key = org_key, team_key
        row.manager, row.level, row.roles, row.job_title = manager, level, roles, job_title
        row.existing = None
        row.changed = True
        rows.append(row)  # even when wrong: the checks across rows may find more to report

    if total == 0:
        raise ImportFileError(
            _("Le fichier ne contient aucune personne : seule la ligne d’en-têtes est remplie.")
        )
    progress(45, _("Vérification des liens entre les lignes…"), force=True)

    # Duplicates, and people who belong to another organisation.
    for email, lines in lines_by_email.items():
        if len(lines) > 1:
            for line in lines:
                reject(
                    line,
                    email,
                    "email",
                    _("adresse e-mail en double (lignes %(lines)s)") % {"lines": _lines(lines)},
                    _("adresse e-mail en double"),
                )
    for row in rows:
        matches = state.people.get(row.email)
        if not matches:
            continue
        if len(matches) > 1:
            reject(
                row.line,
                row.email,
                "email",
                _(
                    "plusieurs comptes existent déjà avec cette adresse (écrite avec des "
                    "majuscules différentes) : fusionnez-les dans l’administration"
                ),
                _("comptes en double"),
            )
        elif matches[0][_P_ORGANISATION] != organisation.pk:
            reject(
                row.line,
                row.email,
                "email",
                _("cette adresse appartient à une personne d’une autre organisation"),
                _("personne d’une autre organisation"),
            )
        else:
            row.existing = matches[0]

    # Organisms: known, or defined by a row giving its label and an existing branch.
    new_organisms: dict[str, _OrganismDef] = {}
    bad_definition: dict[str, tuple[str, str]] = {}
    for key, (_line, code, name, branch, region) in org_defs.items():
        branch_id = state.branches.get(branch.lower())
        if branch_id is None:
            known = ", ".join(sorted(state.branches)) or _("aucune")
            bad_definition[key] = (
                "branche",
                _("branche inconnue : « %(value)s » (branches existantes : %(known)s)")
                % {"value": branch, "known": known},
            )
        elif not _SLUG.fullmatch(code):
            bad_definition[key] = (
                "organisme",
                _(
                    "code d’organisme invalide : « %(value)s » (lettres sans accents, chiffres, "
                    "tirets)"
                )
                % {"value": code},
            )
        else:
            new_organisms[key] = _OrganismDef(
                code=code, name=name, branch_id=branch_id, region=region
            )
    known_orgs = state.organisms.keys() | new_organisms.keys()
    for row in rows:
        if row.org_key and row.org_key not in known_orgs:
            column, reason = bad_definition.get(
                row.org_key,
                (
                    "organisme",
                    _(
                        "organisme inconnu : « %(value)s » (pour le créer, indiquez "
                        "organisme_libelle et branche)"
                    )
                    % {"value": org_spelling[row.org_key]},
                ),
            )
            reject(row.line, row.email, column, reason, _("organisme inconnu"))

    # Teams: the parent and the team led must be defined by some row or exist already.
    def team_known(key: tuple[str, str]) -> bool:
        return key in teams or key in state.teams

    rows_by_line = {row.line: row for row in rows}
    for key, info in teams.items():
        if key[0] not in known_orgs:
            continue
        if info.parent and not team_known((key[0], info.parent)):
            reject(
                info.parent_line,
                rows_by_line[info.parent_line].email,
                "equipe_parente",
                _(
                    "équipe parente inconnue : « %(value)s » (elle doit figurer dans la colonne "
                    "equipe d’une ligne du même organisme, ou exister déjà)"
                )
                % {"value": info.parent},
                _("équipe parente inconnue"),
            )
    for key, lines in leaders.items():
        if key[0] not in known_orgs:
            continue
        if not team_known(key):
            for line in lines:
                reject(
                    line,
                    rows_by_line[line].email,
                    "equipe_dirigee",
                    _(
                        "équipe dirigée inconnue : « %(value)s » (elle doit figurer dans la "
                        "colonne equipe d’une ligne du même organisme, ou exister déjà)"
                    )
                    % {"value": key[1]},
                    _("équipe dirigée inconnue"),
                )
        elif len(lines) > 1:
            for line in lines:
                reject(
                    line,
                    rows_by_line[line].email,
                    "equipe_dirigee",
                    _("équipe « %(team)s » dirigée par plusieurs personnes (lignes %(lines)s)")
                    % {"team": key[1], "lines": _lines(lines)},
                    _("équipe dirigée par plusieurs personnes"),
                )
        else:
            info = teams.get(key)
            if info is None:
                info = teams[key] = _Team(code=state.teams[key][1])
            info.leader = rows_by_line[lines[0]].email

    # n+1: in the file, or an existing person of this organisation.
    file_emails = {row.email for row in rows}
    if "manager_email" in has:
        for row in rows:
            manager = row.manager.lower()
            if not manager:
                continue
            if manager == row.email:
                reject(
                    row.line,
                    row.email,
                    "manager_email",
                    _("une personne ne peut pas être son propre n+1"),
                    _("cycle de n+1"),
                )
                continue
            if manager in file_emails:
                continue
            matches = state.people.get(manager, ())
            if len(matches) != 1 or matches[0][_P_ORGANISATION] != organisation.pk:
                reject(
                    row.line,
                    row.email,
                    "manager_email",
                    _(
                        "n+1 inconnu : « %(value)s » (il doit figurer dans le fichier ou exister "
                        "déjà dans l’organisation)"
                    )
                    % {"value": row.manager},
                    _("n+1 inconnu"),
                )

    progress(55, _("Recherche de cycles dans les liens n+1 et entre équipes…"), force=True)
    _cycles_check(rows, teams, state, has, reject)  # unknown links simply end a chain

    if rejections:
        raise ImportRejected(rejections, rows=total)
    return _Plan(
        rows=rows,
        columns=has,
        state=state,
        new_organisms=new_organisms,
        teams=teams,
        ignored_columns=tuple(ignored),
        total_rows=total,
    )


def _cycles_check(
    rows: list[_Row],
    teams: dict[tuple[str, str], _Team],
    state: _DbState,
    has: frozenset[str],
    reject: Callable[[int, str, str, str, str], None],
) -> None:
    """Follow each n+1 chain (and each parent-team chain) once; report cycles the file makes.

    Links of people (and teams) absent from the file come from the database, so a file that
    closes a loop through someone it does not list is caught too.
    """
    file_manager: dict[str, str] = {}
    line_of: dict[str, int] = {}
    for row in rows:
        line_of[row.email] = row.line
        if "manager_email" in has:
            file_manager[row.email] = row.manager.lower()

    def manager_of(email: str) -> str:
        if email in file_manager:
            return file_manager[email]
        matches = state.people.get(email)
        if not matches or matches[0][_P_MANAGER] is None:
            return ""
        return state.email_by_id.get(matches[0][_P_MANAGER], "")

    def walk(
        starts: Iterable[Any], next_of: Callable[[Any], Any], on_cycle: Callable[[list], None]
    ) -> None:
        done: set = set()
        for start in starts:
            if start in done:
                continue
            path: list = []
            position: dict = {}
            node = start
            while node and node not in done:
                if node in position:
                    on_cycle(path[position[node] :])
                    break
                position[node] = len(path)
                path.append(node)
                node = next_of(node)
            done.update(path)

    def people_cycle(cycle: list[str]) -> None:
        if len(cycle) == 1 or not any(email in line_of for email in cycle):
            # Oneself as n+1 has its own message; a loop already in the database is not this
            # file's doing.
            return
        chain = " → ".join([*cycle, cycle[0]])
        for email in cycle:
            if email in line_of:
                reject(
                    line_of[email],
                    email,
                    "manager_email",
                    _("cycle de n+1 : %(chain)s") % {"chain": chain},
                    _("cycle de n+1"),
                )

    walk(line_of, manager_of, people_cycle)

    def parent_of(key: tuple[str, str]) -> tuple[str, str] | None:
        info = teams.get(key)
        if info is not None and info.parent:
            return (key[0], info.parent)
        existing = state.teams.get(key)
        if existing is None or existing[3] is None:
            return None
        return state.team_key_by_id.get(existing[3])

    def teams_cycle(cycle: list[tuple[str, str]]) -> None:
        blamed = [key for key in cycle if key in teams and teams[key].parent]
        if not blamed:
            return
        chain = " → ".join(code for _org, code in [*cycle, cycle[0]])
        for key in blamed:
            reject(
                teams[key].parent_line,
                "",
                "equipe_parente",
                _("cycle d’équipes parentes : %(chain)s") % {"chain": chain},
                _("cycle d’équipes parentes"),
            )

    walk(list(teams), parent_of, teams_cycle)


# --- Writing --------------------------------------------------------------------------------


def _ids_draw(cursor, table: str, count: int) -> list[int]:
    if not count:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return [pk for (pk,) in cursor.fetchall()]


def _copy(cursor, sql: str, rows: list[tuple]) -> None:
    if not rows:
        return
    with connection.wrap_database_errors, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# Columns of an existing person that a file column may change; the SET clause is built from
# these constants only.
_PERSON_ALWAYS = ("email", "first_name", "last_name", "organism_id", "roles")
_PERSON_OPTIONAL = {
    "equipe": "team_id",
    "manager_email": "manager_id",
    "niveau": "level",
    "fonction": "job_title",
}


def _people_resolve(plan: _Plan) -> None:
    """Final level and roles of each person, and whether an existing person changes at all
    (compared by codes and emails, so that a dry run counts exactly what an import writes)."""
    state, has = plan.state, plan.columns
    with_level, with_team = "niveau" in has, "equipe" in has
    with_manager, with_title = "manager_email" in has, "fonction" in has
    org_key_by_id, team_key_by_id = state.org_key_by_id, state.team_key_by_id
    email_by_id = state.email_by_id
    for row in plan.rows:
        existing = row.existing
        if existing is not None and not with_level:
            row.level = existing[_P_LEVEL]
        if row.roles is not None:
            roles = set(row.roles)
        elif existing is not None:
            roles = {role for role in existing[_P_ROLES] if role in _CAMPUS_ROLES}
        else:
            roles = set()
        if row.level:
            roles.add(Role.MANAGER)
        if not roles:
            roles.add(Role.COLLABORATOR)
        row.roles = sorted(roles, key=_ROLE_ORDER.__getitem__)
        if existing is None:
            continue
        row.changed = (
            existing[_P_EMAIL] != row.email
            or existing[_P_FIRST_NAME] != row.first_name
            or existing[_P_LAST_NAME] != row.last_name
            or org_key_by_id.get(existing[_P_ORGANISM]) != row.org_key
            or existing[_P_ROLES] != row.roles
            or (with_level and existing[_P_LEVEL] != row.level)
            or (with_team and team_key_by_id.get(existing[_P_TEAM]) != row.team_key)
            or (with_manager and email_by_id.get(existing[_P_MANAGER], "") != row.manager.lower())
            or (with_title and existing[_P_JOB_TITLE] != row.job_title)
        )


def _plan_apply(plan: _Plan, organisation: Organisation) -> tuple[int, int]:
    """Write the checked plan; returns (people created, teams created)."""
    state = plan.state
    has = plan.columns
    now = timezone.now()
    with connection.cursor() as cursor:
        # Organisms.
        org_ids = {key: pk for key, (pk, _code) in state.organisms.items()}
        new_orgs = list(plan.new_organisms.items())
        for (key, _definition), pk in zip(
            new_orgs, _ids_draw(cursor, "campus_organism", len(new_orgs)), strict=True
        ):
            org_ids[key] = pk
        _copy(
            cursor,
            "COPY campus_organism (id, organisation_id, branch_id, code, name, region) FROM STDIN",
            [
                (org_ids[key], organisation.pk, d.branch_id, d.code, d.name, d.region)
                for key, d in new_orgs
            ],
        )

        # Ids of everyone, so that every link is known before writing.
        new_people = [row for row in plan.rows if row.existing is None]
        person_ids = {row.email: row.existing[_P_ID] for row in plan.rows if row.existing}
        for row, pk in zip(
            new_people, _ids_draw(cursor, "campus_user", len(new_people)), strict=True
        ):
            person_ids[row.email] = pk
        team_ids = {key: existing[0] for key, existing in state.teams.items()}
        new_team_keys = [key for key in plan.teams if key not in state.teams]
        for key, pk in zip(
            new_team_keys, _ids_draw(cursor, "campus_team", len(new_team_keys)), strict=True
        ):
            team_ids[key] = pk

        def person_id(email: str) -> int | None:
            if not email:
                return None
            email = email.lower()
            if email in person_ids:
                return person_ids[email]
            return state.people[email][0][_P_ID]

        # Teams: new ones in one COPY, changed existing ones in one UPDATE.
        new_teams, changed_teams = [], []
        for key, info in plan.teams.items():
            parent_id = team_ids[(key[0], info.parent)] if info.parent else None
            manager_id = person_ids[info.leader] if info.leader else None
            existing = state.teams.get(key)
            if existing is None:
                new_teams.append(
                    (
                        team_ids[key],
                        org_ids[key[0]],
                        info.code,
                        info.name or info.code,
                        parent_id,
                        manager_id,
                    )
                )
                continue
            pk, _code, name, old_parent, old_manager = existing
            final = (
                info.name or name,
                parent_id if info.parent else old_parent,
                manager_id if info.leader else old_manager,
            )
            if final != (name, old_parent, old_manager):
                changed_teams.append((pk, *final))
        _copy(
            cursor,
            "COPY campus_team (id, organism_id, code, name, parent_id, manager_id) FROM STDIN",
            new_teams,
        )
        if changed_teams:
            cursor.execute("DROP TABLE IF EXISTS import_team")
            cursor.execute(
                "CREATE TEMPORARY TABLE import_team (id bigint, name varchar(200), "
                "parent_id bigint, manager_id bigint) ON COMMIT DROP"
            )
            _copy(
                cursor,
                "COPY import_team (id, name, parent_id, manager_id) FROM STDIN",
                changed_teams,
            )
            cursor.execute(
                "UPDATE campus_team t SET name = i.name, parent_id = i.parent_id, "
                "manager_id = i.manager_id FROM import_team i WHERE t.id = i.id"
            )
            cursor.execute("DROP TABLE import_team")

        # People: new ones in one COPY, changed existing ones in one UPDATE.
        new_rows, existing_rows = [], []
        for row in plan.rows:
            existing = row.existing
            if existing is not None and not row.changed:
                continue
            team_id = team_ids[row.team_key] if row.team_key else None
            manager_id = person_id(row.manager) if "manager_email" in has else None
            values = (
                person_ids[row.email],
                row.email,
                row.first_name,
                row.last_name,
                org_ids[row.org_key],
                team_id,
                manager_id,
                row.level,
                row.job_title,
                # Role codes are fixed identifiers: their array literal needs no quoting, and
                # saves psycopg from adapting 170,000 lists.
                "{" + ",".join(row.roles) + "}",
            )
            if existing is None:
                new_rows.append(values)
            else:
                existing_rows.append(values)
        # An unusable password ("!" then 40 random characters) like make_password(None), without
        # its 40 calls to secrets.choice per person (10 s for 150,000 people).
        noise = secrets.token_hex(20 * len(new_rows))
        _copy(
            cursor,
            "COPY campus_user (id, email, first_name, last_name, organism_id, team_id, "
            "manager_id, level, job_title, roles, organisation_id, password, is_superuser, "
            "is_staff, is_active, date_joined) FROM STDIN",
            [
                (
                    *values,
                    organisation.pk,
                    "!" + noise[40 * i : 40 * i + 40],
                    False,
                    False,
                    True,
                    now,
                )
                for i, values in enumerate(new_rows)
            ],
        )
        if existing_rows:
            cursor.execute("DROP TABLE IF EXISTS import_person")
            cursor.execute(
                "CREATE TEMPORARY TABLE import_person (id bigint, email varchar(254), "
                "first_name varchar(150), last_name varchar(150), organism_id bigint, "
                "team_id bigint, manager_id bigint, level varchar(20), job_title varchar(200), "
                "roles varchar(20)[]) ON COMMIT DROP"
            )
            _copy(
                cursor,
                "COPY import_person (id, email, first_name, last_name, organism_id, team_id, "
                "manager_id, level, job_title, roles) FROM STDIN",
                existing_rows,
            )
            names = list(_PERSON_ALWAYS) + [
                column for key, column in _PERSON_OPTIONAL.items() if key in has
            ]
            assignments = ", ".join(f"{name} = i.{name}" for name in names)
            current = ", ".join(f"u.{name}" for name in names)
            incoming = ", ".join(f"i.{name}" for name in names)
            # Column names come from the constants above, never from the file. Unchanged people
            # were left out in Python already; the comparison only guards against a concurrent
            # edit making a row identical meanwhile (no useless new row version).
            cursor.execute(
                f"UPDATE campus_user u SET {assignments} FROM import_person i "  # noqa: S608
                f"WHERE u.id = i.id AND ({current}) IS DISTINCT FROM ({incoming})"
            )
            cursor.execute("DROP TABLE import_person")
    return len(new_rows), len(new_teams)


@contextlib.contextmanager
def _organisation_lock(organisation: Organisation) -> Iterator[None]:
    """One import at a time per organisation (a session lock: released if the worker dies)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [_ADVISORY_LOCK_CLASS, organisation.pk]
        )
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise ImportFileError(
            _(
                "Un autre import de l’annuaire est en cours pour cette organisation : "
                "attendez qu’il soit terminé, puis relancez celui-ci."
            )
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [_ADVISORY_LOCK_CLASS, organisation.pk]
            )


def people_import(
    *,
    path: Path,
    organisation: Organisation,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import the people and teams of ``path`` into ``organisation``, all or nothing.

    Raises :class:`ImportFileError` when the file cannot be read at all and
    :class:`ImportRejected` when rows are wrong; in both cases nothing is written.
    """
    report = progress or _no_progress
    limit = settings.CAMPUS_IMPORT_MAX_BYTES
    try:
        size = path.stat().st_size
    except OSError:
        raise ImportFileError(_("Le fichier est introuvable.")) from None
    if size > limit:
        raise ImportFileError(file_too_large_message(size))
    report(1, _("Lecture du fichier…"), force=True)
    lock = contextlib.nullcontext() if dry_run else _organisation_lock(organisation)
    with lock, _table_open(path) as table:
        columns, ignored = _columns_map(table.header)
        state = _state_load(organisation)
        report(5, _("Lecture et vérification des lignes…"), force=True)
        plan = _plan_build(table, columns, ignored, state, organisation, report)
        _people_resolve(plan)
        created = sum(1 for row in plan.rows if row.existing is None)
        updated = sum(1 for row in plan.rows if row.existing is not None and row.changed)
        teams_created = sum(1 for key in plan.teams if key not in state.teams)
        summary = ImportSummary(
            rows=plan.total_rows,
            created=created,
            updated=updated,
            unchanged=len(plan.rows) - created - updated,
            teams=len(plan.teams),
            teams_created=teams_created,
            organisms_created=len(plan.new_organisms),
            dry_run=dry_run,
            ignored_columns=plan.ignored_columns,
        )
        if dry_run:
            return summary
        # The writes run in one transaction: progress written inside it would stay invisible.
        report(
            60,
            _("Écriture de %(people)s personnes et %(teams)s équipes en une seule fois…")
            % {
                "people": number_format(summary.people, force_grouping=True),
                "teams": number_format(summary.teams, force_grouping=True),
            },
            force=True,
        )
        try:
            with transaction.atomic():
                _plan_apply(plan, organisation)
        except IntegrityError:
            raise ImportFileError(
                _(
                    "Les données ont changé pendant l’import (par exemple une personne créée "
                    "au même moment) : rien n’a été importé. Relancez l’import."
                )
            ) from None
    return summary


def file_too_large_message(size: int) -> str:
    return _(
        "Le fichier pèse %(size)s : la limite est de %(limit)s. Retirez les colonnes inutiles "
        "ou découpez-le par organisme."
    ) % {
        "size": filesizeformat(size),
        "limit": filesizeformat(settings.CAMPUS_IMPORT_MAX_BYTES),
    }


# --- Report, uploads and the job ------------------------------------------------------------


def import_report_write(*, rejections: list[Rejection], path: Path) -> Path:
    """The rejected rows as a CSV that Excel opens directly (";", UTF-8 with BOM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["ligne", "email", "colonne", "motif"])
        for r in rejections:
            writer.writerow([r.line, safe_cell(r.email), safe_cell(r.column), safe_cell(r.reason)])
    return path


def _imports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def import_report_path(*, job_id: uuid.UUID | str) -> Path:
    return _imports_dir() / f"rapport-{uuid.UUID(str(job_id))}.csv"


def import_source_path(source: str) -> Path:
    """The stored upload named in a job's arguments: a bare name made by import_upload_store."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(csv|xlsx)", source):
        raise JobError(_("Le fichier à importer est introuvable : déposez-le à nouveau."))
    return _imports_dir() / source


def import_upload_store(*, uploaded: UploadedFile, kind: str) -> str:
    """Copy an upload (already checked by the form) under MEDIA_ROOT/imports; returns its name."""
    name = f"{uuid.uuid4().hex}.{'xlsx' if kind == 'xlsx' else 'csv'}"
    target = _imports_dir() / name
    with target.open("xb") as fh:
        target.chmod(0o600)
        for chunk in uploaded.chunks():
            fh.write(chunk)
    return name


def import_job_start(*, owner: User, uploaded: UploadedFile, kind: str, dry_run: bool) -> Job:
    """Store the upload and create the job; its task is enqueued once the request commits."""
    stored = import_upload_store(uploaded=uploaded, kind=kind)
    filename = Path(uploaded.name or "").name[:120]
    title = (
        _("Vérification de l’annuaire : %(file)s")
        if dry_run
        else _("Import de l’annuaire : %(file)s")
    ) % {"file": filename}
    try:
        with transaction.atomic():
            return job_create(
                owner=owner,
                kind=IMPORT_JOB_KIND,
                title=title,
                task_name=IMPORT_TASK_NAME,
                task_kwargs={"source": stored, "dry_run": dry_run, "filename": filename},
            )
    except DatabaseError:
        (_imports_dir() / stored).unlink(missing_ok=True)
        raise


def people_import_job(
    job: Job, reporter: JobReporter, *, source: str, dry_run: bool = False, filename: str = ""
) -> dict[str, Any]:
    """The import job (see campus.tasks.people_import): runs people_import on the stored upload."""
    path = import_source_path(source)
    try:
        if not path.exists():
            raise JobError(_("Le fichier à importer est introuvable : déposez-le à nouveau."))
        if not job.owner.is_hr_admin:
            raise JobError(_("Seuls les administrateurs RH peuvent importer l’annuaire."))
        try:
            summary = people_import(
                path=path,
                organisation=job.organisation,
                dry_run=dry_run,
                progress=reporter.progress,
            )
        except ImportFileError as exc:
            raise JobError(exc.message) from None
        except ImportRejected as exc:
            import_report_write(rejections=exc.rejections, path=import_report_path(job_id=job.pk))
            raise JobError(
                exc.summary(_("Téléchargez le rapport pour les corriger.")),
                result={
                    "report_url": reverse("people_import_report", args=[job.pk]),
                    "rejected": exc.lines,
                    "rows": exc.rows,
                },
            ) from None
    finally:
        # The upload holds personal data of the whole organisation: keep it no longer than
        # needed. A worker that dies skips this, so the sweeper's retry still finds the file.
        path.unlink(missing_ok=True)
    return {
        "message": summary.message(),
        "result": summary.as_dict(),
        "result_url": reverse("people_import"),
        "result_label": _("Lancer l’import") if dry_run else _("Importer un autre fichier"),
    }
