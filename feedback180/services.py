"""Writes of the 180° feedback: campaigns, invitations, responses, processing, action plan."""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.analytics.models import Feature
from campus.analytics.services import activity_record
from campus.jobs import JobError, JobReporter, job_create
from campus.models import Job, Organisation, User
from feedback180.defaults import questionnaire_default, questionnaire_recheck
from feedback180.models import (
    K_FLOOR,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Invitation,
    InvitationLink,
    Response,
    Verbatim,
)

#: The comments that feed the mallette's "most evoked" detection: what works and what is
#: missing, not the "stop" answers (criticism of one manager is no practice to count).
VERBATIM_QUESTIONS = ("keep", "start")

DEFAULT_DURATION = timedelta(days=14)
MAX_RATERS = 100
REMINDER_DAYS = (3, 7)
PLAN_MIN_ACTIONS = 2
PLAN_MAX_ACTIONS = 4
PLAN_HORIZON = timedelta(days=60)
RECHECK_AFTER = timedelta(days=60)
RECHECK_DURATION = timedelta(days=10)
COMMENT_MAX_CHARS = 1500


class CampaignError(Exception):
    """A refused change; ``str()`` is a French message for the user."""


class InvalidLink(Exception):
    """The one-time link is unknown, used, or its campaign is closed."""


# --- Helpers ------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def k_floor(organisation: Organisation) -> int:
    return max(K_FLOOR, organisation.feedback_min_responses)


def default_raters(manager: User) -> list[User]:
    """The manager's direct reports in the directory, and the members of the teams they
    manage (active people with an address)."""
    return list(
        User.objects.filter(
            Q(manager=manager) | Q(team__manager=manager),
            organisation_id=manager.organisation_id,
            is_active=True,
        )
        .exclude(pk=manager.pk)
        .distinct()
        .order_by("last_name", "first_name")
    )


def emails_parse(text: str) -> tuple[list[str], list[str]]:
    """Split typed or pasted addresses (new lines, commas, semicolons, spaces; "Name <a@b>"
    forms too). Return (valid, invalid), deduplicated, in order."""
    import re

    valid: list[str] = []
    invalid: list[str] = []
    for raw in re.split(r"[\s,;]+", text.replace("<", " ").replace(">", " ")):
        token = raw.strip().strip('"').strip("'").lower()
        if not token:
            continue
        if "@" not in token:
            continue  # a name pasted with its address
        try:
            validate_email(token)
        except ValidationError:
            if token not in invalid:
                invalid.append(token)
            continue
        if token not in valid:
            valid.append(token)
    return valid, invalid


def known_names(campaign: Campaign) -> list[str]:
    """The deny-list for the scrubber: the manager, their n+1, their peers, the raters and
    the people of the teams they manage (names the comments are likely to mention)."""
    manager = campaign.manager
    people = User.objects.filter(organisation_id=campaign.organisation_id).filter(
        Q(pk=manager.pk)
        | Q(pk=manager.manager_id)
        | Q(manager_id=manager.pk)
        | Q(team__manager_id=manager.pk)
        | (Q(manager_id=manager.manager_id) if manager.manager_id else Q(pk__in=[]))
        | Q(pk__in=campaign.invitations.filter(person__isnull=False).values("person_id"))
    )
    names = {p for p in people.values_list("first_name", "last_name")}
    return sorted({f"{first} {last}".strip() for first, last in names if first or last})[:2000]


def _enqueue(task_name: str, **kwargs: Any) -> None:
    """Send a ``feedback180.tasks`` task once the surrounding transaction commits (ids only)."""

    def send() -> None:
        from feedback180 import tasks

        getattr(tasks, task_name).apply_async(kwargs=kwargs)

    transaction.on_commit(send)


