"""Demo groups for ``make run`` (called from ``campus.demo``): idempotent, a few threads."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from campus import search
from campus.models import Level, Organisation, Role, User
from communities.models import (
    Group,
    GroupKind,
    GroupVisibility,
    Membership,
    MembershipRole,
    Post,
    Thread,
)
from communities.services import POST_WEIGHTS, THREAD_WEIGHTS

GROUPS = [
    {
        "slug": "managers-de-proximite",
        "name": "Managers de proximité",
        "description": "Le quotidien des managers d’équipe : organisation, entretiens, "
        "situations délicates. Toutes branches, toutes régions.",
        "kind": GroupKind.LEVEL,
        "level": Level.PROXIMITY,
        "visibility": GroupVisibility.OPEN,
        "animated": True,
        "threads": [
            (
                "Comment préparez-vous vos entretiens annuels ?",
                "Je cherche une méthode pour **préparer** mes entretiens sans y passer mes "
                "soirées. Vous faites comment ?",
                [
                    "Je demande à chaque agent de relire ses objectifs une semaine avant.",
                    "Un tableau partagé avec les faits marquants de l’année, alimenté au fil "
                    "de l’eau : le jour J, tout est prêt.",
                ],
            ),
        ],
    },
    {
        "slug": "interbranches-qualite-de-vie-au-travail",
        "name": "Interbranches : qualité de vie au travail",
        "description": "Échanger entre branches sur le télétravail, la charge et le sens.",
        "kind": GroupKind.CROSS_BRANCH,
        "level": "",
        "visibility": GroupVisibility.OPEN,
        "animated": False,
        "threads": [
            (
                "Télétravail : garder le lien avec l’équipe",
                "Depuis que la moitié de l’équipe télétravaille, les échanges informels "
                "ont disparu. Des idées ?",
                ["Un café visio de 15 minutes le mardi, sans ordre du jour : ça marche."],
            ),
        ],
    },
    {
        "slug": "cercle-des-directeurs",
        "name": "Cercle des directeurs et directrices",
        "description": "Un espace confidentiel entre directions d’organismes.",
        "kind": GroupKind.LEVEL,
        "level": Level.DIRECTOR,
        "visibility": GroupVisibility.CLOSED,
        "animated": False,
        "threads": [],
    },
]


@transaction.atomic
def demo_groups_seed(organisation: Organisation) -> int:
    """Create the demo groups of ``organisation`` (once); returns how many were created."""
    people = User.objects.filter(organisation=organisation, is_active=True)
    creator = (
        people.filter(roles__contains=[Role.HR_ADMIN]).first()
        or people.filter(roles__contains=[Role.MANAGER]).first()
    )
    if creator is None:
        return 0
    created = 0
    now = timezone.now()
    for spec in GROUPS:
        if Group.objects.filter(organisation=organisation, slug=spec["slug"]).exists():
            continue
        group = Group.objects.create(
            organisation=organisation,
            created_by=creator,
            **{k: v for k, v in spec.items() if k != "threads"},
        )
        created += 1
        Membership.objects.create(group=group, user=creator, role=MembershipRole.MODERATOR)
        candidates = people.filter(roles__contains=[Role.MANAGER]).exclude(pk=creator.pk)
        if spec["level"]:
            candidates = candidates.filter(level=spec["level"])
        members = list(candidates.order_by("pk")[:12])
        Membership.objects.bulk_create(
            [Membership(group=group, user=m) for m in members], ignore_conflicts=True
        )
        for title, body, replies in spec["threads"]:
            authors = members or [creator]
            thread = Thread.objects.create(
                group=group,
                author=authors[0],
                title=title,
                reply_count=len(replies),
                last_activity_at=now,
            )
            Post.objects.create(thread=thread, author=authors[0], body=body)
            for i, reply in enumerate(replies, start=1):
                Post.objects.create(thread=thread, author=authors[i % len(authors)], body=reply)
            search.search_vector_update(Thread.objects.filter(pk=thread.pk), weights=THREAD_WEIGHTS)
            search.search_vector_update(Post.objects.filter(thread=thread), weights=POST_WEIGHTS)
    return created
