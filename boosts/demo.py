"""Demo boosts for ``campus.demo``: call ``demo_boosts_seed(organisation)`` once the people
exist. Idempotent: does nothing when the organisation already has boosts."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from boosts.models import Boost, BoostFormat, Question, Registration, Satisfaction
from campus.models import Level, Organisation, Role, User
from communities.models import Group, Membership, MembershipStatus
from mallette.models import Practice, Theme

HR_ADMIN_EMAIL = "rh.admin@demo.campus.test"
MANAGER_EMAIL = "camille.martin@demo.campus.test"

CATALOGUE = [
    # (title, theme slug position, days from today, hour, format, capacity, levels,
    #  community slugs: communities/demo.py, ignored when the group does not exist)
    ("Donner un feedback qui fait grandir", 0, 7, 11, BoostFormat.ONLINE, 300, [], []),
    ("Animer une réunion d’équipe courte et utile", 1, 14, 14, BoostFormat.HYBRID, 120, [], []),
    ("Accompagner le changement sans l’imposer", 2, 21, 10, BoostFormat.ONLINE, 200, [], []),
    (
        "Piloter par la confiance : le rôle du directeur",
        3,
        28,
        9,
        BoostFormat.ONSITE,
        40,
        [Level.DIRECTOR, Level.STRATEGIC],
        ["cercle-des-directeurs"],
    ),
    ("Prévenir l’épuisement dans l’équipe", 4, -10, 11, BoostFormat.ONLINE, 250, [], []),
]


def _at(days: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@transaction.atomic
def demo_boosts_seed(organisation: Organisation, *, seed: int = 2026) -> int:
    if Boost.objects.filter(organisation=organisation).exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 (demo data, reproducible)
    host = User.objects.filter(organisation=organisation, email=HR_ADMIN_EMAIL).first()
    if host is None:
        host = User.objects.filter(
            organisation=organisation, roles__contains=[Role.HR_ADMIN]
        ).first()
    if host is None:
        return 0
    if Role.BOOST_HOST not in host.roles:
        host.roles = [*host.roles, Role.BOOST_HOST]
        host.save(update_fields=["roles"])
    themes = list(Theme.objects.order_by("position"))
    managers = list(
        User.objects.filter(organisation=organisation, roles__contains=[Role.MANAGER]).order_by(
            "pk"
        )[:400]
    )
    created = 0
    for title, theme_i, days, hour, fmt, capacity, levels, community_slugs in CATALOGUE:
        theme = themes[theme_i % len(themes)] if themes else None
        practice = (
            Practice.objects.filter(themes=theme, status="published").order_by("pk").first()
            if theme
            else None
        )
        boost = Boost.objects.create(
            organisation=organisation,
            host=host,
            created_by=host,
            title=title,
            description=(
                "30 à 45 minutes pour repartir avec une pratique concrète : un apport court, "
                "des questions en direct, un sondage et un exercice à essayer avec votre équipe."
            ),
            starts_at=_at(days, hour),
            duration_minutes=45,
            format=fmt,
            meeting_url="https://teams.example.test/boost" if fmt != BoostFormat.ONSITE else "",
            room="Salle Ambroise Croizat, Paris" if fmt != BoostFormat.ONLINE else "",
            capacity=capacity,
            audience_levels=levels,
            resources="Support de présentation (PDF) – disponible après le boost",
            replay_url="https://replay.example.test/boost" if days < 0 else "",
            followup_practice=practice,
        )
        if theme:
            boost.themes.set([theme])
        groups = list(Group.objects.filter(organisation=organisation, slug__in=community_slugs))
        boost.audience_communities.set(groups)
        eligible = [m for m in managers if not levels or m.level in levels]
        if groups:
            members = set(
                Membership.objects.filter(
                    group__in=groups, status=MembershipStatus.ACTIVE
                ).values_list("user_id", flat=True)
            )
            eligible = [m for m in eligible if m.pk in members]
        chosen = rng.sample(eligible, min(len(eligible), capacity // 3))
        past = days < 0
        regs = []
        for m in chosen:
            if m.email == MANAGER_EMAIL:
                continue
            attended = past and rng.random() < 0.7
            regs.append(
                Registration(
                    boost=boost,
                    user=m,
                    status="confirmed",
                    checked_in_at=boost.starts_at + timedelta(minutes=2) if attended else None,
                )
            )
        Registration.objects.bulk_create(regs)
        if past:
            attendees = [r for r in regs if r.checked_in_at]
            Satisfaction.objects.bulk_create(
                Satisfaction(
                    boost=boost,
                    overall=rng.choice([3, 4, 4, 5, 5]),
                    useful=rng.choice([3, 4, 5, 5]),
                    recommend=rng.random() < 0.85,
                )
                for _ in attendees[: max(6, len(attendees) // 2)]
            )
            for r in attendees[:3]:
                Question.objects.create(
                    boost=boost, author=r.user, body="Comment repérer les signaux faibles ?"
                )
        created += 1
    return created