# --- Campaign -----------------------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    manager: User,
    created_by: User,
    closes_on: date | None = None,
    raters: Iterable[User] | None = None,
) -> Campaign:
    """A draft campaign with the default questionnaire, the organisation's threshold and the
    team from the directory as raters. One draft or open campaign per manager."""
    if Campaign.objects.filter(
        manager=manager,
        kind=CampaignKind.MAIN,
        status__in=[CampaignStatus.DRAFT, CampaignStatus.OPEN],
    ).exists():
        raise CampaignError(_("Une campagne 180° est déjà en préparation ou en cours."))
    organisation = manager.organisation
    campaign = Campaign.objects.create(
        organisation=organisation,
        manager=manager,
        organism_id=manager.organism_id,
        created_by=created_by,
        questionnaire=questionnaire_default(),
        min_responses=k_floor(organisation),
        closes_on=closes_on or timezone.localdate() + DEFAULT_DURATION,
    )
    people = default_raters(manager) if raters is None else list(raters)
    Invitation.objects.bulk_create(
        [Invitation(campaign=campaign, email=p.email.lower(), person=p) for p in people if p.email],
        ignore_conflicts=True,
    )
    return campaign


def campaigns_prepare_for_group(
    *, hr: User, organism_id: int, level: str = "", closes_on: date | None = None
) -> int:
    """HR prepares a draft campaign for every manager of an organism (optionally one level)
    who has a team and no campaign under way; each manager is told by email, then checks the
    raters and opens it. Returns how many were prepared."""
    from campus.models import Role

    managers = User.objects.filter(
        organisation_id=hr.organisation_id,
        organism_id=organism_id,
        is_active=True,
        roles__contains=[Role.MANAGER],
    )
    if level:
        managers = managers.filter(level=level)
    prepared = 0
    for manager in managers.order_by("pk").iterator():
        if not default_raters(manager):
            continue
        try:
            with transaction.atomic():
                campaign = campaign_create(manager=manager, created_by=hr, closes_on=closes_on)
                _enqueue("prepared_notify", campaign_id=campaign.pk)
        except CampaignError:
            continue  # one under way already
        prepared += 1
    return prepared


def prepared_notify(*, campaign_id: int) -> bool:
    from campus.notify import email_send

    campaign = Campaign.objects.select_related("manager").filter(pk=campaign_id).first()
    if campaign is None or not campaign.is_draft:
        return False
    base = getattr(settings, "CAMPUS_BASE_URL", "").rstrip("/")
    email_send(
        to=campaign.manager.email,
        subject=_("Votre feedback 180° est prêt à être ouvert"),
        template="feedback180/email/prepared",
        context={
            "manager": campaign.manager,
            "url": f"{base}{reverse('feedback180:edit', args=[campaign.pk])}",
        },
    )
    return True


def campaign_threshold_set(*, campaign: Campaign, k: int) -> Campaign:
    """Change k while the campaign is a draft; refused once it is open (the threshold the
    raters were promised cannot move)."""
    locked = Campaign.objects.filter(pk=campaign.pk).exclude(status=CampaignStatus.DRAFT)
    if campaign.status != CampaignStatus.DRAFT or locked.exists():
        raise CampaignError(
            _("Le seuil d’anonymat est verrouillé depuis l’ouverture de la campagne.")
        )
    floor = k_floor(campaign.organisation)
    if k < floor:
        raise CampaignError(
            _("Le seuil d’anonymat ne peut pas être inférieur à %(floor)d.") % {"floor": floor}
        )
    Campaign.objects.filter(pk=campaign.pk).update(min_responses=k)
    campaign.min_responses = k
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, closes_on: date, emails: list[str], k: int | None = None
) -> Campaign:
    """Edit a draft: closing date, raters (typed addresses; directory people are linked),
    threshold."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_draft:
        raise CampaignError(_("Une campagne ouverte ne peut plus être modifiée."))
    if k is not None and k != campaign.min_responses:
        campaign_threshold_set(campaign=campaign, k=k)
    if len(emails) > MAX_RATERS:
        raise CampaignError(
            _("Au plus %(max)d personnes peuvent être invitées.") % {"max": MAX_RATERS}
        )
    if campaign.manager.email.lower() in emails:
        raise CampaignError(_("Vous ne pouvez pas vous inviter vous-même."))
    campaign.closes_on = closes_on
    campaign.save(update_fields=["closes_on"])
    campaign.invitations.exclude(email__in=emails).delete()
    existing = set(campaign.invitations.values_list("email", flat=True))
    people = {
        u.email.lower(): u
        for u in User.objects.filter(
            organisation_id=campaign.organisation_id, email__in=emails, is_active=True
        )
    }
    Invitation.objects.bulk_create(
        [
            Invitation(campaign=campaign, email=e, person=people.get(e))
            for e in emails
            if e not in existing
        ],
        ignore_conflicts=True,
    )
    return campaign


@transaction.atomic
def campaign_self_assess(*, campaign: Campaign, answers: Mapping[str, int]) -> Campaign:
    if campaign.is_closed:
        raise CampaignError(_("La campagne est clôturée : l’autoévaluation ne change plus."))
    ids = {item["id"] for item in campaign.items}
    clean = {k: int(v) for k, v in answers.items() if k in ids and 1 <= int(v) <= 5}
    Campaign.objects.filter(pk=campaign.pk).update(self_answers=clean)
    campaign.self_answers = clean
    return campaign


@transaction.atomic
def campaign_open(*, campaign: Campaign) -> Campaign:
    """Open the campaign: k is locked, every rater receives a one-time link by email."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_draft:
        raise CampaignError(_("Cette campagne est déjà ouverte."))
    # The organisation's threshold may have been raised since the draft was made: the one in
    # force when the campaign opens is the one locked.
    campaign.min_responses = max(campaign.min_responses, k_floor(campaign.organisation))
    count = campaign.invitations.count()
    if count < campaign.min_responses:
        raise CampaignError(
            _(
                "Invitez au moins %(k)d personnes : les résultats ne sont montrés qu’à partir "
                "de %(k)d réponses."
            )
            % {"k": campaign.min_responses}
        )
    if campaign.closes_on <= timezone.localdate():
        raise CampaignError(_("La date de clôture doit être dans le futur."))
    campaign.status = CampaignStatus.OPEN
    campaign.opened_at = timezone.now()
    campaign.organism_id = campaign.manager.organism_id
    campaign.save(update_fields=["status", "opened_at", "organism", "min_responses"])
    for pk in campaign.invitations.values_list("pk", flat=True):
        _enqueue("invitation_send", invitation_id=pk, reminder=False)
    activity_record(user=campaign.manager, feature=Feature.FEEDBACK180, action="open")
    return campaign


