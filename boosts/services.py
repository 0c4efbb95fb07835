"""Writes of the boosts. Seats are taken under a row lock on the boost; mails and tasks go
out after commit (``transaction.on_commit``)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from boosts.models import (
    Boost,
    BoostStatus,
    CalendarToken,
    Poll,
    PollAnswer,
    PollKind,
    PollOption,
    PollState,
    Question,
    QuestionVote,
    Registration,
    RegistrationStatus,
    Satisfaction,
    SatisfactionReceipt,
    checkin_code_new,
)
from campus.analytics.models import Feature
from campus.analytics.services import activity_record
from campus.models import User
from campus.ratelimit import rate_limited

logger = logging.getLogger(__name__)

#: Fields whose change is sent to the registrants (with a new iCalendar SEQUENCE).
NOTIFIED_FIELDS = ("title", "starts_at", "duration_minutes", "format", "meeting_url", "room")
QUESTION_LIMITS = ((60, 5), (3600, 40))
REMINDER_DAY = timedelta(hours=24)
REMINDER_SOON = timedelta(minutes=15)
MAX_POLL_WORDS = 3


class BoostError(Exception):
    """A refused action; ``str()`` is a French message for the user."""


def _notify(kind: str, registration_ids: Iterable[int], sequence: int | None = None) -> None:
    ids = list(registration_ids)
    if not ids:
        return
    from boosts import tasks

    transaction.on_commit(
        lambda: tasks.registrations_notify.delay(registration_ids=ids, kind=kind, sequence=sequence)
    )


# --- Live room versions: let the polling fragments answer 304 without touching the database.
# One counter per region and boost (questions, poll) and one per participant (their own poll
# answer), so a vote does not invalidate everyone's poll fragment.


def _version_key(boost_id: int, part: str) -> str:
    return f"boosts:live:{boost_id}:{part}"


def live_version_keys(boost_id: int, user_id: int) -> list[str]:
    return [
        _version_key(boost_id, "questions"),
        _version_key(boost_id, "poll"),
        _version_key(boost_id, f"user:{user_id}"),
        _version_key(boost_id, "results"),
    ]


def live_versions(boost_id: int, user_id: int) -> tuple[int, int, int, int]:
    """(questions, poll, this user's, poll results) versions in one cache round trip; missing
    counters are created from the clock so that a cache flush never repeats an old ETag.
    "poll" moves with the poll's state (launched, closed, results shown), "results" with the
    answers while the results are on screen."""
    keys = live_version_keys(boost_id, user_id)
    found = cache.get_many(keys)
    values = []
    for key in keys:
        value = found.get(key)
        if value is None:
            seed = int(timezone.now().timestamp() * 1000)
            cache.add(key, seed, timeout=None)
            value = cache.get(key, seed)
        values.append(int(value))
    return values[0], values[1], values[2], values[3]


def live_questions_etag(
    *, questions: int, mine: int, user_id: int, manage: bool, open_now: bool
) -> str:
    """The questions fragment's ETag (the views and the fast path compute the same one)."""
    return f'"q{questions}-{mine}-{user_id}-{int(manage)}-{int(open_now)}"'


def live_poll_etag(*, poll: int, results: int, mine: int, user_id: int) -> str:
    return f'"p{poll}-{results}-{mine}-{user_id}"'


def live_etag_join(etags: Sequence[str]) -> str:
    """One ETag for several fragments answered together (the room's single poll)."""
    if len(etags) == 1:
        return etags[0]
    return '"' + "|".join(e.strip('"') for e in etags) + '"'


#: The regions of the room's single poll, swapped out of band by htmx.
LIVE_REGIONS = ("live-questions", "live-poll")


def live_updates_html(fragments: Sequence[str]) -> str:
    """The questions and poll fragments in one response, each marked for an out-of-band swap
    (htmx replaces the element of the same id)."""
    out = []
    for region, html in zip(LIVE_REGIONS, fragments, strict=True):
        opening = f'<section id="{region}"'
        out.append(html.replace(opening, f'{opening} hx-swap-oob="true"', 1))
    return "\n".join(out)


#: Where the shared results go in a participant's own poll fragment.
POLL_RESULTS_SLOT = "<!--live-poll-results-->"


def live_poll_shell_key(boost_id: int, user_id: int, poll: int, mine: int) -> str:
    """A participant's poll fragment without the results (their form, their answer)."""
    return f"boosts:pshell:{boost_id}:{user_id}:{poll}:{mine}:{settings.LANGUAGE_CODE}"


def live_poll_results_key(boost_id: int, poll: int, results: int) -> str:
    """The results shown to everyone, per poll state and answers version."""
    return f"boosts:presults:{boost_id}:{poll}:{results}:{settings.LANGUAGE_CODE}"


def live_poll_results_latest_key(boost_id: int, poll: int) -> str:
    """The last results rendered for a poll state: ``(results version, rendered_at, html)``."""
    return f"boosts:presults-latest:{boost_id}:{poll}:{settings.LANGUAGE_CODE}"


def live_questions_html_key(boost_id: int, version: int, open_now: bool) -> str:
    """The shared questions fragment of a version (French: the only catalogue)."""
    return f"boosts:qhtml:{boost_id}:{version}:{int(open_now)}:{settings.LANGUAGE_CODE}"


#: While the shared questions fragment of a new version is not rendered yet, polls may be
#: answered with the last one rendered if it is at most this old (seconds): a busy room then
#: renders the fragment about once a second instead of once per vote.
LIVE_STALE_SECONDS = 1.0


def live_questions_latest_key(boost_id: int, open_now: bool) -> str:
    """The last shared questions fragment rendered: ``(version, rendered_at, html)``."""
    return f"boosts:qhtml-latest:{boost_id}:{int(open_now)}:{settings.LANGUAGE_CODE}"


def live_votes_key(boost_id: int, user_id: int, mine: int) -> str:
    """The questions a participant votes for, as of their version ``mine`` (bumped by each of
    their votes, so a stale list is never read under a newer version)."""
    return f"boosts:myvotes:{boost_id}:{user_id}:{mine}"


def live_questions_personalise(html: str, voted: Iterable[int]) -> str:
    """Mark the person's own votes in the shared questions fragment."""
    for pk in voted:
        html = html.replace(
            f'aria-pressed="false" data-q="{pk}">{_("Moi aussi")}<',
            f'aria-pressed="true" data-q="{pk}">{_("Retirer mon vote")}<',
        )
    return html


def live_version_bump(boost_id: int, *parts: str) -> None:
    """After commit, bump the counters of ``parts`` ("questions", "poll", "results",
    "user:<id>")."""

    def bump() -> None:
        for part in parts:
            key = _version_key(boost_id, part)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, int(timezone.now().timestamp() * 1000), timeout=None)

    transaction.on_commit(bump)


