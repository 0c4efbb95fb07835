"""Benchmark of the HR analytics pages at scale.

    CAMPUS_DATA_DIR=/tmp/bench-x .venv/bin/python bench/bench_analytics.py \
        [--managers 20000 --organisms 300 --requests 40]

Target of issue #10: the adoption dashboard at 20,000 managers with 12 months of activity
renders in under 500 ms server time with a constant number of queries. Measured through
Django's test client (URL resolution, middleware, view, template; no network), whole
organisation and one scope of each dimension, over the default and the 12-month periods. The
outcomes page is measured too, and the refresh of the pre-aggregated activity (the beat job).
``--direct`` also times the aggregation straight from the activity log, for comparison.

Works in its own database (``campus_bench_analytics`` on the embedded server); with
DATABASE_URL set it refuses unless given ``--use-database-url``. A second run deletes the
previous run's organisation first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import bench_django_setup, pct  # noqa: E402

ORG_SLUG = "bench-analytics"
TARGET_MS = 500.0
UNUSABLE_PASSWORD = "!"  # noqa: S105  (Django never matches a hash starting with "!")
LEVELS = [("proximity", 0.6), ("middle", 0.25), ("strategic", 0.12), ("director", 0.03)]
#: (feature, action, probability in an active month, days when used).
ACTIONS = [
    ("selfdiag", "start", 0.08, 1),
    ("selfdiag", "submit", 0.06, 1),
    ("feedback180", "open", 0.03, 1),
    ("feedback180", "close", 0.02, 1),
    ("mallette", "view", 0.55, 3),
    ("mallette", "contribute", 0.03, 1),
    ("coach", "question", 0.35, 2),
    ("boosts", "register", 0.2, 1),
    ("boosts", "attend", 0.15, 1),
    ("communities", "post", 0.15, 2),
]


def _delete_previous(org_model, connection) -> None:
    old = org_model.objects.filter(slug=ORG_SLUG).first()
    if old is None:
        return
    with connection.cursor() as cursor:
        for table in ("campus_activityrollup", "campus_activity"):
            cursor.execute(f"DELETE FROM {table} WHERE organisation_id = %s", [old.pk])  # noqa: S608
        cursor.execute("DELETE FROM selfdiag_diagnosis WHERE organisation_id = %s", [old.pk])
        cursor.execute("DELETE FROM mallette_mention WHERE organisation_id = %s", [old.pk])
        cursor.execute(
            "DELETE FROM feedback180_invitation WHERE campaign_id IN "
            "(SELECT id FROM feedback180_campaign WHERE organisation_id = %s)",
            [old.pk],
        )
        cursor.execute("DELETE FROM feedback180_campaign WHERE organisation_id = %s", [old.pk])
        cursor.execute(
            "DELETE FROM coach_exchange WHERE conversation_id IN (SELECT c.id FROM "
            "coach_conversation c JOIN campus_user u ON u.id = c.user_id "
            "WHERE u.organisation_id = %s)",
            [old.pk],
        )
        cursor.execute(
            "DELETE FROM coach_conversation WHERE user_id IN "
            "(SELECT id FROM campus_user WHERE organisation_id = %s)",
            [old.pk],
        )
        cursor.execute("DELETE FROM campus_user WHERE organisation_id = %s", [old.pk])
        cursor.execute("DELETE FROM campus_organism WHERE organisation_id = %s", [old.pk])
        cursor.execute("DELETE FROM campus_branch WHERE organisation_id = %s", [old.pk])
    old.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=20000)
    parser.add_argument("--organisms", type=int, default=300)
    parser.add_argument("--branches", type=int, default=5)
    parser.add_argument("--active", type=float, default=0.41, help="monthly active share")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--campaigns", type=int, default=12000)
    parser.add_argument("--questions", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--direct", action="store_true", help="also time direct aggregation")
    parser.add_argument("--use-database-url", action="store_true")
    args = parser.parse_args()
    bench_django_setup(
        database="campus_bench_analytics",
        allow_database_url=args.use_database_url,
        refusal="DATABASE_URL is set: add --use-database-url to write benchmark data there.",
    )
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from campus.analytics import rollups
    from campus.analytics.services import month_start, months_back
    from campus.models import Branch, Organisation, Organism, Role, User

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    _delete_previous(Organisation, connection)
    print(f"… migrated and cleaned in {time.perf_counter() - t0:.1f} s", flush=True)

    t0 = time.perf_counter()
    org = Organisation.objects.create(name="Bench analytics", slug=ORG_SLUG)
    branches = Branch.objects.bulk_create(
        [Branch(organisation=org, code=f"b{i}", name=f"Branche {i}") for i in range(args.branches)]
    )
    organisms = Organism.objects.bulk_create(
        [
            Organism(
                organisation=org,
                branch=branches[i % len(branches)],
                code=f"o{i}",
                name=f"Organisme {i}",
            )
            for i in range(args.organisms)
        ]
    )
    weights = [rng.lognormvariate(0, 1) for _ in organisms]
    levels, level_weights = zip(*LEVELS, strict=True)
    users = User.objects.bulk_create(
        [
            User(
                email=f"bench{i}@analytics.test",
                first_name="Bench",
                last_name=f"Manager {i}",
                organisation=org,
                organism=rng.choices(organisms, weights)[0],
                level=rng.choices(levels, level_weights)[0],
                roles=[Role.MANAGER],
                password=UNUSABLE_PASSWORD,
            )
            for i in range(args.managers)
        ],
        batch_size=2000,
    )
    analyst = User.objects.create(
        email="analyst@analytics.test",
        organisation=org,
        roles=[Role.HR_ANALYST],
        password=UNUSABLE_PASSWORD,
    )
    print(f"… {len(users)} managers in {time.perf_counter() - t0:.1f} s", flush=True)

    # Activity: each manager joins in some month of the 13 kept (a third before the window),
    # then is active in a month with a probability that makes ~41 % monthly active.
    t0 = time.perf_counter()
    today = timezone.localdate()
    current = month_start(today)
    months = [months_back(current, n) for n in range(12, -1, -1)]
    buffer = io.StringIO()
    rows = 0
    for user in users:
        start = max(0, rng.randint(-6, 12))
        for index in range(start, len(months)):
            if index > start and rng.random() > args.active * 1.1:
                continue
            month = months[index]
            last_day = today.day if month == current else 28
            device = "mobile" if rng.random() < 0.3 else "desktop"
            login_days = rng.sample(range(1, last_day + 1), min(last_day, rng.randint(1, 5)))
            items = [("login", "login", d) for d in login_days]
            for feature, action, probability, days in ACTIONS:
                if rng.random() < probability:
                    for d in rng.sample(login_days, min(days, len(login_days))):
                        items.append((feature, action, d))
            for feature, action, d in items:
                day = month.replace(day=d)
                buffer.write(
                    f"{user.pk}\t{org.pk}\t{user.organism_id}\t{user.level}\t{feature}\t"
                    f"{action}\t{month.isoformat()}\t{day.isoformat()}\t{device}\n"
                )
                rows += 1
    buffer.seek(0)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY campus_activity (user_id, organisation_id, organism_id, level, feature, "
            "action, month, day, device) FROM STDIN"
        ) as copy:
            copy.write(buffer.read())
        cursor.execute("ANALYZE campus_activity")
    print(f"… {rows} activity rows in {time.perf_counter() - t0:.1f} s", flush=True)

    t0 = time.perf_counter()
    _seed_outcomes(org, users, rng, months, args)
    print(f"… campaigns, diagnoses, coach questions, mentions in {time.perf_counter() - t0:.1f} s")

    # The beat job: refresh of the pre-aggregated activity.
    refresh_ms = []
    for _ in range(2):
        started = time.perf_counter()
        written = rollups.rollup_refresh(organisation=org)
        refresh_ms.append((time.perf_counter() - started) * 1000)
    print(f"… rollup refresh: {written} rows, {min(refresh_ms) / 1000:.1f} s", flush=True)

    if args.direct:
        _time_direct(org, connection, months)

    scopes = [
        {},
        {"perimetre": f"branch:{branches[0].pk}"},
        {
            "perimetre": f"organism:{organisms[int(max(range(len(weights)), key=weights.__getitem__))].pk}"
        },
        {"perimetre": "level:strategic"},
    ]
    periods = [{}, {"periode": "12"}, {"periode": "3"}]
    client = Client()
    client.force_login(analyst)
    results = {}
    for page, url in (("adoption", "/analyses/"), ("outcomes", "/analyses/resultats/")):
        timings, counts = [], set()
        client.get(url)  # warm-up: templates compiled, connection open
        for i in range(args.requests):
            params = {**scopes[i % len(scopes)], **periods[(i // len(scopes)) % len(periods)]}
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, params)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, params, response.status_code)
            counts.add(len(queries))
        results[page] = (timings, counts)
    print()
    print(f"activity rows: {rows}; managers: {len(users)}; organisms: {len(organisms)}")
    print(f"rollup refresh (beat job): {statistics.median(refresh_ms) / 1000:.2f} s")
    for page, (timings, counts) in results.items():
        print(
            f"{page} page: p50 {pct(timings, 50):.1f} ms, p95 {pct(timings, 95):.1f} ms, "
            f"max {max(timings):.1f} ms (n={len(timings)}); queries per page: {sorted(counts)}"
        )
    timings, counts = results["adoption"]
    verdict = "OK" if pct(timings, 95) < TARGET_MS and len(counts) == 1 else "MISSED"
    print(f"target: adoption p95 < {TARGET_MS:.0f} ms with a constant query count: {verdict}")


def _seed_outcomes(org, users, rng, months: list[dt.date], args) -> None:
    """What the other figures read: 180° campaigns and their invitations (the adoption page
    counts them too), diagnoses, coach questions and mentions, at the benchmark's scale."""
    from django.db import connection
    from django.utils import timezone

    from coach.models import Conversation, Exchange
    from feedback180.models import Campaign
    from mallette.models import Mention, Practice, Theme
    from selfdiag.models import Diagnosis
    from selfdiag.services import questionnaire_default_ensure

    now = timezone.now()
    tz = timezone.get_current_timezone()

    def moment(month: dt.date) -> dt.datetime:
        day = min(28, (now.day if month == months[-1] else 28))
        return dt.datetime(month.year, month.month, rng.randint(1, day), 10, tzinfo=tz)

    campaigns = []
    for user in rng.sample(users, min(len(users), args.campaigns)):
        opened = moment(rng.choice(months[1:]))
        closed = opened + dt.timedelta(days=21)
        done = closed < now
        campaigns.append(
            Campaign(
                organisation=org,
                manager=user,
                organism_id=user.organism_id,
                status="closed" if done else "open",
                closes_on=closed.date(),
                opened_at=opened,
                closed_at=closed if done else None,
                response_count=6 if done else 0,
            )
        )
    Campaign.objects.bulk_create(campaigns, batch_size=2000)
    buffer = io.StringIO()
    for campaign in campaigns:
        for n in range(8):
            responded = "t" if rng.random() < 0.7 else "f"
            buffer.write(f"{campaign.pk}\tr{n}.{campaign.pk}@bench.test\tt\t{responded}\n")
    buffer.seek(0)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY feedback180_invitation (campaign_id, email, sent, responded) FROM STDIN"
        ) as copy,
    ):
        copy.write(buffer.read())

    questionnaire = questionnaire_default_ensure()
    codes = list(questionnaire.competencies.values_list("code", flat=True))
    diagnoses = []
    for user in users:
        count = 2 if rng.random() < 0.3 else 1
        for n in range(count):
            scores = {c: round(min(5, max(1, rng.gauss(3.3 + 0.2 * n, 0.7))), 2) for c in codes}
            diagnoses.append(
                Diagnosis(
                    user=user,
                    organisation=org,
                    questionnaire=questionnaire,
                    status="submitted",
                    submitted_at=now - dt.timedelta(days=300 - 200 * n),
                    latest=n == count - 1,
                    level=user.level,
                    organism_id=user.organism_id,
                    scores=scores,
                    overall=round(sum(scores.values()) / len(scores), 2),
                )
            )
    Diagnosis.objects.bulk_create(diagnoses, batch_size=2000)

    themes = list(Theme.objects.values_list("slug", flat=True)) or [""]
    askers = rng.sample(users, min(len(users), 10000))
    conversations = Conversation.objects.bulk_create(
        [Conversation(user=u, title="Question") for u in askers], batch_size=2000
    )
    exchanges = [
        Exchange(
            conversation=rng.choice(conversations),
            question="Question",
            question_scrubbed="Question",
            theme_slug=rng.choice(themes),
        )
        for _ in range(args.questions)
    ]
    Exchange.objects.bulk_create(exchanges, batch_size=5000)
    Exchange.objects.filter(conversation__user__organisation=org).update(
        created_at=now - dt.timedelta(days=40)
    )

    practices = list(Practice.objects.filter(status="published").values_list("pk", flat=True)[:300])
    if practices:
        Mention.objects.bulk_create(
            [
                Mention(
                    practice_id=rng.choice(practices),
                    organisation=org,
                    organism_id=rng.choice(users).organism_id,
                    source="coach",
                    source_ref=f"bench.{org.pk}:{i}",
                    similarity=0.8,
                    day=(now - dt.timedelta(days=rng.randint(0, 330))).date(),
                )
                for i in range(30000)
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        for table in ("feedback180_campaign", "feedback180_invitation", "selfdiag_diagnosis"):
            cursor.execute(f"ANALYZE {table}")  # noqa: S608


def _time_direct(org, connection, months: list[dt.date]) -> None:
    """The six aggregates of the adoption page straight from the activity log (the approach
    the rollup replaces), for the record."""
    from django.db.models import Count

    from campus.analytics.models import Activity, Feature
    from campus.models import Role

    activity = Activity.objects.filter(
        organisation=org,
        month__gte=months[1],
        month__lte=months[-1],
        user__roles__contains=[Role.MANAGER],
    )
    counts = {"people": Count("user_id", distinct=True), "uses": Count("pk")}
    used = activity.exclude(feature=Feature.LOGIN)
    started = time.perf_counter()
    list(used.values("month", "feature").annotate(**counts).order_by())
    list(activity.values("month").annotate(**counts).order_by())
    list(used.values("month").annotate(**counts).order_by())
    list(used.values("feature").annotate(**counts).order_by())
    used.aggregate(**counts)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"… direct aggregation from the activity log (5 queries): {elapsed:.0f} ms")


if __name__ == "__main__":
    main()
