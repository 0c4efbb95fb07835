"""Reads of the communities, always scoped to what the user may see.

Rules: a group belongs to one organisation and is never seen from another. An open group is
listed and readable by everyone of its organisation (posting needs membership); a closed group
("sur invitation") exists only for its members and invitees, and its threads only for active
members: everyone else gets a 404. Group moderators (a membership role) moderate their group;
the organisation's moderators (role ``moderator``) and HR admins also moderate open groups,
never closed ones (what is said there stays among members).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchRank
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from campus.models import Role, User
from campus.search import text_query, unaccent
from communities.models import (
    Group,
    GroupVisibility,
    Membership,
    MembershipRole,
    MembershipStatus,
    Notification,
    Post,
    Reaction,
    ReactionKind,
    Report,
    Thread,
    ThreadState,
)
from mallette.models import Practice, PracticeUse


def is_org_moderator(user: User) -> bool:
    return user.is_authenticated and (user.has_role(Role.MODERATOR) or user.is_hr_admin)


def can_create_group(user: User) -> bool:
    return is_org_moderator(user)


def _member_exists(user: User, *, active: bool) -> Exists:
    qs = Membership.objects.filter(group=OuterRef("pk"), user_id=user.pk)
    if active:
        qs = qs.filter(status=MembershipStatus.ACTIVE)
    return Exists(qs)


def _member_count() -> Coalesce:
    """Active members of the outer group, as a correlated subquery: computed only for the rows
    a page shows, where a ``Count`` over the join aggregated all 2,000 groups before the
    LIMIT (bench/bench_communities.py)."""
    counted = (
        Membership.objects.filter(group=OuterRef("pk"), status=MembershipStatus.ACTIVE)
        .order_by()
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def groups_visible_to(user: User) -> QuerySet[Group]:
    """Groups of the user's organisation they may see: open ones, and closed ones they belong
    to or are invited to."""
    return Group.objects.filter(organisation_id=user.organisation_id).filter(
        Q(visibility=GroupVisibility.OPEN) | _member_exists(user, active=False)
    )


def groups_readable_by(user: User) -> QuerySet[Group]:
    """Groups whose threads the user may read (open ones, closed ones they are a member of)."""
    return Group.objects.filter(organisation_id=user.organisation_id).filter(
        Q(visibility=GroupVisibility.OPEN) | _member_exists(user, active=True)
    )


@dataclass
class GroupAccess:
    group: Group
    membership: Membership | None

    @property
    def is_member(self) -> bool:
        return self.membership is not None and self.membership.is_active

    @property
    def is_invited(self) -> bool:
        return self.membership is not None and not self.membership.is_active

    @property
    def can_read(self) -> bool:
        return self.group.is_open or self.is_member

    @property
    def can_post(self) -> bool:
        return self.is_member

    @property
    def is_group_moderator(self) -> bool:
        return self.is_member and self.membership.role == MembershipRole.MODERATOR  # type: ignore[union-attr]

    def can_moderate(self, user: User) -> bool:
        return self.is_group_moderator or (self.group.is_open and is_org_moderator(user))

    def can_join(self, user: User) -> bool:
        if self.is_member:
            return False
        if self.group.level and user.level != self.group.level:
            return False
        return self.group.is_open or self.is_invited


def _membership(user: User, group: Group) -> Membership | None:
    return Membership.objects.filter(group=group, user_id=user.pk).first()


def get_group_for_user(user: User, slug: str) -> GroupAccess:
    try:
        group = groups_visible_to(user).get(slug=slug)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    return GroupAccess(group=group, membership=_membership(user, group))


def get_thread_for_user(user: User, pk: object) -> tuple[Thread, GroupAccess]:
    """A thread of a group the user may read, with their access to its group (404 otherwise)."""
    try:
        thread = (
            Thread.objects.select_related("group", "author")
            .filter(group__in=groups_readable_by(user))
            .get(pk=pk)
        )
    except (Thread.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    return thread, GroupAccess(group=thread.group, membership=_membership(user, thread.group))


def get_post_for_user(user: User, pk: object) -> tuple[Post, GroupAccess]:
    try:
        post = (
            Post.objects.select_related("thread__group", "author")
            .filter(thread__group__in=groups_readable_by(user), deleted=False)
            .get(pk=pk)
        )
    except (Post.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    access = GroupAccess(group=post.thread.group, membership=_membership(user, post.thread.group))
    if post.hidden and not (post.author_id == user.pk or access.can_moderate(user)):
        raise Http404
    return post, access


def get_own_post_for_user(user: User, pk: object) -> tuple[Post, GroupAccess]:
    post, access = get_post_for_user(user, pk)
    if post.author_id != user.pk or not access.is_member:
        raise Http404
    return post, access


def get_post_for_moderator(user: User, pk: object) -> tuple[Post, GroupAccess]:
    post, access = get_post_for_user(user, pk)
    if not access.can_moderate(user):
        raise Http404
    return post, access


# --- Directory ---------------------------------------------------------------------------------


def directory(user: User, *, query: str = "", kind: str = "") -> QuerySet[Group]:
    """Visible groups with their member count and the user's membership, in one query."""
    qs = groups_visible_to(user)
    if kind:
        qs = qs.filter(kind=kind)
    if query:
        # The stored columns are folded like the query (campus_unaccent() then lower()), so a
        # plain LIKE is accent- and case-insensitive without folding each row per search.
        folded = unaccent(query).lower().strip()
        qs = qs.filter(Q(name_folded__contains=folded) | Q(description_folded__contains=folded))
    return (
        qs.select_related("theme")
        .annotate(member_count=_member_count(), is_member=_member_exists(user, active=True))
        .order_by("name", "pk")
    )


