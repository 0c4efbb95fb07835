"""Benchmark of the 180° feedback at scale.

    CAMPUS_DATA_DIR=/tmp/bench-x .venv/bin/python bench/bench_feedback180.py \
        [--managers 20000 --campaigns 15000 --raters 10 --organisms 300 --requests 50]

Design target: 20,000 managers, 150,000 collaborators, 100,000 feedback responses. Measures,
through Django's test client (no network):

* the HR participation page (aggregates by organism over every invitation),
* the debrief page of random managers (frozen results: constant query count),
* the rater's form page (token look-up by hash),
* the processing job of one campaign with comments (scrub, embed, synthesise), per response.

Works in its own database (``campus_bench_feedback180`` on the embedded server); with
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

ORG_SLUG = "bench-feedback180"
UNUSABLE_PASSWORD = "!"  # noqa: S105  (Django never matches a hash starting with "!")


def timed(client, url: str, runs: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    return times, queries


def report(label: str, times: list[float], queries: int) -> None:
    print(
        f"{label:<34} median {statistics.median(times):7.1f} ms · p95 {pct(times, 95):7.1f} ms"
        f" · {queries} queries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=20000)
    parser.add_argument("--campaigns", type=int, default=15000)
    parser.add_argument("--raters", type=int, default=10)
    parser.add_argument("--organisms", type=int, default=300)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--process-responses", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--use-database-url", action="store_true")
    args = parser.parse_args()
    bench_django_setup(
        database="campus_bench_feedback180",
        allow_database_url=args.use_database_url,
        refusal="DATABASE_URL is set: add --use-database-url to write benchmark data there.",
    )
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from campus.models import Branch, Organisation, Organism, Role, User
    from feedback180 import services
    from feedback180.defaults import questionnaire_default
    from feedback180.models import Campaign, CampaignStatus, Invitation, InvitationLink, Response
    from feedback180.synthesis import scores_compute

    rng = random.Random(args.seed)
    call_command("migrate", verbosity=0)
    old = Organisation.objects.filter(slug=ORG_SLUG).first()
    if old is not None:
        Campaign.objects.filter(organisation=old).delete()
        User.objects.filter(organisation=old).delete()
        Organism.objects.filter(organisation=old).delete()
        Branch.objects.filter(organisation=old).delete()
        old.delete()
    started = time.perf_counter()
    org = Organisation.objects.create(name="Bench 180", slug=ORG_SLUG)
    branch = Branch.objects.create(organisation=org, code="maladie", name="Maladie")
    organisms = Organism.objects.bulk_create(
        [
            Organism(organisation=org, branch=branch, code=f"o{n}", name=f"Organisme {n:03d}")
            for n in range(args.organisms)
        ]
    )
    managers = User.objects.bulk_create(
        [
            User(
                email=f"m{n}@bench.test",
                first_name="Manager",
                last_name=f"N{n}",
                organisation=org,
                organism=organisms[n % len(organisms)],
                roles=[Role.MANAGER],
                password=UNUSABLE_PASSWORD,
            )
            for n in range(args.managers)
        ],
        batch_size=5000,
    )
    hr = User.objects.create(
        email="rh@bench.test", organisation=org, roles=[Role.HR_ADMIN], password=UNUSABLE_PASSWORD
    )
    questionnaire = questionnaire_default()
    items = questionnaire["items"]
    now = timezone.now()
    campaigns = Campaign.objects.bulk_create(
        [
            Campaign(
                organisation=org,
                manager=m,
                organism_id=m.organism_id,
                status=CampaignStatus.CLOSED,
                questionnaire=questionnaire,
                min_responses=5,
                closes_on=now.date(),
                opened_at=now,
                closed_at=now,
            )
            for m in managers[: args.campaigns]
        ],
        batch_size=2000,
    )
    invitations, responses = [], []
    for c in campaigns:
        answered = rng.randint(3, args.raters)
        for r in range(args.raters):
            invitations.append(
                Invitation(
                    campaign=c, email=f"c{c.pk}-{r}@bench.test", sent=True, responded=r < answered
                )
            )
        for _ in range(answered):
            responses.append(
                Response(
                    campaign=c,
                    answers={i["id"]: rng.randint(1, 5) for i in items},
                    processed=True,
                )
            )
    Invitation.objects.bulk_create(invitations, batch_size=10000)
    Response.objects.bulk_create(responses, batch_size=10000)
    # Frozen results for the debrief pages (what the processing job writes).
    sample = rng.sample(campaigns, min(args.requests, len(campaigns)))
    for c in sample:
        answers = list(Response.objects.filter(campaign=c).values_list("answers", flat=True))
        results = scores_compute(questionnaire=questionnaire, answers=answers, self_answers={}, k=5)
        Campaign.objects.filter(pk=c.pk).update(
            processed_at=now,
            released=len(answers) >= 5,
            response_count=len(answers),
            results={**results, "themes": [], "practices": []},
        )
    print(
        f"data: {len(managers)} managers, {len(campaigns)} campaigns, {len(invitations)} "
        f"invitations, {len(responses)} responses in {time.perf_counter() - started:.0f} s"
    )

    client = Client()
    client.force_login(hr)
    times, queries = timed(client, reverse("feedback180:hr"), max(5, args.requests // 5))
    report("HR participation by organism", times, queries)

    times, counts = [], set()
    for c in sample:
        client.force_login(c.manager)
        t, q = timed(client, reverse("feedback180:debrief", args=[c.pk]), 1)
        times += t
        counts.add(q)
    report("debrief page", times, max(counts))
    print(f"{'':<34} query counts seen: {sorted(counts)}")

    # The rater's page: one-time link looked up by its hash.
    open_campaign = campaigns[-1]
    Campaign.objects.filter(pk=open_campaign.pk).update(
        status=CampaignStatus.OPEN, closes_on=now.date() + timezone.timedelta(days=5)
    )
    invitation = Invitation.objects.filter(campaign=open_campaign).first()
    Invitation.objects.filter(pk=invitation.pk).update(responded=False)
    token = services.link_issue(invitation=invitation)
    anonymous = Client()
    times, queries = timed(anonymous, reverse("feedback180:respond", args=[token]), args.requests)
    report("rater form (token look-up)", times, queries)
    InvitationLink.objects.filter(invitation=invitation).delete()

    # The processing job of one campaign whose responses carry comments.
    target = Campaign.objects.create(
        organisation=org,
        manager=managers[-1],
        organism_id=managers[-1].organism_id,
        status=CampaignStatus.CLOSED,
        questionnaire=questionnaire,
        min_responses=5,
        closes_on=now.date(),
        closed_at=now,
    )
    Response.objects.bulk_create(
        [
            Response(
                campaign=target,
                answers={i["id"]: rng.randint(1, 5) for i in items},
                raw_comments={
                    "keep": "Il prend le temps d’expliquer les décisions en réunion d’équipe.",
                    "start": f"Donner plus d’autonomie sur les dossiers ({n}).",
                    "stop": "Les relances tardives le vendredi soir.",
                },
            )
            for n in range(args.process_responses)
        ]
    )
    start = time.perf_counter()
    services.campaign_process(campaign_id=target.pk)
    elapsed = time.perf_counter() - start
    print(
        f"{'processing job':<34} {elapsed:7.1f} s for {args.process_responses} responses "
        f"({1000 * elapsed / args.process_responses:.0f} ms per response, 3 comments each)"
    )


if __name__ == "__main__":
    main()
