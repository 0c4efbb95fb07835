"""Self-diagnosis: versioned questionnaires, diagnoses (answers and frozen results), and the
manager's action plan (shared with feedback180, the mallette and the coach)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SCALE_SIZE = 5


class QuestionnaireStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publié")
    ARCHIVED = "archived", _("Archivé")


class Questionnaire(models.Model):
    """One version of a questionnaire. A version that has diagnoses is locked: editing it
    means creating a new version (``questionnaire_new_version``), so past results never move.

    No organisation: the default questionnaire of every organisation, unless an organisation
    publishes its own."""

    organisation = models.ForeignKey(
        "campus.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="questionnaires",
        verbose_name=_("organisation"),
        help_text=_("Vide pour le questionnaire par défaut de toutes les organisations."),
    )
    title = models.CharField(_("titre"), max_length=200)
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("statut"), max_length=12, choices=QuestionnaireStatus, default=QuestionnaireStatus.DRAFT
    )
    intro = models.TextField(_("introduction"), blank=True)
    scale_label_1 = models.CharField(_("libellé de la réponse 1"), max_length=60)
    scale_label_2 = models.CharField(_("libellé de la réponse 2"), max_length=60)
    scale_label_3 = models.CharField(_("libellé de la réponse 3"), max_length=60)
    scale_label_4 = models.CharField(_("libellé de la réponse 4"), max_length=60)
    scale_label_5 = models.CharField(_("libellé de la réponse 5"), max_length=60)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["organisation_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "version"],
                name="questionnaire_version_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    @property
    def scale(self) -> list[tuple[int, str]]:
        return [(v, getattr(self, f"scale_label_{v}")) for v in range(1, SCALE_SIZE + 1)]


class Competency(models.Model):
    """A managerial competency, one step of the questionnaire. ``code`` stays the same from
    one version to the next: evolution and peer medians compare competencies by code."""

    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.CASCADE,
        related_name="competencies",
        verbose_name=_("questionnaire"),
    )
    code = models.SlugField(_("code"), max_length=60)
    label = models.CharField(_("libellé"), max_length=120)
    short_label = models.CharField(
        _("libellé court"), max_length=40, help_text=_("Affiché sur le graphique radar.")
    )
    description = models.TextField(_("description"), blank=True)
    themes = models.ManyToManyField(
        "mallette.Theme",
        related_name="competencies",
        verbose_name=_("thèmes de la mallette"),
        help_text=_("Les pratiques recommandées sont choisies dans ces thèmes."),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("compétence")
        verbose_name_plural = _("compétences")
        ordering = ["questionnaire", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "code"], name="competency_code_unique")
        ]

    def __str__(self) -> str:
        return self.label


class Item(models.Model):
    """A behavioural statement answered on the frequency scale."""

    competency = models.ForeignKey(
        Competency, on_delete=models.CASCADE, related_name="items", verbose_name=_("compétence")
    )
    text = models.CharField(_("énoncé"), max_length=300)
    reverse_scored = models.BooleanField(
        _("score inversé"),
        default=False,
        help_text=_("Pour un comportement à éviter : « Toujours » vaut 1 et « Jamais » vaut 5."),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("énoncé")
        verbose_name_plural = _("énoncés")
        ordering = ["competency", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class OpenQuestion(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.CASCADE,
        related_name="open_questions",
        verbose_name=_("questionnaire"),
    )
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("aide"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("question ouverte")
        verbose_name_plural = _("questions ouvertes")
        ordering = ["questionnaire", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class DiagnosisStatus(models.TextChoices):
    DRAFT = "draft", _("En cours")
    SUBMITTED = "submitted", _("Terminé")


class Diagnosis(models.Model):
    """A manager's self-diagnosis. A draft keeps the answers as they are saved (resume);
    submitting freezes the results (``results``, ``scores``) so that later edits of the
    questionnaire never change them. ``level`` and ``organism`` are the manager's at submission:
    peer medians and HR counts read them without joining people."""

    user = models.ForeignKey(
        "campus.User",
        on_delete=models.CASCADE,
        related_name="diagnoses",
        verbose_name=_("manager"),
    )
    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="diagnoses"
    )
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="diagnoses",
        verbose_name=_("questionnaire"),
    )
    status = models.CharField(
        _("statut"), max_length=12, choices=DiagnosisStatus, default=DiagnosisStatus.DRAFT
    )
    step = models.PositiveSmallIntegerField(_("étape en cours"), default=1)
    #: ``{item_id: 1..5}`` (keys are strings: JSON).
    answers = models.JSONField(_("réponses"), default=dict, blank=True)
    #: ``{open_question_id: text}``: the manager's own words, never shown to anyone else.
    open_answers = models.JSONField(_("réponses libres"), default=dict, blank=True)
    started_at = models.DateTimeField(_("commencé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    submitted_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    # Frozen at submission.
    level = models.CharField(_("niveau managérial"), max_length=20, blank=True)
    organism = models.ForeignKey(
        "campus.Organism",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisme"),
    )
    #: The manager's latest submitted diagnosis: the one counted in peer medians.
    latest = models.BooleanField(default=False)
    #: ``{competency_code: mean score 1..5}``.
    scores = models.JSONField(default=dict, blank=True)
    overall = models.FloatField(null=True, blank=True)
    #: Snapshot: ``{"competencies": [...], "strengths": [...], "improvements": [...],
    #: "recommendations": {code: [practice ids]}, "scale": [...]}``.
    results = models.JSONField(default=dict, blank=True)
    synthesis = models.TextField(_("synthèse"), blank=True)
    synthesis_generated = models.BooleanField(default=False)
    synthesis_notice = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("autodiagnostic")
        verbose_name_plural = _("autodiagnostics")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="draft"),
                name="diagnosis_one_draft_per_user",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(latest=True), name="diagnosis_one_latest_per_user"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status", "-submitted_at"], name="diagnosis_user_status"),
            models.Index(
                fields=["organisation", "level"],
                name="diagnosis_peers_level",
                condition=Q(latest=True),
            ),
            models.Index(
                fields=["organism"], name="diagnosis_peers_organism", condition=Q(latest=True)
            ),
            models.Index(
                fields=["organisation", "submitted_at"],
                name="diagnosis_org_submitted",
                condition=Q(status="submitted"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.started_at:%Y-%m-%d}"

    @property
    def is_submitted(self) -> bool:
        return self.status == DiagnosisStatus.SUBMITTED


# --- Action plan ---------------------------------------------------------------------------------


class ActionStatus(models.TextChoices):
    TODO = "todo", _("À faire")
    DOING = "doing", _("En cours")
    DONE = "done", _("Faite")
    DROPPED = "dropped", _("Abandonnée")


OPEN_STATUSES = (ActionStatus.TODO, ActionStatus.DOING)


class ActionSource(models.TextChoices):
    SELFDIAG = "selfdiag", _("Autodiagnostic")
    FEEDBACK180 = "feedback180", _("Feedback 180°")
    MALLETTE = "mallette", _("Mallette")
    COACH = "coach", _("Coach Liza")
    MANUAL = "manual", _("Ajout libre")


class Action(models.Model):
    """One action of a manager's plan: a practice to try, or free text. One plan per manager:
    the plan is the set of their actions."""

    owner = models.ForeignKey(
        "campus.User",
        on_delete=models.CASCADE,
        related_name="actions",
        verbose_name=_("manager"),
    )
    practice = models.ForeignKey(
        "mallette.Practice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("pratique"),
    )
    title = models.CharField(_("action"), max_length=200)
    due_date = models.DateField(_("échéance"), null=True, blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=ActionStatus, default=ActionStatus.TODO
    )
    source = models.CharField(
        _("origine"), max_length=12, choices=ActionSource, default=ActionSource.MANUAL
    )
    created_at = models.DateTimeField(_("ajoutée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    completed_at = models.DateTimeField(_("terminée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["owner", "due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "practice"],
                condition=Q(status__in=["todo", "doing"], practice__isnull=False),
                name="action_one_open_per_practice",
            )
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"], name="action_owner_status"),
            models.Index(
                fields=["due_date"],
                name="action_open_due",
                condition=Q(status__in=["todo", "doing"], due_date__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReminderKind(models.TextChoices):
    SOON = "soon", _("Échéance proche")
    OVERDUE = "overdue", _("Échéance dépassée")


class ActionReminder(models.Model):
    """What was sent: one row per action, kind and due date, so that the daily task never
    sends the same reminder twice (a new due date may be reminded again)."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=ReminderKind)
    due_date = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rappel envoyé")
        verbose_name_plural = _("rappels envoyés")
        constraints = [
            models.UniqueConstraint(
                fields=["action", "kind", "due_date"], name="action_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} · {self.kind} · {self.due_date}"
