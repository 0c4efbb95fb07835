"""Benchmark of the people and teams import, end to end (read, check, write), as the job runs it.

    CAMPUS_DATA_DIR=/tmp/bench-x .venv/bin/python bench/bench_import.py \
        [--managers 20000 --collaborators 150000 --organisms 300] [--xlsx]

Works in its own database (``campus_bench`` on the embedded server, emptied first). With
DATABASE_URL set it refuses to run unless given ``--flush-database-url``: that database is emptied. Generates a realistic file: five
branches, 300 organisms, in each a director, strategic, middle and local managers leading nested
teams, collaborators under the local managers, rows shuffled as an HR export would be. Times a
first import (creations), a re-import of the same file (nothing to write), then a re-import
where every person changed (worst-case update).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import bench_django_setup  # noqa: E402

BRANCHES = [
    ("maladie", "Maladie", "cpam", "CPAM"),
    ("famille", "Famille", "caf", "CAF"),
    ("retraite", "Retraite", "carsat", "CARSAT"),
    ("recouvrement", "Recouvrement", "urssaf", "URSSAF"),
    ("autonomie", "Autonomie", "cnsa", "Caisse autonomie"),
]
REGIONS = [
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Corse",
    "Grand Est",
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d’Azur",
    "Guadeloupe",
    "Martinique",
    "La Réunion",
]
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Chloé",
    "Inès",
    "Manon",
    "Sarah",
    "Emma",
    "Jade",
    "Louise",
    "Zoé",
    "Lucas",
    "Hugo",
    "Louis",
    "Jules",
    "Gabriel",
    "Nathan",
    "Karim",
    "Yanis",
    "Mohamed",
    "Thomas",
    "Hélène",
    "Françoise",
    "Agnès",
    "Jérôme",
    "Stéphane",
    "Éric",
    "Noémie",
    "Anaïs",
    "Maëlle",
    "Loïc",
    "Gaëlle",
    "Benoît",
    "Cécile",
    "Océane",
    "Théo",
    "Céline",
    "Sébastien",
    "Joël",
    "Aurélie",
    "Clément",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Benali",
    "Nguyen",
    "Diallo",
    "Da",
    "Silva",
    "Lemoine",
    "Chevalier",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
]
LEVELS = ["direction", "strategique", "intermediaire", "proximite"]


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def generate_rows(
    *, managers: int, collaborators: int, organisms: int, rng: random.Random
) -> list[list[str]]:
    rows: list[list[str]] = []
    serial = 0

    def person(org: str) -> tuple[str, str, str]:
        nonlocal serial
        serial += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        plain = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore")
        slug = plain.decode().lower().replace(" ", "-")
        return f"{slug}.{serial}@{org}.fr", first, last

    for index, (managers_here, collaborators_here) in enumerate(
        zip(_split(managers, organisms), _split(collaborators, organisms), strict=True)
    ):
        branch_code, _branch_name, prefix, label = BRANCHES[index % len(BRANCHES)]
        region = REGIONS[index % len(REGIONS)]
        org = f"{prefix}-{index:03d}"
        org_cells = [org, f"{label} n°{index}", branch_code, region]
        # A pyramid: 1 director, ~4% strategic, ~20% middle, the rest local managers.
        strategic = max(1, managers_here * 4 // 100)
        middle = max(1, managers_here * 20 // 100)
        counts = [1, strategic, middle, max(1, managers_here - 1 - strategic - middle)]
        by_level: list[list[tuple[str, str]]] = []  # (email, team) per level
        for depth, count in enumerate(counts):
            current = []
            for n in range(count):
                email, first, last = person(org)
                team = "direction" if depth == 0 else f"{LEVELS[depth][:3]}-{n:04d}"
                boss_email, boss_team = rng.choice(by_level[-1]) if depth else ("", "")
                rows.append(
                    [
                        email,
                        first,
                        last,
                        *org_cells,
                        team,
                        f"Équipe {team}" if depth else "Direction",
                        boss_team,
                        team,
                        boss_email,
                        LEVELS[depth],
                        "admin_rh" if depth == 0 and index % 10 == 0 else "",
                        "Responsable",
                    ]
                )
                current.append((email, team))
            by_level.append(current)
        local = by_level[-1]
        for n in range(collaborators_here):
            email, first, last = person(org)
            boss_email, team = local[n % len(local)]
            rows.append(
                [email, first, last, *org_cells, team, "", "", "", boss_email, "", "", "Conseiller"]
            )
    rng.shuffle(rows)
    return rows


def write_csv(rows: list[list[str]], path: Path) -> None:
    from campus.people_import import COLUMNS  # after django.setup()

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def write_xlsx(rows: list[list[str]], path: Path) -> None:
    import openpyxl

    from campus.people_import import COLUMNS  # after django.setup()

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=20000)
    parser.add_argument("--collaborators", type=int, default=150000)
    parser.add_argument("--organisms", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--xlsx", action="store_true", help="also time the same file as XLSX")
    parser.add_argument(
        "--flush-database-url",
        action="store_true",
        help="allow emptying the database DATABASE_URL points to",
    )
    args = parser.parse_args()

    bench_django_setup(
        database="campus_bench",
        allow_database_url=args.flush_database_url,
        refusal=(
            "DATABASE_URL is set: this benchmark would empty that database. "
            "Unset it, or pass --flush-database-url if that is really what you want."
        ),
    )

    from django.conf import settings
    from django.core.management import call_command

    from campus.jobs import job_run
    from campus.models import Branch, Job, Organisation, Organism, Role, Team, User
    from campus.people_import import import_upload_store, people_import_job

    settings.CAMPUS_IMPORT_MAX_BYTES = max(settings.CAMPUS_IMPORT_MAX_BYTES, 200 * 1024 * 1024)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    organisation = Organisation.objects.create(name="Sécurité sociale", slug="secu")
    for code, name, *_rest in BRANCHES:
        Branch.objects.create(organisation=organisation, code=code, name=name)
    admin = User.objects.create_user(
        "bench.rh@campus.test", organisation=organisation, roles=[Role.HR_ADMIN]
    )

    rng = random.Random(args.seed)
    started = time.perf_counter()
    rows = generate_rows(
        managers=args.managers,
        collaborators=args.collaborators,
        organisms=args.organisms,
        rng=rng,
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    source = workdir / "annuaire.csv"
    write_csv(rows, source)
    size_mb = source.stat().st_size / 1e6
    print(
        f"generated: {len(rows)} rows, {size_mb:.1f} MB CSV in {time.perf_counter() - started:.1f} s"
    )

    def run(path: Path, label: str) -> None:
        class Upload:  # what import_upload_store needs from an UploadedFile
            def chunks(self):
                with path.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        yield chunk

        stored = import_upload_store(uploaded=Upload(), kind=path.suffix.lstrip("."))
        job = Job.objects.create(
            owner=admin,
            organisation=organisation,
            kind="people_import",
            title=label,
            task_name="campus.tasks.people_import",
            task_kwargs={"source": stored, "dry_run": False, "filename": path.name},
        )
        phases: list[tuple[float, str]] = []

        def fn(job, reporter, **kwargs):
            progress = reporter.progress

            def recording(percent, message="", *, force=False):
                if force:
                    phases.append((time.perf_counter(), message))
                progress(percent, message, force=force)

            reporter.progress = recording
            return people_import_job(job, reporter, **kwargs)

        start = time.perf_counter()
        job_run(job_id=str(job.pk), fn=fn)
        elapsed = time.perf_counter() - start
        job.refresh_from_db()
        if job.state != Job.State.SUCCEEDED:
            raise SystemExit(f"{label}: job {job.state}: {job.message}")
        marks = [(start, "début"), *phases, (start + elapsed, "fin")]
        for (t0, message), (t1, _next) in zip(marks, marks[1:], strict=False):
            print(f"    {t1 - t0:6.1f} s  {message}")
        print(f"{label}: {len(rows)} rows in {elapsed:.1f} s ({len(rows) / elapsed:.0f} rows/s)")
        print(f"    {job.message}")

    run(source, "import")
    run(source, "re-import (nothing changed)")
    changed = workdir / "annuaire-modifie.csv"
    write_csv([[*row[:2], row[2].upper(), *row[3:]] for row in rows], changed)
    run(changed, "re-import (everyone changed)")
    if args.xlsx:
        xlsx = workdir / "annuaire.xlsx"
        write_xlsx(rows, xlsx)
        run(xlsx, "import xlsx (everyone changed back)")
    print(
        f"database: {User.objects.count()} people, {Team.objects.count()} teams, "
        f"{Organism.objects.count()} organisms"
    )
    for path in workdir.iterdir():
        path.unlink()
    workdir.rmdir()
    # Keep the bench database from piling up reports and uploads.
    for leftover in (Path(settings.MEDIA_ROOT) / "imports").glob("rapport-*.csv"):
        leftover.unlink()


if __name__ == "__main__":
    main()