# --- Boosts -----------------------------------------------------------------------------------


def occurrences(start: datetime, *, repeat: str, count: int) -> list[datetime]:
    """Start times of a series, at the same wall-clock time in Europe/Paris (DST-correct)."""
    local = timezone.localtime(start)
    naive = local.replace(tzinfo=None)
    starts: list[datetime] = []
    for i in range(max(1, count)):
        if repeat == "weekly":
            moment = naive + timedelta(weeks=i)
        elif repeat == "monthly":
            month = naive.month - 1 + i
            year = naive.year + month // 12
            moment = _month_day(naive, year, month % 12 + 1)
        else:
            moment = naive
            if i:
                break
        starts.append(timezone.make_aware(moment, timezone.get_current_timezone()))
    return starts


def _month_day(naive: datetime, year: int, month: int) -> datetime:
    import calendar

    day = min(naive.day, calendar.monthrange(year, month)[1])
    return naive.replace(year=year, month=month, day=day)


def _set_fields(boost: Boost, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if name not in (
            "themes",
            "repeat",
            "count",
            "audience_branches",
            "audience_organisms",
            "audience_community_ids",
        ):
            setattr(boost, name, value)
    if "audience_branches" in data:
        boost.audience_branch_ids = sorted(b.pk for b in data["audience_branches"])
    if "audience_organisms" in data:
        boost.audience_organism_ids = sorted(o.pk for o in data["audience_organisms"])


def boost_create(*, by: User, data: dict[str, Any]) -> list[Boost]:
    """Create a boost, or a series (``repeat`` weekly/monthly, ``count`` sessions)."""
    starts = occurrences(
        data["starts_at"], repeat=data.get("repeat") or "", count=data.get("count") or 1
    )
    series = uuid.uuid4() if len(starts) > 1 else None
    created: list[Boost] = []
    with transaction.atomic():
        for start in starts:
            boost = Boost(organisation_id=by.organisation_id, created_by=by, series=series)
            _set_fields(boost, data)
            boost.starts_at = start
            boost.checkin_code = checkin_code_new()
            boost.save()
            boost.themes.set(data.get("themes") or [])
            boost.audience_communities.set(data.get("audience_community_ids") or [])
            created.append(boost)
    return created


def boost_update(*, boost: Boost, data: dict[str, Any], by: User) -> Boost:
    """Save the changes; registrants get the update (new SEQUENCE) when time or place changed;
    a larger capacity promotes the waiting list."""
    with transaction.atomic():
        locked = Boost.objects.select_for_update().get(pk=boost.pk)
        before = {name: getattr(locked, name) for name in NOTIFIED_FIELDS}
        _set_fields(locked, data)
        changed = any(getattr(locked, name) != before[name] for name in NOTIFIED_FIELDS)
        if changed:
            locked.sequence += 1
        locked.save()
        if "themes" in data:
            locked.themes.set(data["themes"] or [])
        if "audience_community_ids" in data:
            locked.audience_communities.set(data["audience_community_ids"])
        promoted = _promote(locked)
        live_version_bump(locked.pk, "questions", "poll")
        if changed:
            ids = (
                Registration.objects.filter(
                    boost=locked,
                    status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED],
                )
                .exclude(pk__in=promoted)
                .values_list("pk", flat=True)
            )
            _notify("changed", list(ids), locked.sequence)
        _notify("promoted", promoted, locked.sequence)
    return locked


