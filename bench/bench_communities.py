"""Benchmark of the communities pages at scale: constant query counts and latency.

    CAMPUS_DATA_DIR=/tmp/bench-x .venv/bin/python bench/bench_communities.py \
        [--groups 2000 --managers 5000 --replies 500 --requests 30]

Targets of issue #9: the group list (directory) with 2,000 groups and a thread with 500
replies render with a constant number of queries. Measured through Django's test client (URL
resolution, middleware, view, template; no network): the directory (first page, a search, a
type filter), a group page, the first and last pages of the 500-reply thread, and a French
full-text search across the groups. Query counts are also taken on a small thread and a
small directory so the report shows they do not grow with the data.

Works in its own database (``campus_bench_communities`` on the embedded server); with
DATABASE_URL set it refuses unless given ``--use-database-url``. A second run deletes the
previous run's organisation first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import bench_django_setup, pct  # noqa: E402

ORG_SLUG = "bench-communities"
UNUSABLE_PASSWORD = "!"  # noqa: S105  (Django never matches a hash starting with "!")
WORDS = [
    "délégation",
    "entretien",
    "annuel",
    "télétravail",
    "équipe",
    "réunion",
    "feedback",
    "reconnaissance",
    "conflit",
    "priorités",
    "charge",
    "de",
    "travail",
    "recrutement",
    "intégration",
    "objectifs",
    "confiance",
    "autonomie",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--managers", type=int, default=5000)
    parser.add_argument("--replies", type=int, default=500)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--use-database-url", action="store_true")
    args = parser.parse_args()
    bench_django_setup(
        database="campus_bench_communities",
        allow_database_url=args.use_database_url,
        refusal="DATABASE_URL is set: add --use-database-url to write benchmark data there.",
    )
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from campus import search
    from campus.models import Branch, Organisation, Organism, Role, User
    from communities.models import (
        Group,
        GroupKind,
        GroupVisibility,
        Membership,
        Post,
        Reaction,
        Thread,
    )
    from communities.services import POST_WEIGHTS, THREAD_WEIGHTS

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    old = Organisation.objects.filter(slug=ORG_SLUG).first()
    if old is not None:
        Group.objects.filter(organisation=old).delete()
        User.objects.filter(organisation=old).delete()
        Organism.objects.filter(organisation=old).delete()
        Branch.objects.filter(organisation=old).delete()
        old.delete()
    print(f"… migrated and cleaned in {time.perf_counter() - t0:.1f} s", flush=True)

    t0 = time.perf_counter()
    org = Organisation.objects.create(name="Bench communautés", slug=ORG_SLUG)
    branch = Branch.objects.create(organisation=org, code="maladie", name="Maladie")
    organisms = Organism.objects.bulk_create(
        [
            Organism(organisation=org, branch=branch, code=f"o{i}", name=f"Organisme {i}")
            for i in range(300)
        ]
    )
    users = User.objects.bulk_create(
        [
            User(
                email=f"bench-comm-{i}@campus.test",
                first_name="Manager",
                last_name=f"N{i}",
                organisation=org,
                organism=rng.choice(organisms),
                level="proximity",
                roles=[Role.MANAGER],
                password=UNUSABLE_PASSWORD,
            )
            for i in range(args.managers)
        ],
        batch_size=2000,
    )
    kinds = list(GroupKind.values)
    groups = Group.objects.bulk_create(
        [
            Group(
                organisation=org,
                name=f"Groupe {i:04d} {rng.choice(WORDS)}",
                slug=f"groupe-{i}",
                description=" ".join(rng.choices(WORDS, k=12)),
                kind=rng.choice(kinds),
                visibility=GroupVisibility.CLOSED if i % 5 == 0 else GroupVisibility.OPEN,
            )
            for i in range(args.groups)
        ],
        batch_size=2000,
    )
    memberships = []
    for group in groups:
        for user in rng.sample(users, k=rng.randint(3, 40)):
            memberships.append(Membership(group=group, user=user))
    Membership.objects.bulk_create(memberships, batch_size=5000, ignore_conflicts=True)
    viewer = users[0]
    big_group = groups[1]
    for group in [big_group, *rng.sample(groups, k=9)]:
        Membership.objects.get_or_create(group=group, user=viewer)
    now = timezone.now()
    members = list(Membership.objects.filter(group=big_group).values_list("user_id", flat=True))
    threads = Thread.objects.bulk_create(
        [
            Thread(
                group=big_group,
                author_id=rng.choice(members),
                title=f"Discussion {i} : {rng.choice(WORDS)}",
                last_activity_at=now,
            )
            for i in range(60)
        ]
    )
    big, small = threads[0], threads[1]
    posts = []
    for thread, n in ((big, args.replies + 1), (small, 5)):
        posts += [
            Post(
                thread=thread,
                author_id=rng.choice(members),
                body=" ".join(rng.choices(WORDS, k=40)),
            )
            for _ in range(n)
        ]
    for thread in threads[2:]:
        posts.append(
            Post(
                thread=thread,
                author_id=rng.choice(members),
                body=" ".join(rng.choices(WORDS, k=40)),
            )
        )
    posts = Post.objects.bulk_create(posts, batch_size=2000)
    Thread.objects.filter(pk=big.pk).update(reply_count=args.replies)
    Reaction.objects.bulk_create(
        [
            Reaction(post=p, user_id=rng.choice(members), kind=rng.choice(["like", "thanks"]))
            for p in posts
            for _ in range(2)
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )
    search.search_vector_update(
        Thread.objects.filter(group__organisation=org), weights=THREAD_WEIGHTS
    )
    search.search_vector_update(
        Post.objects.filter(thread__group__organisation=org), weights=POST_WEIGHTS
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"… {len(groups)} groups, {len(memberships)} memberships, {len(posts)} posts "
        f"in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )

    client = Client()
    client.force_login(viewer)
    pages = [
        ("directory", reverse("communities:index"), {}),
        ("directory, search", reverse("communities:index"), {"q": "equipe"}),
        ("directory, page 50", reverse("communities:index"), {"page": 50}),
        ("group page", reverse("communities:group", args=[big_group.slug]), {}),
        ("thread, 5 replies", reverse("communities:thread", args=[small.pk]), {}),
        ("thread, 500 replies p1", reverse("communities:thread", args=[big.pk]), {}),
        ("thread, 500 replies last", reverse("communities:thread", args=[big.pk]), {"dernier": 1}),
        ("search", reverse("communities:search"), {"q": "entretien annuel"}),
    ]
    print()
    print(f"{'page':28} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name, url, params in pages:
        counts, timings = set(), []
        for _ in range(args.requests):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, params)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code)
            counts.add(len(queries))
        label = "/".join(str(c) for c in sorted(counts))
        print(f"{name:28} {label:>7} {statistics.median(timings):8.1f} {pct(timings, 95):8.1f}")


if __name__ == "__main__":
    main()
