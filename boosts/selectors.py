"""Reads of the boosts, always scoped to what the user may see (outsiders get 404)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from boosts.models import (
    LIVE_OPENS_BEFORE,
    Boost,
    BoostCommunity,
    Poll,
    PollAnswer,
    PollState,
    Question,
    QuestionVote,
    Registration,
    RegistrationStatus,
    Satisfaction,
)
from campus.models import Branch, Level, Organism, Role, User
from communities.models import Group, GroupVisibility, Membership, MembershipStatus

logger = logging.getLogger(__name__)

#: The satisfaction aggregate is shown to the host only from this many answers.
SATISFACTION_MIN_ANSWERS = 5
#: Questions shown in the live room (most voted first); the rest wait their turn.
LIVE_QUESTIONS_SHOWN = 30


def can_host(user: User) -> bool:
    return user.is_authenticated and (user.has_role(Role.BOOST_HOST) or user.is_hr_admin)


def _branch_of(organism_id: int) -> int:
    """An organism's branch, cached: every live-room poll checks the audience, and an
    organism does not change branch."""
    key = f"boosts:branch-of:{organism_id}"
    branch_id = cache.get(key)
    if branch_id is None:
        branch_id = (
            Organism.objects.filter(pk=organism_id).values_list("branch_id", flat=True).first() or 0
        )
        cache.set(key, branch_id, timeout=3600)
    return int(branch_id)


def audience_filter(user: User) -> Q:
    """Boosts whose audience includes the user.

    Each dimension (levels, branches, organisms, communities) is either empty, meaning
    everyone, or a list the user must match at least one entry of; the dimensions combine
    with AND. A boost for the directors and the community "Pilotes RH" is for the directors
    who are members of that community. A community counts only its active members: a pending
    invitation does not, and leaving the group (or being removed) ends the match at once."""
    q = Q(organisation_id=user.organisation_id)
    q &= Q(audience_levels=[]) | Q(audience_levels__contains=[user.level or "-"])
    organism_id = user.organism_id or 0
    branch_id = _branch_of(organism_id) if organism_id else 0
    q &= Q(audience_organism_ids=[]) | Q(audience_organism_ids__contains=[organism_id])
    q &= Q(audience_branch_ids=[]) | Q(audience_branch_ids__contains=[branch_id])
    # Correlated EXISTS, not a join: same single query (the live room's polls run it every
    # few seconds) and no duplicated boost rows when several of the user's groups match.
    in_audience = BoostCommunity.objects.filter(boost_id=OuterRef("pk"))
    q &= ~Exists(in_audience) | Exists(
        in_audience.filter(
            group_id__in=Membership.objects.filter(
                user_id=user.pk, status=MembershipStatus.ACTIVE
            ).values("group_id")
        )
    )
    return q


def _registered(user: User) -> Exists:
    return Exists(
        Registration.objects.filter(
            boost_id=OuterRef("pk"),
            user_id=user.pk,
            status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED],
        )
    )


def boosts_visible_to(user: User) -> QuerySet[Boost]:
    """Boosts in the user's audience, plus those they host (HR admins see their organisation's).

    A person stays in a boost they registered for (confirmed or waiting) even when they no
    longer match its audience, e.g. after leaving its community or changing organism: they
    keep their seat, the .ics, the live room, the replay and the survey, and may still cancel.
    Once cancelled, the boost is gone for them and they cannot register again."""
    if user.is_hr_admin:
        return Boost.objects.filter(organisation_id=user.organisation_id)
    return Boost.objects.filter(
        audience_filter(user)
        | Q(host_id=user.pk)
        | (Q(organisation_id=user.organisation_id) & _registered(user))
    )


def is_visible_to(boost: Boost, user: User) -> bool:
    """Whether ``boosts_visible_to(user)`` includes this boost, decided in Python from the
    boost's row with at most two small queries (the boost's communities, then the user's
    registration), instead of compiling that queryset's subqueries: every live-room post and
    full-path poll checks access, and compiling the general query cost about 5 ms of CPU.
    ``tests/boosts/test_visibility_parity.py`` checks both agree on every kind of case."""
    if user.is_hr_admin:
        return boost.organisation_id == user.organisation_id
    if boost.host_id == user.pk:
        return True
    if boost.organisation_id != user.organisation_id:
        return False
    return _in_audience(boost, user) or _registered_to(boost, user)


def _in_audience(boost: Boost, user: User) -> bool:
    """``audience_filter`` for one boost of the user's organisation."""
    if boost.audience_levels and (user.level or "-") not in boost.audience_levels:
        return False
    organism_id = user.organism_id or 0
    if boost.audience_organism_ids and organism_id not in boost.audience_organism_ids:
        return False
    if boost.audience_branch_ids:
        branch_id = _branch_of(organism_id) if organism_id else 0
        if branch_id not in boost.audience_branch_ids:
            return False
    groups = list(BoostCommunity.objects.filter(boost_id=boost.pk).values_list("group_id"))
    return (
        not groups
        or Membership.objects.filter(
            user_id=user.pk, status=MembershipStatus.ACTIVE, group_id__in=[g for (g,) in groups]
        ).exists()
    )