def link_issue(*, invitation: Invitation) -> str:
    """A new random token for this invitation; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    InvitationLink.objects.create(invitation=invitation, token_hash=token_hash(token))
    return token


def respond_url(token: str) -> str:
    base = getattr(settings, "CAMPUS_BASE_URL", "").rstrip("/")
    return f"{base}{reverse('feedback180:respond', args=[token])}"


def invitation_send(*, invitation_id: int, reminder: bool) -> bool:
    """Email one rater a new link (the raw token exists only in this email). Nothing is sent
    to someone who has answered or once the campaign is no longer open."""
    from campus.notify import email_send

    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("campaign__manager")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or invitation.responded or not invitation.campaign.is_open:
            return False
        if not reminder and invitation.sent:
            return False  # a retried task: the invitation went out already
        campaign = invitation.campaign
        token = link_issue(invitation=invitation)
        invitation.sent = True
        invitation.save(update_fields=["sent"])
    manager = campaign.manager
    if campaign.is_recheck:
        subject = _("Deux mois après : 3 questions anonymes sur le management de %(name)s")
    elif reminder:
        subject = _("Rappel : votre regard sur le management de %(name)s")
    else:
        subject = _("Votre regard anonyme sur le management de %(name)s")
    subject = subject % {"name": manager.full_name or manager.email}
    email_send(
        to=invitation.email,
        subject=subject,
        template="feedback180/email/invitation",
        context={
            "manager": manager,
            "campaign": campaign,
            "url": respond_url(token),
            "reminder": reminder,
            "k": campaign.min_responses,
        },
    )
    return True


def reminders_send(*, today: date | None = None) -> int:
    """Day 3 and day 7 after opening: remind the raters who have not answered (idempotent:
    ``reminders_sent`` counts the rounds done)."""
    today = today or timezone.localdate()
    sent = 0
    for round_no, days in enumerate(REMINDER_DAYS, start=1):
        due = Campaign.objects.filter(
            status=CampaignStatus.OPEN,
            reminders_sent=round_no - 1,
            opened_at__date__lte=today - timedelta(days=days),
            closes_on__gte=today,
        ).values_list("pk", flat=True)
        for pk in list(due):
            with transaction.atomic():
                updated = Campaign.objects.filter(pk=pk, reminders_sent=round_no - 1).update(
                    reminders_sent=round_no
                )
                if not updated:
                    continue
                for inv in Invitation.objects.filter(campaign_id=pk, responded=False).values_list(
                    "pk", flat=True
                ):
                    _enqueue("invitation_send", invitation_id=inv, reminder=True)
                    sent += 1
    return sent


# --- Responding ---------------------------------------------------------------------------------


def invitation_for_token(token: str) -> Invitation:
    """The open invitation behind a link, or :class:`InvalidLink`."""
    link = (
        InvitationLink.objects.select_related("invitation__campaign__manager")
        .filter(token_hash=token_hash(token or ""))
        .first()
    )
    if link is None:
        raise InvalidLink
    invitation = link.invitation
    campaign = invitation.campaign
    if invitation.responded or not campaign.is_open or campaign.closes_on < timezone.localdate():
        raise InvalidLink
    return invitation


def comment_preview(*, campaign: Campaign, text: str) -> str:
    """What the manager could read of this comment at most: scrubbed locally (names of the
    organisation as deny-list). Nothing is stored."""
    from campus import ai

    text = " ".join(text.split())[:COMMENT_MAX_CHARS] if text else ""
    if not text:
        return ""
    return ai.anonymise(text, known_names=known_names(campaign))


@transaction.atomic
def response_submit(
    *, token: str, answers: Mapping[str, int], comments: Mapping[str, str]
) -> Response:
    """Store an anonymous response and burn the link in the same transaction."""
    link = (
        InvitationLink.objects.select_for_update()
        .select_related("invitation__campaign")
        .filter(token_hash=token_hash(token or ""))
        .first()
    )
    if link is None:
        raise InvalidLink
    invitation = Invitation.objects.select_for_update().get(pk=link.invitation_id)
    campaign = Campaign.objects.get(pk=invitation.campaign_id)
    if invitation.responded or not campaign.is_open or campaign.closes_on < timezone.localdate():
        raise InvalidLink
    ids = {item["id"] for item in campaign.items}
    questions = {q["id"] for q in campaign.open_questions}
    response = Response.objects.create(
        campaign=campaign,
        answers={k: int(v) for k, v in answers.items() if k in ids and 1 <= int(v) <= 5},
        raw_comments={
            k: v.strip()[:COMMENT_MAX_CHARS]
            for k, v in comments.items()
            if k in questions and v.strip()
        },
    )
    invitation.responded = True
    invitation.save(update_fields=["responded"])
    InvitationLink.objects.filter(invitation=invitation).delete()
    return response


# --- Closing and processing ---------------------------------------------------------------------


@transaction.atomic
def campaign_close(*, campaign: Campaign, by_manager: bool = True) -> Job:
    """Close the campaign (links expire) and start the processing job. ``by_manager``: the
    manager closed it (a use of the campus, counted by the HR analytics), rather than the
    daily job at the closing date."""
    campaign = Campaign.objects.select_for_update().select_related("manager").get(pk=campaign.pk)
    if campaign.is_draft:
        raise CampaignError(_("Cette campagne n’a pas été ouverte."))
    if campaign.is_closed and (
        campaign.processed_at is not None
        or (campaign.job_id and campaign.job.state != Job.State.FAILED)
    ):
        return campaign_job(campaign)  # already processed or processing: nothing new
    InvitationLink.objects.filter(invitation__campaign=campaign).delete()
    job = job_create(
        owner=campaign.manager,
        kind="feedback180.process",
        title=_("Traitement de votre feedback 180°"),
        task_name="feedback180.tasks.campaign_process",
        task_kwargs={"campaign_id": campaign.pk},
    )
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = timezone.now()
    campaign.job = job
    campaign.save(update_fields=["status", "closed_at", "job"])
    if by_manager:
        activity_record(user=campaign.manager, feature=Feature.FEEDBACK180, action="close")
    return campaign_job(campaign)


def campaign_job(campaign: Campaign) -> Job:
    return Job.objects.get(pk=campaign.job_id)


@transaction.atomic
def recheck_open(*, campaign: Campaign) -> Campaign | None:
    """Open the day-60 pulse of a released campaign: same raters, same k, three questions."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.released or campaign.is_recheck or campaign.rechecks.exists():
        return None
    recheck = Campaign.objects.create(
        organisation_id=campaign.organisation_id,
        manager_id=campaign.manager_id,
        organism_id=campaign.organism_id,
        kind=CampaignKind.RECHECK,
        parent=campaign,
        questionnaire=questionnaire_recheck(),
        min_responses=campaign.min_responses,
        closes_on=timezone.localdate() + RECHECK_DURATION,
    )
    Invitation.objects.bulk_create(
        [
            Invitation(campaign=recheck, email=inv.email, person_id=inv.person_id)
            for inv in campaign.invitations.all()
        ]
    )
    try:
        return campaign_open(campaign=recheck)
    except CampaignError:
        # Fewer raters than k (people left): the pulse could never be shown; drop it.
        recheck.delete()
        return None


