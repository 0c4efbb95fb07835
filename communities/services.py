"""Writes of the communities: groups, membership, threads, posts, reactions, moderation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from campus import search
from campus.analytics.models import Feature
from campus.analytics.services import activity_record
from campus.models import User
from campus.ratelimit import rate_limited
from communities.markdown import mentions_in
from communities.models import (
    DigestFrequency,
    Group,
    MemberSettings,
    Membership,
    MembershipRole,
    MembershipStatus,
    Notification,
    NotificationKind,
    Post,
    Reaction,
    ReactionKind,
    Report,
    Thread,
    ThreadState,
)
from communities.selectors import GroupAccess, group_moderators
from mallette.models import Practice

# Rate limits, (window seconds, max hits): a fast typist replies a few times a minute; a
# script does not get further than that. Threads are rarer than replies.
POST_LIMITS = ((60, 6), (3600, 60))
THREAD_LIMITS = ((600, 3), (86400, 15))
REPORT_LIMITS = ((3600, 20),)
INVITE_LIMITS = ((3600, 50),)
# Basic spam protection: a peer exchange rarely needs more links than this, and the same
# message posted twice within a few minutes is a double click or a flood.
MAX_LINKS = 5
DUPLICATE_WINDOW = timedelta(minutes=10)
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)

THREAD_WEIGHTS = {"title": "A"}
POST_WEIGHTS = {"body": "B"}


class CommunityError(Exception):
    """A refused action; ``str()`` is a French message for the form or the page."""


class RateLimited(CommunityError):
    def __init__(self, wait: int) -> None:
        minutes = max(1, (wait + 59) // 60)
        super().__init__(
            _(
                "Vous publiez beaucoup en peu de temps : réessayez dans %(minutes)s minute(s). "
                "Votre texte est conservé."
            )
            % {"minutes": minutes}
        )
        self.wait = wait


def _take(scope: str, user: User, limits: tuple[tuple[int, int], ...]) -> None:
    wait = rate_limited(f"communities.{scope}", user.pk, limits)
    if wait:
        raise RateLimited(wait)


def _spam_check(*, author: User, body: str) -> None:
    if len(_LINK.findall(body)) > MAX_LINKS:
        raise CommunityError(
            _("Ce message contient trop de liens (%(max)s au plus).") % {"max": MAX_LINKS}
        )
    recent = Post.objects.filter(
        author=author, created_at__gte=timezone.now() - DUPLICATE_WINDOW, deleted=False
    ).values_list("body", flat=True)
    if body.strip() in {b.strip() for b in recent[:20]}:
        raise CommunityError(_("Vous venez de publier exactement ce message."))


# --- Groups and membership -----------------------------------------------------------------------


def _unique_slug(name: str, *, organisation_id: int) -> str:
    base = slugify(name)[:120].strip("-") or "groupe"
    taken = set(
        Group.objects.filter(organisation_id=organisation_id, slug__startswith=base).values_list(
            "slug", flat=True
        )
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


GROUP_FIELDS = (
    "name",
    "description",
    "kind",
    "visibility",
    "level",
    "theme",
    "organism",
    "charter",
    "animated",
    "webhook_url",
)


@transaction.atomic
def group_create(*, creator: User, data: dict[str, Any]) -> Group:
    """A new group; its creator becomes its first moderator."""
    group = Group.objects.create(
        organisation_id=creator.organisation_id,
        slug=_unique_slug(data["name"], organisation_id=creator.organisation_id),
        created_by=creator,
        **{f: data[f] for f in GROUP_FIELDS if f in data},
    )
    Membership.objects.create(
        group=group,
        user=creator,
        role=MembershipRole.MODERATOR,
        status=MembershipStatus.ACTIVE,
        charter_accepted_at=timezone.now(),
    )
    return group


@transaction.atomic
def group_update(*, group: Group, data: dict[str, Any]) -> Group:
    for f in GROUP_FIELDS:
        if f in data:
            setattr(group, f, data[f])
    group.save()
    return group


@transaction.atomic
def group_join(*, access: GroupAccess, user: User) -> Membership:
    """Join an open group, or accept an invitation (the charter is accepted by joining)."""
    if not access.can_join(user):
        raise CommunityError(_("Vous ne pouvez pas rejoindre ce groupe."))
    now = timezone.now()
    membership, _created = Membership.objects.update_or_create(
        group=access.group,
        user=user,
        defaults={"status": MembershipStatus.ACTIVE, "charter_accepted_at": now},
    )
    return membership


@transaction.atomic
@transaction.atomic
def group_leave(*, group: Group, user: User) -> None:
    """Leave a group; its last moderator must first hand the role to another member (a group
    left without a moderator could not be moderated), unless nobody else is left."""
    mine = Membership.objects.filter(group=group, user=user, status=MembershipStatus.ACTIVE).first()
    if mine is not None:
        mine = _lock_membership(group=group, membership_id=mine.pk)
        others = (
            Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE)
            .exclude(pk=mine.pk)
            .exists()
        )
        if others and _is_last_moderator(mine):
            raise CommunityError(
                _(
                    "Vous êtes le dernier modérateur de ce groupe : nommez un autre modérateur "
                    "depuis la page des membres avant de le quitter."
                )
            )
    Membership.objects.filter(group=group, user=user).delete()
    ThreadState.objects.filter(thread__group=group, user=user).update(following=False)


@transaction.atomic
def member_invite(*, group: Group, inviter: User, invitee: User) -> Membership:
    if invitee.organisation_id != group.organisation_id:
        raise CommunityError(_("Cette personne n’appartient pas à votre organisation."))
    _take("invite", inviter, INVITE_LIMITS)
    membership, created = Membership.objects.get_or_create(
        group=group,
        user=invitee,
        defaults={"status": MembershipStatus.INVITED, "invited_by": inviter},
    )
    if not created:
        raise CommunityError(_("Cette personne est déjà membre ou invitée."))
    Notification.objects.create(
        user=invitee, kind=NotificationKind.INVITATION, group=group, actor=inviter
    )
    return membership


def _lock_membership(*, group: Group, membership_id: int) -> Membership:
    """The target membership, re-read under lock with the group's other moderators so that two
    moderators demoting each other at once cannot leave the group without one."""
    list(
        Membership.objects.select_for_update()
        .filter(group=group, role=MembershipRole.MODERATOR, status=MembershipStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    try:
        return (
            Membership.objects.select_for_update()
            .select_related("user")
            .get(group=group, pk=membership_id, status=MembershipStatus.ACTIVE)
        )
    except Membership.DoesNotExist:
        raise CommunityError(_("Cette personne n’est plus membre du groupe.")) from None


def _is_last_moderator(membership: Membership) -> bool:
    if membership.role != MembershipRole.MODERATOR:
        return False
    return not (
        Membership.objects.filter(
            group_id=membership.group_id,
            role=MembershipRole.MODERATOR,
            status=MembershipStatus.ACTIVE,
        )
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def member_promote(*, group: Group, membership_id: int) -> Membership:
    """Make an active member a moderator of the group."""
    membership = _lock_membership(group=group, membership_id=membership_id)
    if membership.role == MembershipRole.MODERATOR:
        raise CommunityError(_("Cette personne modère déjà le groupe."))
    membership.role = MembershipRole.MODERATOR
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_demote(*, group: Group, membership_id: int) -> Membership:
    """A moderator becomes a plain member again; the group always keeps one moderator."""
    membership = _lock_membership(group=group, membership_id=membership_id)
    if membership.role != MembershipRole.MODERATOR:
        raise CommunityError(_("Cette personne ne modère pas le groupe."))
    if _is_last_moderator(membership):
        raise CommunityError(
            _("Le groupe doit garder au moins un modérateur : nommez-en un autre d’abord.")
        )
    membership.role = MembershipRole.MEMBER
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, group: Group, membership_id: int) -> User:
    """Remove a member from the group (never its last moderator); returns who was removed."""
    membership = _lock_membership(group=group, membership_id=membership_id)
    if _is_last_moderator(membership):
        raise CommunityError(
            _("Le groupe doit garder au moins un modérateur : nommez-en un autre d’abord.")
        )
    user = membership.user
    membership.delete()
    ThreadState.objects.filter(thread__group=group, user=user).update(following=False)
    return user


@transaction.atomic
def invitation_decline(*, group: Group, user: User) -> None:
    Membership.objects.filter(group=group, user=user, status=MembershipStatus.INVITED).delete()


# --- Threads and posts ---------------------------------------------------------------------------


def _index_post(post: Post) -> None:
    search.search_vector_update(Post.objects.filter(pk=post.pk), weights=POST_WEIGHTS)


def _follow(thread: Thread, user: User, *, read_at: datetime | None = None) -> None:
    defaults: dict[str, Any] = {"following": True}
    if read_at is not None:
        defaults["last_read_at"] = read_at
    ThreadState.objects.update_or_create(thread=thread, user=user, defaults=defaults)


@transaction.atomic
def thread_create(
    *, access: GroupAccess, author: User, title: str, body: str, check: bool = True
) -> Thread:
    """Open a thread (its first post); the author follows it. The group's webhook, if any,
    announces it after commit."""
    if not access.can_post:
        raise CommunityError(_("Rejoignez le groupe pour lancer une discussion."))
    if check:
        _spam_check(author=author, body=body)
        _take("thread", author, THREAD_LIMITS)
    now = timezone.now()
    thread = Thread.objects.create(
        group=access.group, author=author, title=title.strip(), last_activity_at=now
    )
    search.search_vector_update(Thread.objects.filter(pk=thread.pk), weights=THREAD_WEIGHTS)
    post = Post.objects.create(thread=thread, author=author, body=body.strip())
    post.mentioned_practices.set(mentions_in(body, author=author))
    _index_post(post)
    _follow(thread, author, read_at=post.created_at)
    thread_notify_members(thread=thread, post=post)
    _announce(thread)
    activity_record(user=author, feature=Feature.COMMUNITIES, action="post")
    return thread


def thread_notify_members(*, thread: Thread, post: Post | None = None) -> int:
    """Tell the group's active members who opted in (``MemberSettings.notify_new_threads``)
    of a new thread, never its author: one read of the recipients, one bulk insert."""
    recipients = (
        Membership.objects.filter(
            group_id=thread.group_id,
            status=MembershipStatus.ACTIVE,
            user__is_active=True,
            user__community_settings__notify_new_threads=True,
        )
        .exclude(user_id=thread.author_id)
        .values_list("user_id", flat=True)
    )
    created = Notification.objects.bulk_create(
        Notification(
            user_id=uid,
            kind=NotificationKind.THREAD,
            group_id=thread.group_id,
            thread=thread,
            post=post,
            actor_id=thread.author_id,
        )
        for uid in recipients
    )
    return len(created)


def _announce(thread: Thread) -> None:
    if not thread.group.webhook_url:
        return
    from communities import tasks

    thread_id = thread.pk
    transaction.on_commit(lambda: tasks.thread_announce.delay(thread_id=thread_id))


@transaction.atomic
def post_reply(*, access: GroupAccess, thread: Thread, author: User, body: str) -> Post:
    """Reply to a thread; the author follows it and its other followers are notified."""
    if not access.can_post:
        raise CommunityError(_("Rejoignez le groupe pour répondre."))
    _spam_check(author=author, body=body)
    _take("post", author, POST_LIMITS)
    post = Post.objects.create(thread=thread, author=author, body=body.strip())
    post.mentioned_practices.set(mentions_in(body, author=author))
    _index_post(post)
    Thread.objects.filter(pk=thread.pk).update(
        reply_count=F("reply_count") + 1, last_activity_at=post.created_at
    )
    followers = list(
        ThreadState.objects.filter(thread=thread, following=True)
        .exclude(user=author)
        .filter(
            user__community_memberships__group=thread.group,
            user__community_memberships__status=MembershipStatus.ACTIVE,
        )
        .values_list("user_id", flat=True)
    )
    Notification.objects.bulk_create(
        Notification(
            user_id=uid,
            kind=NotificationKind.REPLY,
            group=thread.group,
            thread=thread,
            post=post,
            actor=author,
        )
        for uid in followers
    )
    _follow(thread, author, read_at=post.created_at)
    activity_record(user=author, feature=Feature.COMMUNITIES, action="post")
    return post


@transaction.atomic
def post_update(*, post: Post, body: str) -> Post:
    if len(_LINK.findall(body)) > MAX_LINKS:
        raise CommunityError(
            _("Ce message contient trop de liens (%(max)s au plus).") % {"max": MAX_LINKS}
        )
    post.body = body.strip()
    post.edited_at = timezone.now()
    post.save(update_fields=["body", "edited_at"])
    post.mentioned_practices.set(mentions_in(body, author=post.author))
    _index_post(post)
    return post


@transaction.atomic
def post_delete(*, post: Post) -> None:
    """The author's deletion: the text goes, a placeholder keeps the thread readable."""
    post.deleted = True
    post.body = ""
    post.edited_at = timezone.now()
    post.search_vector = None
    post.save(update_fields=["deleted", "body", "edited_at", "search_vector"])
    post.mentioned_practices.clear()
    Reaction.objects.filter(post=post).delete()


