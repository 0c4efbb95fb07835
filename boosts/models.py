"""Manager boosts: short interactive masterclasses, their registrations and live room."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campus.models import Level

#: Participants may enter the live room this long before the start, and after the end.
LIVE_OPENS_BEFORE = timedelta(minutes=15)
LIVE_CLOSES_AFTER = timedelta(minutes=30)
CHECKIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


def checkin_code_new() -> str:
    return "".join(secrets.choice(CHECKIN_CODE_ALPHABET) for _ in range(6))


class BoostFormat(models.TextChoices):
    ONLINE = "online", _("En ligne")
    ONSITE = "onsite", _("Sur site")
    HYBRID = "hybrid", _("En ligne et sur site")


class BoostStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Programmé")
    CANCELLED = "cancelled", _("Annulé")


class Boost(models.Model):
    """One session of a masterclass. A recurring series shares ``series``."""

    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="boosts"
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    series = models.UUIDField(null=True, blank=True, db_index=True, editable=False)
    title = models.CharField(_("titre"), max_length=160)
    description = models.TextField(_("description"), max_length=4000)
    themes = models.ManyToManyField(
        "mallette.Theme", related_name="boosts", verbose_name=_("thèmes"), blank=True
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="hosted_boosts",
        verbose_name=_("animateur ou animatrice"),
    )
    starts_at = models.DateTimeField(_("début"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("durée (minutes)"),
        default=45,
        validators=[MinValueValidator(10), MaxValueValidator(240)],
    )
    format = models.CharField(
        _("format"), max_length=10, choices=BoostFormat, default=BoostFormat.ONLINE
    )
    meeting_url = models.URLField(_("lien de la réunion en ligne"), blank=True, max_length=500)
    room = models.CharField(_("salle"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(
        _("nombre de places"), validators=[MinValueValidator(1), MaxValueValidator(5000)]
    )
    audience_levels = ArrayField(
        models.CharField(max_length=20, choices=Level),
        default=list,
        blank=True,
        verbose_name=_("niveaux managériaux"),
    )
    # Ids rather than many-to-many rows: the audience filter is one indexed array test in SQL.
    audience_branch_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    audience_organism_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Rows rather than ids here: communities are joined against memberships anyway, and a
    # group named in an audience cannot be deleted (see ``BoostCommunity``).
    audience_communities = models.ManyToManyField(
        "communities.Group",
        through="BoostCommunity",
        related_name="boosts",
        blank=True,
        verbose_name=_("communautés"),
    )
    resources = models.TextField(
        _("ressources"), blank=True, max_length=4000, help_text=_("Un lien ou un texte par ligne.")
    )
    replay_url = models.URLField(_("lien du replay"), blank=True, max_length=500)
    followup_practice = models.ForeignKey(
        "mallette.Practice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pratique de l’exercice de suivi"),
    )
    followup_question = models.CharField(
        _("question de l’exercice de suivi"), max_length=300, blank=True
    )
    checkin_code = models.CharField(
        _("code de présence"), max_length=8, default=checkin_code_new, db_index=True
    )
    status = models.CharField(
        _("statut"), max_length=12, choices=BoostStatus, default=BoostStatus.SCHEDULED
    )
    #: iCalendar SEQUENCE: incremented on every change sent to the registrants.
    sequence = models.PositiveIntegerField(default=0)
    followup_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("boost")
        verbose_name_plural = _("boosts")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["organisation", "starts_at"], name="boost_org_start")]

    def __str__(self) -> str:
        return self.title

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == BoostStatus.CANCELLED

    def is_past(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.ends_at

    def live_is_open(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            not self.is_cancelled
            and self.starts_at - LIVE_OPENS_BEFORE <= now <= self.ends_at + LIVE_CLOSES_AFTER
        )

    @property
    def is_online(self) -> bool:
        return self.format in (BoostFormat.ONLINE, BoostFormat.HYBRID)

    @property
    def is_onsite(self) -> bool:
        return self.format in (BoostFormat.ONSITE, BoostFormat.HYBRID)

    def resource_lines(self) -> list[str]:
        return [line.strip() for line in self.resources.splitlines() if line.strip()]


class BoostCommunity(models.Model):
    """One community in a boost's audience.

    ``RESTRICT`` on the group: with a plain many-to-many, deleting the only group of an
    audience would silently open the boost to the whole organisation. The group must first be
    taken out of the boost's audience; deleting the organisation (boosts and groups together)
    still works."""

    boost = models.ForeignKey(Boost, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(
        "communities.Group", on_delete=models.RESTRICT, related_name="boost_audiences"
    )

    class Meta:
        verbose_name = _("communauté du public")
        verbose_name_plural = _("communautés du public")
        constraints = [
            models.UniqueConstraint(fields=["boost", "group"], name="boost_community_once")
        ]

    def __str__(self) -> str:
        return f"{self.boost_id} · {self.group_id}"


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Inscrit")
    WAITLISTED = "waitlisted", _("En liste d’attente")
    CANCELLED = "cancelled", _("Désinscrit")


class Registration(models.Model):
    """One person and one boost. Kept when cancelled (history, and the iCalendar cancel)."""

    boost = models.ForeignKey(Boost, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boost_registrations"
    )
    status = models.CharField(max_length=12, choices=RegistrationStatus)
    #: Order of the waiting list (and of registration): set on every (re)registration.
    queued_at = models.DateTimeField(default=timezone.now)
    checked_in_at = models.DateTimeField(_("présent"), null=True, blank=True)
    reminded_day_at = models.DateTimeField(null=True, blank=True)
    reminded_soon_at = models.DateTimeField(null=True, blank=True)
    followup_exercise_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("inscription")
        verbose_name_plural = _("inscriptions")
        constraints = [
            models.UniqueConstraint(fields=["boost", "user"], name="boost_registration_once")
        ]
        indexes = [
            models.Index(fields=["boost", "status", "queued_at"], name="boost_reg_queue"),
            models.Index(fields=["user", "status"], name="boost_reg_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.boost}"

    @property
    def is_confirmed(self) -> bool:
        return self.status == RegistrationStatus.CONFIRMED


class CalendarToken(models.Model):
    """The secret in a manager's calendar feed address (calendar apps cannot log in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boost_calendar"
    )
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar:{self.user_id}"