def rechecks_open_due(*, today: date | None = None) -> int:
    today = today or timezone.localdate()
    due = Campaign.objects.filter(
        kind=CampaignKind.MAIN,
        released=True,
        processed_at__date__lte=today - RECHECK_AFTER,
        rechecks__isnull=True,
    )
    return sum(1 for campaign in due if recheck_open(campaign=campaign) is not None)


def campaigns_close_due(*, today: date | None = None) -> int:
    today = today or timezone.localdate()
    closed = 0
    for campaign in Campaign.objects.filter(status=CampaignStatus.OPEN, closes_on__lt=today):
        campaign_close(campaign=campaign, by_manager=False)
        closed += 1
    return closed


def _step_pause() -> None:
    """Tests slow each step down to kill a worker in the middle of a job (never in production)."""
    if settings.TESTING:
        delay = float(os.environ.get("CAMPUS_FEEDBACK180_STEP_DELAY", "0") or 0)
        if delay:
            time.sleep(delay)


def response_process(*, response_id: Any, campaign: Campaign, names: list[str]) -> bool:
    """Scrub and reformulate one response's comments, then delete the raw text; one
    transaction, skipped when already done (a retried job does nothing twice)."""
    from campus.ai.reformulate import reformulate

    with transaction.atomic():
        response = (
            Response.objects.select_for_update(skip_locked=True)
            .filter(pk=response_id, processed=False)
            .first()
        )
        if response is None:
            return False
        processed = {}
        for question, text in response.raw_comments.items():
            result = reformulate(text, organisation=campaign.organisation, known_names=names)
            processed[question] = result.text
        response.comments = processed
        response.raw_comments = {}
        response.processed = True
        response.save(update_fields=["comments", "raw_comments", "processed"])
    return True