@transaction.atomic
def reaction_toggle(*, post: Post, user: User, kind: str) -> bool:
    """Add or remove a reaction; returns whether it is on now. The author hears of the first
    reaction of each person (not of every click)."""
    if kind not in ReactionKind.values:
        raise CommunityError(_("Réaction inconnue."))
    deleted, _detail = Reaction.objects.filter(post=post, user=user, kind=kind).delete()
    if deleted:
        return False
    try:
        with transaction.atomic():
            Reaction.objects.create(post=post, user=user, kind=kind)
    except IntegrityError:  # a concurrent double click
        return True
    if post.author_id and post.author_id != user.pk:
        already = Notification.objects.filter(
            user_id=post.author_id, kind=NotificationKind.REACTION, post=post, actor=user
        ).exists()
        if not already:
            Notification.objects.create(
                user_id=post.author_id,
                kind=NotificationKind.REACTION,
                group=post.thread.group,
                thread=post.thread,
                post=post,
                actor=user,
            )
    return True


@transaction.atomic
def follow_set(*, thread: Thread, user: User, following: bool) -> None:
    ThreadState.objects.update_or_create(
        thread=thread, user=user, defaults={"following": following}
    )


def thread_mark_read(*, thread: Thread, user: User, state: ThreadState | None) -> None:
    """Remember that the user has seen the thread as of its last activity (one write)."""
    if state is None:
        ThreadState.objects.get_or_create(
            thread=thread, user=user, defaults={"last_read_at": thread.last_activity_at}
        )
    elif state.last_read_at is None or state.last_read_at < thread.last_activity_at:
        ThreadState.objects.filter(pk=state.pk).update(last_read_at=thread.last_activity_at)