class Question(models.Model):
    boost = models.ForeignKey(Boost, on_delete=models.CASCADE, related_name="questions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boost_questions"
    )
    body = models.CharField(_("question"), max_length=500)
    #: Denormalised count of votes (updated with the vote, in the same transaction).
    votes = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [models.Index(fields=["boost", "hidden", "-votes"], name="boost_question_rank")]

    def __str__(self) -> str:
        return self.body[:60]


class QuestionVote(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="vote_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="boost_question_vote_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.question_id}"


class PollKind(models.TextChoices):
    SINGLE = "single", _("Choix unique")
    MULTIPLE = "multiple", _("Choix multiples")
    WORDS = "words", _("Nuage de mots")


class PollState(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    OPEN = "open", _("Ouvert")
    CLOSED = "closed", _("Fermé")


class Poll(models.Model):
    boost = models.ForeignKey(Boost, on_delete=models.CASCADE, related_name="polls")
    kind = models.CharField(_("type"), max_length=10, choices=PollKind, default=PollKind.SINGLE)
    prompt = models.CharField(_("question"), max_length=300)
    state = models.CharField(max_length=10, choices=PollState, default=PollState.DRAFT)
    results_shown = models.BooleanField(default=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sondage")
        verbose_name_plural = _("sondages")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.prompt


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label


class PollAnswer(models.Model):
    """One choice (``option``) or one word (``word``) of one participant."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="answers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, null=True, blank=True)
    word = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "user", "option"],
                name="boost_poll_option_once",
                condition=models.Q(option__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["poll", "user", "word"],
                name="boost_poll_word_once",
                condition=models.Q(option__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["poll", "user"], name="boost_poll_answer_user")]

    def __str__(self) -> str:
        return self.word or str(self.option_id)


class SatisfactionReceipt(models.Model):
    """ "Has answered" only: never joined to the answers, which carry no person."""

    boost = models.ForeignKey(Boost, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["boost", "user"], name="boost_satisfaction_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.boost_id}"


class Satisfaction(models.Model):
    """Anonymous answers to the 3 questions: no person, no timestamp, a random key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    boost = models.ForeignKey(Boost, on_delete=models.CASCADE, related_name="satisfactions")
    overall = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    useful = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    recommend = models.BooleanField()

    def __str__(self) -> str:
        return f"{self.boost_id}: {self.overall}/5"