def boost_cancel(*, boost: Boost, by: User) -> Boost:
    with transaction.atomic():
        locked = Boost.objects.select_for_update().get(pk=boost.pk)
        if locked.is_cancelled:
            return locked
        locked.status = BoostStatus.CANCELLED
        locked.sequence += 1
        locked.save(update_fields=["status", "sequence", "updated_at"])
        ids = Registration.objects.filter(
            boost=locked,
            status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED],
        ).values_list("pk", flat=True)
        _notify("boost_cancelled", list(ids), locked.sequence)
        live_version_bump(locked.pk, "questions", "poll")
    return locked


# --- Registration -----------------------------------------------------------------------------


def _promote(boost: Boost) -> list[int]:
    """Fill free seats from the waiting list, first come first served (boost row locked)."""
    confirmed = Registration.objects.filter(
        boost=boost, status=RegistrationStatus.CONFIRMED
    ).count()
    free = boost.capacity - confirmed
    if free <= 0 or boost.is_cancelled:
        return []
    ids = list(
        Registration.objects.filter(boost=boost, status=RegistrationStatus.WAITLISTED)
        .order_by("queued_at", "pk")
        .values_list("pk", flat=True)[:free]
    )
    Registration.objects.filter(pk__in=ids).update(
        status=RegistrationStatus.CONFIRMED, updated_at=timezone.now()
    )
    return ids