# --- Moderation ---------------------------------------------------------------------------------


@transaction.atomic
def post_report(*, post: Post, reporter: User, reason: str, comment: str = "") -> Report:
    _take("report", reporter, REPORT_LIMITS)
    report, created = Report.objects.get_or_create(
        post=post,
        reporter=reporter,
        defaults={"reason": reason, "comment": comment.strip()},
    )
    if not created:
        raise CommunityError(_("Vous avez déjà signalé ce message."))
    group = post.thread.group
    Notification.objects.bulk_create(
        Notification(
            user=moderator,
            kind=NotificationKind.REPORT,
            group=group,
            thread=post.thread,
            post=post,
        )
        for moderator in group_moderators(group)
        if moderator.pk != reporter.pk
    )
    return report


def _resolve_reports(post: Post, moderator: User) -> None:
    Report.objects.filter(post=post, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=moderator
    )


@transaction.atomic
def post_hide(*, post: Post, moderator: User, reason: str) -> Post:
    """Hide a post from everyone but its author and the moderators; the author is told why."""
    post.hidden = True
    post.hidden_reason = reason.strip()
    post.hidden_by = moderator
    post.hidden_at = timezone.now()
    post.save(update_fields=["hidden", "hidden_reason", "hidden_by", "hidden_at"])
    _resolve_reports(post, moderator)
    if post.author_id:
        Notification.objects.create(
            user_id=post.author_id,
            kind=NotificationKind.HIDDEN,
            group=post.thread.group,
            thread=post.thread,
            post=post,
        )
    return post