def campaign_process(*, campaign_id: int, reporter: JobReporter | None = None) -> dict[str, Any]:
    """Anonymise every verbatim, delete the raw text, then synthesise. Idempotent: processed
    responses are skipped, results and harvest are written once, in one transaction each."""
    from campus import ai
    from feedback180.synthesis import scores_compute, themes_compute

    campaign = (
        Campaign.objects.select_related("organisation", "manager").filter(pk=campaign_id).first()
    )
    if campaign is None or not campaign.is_closed:
        raise JobError(_("Cette campagne n’est pas clôturée ou n’existe plus."))
    if campaign.processed_at is not None:
        return {"message": _("Les résultats sont prêts."), "result_url": _debrief_url(campaign)}
    k = campaign.min_responses
    total = Response.objects.filter(campaign=campaign).count()
    if total < k:
        # Under the threshold nothing is computed or kept: only the count remains.
        with transaction.atomic():
            Response.objects.filter(campaign=campaign).delete()
            Campaign.objects.filter(pk=campaign.pk).update(
                processed_at=timezone.now(), released=False, response_count=total, results={}
            )
        return {
            "message": _("Seuil d’anonymat non atteint : aucun résultat n’est affiché."),
            "result_url": _debrief_url(campaign),
            "result_label": _("Voir le débrief"),
        }
    names = known_names(campaign)
    pending = list(
        Response.objects.filter(campaign=campaign, processed=False).values_list("pk", flat=True)
    )
    random.shuffle(pending)
    done = total - len(pending)
    for pk in pending:
        if reporter:
            reporter.progress(
                5 + 75 * done / max(1, total),
                _("Anonymisation des commentaires (%(done)d sur %(total)d)…")
                % {"done": done, "total": total},
                force=True,
            )
        _step_pause()
        response_process(response_id=pk, campaign=campaign, names=names)
        done += 1
    if reporter:
        reporter.progress(85, _("Synthèse des résultats…"), force=True)
    responses = list(Response.objects.filter(campaign=campaign).values("answers", "comments"))
    scores = scores_compute(
        questionnaire=campaign.questionnaire,
        answers=[r["answers"] for r in responses],
        self_answers=campaign.self_answers,
        k=k,
    )
    themes = themes_compute(
        questionnaire=campaign.questionnaire,
        comments=[r["comments"] for r in responses],
        k=k,
        embed=lambda texts: ai.embed(texts, kind="passage", organisation=campaign.organisation),
    )
    practices = practices_suggest(campaign=campaign, codes=scores["improvements"])
    results = {**scores, "themes": themes, "practices": practices}
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.processed_at is None:
            now = timezone.now()
            # Rewriting every response row in one statement also gives them one shared
            # transaction id, so the database's own bookkeeping no longer tells their order.
            Response.objects.filter(campaign=campaign).update(processed=True)
            Invitation.objects.filter(campaign=campaign).update(responded=F("responded"))
            texts = [
                (question, text)
                for r in responses
                for question, text in r["comments"].items()
                if question in VERBATIM_QUESTIONS and text.strip()
            ]
            random.shuffle(texts)  # ids must not follow the responses' order either
            Verbatim.objects.bulk_create(
                [Verbatim(campaign=campaign, question=q, text=t, created_at=now) for q, t in texts]
            )
            Campaign.objects.filter(pk=campaign.pk).update(
                processed_at=now,
                released=True,
                response_count=total,
                results=results,
            )
    if reporter:
        reporter.progress(95, _("Propositions pour la mallette…"), force=True)
    harvest(campaign_id=campaign.pk)
    return {
        "message": _("Les résultats sont prêts."),
        "result_url": _debrief_url(campaign),
        "result_label": _("Voir le débrief"),
    }