def groups_of(user: User) -> QuerySet[Group]:
    return (
        Group.objects.filter(
            organisation_id=user.organisation_id,
            memberships__user_id=user.pk,
            memberships__status=MembershipStatus.ACTIVE,
        )
        .annotate(
            unread=Count(
                "threads",
                filter=~Exists(
                    ThreadState.objects.filter(
                        thread=OuterRef("threads"),
                        user_id=user.pk,
                        last_read_at__gte=OuterRef("threads__last_activity_at"),
                    )
                ),
            )
        )
        .order_by("name")
    )


def invitations_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(
        user_id=user.pk,
        status=MembershipStatus.INVITED,
        group__organisation_id=user.organisation_id,
    ).select_related("group", "invited_by")


SUGGESTIONS = 4


def suggestions_for(user: User) -> list[Group]:
    """Open groups the user has not joined, best match first: their level, their organism,
    the themes of the practices they use or keep, then the liveliest."""
    theme_ids = list(
        PracticeUse.objects.filter(user_id=user.pk)
        .order_by()
        .values_list("practice__primary_theme_id", flat=True)
        .distinct()[:10]
    )
    score = (
        Case(When(level=user.level, then=Value(3)), default=Value(0), output_field=IntegerField())
        if user.level
        else Value(0)
    )
    if user.organism_id:
        score = score + Case(
            When(organism_id=user.organism_id, then=Value(3)),
            default=Value(0),
            output_field=IntegerField(),
        )
    if theme_ids:
        score = score + Case(
            When(theme_id__in=theme_ids, then=Value(2)),
            default=Value(0),
            output_field=IntegerField(),
        )
    qs = (
        Group.objects.filter(organisation_id=user.organisation_id, visibility=GroupVisibility.OPEN)
        .exclude(_member_exists(user, active=False))
        .filter(Q(level="") | Q(level=user.level))
        .annotate(
            score=score,
            member_count=_member_count(),
        )
        .order_by("-score", "-member_count", "name")
    )
    return list(qs[:SUGGESTIONS])


def group_threads(user: User, group: Group) -> QuerySet[Thread]:
    """Threads of a group, latest activity first, each with the user's unread flag."""
    return (
        Thread.objects.filter(group=group)
        .select_related("author")
        .annotate(
            unread=~Exists(
                ThreadState.objects.filter(
                    thread=OuterRef("pk"),
                    user_id=user.pk,
                    last_read_at__gte=OuterRef("last_activity_at"),
                )
            )
        )
        .order_by("-last_activity_at", "-pk")
    )


def group_moderators(group: Group) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            group=group, role=MembershipRole.MODERATOR, status=MembershipStatus.ACTIVE
        ).select_related("user")
    ]