def _registered_to(boost: Boost, user: User) -> bool:
    return Registration.objects.filter(
        boost_id=boost.pk,
        user_id=user.pk,
        status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED],
    ).exists()


def get_boost_for_user(user: User, pk: object) -> Boost:
    try:
        boost = Boost.objects.select_related("host").get(pk=pk)
    except (Boost.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not is_visible_to(boost, user):
        raise Http404
    return boost


@dataclass
class AudiencePart:
    label: str
    values: list[str]


def audience_description(boost: Boost, viewer: User) -> list[AudiencePart]:
    """The audience in words, one part per restricted dimension (empty: everyone).

    Closed communities the viewer may not see are counted, not named: their names exist only
    for their members (communities/selectors.py). At most four queries, whatever the boost."""
    parts: list[AudiencePart] = []
    if boost.audience_levels:
        parts.append(
            AudiencePart(
                str(_("Niveaux")),
                [str(Level(value).label) for value in boost.audience_levels if value in Level],
            )
        )
    if boost.audience_branch_ids:
        names = Branch.objects.filter(pk__in=boost.audience_branch_ids).values_list(
            "name", flat=True
        )
        parts.append(AudiencePart(str(_("Branches")), list(names)))
    if boost.audience_organism_ids:
        names = Organism.objects.filter(pk__in=boost.audience_organism_ids).values_list(
            "name", flat=True
        )
        parts.append(AudiencePart(str(_("Organismes")), list(names)))
    rows = list(
        Group.objects.filter(boost_audiences__boost=boost)
        .annotate(
            known=Exists(Membership.objects.filter(group_id=OuterRef("pk"), user_id=viewer.pk))
        )
        .order_by("name")
        .values_list("name", "visibility", "known")
    )
    if rows:
        named = [
            name for name, visibility, known in rows if visibility == GroupVisibility.OPEN or known
        ]
        hidden = len(rows) - len(named)
        if hidden:
            named.append(
                ngettext(
                    "%(count)s groupe sur invitation",
                    "%(count)s groupes sur invitation",
                    hidden,
                )
                % {"count": hidden}
            )
        parts.append(AudiencePart(str(_("Membres des communautés")), named))
    return parts


def boosts_managed_by(user: User) -> QuerySet[Boost]:
    """Boosts the user runs: their own as host; every boost of the organisation for HR."""
    if user.is_hr_admin:
        return Boost.objects.filter(organisation_id=user.organisation_id)
    if user.has_role(Role.BOOST_HOST):
        return Boost.objects.filter(organisation_id=user.organisation_id, host_id=user.pk)
    return Boost.objects.none()


def get_boost_for_host(user: User, pk: object) -> Boost:
    try:
        return boosts_managed_by(user).select_related("host").get(pk=pk)
    except (Boost.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def may_manage(user: User, boost: Boost) -> bool:
    return boost.organisation_id == user.organisation_id and (
        user.is_hr_admin or (boost.host_id == user.pk and user.has_role(Role.BOOST_HOST))
    )


def registration_of(user: User, boost: Boost) -> Registration | None:
    return Registration.objects.filter(boost=boost, user=user).first()


def with_counts(queryset: QuerySet[Boost]) -> QuerySet[Boost]:
    return queryset.annotate(
        confirmed_count=Count("registrations", filter=Q(registrations__status="confirmed")),
        waitlist_count=Count("registrations", filter=Q(registrations__status="waitlisted")),
        attended_count=Count("registrations", filter=Q(registrations__checked_in_at__isnull=False)),
    )


def communities_of(user: User) -> list[tuple[int, str]]:
    """(id, name) of the groups of the user's organisation they are an active member of, by
    name: 1 query. A pending invitation does not count, as in ``audience_filter``; a closed
    group is named here only to its own members, who may see it."""
    return list(
        Group.objects.filter(
            organisation_id=user.organisation_id,
            memberships__user_id=user.pk,
            memberships__status=MembershipStatus.ACTIVE,
        )
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def for_communities(queryset: QuerySet[Boost], group_ids: list[int]) -> QuerySet[Boost]:
    """Boosts whose audience names at least one of the groups.

    EXISTS rather than a join: a boost for several of the groups stays one row, and the seat
    counts annotated on the queryset are not multiplied."""
    if not group_ids:
        return queryset.none()
    return queryset.filter(
        Exists(BoostCommunity.objects.filter(boost_id=OuterRef("pk"), group_id__in=group_ids))
    )


def community_mentions(
    boost_ids: list[int], communities: list[tuple[int, str]]
) -> dict[int, list[str]]:
    """For each boost, the names of ``communities`` (the user's own, see ``communities_of``)
    in its audience, in the order given. One query whatever the number of boosts and groups;
    none when either list is empty. Other groups of the audience are never named: a closed
    group's name exists only for its members."""
    if not boost_ids or not communities:
        return {}
    position = {pk: index for index, (pk, _name) in enumerate(communities)}
    names = dict(communities)
    found: dict[int, list[int]] = {}
    for boost_id, group_id in BoostCommunity.objects.filter(
        boost_id__in=boost_ids, group_id__in=list(names)
    ).values_list("boost_id", "group_id"):
        found.setdefault(boost_id, []).append(group_id)
    return {
        boost_id: [names[pk] for pk in sorted(group_ids, key=position.__getitem__)]
        for boost_id, group_ids in found.items()
    }


def theme_slugs_for_you(user: User) -> list[str]:
    """Themes of the manager's open action plan (self-diagnosis), then their coach themes.

    ``selfdiag`` is being finished in parallel: imported defensively, any failure means
    "no signal" rather than a broken catalogue."""
    slugs: list[str] = []
    try:
        from selfdiag.selectors import practices_in_plan

        ids = list(practices_in_plan(user))
        if ids:
            from mallette.models import Practice

            for slug in (
                Practice.objects.filter(pk__in=ids[:200])
                .values_list("themes__slug", flat=True)
                .distinct()
            ):
                if slug and slug not in slugs:
                    slugs.append(slug)
    except Exception:  # noqa: BLE001 (a parallel module must not break the catalogue)
        logger.exception("selfdiag plan themes unavailable for boosts")
    try:
        from coach.exercises import themes_for

        for slug in themes_for(user)[0]:
            if slug not in slugs:
                slugs.append(slug)
    except Exception:  # noqa: BLE001
        logger.exception("coach themes unavailable for boosts")
    return slugs


# --- Live room ------------------------------------------------------------------------------


@dataclass
class PollResult:
    poll: Poll
    total: int = 0
    rows: list[tuple[str, int, int]] = field(default_factory=list)  # label, count, percent
    mine: set[int] = field(default_factory=set)
    my_words: list[str] = field(default_factory=list)


def live_questions(boost: Boost, user: User, *, include_hidden: bool = False):
    qs = Question.objects.filter(boost=boost)
    if not include_hidden:
        qs = qs.filter(hidden=False)
    return (
        qs.annotate(
            voted=Exists(QuestionVote.objects.filter(question=OuterRef("pk"), user_id=user.pk))
        )
        .select_related("author")
        .order_by("answered_at", "-votes", "created_at")[:LIVE_QUESTIONS_SHOWN]
    )


def current_poll(boost: Boost) -> Poll | None:
    """The open poll, or else the last closed one whose results are shown."""
    return (
        Poll.objects.filter(boost=boost)
        .filter(Q(state=PollState.OPEN) | Q(state=PollState.CLOSED, results_shown=True))
        .order_by("-opened_at", "-pk")
        .first()
    )


def poll_result(poll: Poll, user: User) -> PollResult:
    """Counts per option (or the 30 most frequent words) and the user's own answer: 2 queries."""
    result = poll_mine(poll, user)
    poll_counts(poll, result)
    return result


def poll_mine(poll: Poll, user: User) -> PollResult:
    """The user's own answer only (what differs from one participant to another): 1 query."""
    result = PollResult(poll=poll)
    mine = list(
        PollAnswer.objects.filter(poll=poll, user_id=user.pk).values_list("option_id", "word")
    )
    result.mine = {option for option, _word in mine if option}
    result.my_words = [word for option, word in mine if not option]
    return result


def poll_counts(poll: Poll, result: PollResult | None = None) -> PollResult:
    """The counts everyone sees (filled into ``result`` if given): 1 query."""
    result = result or PollResult(poll=poll)
    answers = PollAnswer.objects.filter(poll=poll)
    if poll.kind == "words":
        counted = list(answers.values("word").annotate(n=Count("pk")).order_by("-n", "word")[:30])
        rows = [(row["word"], row["n"]) for row in counted]
        result.total = sum(n for _w, n in rows)
    else:
        counted = list(
            poll.options.annotate(n=Count("pollanswer"))
            .order_by("position", "pk")
            .values("label", "n")
        )
        rows = [(row["label"], row["n"]) for row in counted]
        result.total = sum(n for _w, n in rows)
    top = max([n for _w, n in rows] or [0]) or 1
    base = result.total or 1
    result.rows = [(label, n, round(100 * n / base)) for label, n in rows]
    result.top = top  # type: ignore[attr-defined]
    return result


# --- After and statistics ---------------------------------------------------------------------


@dataclass
class SatisfactionSummary:
    count: int
    shown: bool
    overall: float | None = None
    useful: float | None = None
    recommend_percent: int | None = None


def satisfaction_summary(boost: Boost) -> SatisfactionSummary:
    from django.db.models import Avg

    agg = Satisfaction.objects.filter(boost=boost).aggregate(
        n=Count("pk"),
        overall=Avg("overall"),
        useful=Avg("useful"),
        recommend=Count("pk", filter=Q(recommend=True)),
    )
    count = agg["n"] or 0
    if count < SATISFACTION_MIN_ANSWERS:
        return SatisfactionSummary(count=count, shown=False)
    return SatisfactionSummary(
        count=count,
        shown=True,
        overall=round(agg["overall"], 1),
        useful=round(agg["useful"], 1),
        recommend_percent=round(100 * agg["recommend"] / count),
    )


def boost_stats(queryset: QuerySet[Boost]) -> QuerySet[Boost]:
    from django.db.models import Avg, Subquery

    sat = Satisfaction.objects.filter(boost=OuterRef("pk")).values("boost")
    return with_counts(queryset).annotate(
        sat_count=Subquery(sat.annotate(n=Count("pk")).values("n")[:1]),
        sat_overall=Subquery(sat.annotate(a=Avg("overall")).values("a")[:1]),
    )


def attendance_rate(confirmed: int, attended: int) -> int | None:
    return round(100 * attended / confirmed) if confirmed else None


def upcoming(queryset: QuerySet[Boost], now: datetime | None = None) -> QuerySet[Boost]:
    return queryset.filter(starts_at__gte=(now or timezone.now()) - LIVE_OPENS_BEFORE).order_by(
        "starts_at", "pk"
    )