def registration_create(*, boost: Boost, user: User, now: datetime | None = None) -> Registration:
    """Take a seat, or a place on the waiting list when the boost is full.

    The boost row is locked (``SELECT … FOR UPDATE``) while seats are counted, so two people
    asking for the last seat at the same time are served one after the other."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Boost.objects.select_for_update().get(pk=boost.pk)
        if locked.is_cancelled:
            raise BoostError(_("Ce boost est annulé."))
        if locked.is_past(now):
            raise BoostError(_("Ce boost est terminé : l’inscription est close."))
        registration = Registration.objects.filter(boost=locked, user=user).first()
        if registration is not None and registration.status != RegistrationStatus.CANCELLED:
            return registration
        confirmed = Registration.objects.filter(
            boost=locked, status=RegistrationStatus.CONFIRMED
        ).count()
        status = (
            RegistrationStatus.CONFIRMED
            if confirmed < locked.capacity
            else RegistrationStatus.WAITLISTED
        )
        if registration is None:
            registration = Registration.objects.create(
                boost=locked, user=user, status=status, queued_at=now
            )
        else:
            registration.status = status
            registration.queued_at = now
            registration.reminded_day_at = registration.reminded_soon_at = None
            registration.save()
        _notify(
            "confirmed" if status == RegistrationStatus.CONFIRMED else "waitlisted",
            [registration.pk],
            locked.sequence,
        )
    activity_record(user=user, feature=Feature.BOOSTS, action="register")
    return registration


def registration_cancel(*, registration: Registration) -> Registration:
    """Give the seat back; the first person on the waiting list gets it (and an email)."""
    with transaction.atomic():
        boost = Boost.objects.select_for_update().get(pk=registration.boost_id)
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status == RegistrationStatus.CANCELLED:
            return registration
        was_confirmed = registration.is_confirmed
        registration.status = RegistrationStatus.CANCELLED
        registration.save(update_fields=["status", "updated_at"])
        if was_confirmed:
            _notify("cancelled", [registration.pk], boost.sequence)
        promoted = _promote(boost) if not boost.is_past() else []
        _notify("promoted", promoted, boost.sequence)
    return registration


def calendar_token_for(*, user: User) -> CalendarToken:
    token, _created = CalendarToken.objects.get_or_create(user=user)
    return token


def calendar_token_reset(*, user: User) -> CalendarToken:
    with transaction.atomic():
        CalendarToken.objects.filter(user=user).delete()
        return CalendarToken.objects.create(user=user)


# --- Attendance -------------------------------------------------------------------------------


def checkin(*, boost: Boost, user: User, now: datetime | None = None) -> Registration | None:
    """Mark the person present (live room entry or the host's code). People on site who had
    not registered are recorded too: they are there, whatever the capacity."""
    now = now or timezone.now()
    if not boost.live_is_open(now):
        return None
    with transaction.atomic():
        registration, _created = Registration.objects.get_or_create(
            boost=boost,
            user=user,
            defaults={"status": RegistrationStatus.CONFIRMED, "queued_at": now},
        )
        if registration.checked_in_at is None or not registration.is_confirmed:
            first_time = registration.checked_in_at is None
            Registration.objects.filter(pk=registration.pk).update(
                checked_in_at=registration.checked_in_at or now,
                status=RegistrationStatus.CONFIRMED,
            )
            registration.refresh_from_db()
            if first_time:
                activity_record(user=user, feature=Feature.BOOSTS, action="attend")
    return registration


def checkin_by_code(*, boosts: Iterable[Boost], user: User, code: str) -> Boost:
    """``boosts``: those visible to the user. Raises BoostError with a French message."""
    code = "".join(code.split()).upper()
    now = timezone.now()
    for boost in boosts:
        if boost.checkin_code == code:
            if checkin(boost=boost, user=user, now=now) is None:
                raise BoostError(_("Ce code n’est valable que pendant le boost."))
            return boost
    raise BoostError(_("Ce code ne correspond à aucun boost en cours."))


# --- Live questions ---------------------------------------------------------------------------


def question_ask(*, boost: Boost, user: User, body: str) -> Question:
    body = " ".join(body.split())
    if not body:
        raise BoostError(_("Écrivez votre question."))
    wait = rate_limited("boost-question", user.pk, QUESTION_LIMITS)
    if wait:
        raise BoostError(
            _("Vous avez posé beaucoup de questions : réessayez dans %(seconds)s secondes.")
            % {"seconds": wait}
        )
    with transaction.atomic():
        question = Question.objects.create(boost=boost, author=user, body=body[:500])
        live_version_bump(boost.pk, "questions")
    return question


def question_vote_toggle(*, question: Question, user: User) -> bool:
    """Vote for a question, or take the vote back. Returns whether the user now votes."""
    with transaction.atomic():
        deleted, _rows = QuestionVote.objects.filter(question=question, user=user).delete()
        if deleted:
            Question.objects.filter(pk=question.pk).update(votes=F("votes") - 1)
            voted = False
        else:
            try:
                with transaction.atomic():
                    QuestionVote.objects.create(question=question, user=user)
            except IntegrityError:  # a double click: already counted
                return True
            Question.objects.filter(pk=question.pk).update(votes=F("votes") + 1)
            voted = True
        # The voter's own version too: their cached list of votes is read under it.
        live_version_bump(question.boost_id, "questions", f"user:{user.pk}")
    return voted


def question_moderate(
    *, question: Question, answered: bool | None = None, hidden: bool | None = None
) -> Question:
    with transaction.atomic():
        if answered is not None:
            question.answered_at = timezone.now() if answered else None
        if hidden is not None:
            question.hidden = hidden
        question.save(update_fields=["answered_at", "hidden"])
        live_version_bump(question.boost_id, "questions")
    return question


# --- Polls ------------------------------------------------------------------------------------


def poll_create(*, boost: Boost, kind: str, prompt: str, options: Sequence[str]) -> Poll:
    labels = [" ".join(o.split())[:120] for o in options if o.strip()]
    if kind != PollKind.WORDS and len(labels) < 2:
        raise BoostError(_("Un sondage à choix demande au moins deux réponses."))
    with transaction.atomic():
        poll = Poll.objects.create(boost=boost, kind=kind, prompt=prompt.strip()[:300])
        if kind != PollKind.WORDS:
            PollOption.objects.bulk_create(
                PollOption(poll=poll, label=label, position=i) for i, label in enumerate(labels)
            )
    return poll


def poll_launch(*, poll: Poll) -> Poll:
    """Open the poll (one open poll at a time in a room: the others close)."""
    with transaction.atomic():
        Poll.objects.filter(boost_id=poll.boost_id, state=PollState.OPEN).exclude(
            pk=poll.pk
        ).update(state=PollState.CLOSED)
        poll.state = PollState.OPEN
        poll.opened_at = timezone.now()
        poll.save(update_fields=["state", "opened_at"])
        live_version_bump(poll.boost_id, "poll")
    return poll


def poll_close(*, poll: Poll) -> Poll:
    with transaction.atomic():
        poll.state = PollState.CLOSED
        poll.save(update_fields=["state"])
        live_version_bump(poll.boost_id, "poll")
    return poll


def poll_results_show(*, poll: Poll, shown: bool) -> Poll:
    with transaction.atomic():
        poll.results_shown = shown
        poll.save(update_fields=["results_shown"])
        live_version_bump(poll.boost_id, "poll")
    return poll


def _words(text: str) -> list[str]:
    words: list[str] = []
    for raw in text.replace(";", ",").split(","):
        word = " ".join(raw.split()).lower()[:40]
        if word and word not in words:
            words.append(word)
    return words[:MAX_POLL_WORDS]


def poll_answer(*, poll: Poll, user: User, option_ids: Sequence[int] = (), text: str = "") -> None:
    """Record (or replace) the user's answer to an open poll."""
    if poll.state != PollState.OPEN:
        raise BoostError(_("Ce sondage est fermé."))
    rows: list[PollAnswer] = []
    if poll.kind == PollKind.WORDS:
        words = _words(text)
        if not words:
            raise BoostError(_("Écrivez un ou plusieurs mots, séparés par des virgules."))
        rows = [PollAnswer(poll=poll, user=user, word=w) for w in words]
    else:
        valid = set(poll.options.filter(pk__in=list(option_ids)).values_list("pk", flat=True))
        if not valid:
            raise BoostError(_("Choisissez une réponse."))
        if poll.kind == PollKind.SINGLE and len(valid) > 1:
            raise BoostError(_("Choisissez une seule réponse."))
        rows = [PollAnswer(poll=poll, user=user, option_id=pk) for pk in sorted(valid)]
    with transaction.atomic():
        PollAnswer.objects.filter(poll=poll, user=user).delete()
        PollAnswer.objects.bulk_create(rows)
        # Everyone's fragment changes only when the results are on screen; the answer's
        # author sees "answer recorded" in any case.
        parts = ["results", f"user:{user.pk}"] if poll.results_shown else [f"user:{user.pk}"]
        live_version_bump(poll.boost_id, *parts)


# --- After the boost --------------------------------------------------------------------------


def satisfaction_submit(
    *, boost: Boost, user: User, overall: int, useful: int, recommend: bool
) -> None:
    """Anonymous: the receipt says who answered, the answer row says nothing about who."""
    try:
        with transaction.atomic():
            SatisfactionReceipt.objects.create(boost=boost, user=user)
            Satisfaction.objects.create(
                boost=boost, overall=overall, useful=useful, recommend=recommend
            )
    except IntegrityError:
        raise BoostError(_("Vous avez déjà répondu à ce questionnaire.")) from None


def reminders_due(*, now: datetime) -> dict[str, list[int]]:
    """Claim the reminders due now (day before and 15 minutes before); a claimed reminder is
    never sent twice, whatever the number of beat runs or workers."""
    base = Registration.objects.filter(
        status=RegistrationStatus.CONFIRMED,
        boost__status=BoostStatus.SCHEDULED,
        boost__starts_at__gt=now,
    )
    out: dict[str, list[int]] = {}
    for kind, field, window in (
        ("reminder_soon", "reminded_soon_at", REMINDER_SOON),
        ("reminder_day", "reminded_day_at", REMINDER_DAY),
    ):
        with transaction.atomic():
            qs = base.filter(**{f"{field}__isnull": True, "boost__starts_at__lte": now + window})
            if kind == "reminder_day":
                # Registered within the last day: the confirmation just sent is enough.
                qs = qs.filter(queued_at__lte=now - timedelta(hours=2)).filter(
                    reminded_soon_at__isnull=True
                )
            ids = list(qs.select_for_update(skip_locked=True).values_list("pk", flat=True)[:2000])
            Registration.objects.filter(pk__in=ids).update(**{field: now})
        out[kind] = ids
    return out


def followup_exercises_create(*, boost: Boost, today: date | None = None) -> list[int]:
    """After the boost, each attendee gets a follow-up micro-exercise through the coach's
    delivery (email, Teams, Slack per their preferences). The coach keeps one exercise per
    manager and week: if this week's exists, the follow-up takes the next week's slot."""
    from coach.exercises import exercise_deliver, practice_actions, week_of
    from coach.models import Exercise

    practice = boost.followup_practice
    if practice is None:
        return []
    today = today or timezone.localdate()
    question = boost.followup_question or _(
        "Après le boost « %(title)s », qu’allez-vous essayer avec votre équipe cette semaine ?"
    ) % {"title": boost.title}
    with transaction.atomic():
        claimed = Boost.objects.filter(pk=boost.pk, followup_sent_at__isnull=True).update(
            followup_sent_at=timezone.now()
        )
    if not claimed:
        return []
    created: list[int] = []
    registrations = Registration.objects.filter(
        boost=boost, checked_in_at__isnull=False, followup_exercise_id__isnull=True
    ).select_related("user")
    for registration in registrations:
        week = week_of(today)
        if Exercise.objects.filter(user_id=registration.user_id, week=week).exists():
            week = week + timedelta(weeks=1)
        try:
            with transaction.atomic():
                exercise, made = Exercise.objects.get_or_create(
                    user_id=registration.user_id,
                    week=week,
                    defaults={
                        "practice": practice,
                        "title": (_("Suite du boost : %(title)s") % {"title": practice.title})[
                            :200
                        ],
                        "instruction": "\n".join(practice_actions(practice)),
                        "question": question[:300],
                    },
                )
                registration.followup_exercise_id = exercise.pk
                registration.save(update_fields=["followup_exercise_id"])
        except IntegrityError:
            continue
        if made:
            created.append(exercise.pk)
            try:
                exercise_deliver(exercise=exercise)
            except Exception:  # noqa: BLE001 (the coach records and retries its deliveries)
                logger.exception("follow-up exercise %s not delivered", exercise.pk)
    return created
