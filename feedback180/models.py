"""180° feedback: campaigns, invitations (one-time links) and anonymous responses.

Anonymity is structural (see ``../shared/DESIGN.md``):

* ``Response`` has a random UUID key, a foreign key to its campaign only, and no timestamp:
  nothing joins it to an invitation, a person, an address or a moment finer than the campaign.
* "Has responded" lives only on ``Invitation``; the link's token is stored hashed
  (``InvitationLink``) and deleted in the transaction that stores the response.
* Raw comments (``Response.raw_comments``) are emptied by the processing job once scrubbed and
  reformulated; only ``Response.comments`` (processed) and the campaign's frozen ``results``
  remain.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

K_FLOOR = 3


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    OPEN = "open", _("Ouverte")
    CLOSED = "closed", _("Clôturée")


class CampaignKind(models.TextChoices):
    MAIN = "main", _("Feedback 180°")
    RECHECK = "recheck", _("Re-check à 60 jours")


class Campaign(models.Model):
    """One 180° of one manager: questionnaire snapshot, threshold, dates and, once processed,
    the frozen results. Visible to that manager only (``selectors.get_campaign_for_user``)."""

    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="feedback_campaigns"
    )
    manager = models.ForeignKey(
        "campus.User",
        on_delete=models.CASCADE,
        related_name="feedback_campaigns",
        verbose_name=_("manager"),
    )
    #: Frozen when the manager opens it (HR counts by organism without joining people).
    organism = models.ForeignKey(
        "campus.Organism",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisme"),
    )
    created_by = models.ForeignKey(
        "campus.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créée par"),
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=CampaignStatus, default=CampaignStatus.DRAFT
    )
    #: A re-check is a small campaign (3 questions, same raters, same k) 60 days after the
    #: debrief of its ``parent``; it follows the same anonymity rules.
    kind = models.CharField(
        _("type"), max_length=10, choices=CampaignKind, default=CampaignKind.MAIN
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="rechecks"
    )
    #: ``{"items": [...], "open_questions": [...], "competencies": [...], "scale": [...]}``.
    questionnaire = models.JSONField(_("questionnaire"), default=dict)
    min_responses = models.PositiveSmallIntegerField(_("seuil d’anonymat (k)"), default=5)
    closes_on = models.DateField(_("date de clôture"))
    #: The manager's own answers ``{item_id: 1..5}``: not anonymous, shown next to the team's.
    self_answers = models.JSONField(_("autoévaluation"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    opened_at = models.DateTimeField(_("ouverte le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    processed_at = models.DateTimeField(_("traitée le"), null=True, blank=True)
    job = models.ForeignKey(
        "campus.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: True when the processing found at least ``min_responses`` responses.
    released = models.BooleanField(_("résultats disponibles"), default=False)
    response_count = models.PositiveIntegerField(_("nombre de réponses"), default=0)
    results = models.JSONField(_("résultats"), default=dict, blank=True)
    reflection = models.JSONField(_("réflexion"), default=dict, blank=True)
    shared_at = models.DateTimeField(_("résumé partagé le"), null=True, blank=True)
    harvested = models.BooleanField(default=False)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("campagne 180°")
        verbose_name_plural = _("campagnes 180°")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_responses__gte=K_FLOOR), name="campaign_k_floor_3"
            ),
            models.UniqueConstraint(
                fields=["manager"],
                condition=Q(status__in=["draft", "open"], kind="main"),
                name="campaign_one_active_per_manager",
            ),
            models.UniqueConstraint(
                fields=["parent"], condition=Q(kind="recheck"), name="campaign_one_recheck"
            ),
        ]
        indexes = [
            models.Index(fields=["manager", "-created_at"], name="campaign_manager_recent"),
            models.Index(
                fields=["status", "closes_on"],
                name="campaign_open_due",
                condition=Q(status="open"),
            ),
            models.Index(fields=["organisation", "organism"], name="campaign_org_organism"),
        ]

    def __str__(self) -> str:
        return f"180° · {self.manager} · {self.created_at:%Y-%m}"

    @property
    def is_recheck(self) -> bool:
        return self.kind == CampaignKind.RECHECK

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == CampaignStatus.CLOSED

    @property
    def items(self) -> list[dict]:
        return list(self.questionnaire.get("items", []))

    @property
    def open_questions(self) -> list[dict]:
        return list(self.questionnaire.get("open_questions", []))


class Invitation(models.Model):
    """One rater of a campaign. ``responded`` is the only trace of an answer here."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("adresse e-mail"))
    person = models.ForeignKey(
        "campus.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("personne"),
    )
    sent = models.BooleanField(_("envoyée"), default=False)
    responded = models.BooleanField(_("a répondu"), default=False)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["campaign", "email"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="invitation_email_unique")
        ]

    def __str__(self) -> str:
        return self.email


class InvitationLink(models.Model):
    """A one-time link: the SHA-256 of a random token. Each email (invitation, reminders)
    carries a new token so the raw token is never stored; all are deleted on submit."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("lien de réponse")
        verbose_name_plural = _("liens de réponse")

    def __str__(self) -> str:
        return self.token_hash[:8]


class Response(models.Model):
    """An anonymous answer. No invitation, no person, no address, no timestamp."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responses")
    #: ``{item_id: 1..5}``; an item answered "je ne sais pas" is absent.
    answers = models.JSONField(default=dict)
    #: ``{question_id: text}`` as sent; emptied by the processing job.
    raw_comments = models.JSONField(default=dict, blank=True)
    #: ``{question_id: text}`` scrubbed and (when a model is configured) reformulated.
    comments = models.JSONField(default=dict, blank=True)
    processed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("réponse")
        verbose_name_plural = _("réponses")
        # No ordering: the UUID order is random, and no column says when a response came.

    def __str__(self) -> str:
        return str(self.id)


class Verbatim(models.Model):
    """A released comment (scrubbed and reformulated), written once by the processing job of
    a campaign that reached k. It feeds the mallette's "most evoked" detection. ``created_at``
    is the processing time, shared by all the campaign's verbatims (no finer than the
    campaign); there is no link to a response."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="verbatims")
    question = models.CharField(max_length=20)
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("verbatim publié")
        verbose_name_plural = _("verbatims publiés")
        indexes = [models.Index(fields=["created_at", "id"], name="verbatim_watermark")]

    def __str__(self) -> str:
        return self.text[:60]