def _debrief_url(campaign: Campaign) -> str:
    return reverse("feedback180:debrief", args=[campaign.pk])


def practices_suggest(*, campaign: Campaign, codes: list[str], per_code: int = 2) -> list[int]:
    """Published practices the manager may read for each area to improve: those of the area's
    themes closest in meaning to the competency (hybrid search on its label and description),
    then, if the index has too few, the area's most recent practices."""
    from mallette.models import Practice
    from mallette.search import practices_search
    from mallette.selectors import practices_visible_to

    competencies = {c["code"]: c for c in campaign.questionnaire.get("competencies", [])}
    chosen: list[int] = []
    for code in codes:
        competency = competencies.get(code, {})
        slugs = competency.get("themes", [])
        in_themes = Practice.objects.filter(themes__slug__in=slugs).values("pk")
        base = practices_visible_to(campaign.manager).filter(pk__in=in_themes)
        base = base.exclude(pk__in=chosen)
        query = " ".join(
            part
            for part in (competency.get("label", ""), competency.get("description", ""))
            if part
        )
        picked = (
            [hit.obj.pk for hit in practices_search(base, query, limit=per_code)] if query else []
        )
        if len(picked) < per_code:
            picked += list(
                base.exclude(pk__in=picked)
                .order_by("-published_at", "pk")
                .values_list("pk", flat=True)[: per_code - len(picked)]
            )
        chosen.extend(picked)
    return chosen


HARVEST_MIN_SUPPORT = 3


