"""The people and teams import: service, report, views, job and command."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.hashers import is_password_usable
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campus import import_views
from campus.jobs import job_run
from campus.models import Job, Level, Organism, Role, Team, User
from campus.people_import import (
    COLUMNS,
    ImportFileError,
    ImportRejected,
    Rejection,
    import_report_write,
    people_import,
    people_import_job,
)
from tests.factories import (
    CollaboratorFactory,
    HrAdminFactory,
    ManagerFactory,
    OrganisationFactory,
    TeamFactory,
)

HEADER = list(COLUMNS)


def basic_rows() -> list[dict[str, str]]:
    """A director, a local manager and a collaborator of a new organism."""
    return [
        {
            "email": "Claire.Martin@cpam-rhone.fr",
            "prenom": "Claire",
            "nom": "Martin",
            "organisme": "cpam-rhone",
            "organisme_libelle": "CPAM du Rhône",
            "branche": "maladie",
            "region": "Auvergne-Rhône-Alpes",
            "equipe": "direction",
            "equipe_libelle": "Direction",
            "equipe_dirigee": "direction",
            "niveau": "Direction",
            "roles": "admin_rh",
            "fonction": "Directrice",
        },
        {
            "email": "karim.benali@cpam-rhone.fr",
            "prenom": "Karim",
            "nom": "Benali",
            "organisme": "cpam-rhone",
            "equipe": "accueil",
            "equipe_libelle": "Accueil Lyon 3e",
            "equipe_parente": "direction",
            "equipe_dirigee": "accueil",
            "manager_email": "claire.martin@cpam-rhone.fr",
            "niveau": "proximité",
        },
        {
            "email": "lea.dubois@cpam-rhone.fr",
            "prenom": "Léa",
            "nom": "Dubois",
            "organisme": "cpam-rhone",
            "equipe": "accueil",
            "manager_email": "KARIM.BENALI@cpam-rhone.fr",
            "fonction": "Conseillère d’accueil",
        },
    ]


def csv_bytes(
    rows: list[dict[str, str]],
    header: list[str] = HEADER,
    *,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue().encode(encoding)


def write(tmp_path: Path, content: bytes, name: str = "annuaire.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Team.objects.count(), Organism.objects.count()


@pytest.fixture
def organisation(organism):
    return organism.organisation


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def rejected(tmp_path, organisation, content: bytes) -> ImportRejected:
    before = counts()
    with pytest.raises(ImportRejected) as info:
        people_import(path=write(tmp_path, content), organisation=organisation)
    assert counts() == before
    return info.value


def file_error(tmp_path, organisation, content: bytes, name: str = "annuaire.csv") -> str:
    before = counts()
    with pytest.raises(ImportFileError) as info:
        people_import(path=write(tmp_path, content, name), organisation=organisation)
    assert counts() == before
    return info.value.message


# --- Valid files ------------------------------------------------------------------------------


def test_valid_csv_creates_organisms_teams_and_people_with_links(tmp_path, organisation):
    summary = people_import(
        path=write(tmp_path, csv_bytes(basic_rows())), organisation=organisation
    )

    assert (summary.created, summary.updated, summary.teams, summary.teams_created) == (3, 0, 2, 2)
    assert summary.organisms_created == 1
    assert (
        "3 personnes importées (3 créées), 2 équipes (2 créées), 1 organisme créé."
        in summary.message()
    )
    organism = Organism.objects.get(code="cpam-rhone")
    assert (organism.name, organism.branch.code, organism.region) == (
        "CPAM du Rhône",
        "maladie",
        "Auvergne-Rhône-Alpes",
    )
    claire = User.objects.get(email="claire.martin@cpam-rhone.fr")
    karim = User.objects.get(email="karim.benali@cpam-rhone.fr")
    lea = User.objects.get(email="lea.dubois@cpam-rhone.fr")
    direction = Team.objects.get(organism=organism, code="direction")
    accueil = Team.objects.get(organism=organism, code="accueil")
    assert (direction.name, direction.manager, direction.parent) == ("Direction", claire, None)
    assert (accueil.name, accueil.manager, accueil.parent) == ("Accueil Lyon 3e", karim, direction)
    assert (claire.level, claire.roles, claire.manager, claire.team) == (
        Level.DIRECTOR,
        [Role.MANAGER, Role.HR_ADMIN],
        None,
        direction,
    )
    assert (karim.level, karim.roles, karim.manager, karim.team) == (
        Level.PROXIMITY,
        [Role.MANAGER],
        claire,
        accueil,
    )
    assert (lea.level, lea.roles, lea.manager, lea.team) == (
        "",
        [Role.COLLABORATOR],
        karim,
        accueil,
    )
    assert (lea.first_name, lea.job_title, lea.organisation) == (
        "Léa",
        "Conseillère d’accueil",
        organisation,
    )
    assert lea.organism == organism and lea.is_active
    assert not is_password_usable(lea.password)
    assert lea.password != karim.password


def test_comma_delimited_csv_without_bom_and_odd_headers_is_read(tmp_path, organisation):
    header = ["E-mail", "Prénom", "NOM", "Organisme", "Organisme libellé", "Branche", "Niveau"]
    rows = [
        {
            "E-mail": "ana@x.fr",
            "Prénom": "Ana",
            "NOM": "Lopez",
            "Organisme": "caf-69",
            "Organisme libellé": "CAF du Rhône",
            "Branche": "Maladie",
            "Niveau": "STRATÉGIQUE",
        }
    ]
    content = csv_bytes(rows, header, delimiter=",", encoding="utf-8")
    people_import(path=write(tmp_path, content), organisation=organisation)
    ana = User.objects.get(email="ana@x.fr")
    assert (ana.last_name, ana.level, ana.organism.code) == ("Lopez", Level.STRATEGIC, "caf-69")


def test_excel_separator_line_is_honoured(tmp_path, organisation, organism):
    content = b"sep=|\r\nemail|prenom|nom|organisme\r\nana@x.fr|Ana|Lopez|" + organism.code.encode()
    people_import(path=write(tmp_path, content), organisation=organisation)
    assert User.objects.get(email="ana@x.fr").organism == organism


def test_xlsx_file_is_imported(tmp_path, organisation, organism):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Email", "Prénom", "Nom", "Organisme", "Équipe", "Niveau", "Rôles"])
    sheet.append(["boss@x.fr", "Inès", "Roy", organism.code, 75, "middle", "manager, animateur"])
    sheet.append(["ali@x.fr", "Ali", "Sy", organism.code, 75, None, None])
    workbook.save(tmp_path / "annuaire.xlsx")

    summary = people_import(path=tmp_path / "annuaire.xlsx", organisation=organisation)

    assert summary.created == 2
    boss = User.objects.get(email="boss@x.fr")
    assert (boss.first_name, boss.level, boss.team.code) == ("Inès", Level.MIDDLE, "75")
    assert boss.roles == [Role.MANAGER, Role.BOOST_HOST]
    assert User.objects.get(email="ali@x.fr").team == boss.team


def test_reimport_updates_people_without_duplicating(tmp_path, organisation, organism):
    admin = HrAdminFactory(organism=organism, email="Rh.Admin@Campus.test", roles=[Role.HR_ADMIN])
    bystander = CollaboratorFactory(organism=organism, last_name="Absent")
    rows = basic_rows()
    rows.append({"email": "rh.admin@campus.test", "prenom": "Rose", "nom": "Hache"})
    rows[-1]["organisme"] = organism.code
    people_import(path=write(tmp_path, csv_bytes(rows)), organisation=organisation)
    first = counts()
    assert User.objects.get(pk=admin.pk).email == "rh.admin@campus.test"

    rows[2]["nom"] = "Dubois-Morel"
    rows[2]["manager_email"] = "claire.martin@cpam-rhone.fr"
    rows[1]["niveau"] = ""
    path = write(tmp_path, csv_bytes(rows))
    checked = people_import(path=path, organisation=organisation, dry_run=True)
    summary = people_import(path=path, organisation=organisation)
    assert (checked.created, checked.updated, checked.unchanged) == (0, 2, 2)

    assert counts() == first
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 2)
    assert summary.teams_created == 0
    assert summary.message().startswith(
        "4 personnes importées (2 mises à jour, 2 inchangées), 2 équipes."
    )
    lea = User.objects.get(email="lea.dubois@cpam-rhone.fr")
    assert (lea.last_name, lea.manager.email) == ("Dubois-Morel", "claire.martin@cpam-rhone.fr")
    karim = User.objects.get(email="karim.benali@cpam-rhone.fr")
    assert (karim.level, karim.roles) == ("", [Role.COLLABORATOR])
    # An empty "roles" cell keeps the roles granted in the campus.
    admin.refresh_from_db()
    assert (admin.first_name, admin.roles) == ("Rose", [Role.HR_ADMIN])
    bystander_before = bystander.last_name
    bystander.refresh_from_db()
    assert bystander.last_name == bystander_before


def test_absent_optional_columns_leave_existing_values_alone(tmp_path, organisation, organism):
    boss = ManagerFactory(organism=organism, email="boss@x.fr")
    team = TeamFactory(organism=organism, code="t1")
    person = ManagerFactory(
        organism=organism, email="p@x.fr", manager=boss, team=team, job_title="Cheffe"
    )
    header = ["email", "prenom", "nom", "organisme"]
    rows = [{"email": "p@x.fr", "prenom": "Paula", "nom": "Neuve", "organisme": organism.code}]
    people_import(path=write(tmp_path, csv_bytes(rows, header)), organisation=organisation)
    person.refresh_from_db()
    assert (person.last_name, person.manager, person.team, person.job_title) == (
        "Neuve",
        boss,
        team,
        "Cheffe",
    )
    assert (person.level, person.roles) == (Level.PROXIMITY, [Role.MANAGER])


def test_dry_run_checks_and_counts_but_writes_nothing(tmp_path, organisation):
    before = counts()
    summary = people_import(
        path=write(tmp_path, csv_bytes(basic_rows())), organisation=organisation, dry_run=True
    )
    assert counts() == before
    assert (summary.created, summary.teams_created, summary.organisms_created) == (3, 2, 1)
    assert "Rien n’a été importé" in summary.message()


def test_csv_template_is_a_valid_import_file(tmp_path, organisation, organism, hr_admin):
    request = RequestFactory().get("/annuaire/import/modele.csv")
    request.user = hr_admin
    response = import_views.people_import_template(request)
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    summary = people_import(path=write(tmp_path, response.content), organisation=organisation)
    assert (summary.created, summary.teams_created, summary.organisms_created) == (3, 2, 1)


def test_csv_template_is_hidden_from_managers(manager):
    request = RequestFactory().get("/annuaire/import/modele.csv")
    request.user = manager
    with pytest.raises(Http404):
        import_views.people_import_template(request)


# --- Bad files: one clear message, nothing changed --------------------------------------------


def test_file_not_in_utf8_is_refused_with_the_line_of_the_first_bad_byte(tmp_path, organisation):
    rows = basic_rows()
    content = csv_bytes(rows, encoding="cp1252")
    message = file_error(tmp_path, organisation, content)
    assert "n’est pas encodé en UTF-8" in message
    assert "ligne 2" in message  # "Rhône" on the first data row
    assert "Enregistrer sous > CSV UTF-8" in message


def test_empty_and_header_only_files_are_refused(tmp_path, organisation):
    assert "vide" in file_error(tmp_path, organisation, b"")
    assert "vide" in file_error(tmp_path, organisation, b"\xef\xbb\xbf\r\n")
    header_only = csv_bytes([])
    assert "aucune personne" in file_error(tmp_path, organisation, header_only)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "ni un CSV ni un classeur Excel"),
        (b"%PDF-1.7\n", "ni un CSV ni un classeur Excel"),
        (b"<!DOCTYPE html><html></html>", "ni un CSV ni un classeur Excel"),
        (b"PK\x03\x04not really a zip", "ni un CSV ni un classeur Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97-2003 (.xls)"),
        ("email;nom\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_files_that_are_not_csv_or_xlsx_are_refused_by_content(
    tmp_path, organisation, content, expected
):
    # The name says .xlsx: the content decides.
    assert expected in file_error(tmp_path, organisation, content, name="annuaire.xlsx")


def test_missing_columns_are_listed_with_the_columns_found(tmp_path, organisation):
    header = ["Email", "Prénom", "Service"]
    message = file_error(tmp_path, organisation, csv_bytes([{"Email": "a@x.fr"}], header))
    assert "Colonnes obligatoires manquantes : nom, organisme." in message
    assert "Colonnes trouvées : Email, Prénom, Service." in message


def test_too_large_file_is_refused_before_reading(tmp_path, organisation, settings):
    settings.CAMPUS_IMPORT_MAX_BYTES = 100
    message = file_error(tmp_path, organisation, csv_bytes(basic_rows()))
    assert "la limite est de 100" in message


def test_duplicate_emails_reject_every_line_involved(tmp_path, organisation):
    rows = basic_rows()
    rows.append({**rows[2], "email": "LEA.dubois@cpam-rhone.fr"})
    error = rejected(tmp_path, organisation, csv_bytes(rows))
    assert [(r.line, r.column) for r in error.rejections] == [(4, "email"), (5, "email")]
    assert error.rejections[0].reason == "adresse e-mail en double (lignes 4, 5)"
    assert error.summary("").startswith("2 lignes rejetées : rien n’a été importé.")
    assert "adresse e-mail en double (2)" in error.summary("")


def test_unknown_manager_is_rejected(tmp_path, organisation, outsider):
    rows = basic_rows()
    rows[2]["manager_email"] = "personne@ailleurs.fr"
    rows[1]["manager_email"] = outsider.email  # exists, but in another organisation
    error = rejected(tmp_path, organisation, csv_bytes(rows))
    assert [(r.line, r.email, r.column) for r in error.rejections] == [
        (3, "karim.benali@cpam-rhone.fr", "manager_email"),
        (4, "lea.dubois@cpam-rhone.fr", "manager_email"),
    ]
    assert error.rejections[1].reason.startswith("n+1 inconnu : « personne@ailleurs.fr »")


def test_cycle_of_managers_in_the_file_is_rejected_with_its_members(tmp_path, organisation):
    rows = basic_rows()
    rows[0]["manager_email"] = "lea.dubois@cpam-rhone.fr"
    rows.append({**rows[2], "email": "zoe@x.fr", "manager_email": "absent@x.fr"})
    error = rejected(tmp_path, organisation, csv_bytes(rows))
    # Reported in the same pass as the other errors, so the file is fixed in one go.
    assert [(r.line, r.kind) for r in error.rejections] == [
        (2, "cycle de n+1"),
        (3, "cycle de n+1"),
        (4, "cycle de n+1"),
        (5, "n+1 inconnu"),
    ]
    reason = error.rejections[0].reason
    assert reason.startswith("cycle de n+1 : ")
    for email in ("claire.martin@", "karim.benali@", "lea.dubois@"):
        assert email in reason


def test_cycle_through_a_person_absent_from_the_file_is_rejected(tmp_path, organisation, organism):
    chief = ManagerFactory(organism=organism, email="chief@x.fr")
    deputy = ManagerFactory(organism=organism, email="deputy@x.fr", manager=chief)
    rows = [
        {
            "email": "chief@x.fr",
            "prenom": "C",
            "nom": "Chief",
            "organisme": organism.code,
            "manager_email": deputy.email,
        }
    ]
    error = rejected(tmp_path, organisation, csv_bytes(rows))
    assert [r.line for r in error.rejections] == [2]
    assert "chief@x.fr → deputy@x.fr → chief@x.fr" in error.rejections[0].reason


def test_self_manager_and_team_errors_are_reported(tmp_path, organisation, organism):
    rows = basic_rows()
    rows[0]["manager_email"] = "claire.martin@cpam-rhone.fr"
    rows[1]["equipe_dirigee"] = "direction"  # led by Claire already
    rows[2].update(equipe="guichet", equipe_parente="inconnue")
    rows.append({**rows[2], "email": "zoe@x.fr", "equipe": "accueil", "equipe_parente": "guichet"})
    error = rejected(tmp_path, organisation, csv_bytes(rows))
    reasons = {(r.line, r.reason.split(" :")[0].split(" (")[0]) for r in error.rejections}
    assert reasons == {
        (2, "une personne ne peut pas être son propre n+1"),
        (2, "équipe « direction » dirigée par plusieurs personnes"),
        (3, "équipe « direction » dirigée par plusieurs personnes"),
        (4, "équipe parente inconnue"),
        (
            5,
            "équipe parente « guichet » différente de celle donnée ligne 3 pour l’équipe « accueil »",
        ),
    }


def test_cycle_of_parent_teams_is_rejected(tmp_path, organisation, organism):
    top = TeamFactory(organism=organism, code="top")
    TeamFactory(organism=organism, code="sub", parent=top)
    rows = [
        {
            "email": "a@x.fr",
            "prenom": "A",
            "nom": "A",
            "organisme": organism.code,
            "equipe": "top",
            "equipe_parente": "sub",
        }
    ]
    error = rejected(tmp_path, organisation, csv_bytes(rows))
    assert [r.line for r in error.rejections] == [2]
    assert error.rejections[0].reason == "cycle d’équipes parentes : top → sub → top"


def test_row_level_errors_are_all_reported_at_once(tmp_path, organisation, outsider):
    rows = [
        {"email": "pas-une-adresse", "prenom": "A", "nom": "B", "organisme": "cpam-x"},
        {"email": "ok@x.fr", "prenom": "", "nom": "B", "organisme": "inconnu", "niveau": "chef"},
        {"email": outsider.email, "prenom": "A", "nom": "B", "organisme": "inconnu"},
        {
            "email": "new@x.fr",
            "prenom": "A",
            "nom": "B",
            "organisme": "caf-01",
            "organisme_libelle": "CAF de l’Ain",
            "branche": "famille",
            "roles": "manager|chef",
        },
    ]
    error = rejected(tmp_path, organisation, csv_bytes(rows))
    kinds = {(r.line, r.kind) for r in error.rejections}
    assert kinds == {
        (2, "e-mail invalide"),
        (2, "organisme inconnu"),
        (3, "cellule obligatoire vide"),
        (3, "niveau inconnu"),
        (3, "organisme inconnu"),
        (4, "personne d’une autre organisation"),
        (4, "organisme inconnu"),
        (5, "rôle inconnu"),
        (5, "organisme inconnu"),  # the branch "famille" does not exist
    }
    branch = next(r for r in error.rejections if r.line == 5 and r.kind == "organisme inconnu")
    assert branch.reason.startswith("branche inconnue : « famille » (branches existantes : maladie")
    assert error.lines == 4


def test_a_second_import_of_the_same_organisation_waits_for_the_first(tmp_path, organisation):
    import psycopg

    from campus.people_import import _ADVISORY_LOCK_CLASS

    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [_ADVISORY_LOCK_CLASS, organisation.pk])
        message = file_error(tmp_path, organisation, csv_bytes(basic_rows()))
        assert message.startswith("Un autre import de l’annuaire est en cours")
        # A dry run writes nothing: it need not wait.
        path = write(tmp_path, csv_bytes(basic_rows()), "other.csv")
        assert people_import(path=path, organisation=organisation, dry_run=True).created == 3


# --- Report -----------------------------------------------------------------------------------


def test_report_is_an_excel_friendly_csv_with_formulas_neutralised(tmp_path):
    rejections = [
        Rejection(2, '=HYPERLINK("http://evil")', "email", "adresse e-mail invalide", "x"),
        Rejection(3, "+33@x.fr", "@colonne", "-motif", "x"),
        Rejection(4, "ok@x.fr", "email", "motif ordinaire", "x"),
    ]
    path = import_report_write(rejections=rejections, path=tmp_path / "r.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert lines == [
        ["ligne", "email", "colonne", "motif"],
        ["2", '\'=HYPERLINK("http://evil")', "email", "adresse e-mail invalide"],
        ["3", "'+33@x.fr", "'@colonne", "'-motif"],
        ["4", "ok@x.fr", "email", "motif ordinaire"],
    ]


# --- Views and job ----------------------------------------------------------------------------


def upload(content: bytes, name: str = "annuaire.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def run_last_job(owner) -> Job:
    job = Job.objects.filter(owner=owner).latest("created_at")
    job_run(job_id=str(job.pk), fn=people_import_job)
    job.refresh_from_db()
    return job


def test_hr_admin_sees_the_import_page(client, hr_admin):
    client.force_login(hr_admin)
    html = client.get(reverse("people_import")).content.decode()
    assert "Vérifier seulement (ne rien importer)" in html
    assert "equipe_dirigee" in html and 'enctype="multipart/form-data"' in html


def test_hr_admin_upload_creates_a_job_that_imports_the_people(client, hr_admin, media):
    client.force_login(hr_admin)
    response = client.post(reverse("people_import"), {"file": upload(csv_bytes(basic_rows()))})

    job = Job.objects.get(owner=hr_admin)
    assert response.status_code == 302
    assert response["Location"] == reverse("job_status", args=[job.pk])
    assert (job.kind, job.task_name, job.task_kwargs["dry_run"]) == (
        "people_import",
        "campus.tasks.people_import",
        False,
    )
    assert len(list((media / "imports").iterdir())) == 1
    job = run_last_job(hr_admin)
    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.message.startswith("3 personnes importées (3 créées), 2 équipes")
    assert job.result["created"] == 3
    assert User.objects.filter(email__endswith="@cpam-rhone.fr").count() == 3
    assert list((media / "imports").iterdir()) == []  # the upload is not kept


def test_dry_run_upload_writes_nothing_and_keeps_the_choice(client, hr_admin, media):
    client.force_login(hr_admin)
    client.post(
        reverse("people_import"), {"file": upload(csv_bytes(basic_rows())), "dry_run": "on"}
    )
    before = counts()
    job = run_last_job(hr_admin)
    assert job.state == Job.State.SUCCEEDED
    assert "Rien n’a été importé" in job.message and job.result["dry_run"] is True
    assert counts() == before


def test_rejected_upload_fails_the_job_with_a_downloadable_report(client, hr_admin, media):
    rows = basic_rows()
    rows[2]["manager_email"] = "=cmd@evil.fr"
    client.force_login(hr_admin)
    client.post(reverse("people_import"), {"file": upload(csv_bytes(rows))})
    before = counts()
    job = run_last_job(hr_admin)

    assert counts() == before
    assert job.state == Job.State.FAILED
    assert job.message == (
        "1 ligne rejetée : rien n’a été importé. Motifs : n+1 inconnu (1). "
        "Téléchargez le rapport pour les corriger."
    )
    report_url = reverse("people_import_report", args=[job.pk])
    assert job.result == {"report_url": report_url, "rejected": 1, "rows": 3}
    assert report_url in client.get(reverse("job_status", args=[job.pk])).content.decode()
    response = client.get(report_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0] == "ligne;email;colonne;motif"
    assert "4;lea.dubois@cpam-rhone.fr;manager_email;n+1 inconnu : « =cmd@evil.fr »" in body
    # Only the report is kept, not the uploaded file.
    assert [p.name for p in (media / "imports").iterdir()] == [f"rapport-{job.pk}.csv"]


def test_job_fails_if_its_owner_is_no_longer_hr_admin(client, hr_admin, media):
    client.force_login(hr_admin)
    client.post(reverse("people_import"), {"file": upload(csv_bytes(basic_rows()))})
    User.objects.filter(pk=hr_admin.pk).update(roles=[Role.MANAGER], is_superuser=False)
    before = counts()
    job = run_last_job(hr_admin)
    assert job.state == Job.State.FAILED
    assert job.message == "Seuls les administrateurs RH peuvent importer l’annuaire."
    assert counts() == before


def test_report_is_404_for_anyone_but_its_owner(client, hr_admin, manager, outsider, media):
    client.force_login(hr_admin)
    rows = basic_rows()
    rows[0]["niveau"] = "chef"
    client.post(reverse("people_import"), {"file": upload(csv_bytes(rows))})
    job = run_last_job(hr_admin)
    url = reverse("people_import_report", args=[job.pk])
    assert client.get(url).status_code == 200
    other_admin = HrAdminFactory(organism=hr_admin.organism, email="autre.rh@campus.test")
    for user in (manager, outsider, other_admin):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(hr_admin)
    assert client.get(reverse("people_import_report", args=["pas-un-uuid"])).status_code == 404


@pytest.mark.parametrize("persona", ["manager", "outsider"])
def test_import_page_is_404_for_non_hr_admins(client, request, persona, media):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("people_import")).status_code == 404
    response = client.post(reverse("people_import"), {"file": upload(csv_bytes(basic_rows()))})
    assert response.status_code == 404
    assert not Job.objects.exists()


def test_too_large_upload_is_refused_by_the_form_and_keeps_the_checkbox(
    client, hr_admin, media, settings
):
    settings.CAMPUS_IMPORT_MAX_BYTES = 100
    client.force_login(hr_admin)
    response = client.post(
        reverse("people_import"), {"file": upload(csv_bytes(basic_rows())), "dry_run": "on"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "la limite est de 100" in html
    assert re.search(r'<input type="checkbox" name="dry_run"[^>]*\schecked[\s>]', html)
    assert 'id="id_file_error"' in html  # the error list the input's aria-describedby names
    assert not Job.objects.exists()
    assert not (media / "imports").exists() or not list((media / "imports").iterdir())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (csv_bytes(basic_rows(), encoding="cp1252"), "Enregistrer sous &gt; CSV UTF-8"),
        (csv_bytes([], ["email", "nom"]), "Colonnes obligatoires manquantes : prenom, organisme"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "ni un CSV ni un classeur Excel"),
        (b"", "Le fichier est vide"),
    ],
)
def test_form_reports_bad_files_at_once_in_french(client, hr_admin, media, content, expected):
    client.force_login(hr_admin)
    response = client.post(reverse("people_import"), {"file": upload(content)})
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not Job.objects.exists()


def test_form_without_a_file_asks_for_one(client, hr_admin):
    client.force_login(hr_admin)
    response = client.post(reverse("people_import"), {})
    assert "Choisissez le fichier à importer" in response.content.decode()


# --- Command ----------------------------------------------------------------------------------


def test_command_imports_and_prints_a_summary(tmp_path, organisation, capsys):
    OrganisationFactory(name="Autre", slug="autre")
    path = write(tmp_path, csv_bytes(basic_rows()))
    call_command("import_people", str(path), "--organisation", organisation.slug)
    assert "3 personnes importées (3 créées), 2 équipes" in capsys.readouterr().out
    assert User.objects.filter(email="lea.dubois@cpam-rhone.fr").exists()


def test_command_dry_run_writes_nothing(tmp_path, organisation, capsys):
    before = counts()
    call_command("import_people", str(write(tmp_path, csv_bytes(basic_rows()))), "--dry-run")
    assert "Rien n’a été importé" in capsys.readouterr().out
    assert counts() == before


def test_command_writes_the_report_next_to_the_file_on_rejection(tmp_path, organisation, capsys):
    rows = basic_rows()
    rows[1]["manager_email"] = "inconnu@x.fr"
    path = write(tmp_path, csv_bytes(rows))
    with pytest.raises(CommandError) as info:
        call_command("import_people", str(path))
    report = tmp_path / "annuaire-rejets.csv"
    assert str(report) in str(info.value) and str(report) in capsys.readouterr().err
    assert "1 ligne rejetée : rien n’a été importé." in str(info.value)
    assert "3;karim.benali@cpam-rhone.fr;manager_email;n+1 inconnu" in report.read_text(
        encoding="utf-8-sig"
    )


def test_command_refuses_a_file_too_large(tmp_path, organisation, settings):
    settings.CAMPUS_IMPORT_MAX_BYTES = 10
    with pytest.raises(CommandError, match="la limite est de 10"):
        call_command("import_people", str(write(tmp_path, csv_bytes(basic_rows()))))


def test_command_needs_the_organisation_when_there_are_several(tmp_path, organisation):
    OrganisationFactory(name="Autre", slug="autre")
    with pytest.raises(CommandError, match="--organisation"):
        call_command("import_people", str(write(tmp_path, csv_bytes(basic_rows()))))


# --- Cost -------------------------------------------------------------------------------------


def generated_rows(prefix: str, organism_code: str, people: int) -> list[dict[str, str]]:
    """A director, ten team managers and their collaborators, in a new organism."""
    rows = [
        {
            "email": f"{prefix}-dir@x.fr",
            "prenom": "Dir",
            "nom": prefix,
            "organisme": organism_code,
            "organisme_libelle": f"Organisme {prefix}",
            "branche": "maladie",
            "equipe": "direction",
            "equipe_dirigee": "direction",
            "niveau": "direction",
        }
    ]
    for m in range(10):
        rows.append(
            {
                "email": f"{prefix}-m{m}@x.fr",
                "prenom": "Man",
                "nom": f"{prefix}{m}",
                "organisme": organism_code,
                "equipe": f"e{m}",
                "equipe_parente": "direction",
                "equipe_dirigee": f"e{m}",
                "manager_email": f"{prefix}-dir@x.fr",
                "niveau": "proximite",
            }
        )
    for c in range(people - len(rows)):
        rows.append(
            {
                "email": f"{prefix}-c{c}@x.fr",
                "prenom": "Col",
                "nom": f"{prefix}{c}",
                "organisme": organism_code,
                "equipe": f"e{c % 10}",
                "manager_email": f"{prefix}-m{c % 10}@x.fr",
            }
        )
    return rows


def test_number_of_queries_does_not_grow_with_rows(
    tmp_path, organisation, django_assert_max_num_queries
):
    small = write(tmp_path, csv_bytes(generated_rows("s", "org-s", 20)), "small.csv")
    big = write(tmp_path, csv_bytes(generated_rows("b", "org-b", 1000)), "big.csv")
    with CaptureQueriesContext(connection) as small_queries:
        people_import(path=small, organisation=organisation)
    with django_assert_max_num_queries(len(small_queries)):
        summary = people_import(path=big, organisation=organisation)
    assert len(small_queries) <= 20
    assert summary.created == 1000
    assert User.objects.filter(email__startswith="b-c", manager__isnull=False).count() == 989
    # Re-importing the same people costs no more, whether they changed or not.
    with django_assert_max_num_queries(len(small_queries)):
        assert people_import(path=big, organisation=organisation).unchanged == 1000
    renamed = [{**row, "nom": row["nom"] + "-bis"} for row in generated_rows("b", "org-b", 1000)]
    with django_assert_max_num_queries(len(small_queries)):
        summary = people_import(path=write(tmp_path, csv_bytes(renamed)), organisation=organisation)
    assert (summary.updated, summary.unchanged) == (1000, 0)
    assert User.objects.filter(last_name__endswith="-bis").count() == 1000