def group_members(group: Group) -> QuerySet[Membership]:
    """Active members of a group, moderators first, then by name."""
    return (
        Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE)
        .select_related("user")
        .annotate(
            _moderator_first=Case(
                When(role=MembershipRole.MODERATOR, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("_moderator_first", "user__last_name", "user__first_name", "pk")
    )


def get_member_for_moderator(access: GroupAccess, pk: object) -> Membership:
    """An active membership of the group, for one of its moderators (404 otherwise)."""
    if not access.is_group_moderator:
        raise Http404
    try:
        return group_members(access.group).get(pk=pk)
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- Thread page -------------------------------------------------------------------------------


def thread_posts(user: User, thread: Thread, *, moderator: bool) -> QuerySet[Post]:
    """Posts of a thread as the user sees them: hidden ones stay (as a placeholder) for their
    author and the moderators; deleted ones become a placeholder for everyone."""
    return (
        Post.objects.filter(thread=thread)
        .select_related("author")
        .prefetch_related(Prefetch("mentioned_practices", queryset=Practice.objects.only("pk")))
        .order_by("created_at", "pk")
    )


@dataclass
class PostView:
    post: Post
    html: str = ""
    reactions: list[dict[str, Any]] = field(default_factory=list)
    unread: bool = False
    can_see_body: bool = True


def reactions_for(user: User, posts: list[Post]) -> dict[int, list[dict[str, Any]]]:
    """Per post, every reaction kind with its count and whether the user gave it (2 queries)."""
    ids = [p.pk for p in posts]
    counts: dict[tuple[int, str], int] = {}
    for row in (
        Reaction.objects.filter(post_id__in=ids).values("post_id", "kind").annotate(n=Count("pk"))
    ):
        counts[(row["post_id"], row["kind"])] = row["n"]
    mine = set(
        Reaction.objects.filter(post_id__in=ids, user_id=user.pk).values_list("post_id", "kind")
    )
    return {
        pid: [
            {
                "kind": kind,
                "label": label,
                "count": counts.get((pid, kind), 0),
                "mine": (pid, kind) in mine,
            }
            for kind, label in ReactionKind.choices
        ]
        for pid in ids
    }


def reactions_of_post(user: User, post: Post) -> list[dict[str, Any]]:
    return reactions_for(user, [post])[post.pk]


def thread_state(user: User, thread: Thread) -> ThreadState | None:
    return ThreadState.objects.filter(thread=thread, user_id=user.pk).first()


# --- Moderation --------------------------------------------------------------------------------


def moderated_groups(user: User) -> QuerySet[Group]:
    own = Q(
        Exists(
            Membership.objects.filter(
                group=OuterRef("pk"),
                user_id=user.pk,
                status=MembershipStatus.ACTIVE,
                role=MembershipRole.MODERATOR,
            )
        )
    )
    if is_org_moderator(user):
        own |= Q(visibility=GroupVisibility.OPEN)
    return Group.objects.filter(organisation_id=user.organisation_id).filter(own)


def moderation_queue(user: User) -> QuerySet[Post]:
    """Posts with open reports in the groups the user moderates, most reported first."""
    return (
        Post.objects.filter(
            Exists(Report.objects.filter(post=OuterRef("pk"), resolved_at__isnull=True)),
            thread__group__in=moderated_groups(user),
        )
        .select_related("thread__group", "author")
        .annotate(open_reports=Count("reports", filter=Q(reports__resolved_at__isnull=True)))
        .prefetch_related(
            Prefetch(
                "reports",
                queryset=Report.objects.filter(resolved_at__isnull=True).order_by("created_at"),
                to_attr="pending_reports",
            )
        )
        .order_by("-open_reports", "pk")
    )


def hidden_posts(user: User) -> QuerySet[Post]:
    return (
        Post.objects.filter(thread__group__in=moderated_groups(user), hidden=True)
        .select_related("thread__group", "author", "hidden_by")
        .order_by("-hidden_at")
    )


# --- Notifications -------------------------------------------------------------------------------


def notifications_of(user: User) -> QuerySet[Notification]:
    """The user's notifications, restricted to groups they may still read."""
    return (
        Notification.objects.filter(user_id=user.pk, group__in=groups_readable_by(user))
        .select_related("group", "thread", "actor")
        .order_by("-created_at", "-pk")
    )


def unread_notification_count(user: User) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


# --- Search ------------------------------------------------------------------------------------


def posts_search(user: User, query: str) -> QuerySet[Post]:
    """French full-text search over the visible posts (and thread titles) of every group the
    user may read; authorisation is applied in SQL before ranking."""
    tsquery = text_query(query)
    if tsquery is None:
        return Post.objects.none()
    return (
        Post.objects.filter(thread__group__in=groups_readable_by(user), hidden=False, deleted=False)
        .filter(Q(search_vector=tsquery) | Q(thread__search_vector=tsquery))
        .select_related("thread__group", "author")
        .annotate(
            rank=SearchRank(F("search_vector"), tsquery, cover_density=True)
            + SearchRank(F("thread__search_vector"), tsquery, cover_density=True)
        )
        .defer("search_vector", "thread__search_vector")
        .order_by("-rank", "-created_at", "-pk")
    )


# --- Practice mentions -------------------------------------------------------------------------

MENTION = re.compile(r"(?<![\w\"/=:#-])#pratique-(\d{1,9})\b")


def mentioned_ids(body: str) -> list[int]:
    return list(dict.fromkeys(int(m) for m in MENTION.findall(body or "")))