def harvest(*, campaign_id: int) -> int:
    """Recurring "keep doing" themes become anonymous proposals in the mallette moderation
    queue, scoped to the organisation. Once per campaign (flag set in the same transaction)."""
    from mallette.models import Practice, PracticeSource, PracticeStatus, Theme
    from mallette.services import _unique_slug  # the mallette's slug rule

    created = 0
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.harvested or not campaign.released:
            return 0
        for theme in campaign.results.get("themes", []):
            if (
                theme["question"] != "keep"
                or theme["support"] < max(HARVEST_MIN_SUPPORT, 1)
                or not theme["quotes"]
            ):
                continue
            comp = next(
                (c for c in campaign.results["competencies"] if c["code"] == theme["competency"]),
                None,
            )
            slugs = comp["themes"] if comp else []
            primary = Theme.objects.filter(slug__in=slugs).order_by("position").first()
            if primary is None:
                primary = Theme.objects.order_by("position").first()
            if primary is None:
                continue
            title = _("Pratique appréciée des équipes : %(label)s") % {"label": theme["label"]}
            practice = Practice.objects.create(
                organisation_id=campaign.organisation_id,
                organism=None,
                slug=_unique_slug(title, organisation_id=campaign.organisation_id),
                title=title[:160],
                summary=_(
                    "Plusieurs collaborateurs ont cité cette pratique de leur manager comme à "
                    "poursuivre, dans un feedback 180° anonyme. À rédiger par la modération."
                ),
                situation=_("Ce que les équipes disent apprécier (propos anonymisés) :"),
                body="\n".join(f"- « {q} »" for q in theme["quotes"]),
                primary_theme=primary,
                source=PracticeSource.FEEDBACK,
                status=PracticeStatus.REVIEW,
                anonymous=True,
            )
            practice.themes.set([primary])
            created += 1
        Campaign.objects.filter(pk=campaign.pk).update(harvested=True)
    return created


# --- Debrief and action plan --------------------------------------------------------------------


REFLECTION_QUESTIONS = [
    ("surprise", "Qu’est-ce qui vous surprend dans ce retour ?"),
    ("confirm", "Qu’est-ce qui confirme ce que vous pensiez ?"),
    ("priority", "Sur quoi voulez-vous progresser en priorité dans les deux prochains mois ?"),
]


@transaction.atomic
def reflection_save(*, campaign: Campaign, answers: Mapping[str, str]) -> Campaign:
    keys = {k for k, _q in REFLECTION_QUESTIONS}
    clean = {k: v.strip()[:2000] for k, v in answers.items() if k in keys}
    Campaign.objects.filter(pk=campaign.pk).update(reflection=clean)
    campaign.reflection = clean
    return campaign


def plan_actions(campaign: Campaign):
    from selfdiag.models import OPEN_STATUSES, ActionSource
    from selfdiag.selectors import actions_of

    return actions_of(campaign.manager).filter(
        source=ActionSource.FEEDBACK180, status__in=OPEN_STATUSES
    )


@transaction.atomic
def plan_action_add(
    *, campaign: Campaign, practice: Any = None, title: str = "", due_date: date | None = None
) -> Any:
    """Add an action of the 2-month plan to the shared action plan (at most four open)."""
    from selfdiag.models import ActionSource
    from selfdiag.services import action_add

    if not campaign.released or campaign.is_recheck:
        raise CampaignError(_("Le plan d’action se construit à partir du débrief."))
    if plan_actions(campaign).count() >= PLAN_MAX_ACTIONS:
        raise CampaignError(
            _("Votre plan compte déjà %(max)d actions : terminez-en une avant d’en ajouter.")
            % {"max": PLAN_MAX_ACTIONS}
        )
    return action_add(
        user=campaign.manager,
        practice=practice,
        title=title,
        due_date=due_date or timezone.localdate() + PLAN_HORIZON,
        source=ActionSource.FEEDBACK180,
    )


@transaction.atomic
def summary_share(*, campaign: Campaign) -> int:
    """Send the team a short summary (strengths, areas, the plan's actions; never a quote)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.released:
        raise CampaignError(_("Aucun résultat à partager."))
    if campaign.shared_at is not None:
        raise CampaignError(_("Le résumé a déjà été partagé avec l’équipe."))
    campaign.shared_at = timezone.now()
    campaign.save(update_fields=["shared_at"])
    pks = list(campaign.invitations.values_list("pk", flat=True))
    for pk in pks:
        _enqueue("summary_send", invitation_id=pk)
    return len(pks)


def summary_send(*, invitation_id: int) -> bool:
    from campus.notify import email_send
    from feedback180.selectors import debrief_context

    invitation = (
        Invitation.objects.select_related("campaign__manager").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.campaign.shared_at is None:
        return False
    campaign = invitation.campaign
    context = debrief_context(campaign)
    email_send(
        to=invitation.email,
        subject=_("Ce que %(name)s retient de votre feedback 180°")
        % {"name": campaign.manager.full_name or campaign.manager.email},
        template="feedback180/email/summary",
        context={
            "manager": campaign.manager,
            "strengths": context["strengths"],
            "improvements": context["improvements"],
            "actions": list(plan_actions(campaign)),
        },
    )
    return True