@transaction.atomic
def post_restore(*, post: Post, moderator: User) -> Post:
    post.hidden = False
    post.hidden_reason = ""
    post.hidden_by = None
    post.hidden_at = None
    post.save(update_fields=["hidden", "hidden_reason", "hidden_by", "hidden_at"])
    _resolve_reports(post, moderator)
    if post.author_id:
        Notification.objects.create(
            user_id=post.author_id,
            kind=NotificationKind.RESTORED,
            group=post.thread.group,
            thread=post.thread,
            post=post,
        )
    return post


@transaction.atomic
def reports_dismiss(*, post: Post, moderator: User) -> None:
    """The post is fine: close its reports without hiding it."""
    _resolve_reports(post, moderator)


# --- Sharing, notifications, settings --------------------------------------------------------------


@transaction.atomic
def post_share_as_practice(*, post: Post, author: User, data: dict[str, Any]) -> Practice:
    """Propose a post as a practice: it enters the mallette's moderation queue."""
    from mallette.services import practice_propose

    if post.shared_practice_id:
        raise CommunityError(_("Ce message a déjà été proposé comme pratique."))
    practice = practice_propose(author=author, data=data)
    Post.objects.filter(pk=post.pk).update(shared_practice=practice)
    post.shared_practice = practice
    return practice


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def settings_update(
    *, user: User, digest: str, notify_new_threads: bool | None = None
) -> MemberSettings:
    defaults: dict[str, Any] = {"digest": digest}
    if notify_new_threads is not None:
        defaults["notify_new_threads"] = notify_new_threads
    settings, _created = MemberSettings.objects.update_or_create(user=user, defaults=defaults)
    return settings


def settings_of(user: User) -> MemberSettings:
    found = MemberSettings.objects.filter(user=user).first()
    return found or MemberSettings(user=user, digest=DigestFrequency.WEEKLY)
