"""Coach Liza: private conversations, cited answers, feedback, support contacts, exercises."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    """A manager's private conversation with the coach. Nobody else may read it, HR
    included: only aggregated topics (by theme, above a threshold) leave it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_conversations"
    )
    title = models.CharField(_("titre"), max_length=160)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("mise à jour le"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [models.Index(fields=["user", "-updated_at"], name="coach_conv_user_recent")]

    def __str__(self) -> str:
        return self.title


class AnswerKind(models.TextChoices):
    ANSWER = "answer", _("Réponse")
    NOT_FOUND = "not_found", _("Rien de pertinent trouvé")
    OFF_TOPIC = "off_topic", _("Hors sujet")
    SAFETY = "safety", _("Situation sensible")


class Exchange(models.Model):
    """One question and the coach's answer to it."""

    class Rating(models.IntegerChoices):
        DOWN = -1, _("Pas utile")
        UP = 1, _("Utile")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="exchanges"
    )
    #: The question as the manager typed it, shown only to them.
    question = models.TextField(_("question"))
    #: The question with personal data removed: what leaves the machine and what feeds the
    #: "most evoked" detection and the aggregated topics.
    question_scrubbed = models.TextField(_("question anonymisée"))
    answer = models.TextField(_("réponse"), blank=True)
    kind = models.CharField(
        _("type"), max_length=16, choices=AnswerKind.choices, default=AnswerKind.ANSWER
    )
    #: Safety category when ``kind`` is ``safety`` (harassment, violence, suicide…).
    safety_topic = models.CharField(_("sujet sensible"), max_length=32, blank=True)
    #: Practice ids cited, in order; the practices are loaded through the access helpers.
    source_ids = ArrayField(models.IntegerField(), default=list, blank=True)
    #: Theme slug of the first cited practice: the unit of the aggregated topics shown to HR.
    theme_slug = models.SlugField(_("thème"), blank=True, db_index=True)
    followups = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    #: ``local`` (extractive) or ``openai``.
    backend = models.CharField(_("moteur"), max_length=16, default="local")
    notice = models.CharField(_("avertissement"), max_length=400, blank=True)
    #: False while a streamed answer is still being written.
    complete = models.BooleanField(default=True)
    rating = models.SmallIntegerField(_("avis"), choices=Rating.choices, null=True, blank=True)
    rating_comment = models.TextField(_("commentaire"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("posée le"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("échange")
        verbose_name_plural = _("échanges")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.question_scrubbed[:80]

    @property
    def declined(self) -> bool:
        return self.kind in (AnswerKind.NOT_FOUND, AnswerKind.OFF_TOPIC)


class SupportKind(models.TextChoices):
    HR = "hr", _("Ressources humaines")
    OCCUPATIONAL_HEALTH = "occupational_health", _("Santé au travail")
    PSYCHOLOGICAL = "psychological", _("Soutien psychologique")
    SOCIAL = "social", _("Service social du travail")
    LEGAL = "legal", _("Service juridique")
    EMERGENCY = "emergency", _("Urgence")


class SupportContact(models.Model):
    """Whom a manager should turn to in a sensitive situation, set by HR admins for the whole
    organisation or one organism (the organism's contacts come first)."""

    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="support_contacts"
    )
    organism = models.ForeignKey(
        "campus.Organism",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="support_contacts",
        help_text=_("Vide : le contact vaut pour toute l’organisation."),
    )
    kind = models.CharField(_("type"), max_length=32, choices=SupportKind.choices)
    label = models.CharField(_("intitulé"), max_length=160)
    phone = models.CharField(_("téléphone"), max_length=40, blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    url = models.URLField(_("lien"), blank=True)
    details = models.CharField(_("précisions"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("contact de soutien")
        verbose_name_plural = _("contacts de soutien")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label


class ExerciseChannel(models.TextChoices):
    EMAIL = "email", _("Courriel")
    TEAMS = "teams", _("Microsoft Teams")
    SLACK = "slack", _("Slack")


class ExercisePreference(models.Model):
    """A manager's choice for the weekly micro-exercise."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exercise_preference"
    )
    enabled = models.BooleanField(_("recevoir un exercice chaque semaine"), default=True)
    email = models.BooleanField(_("par courriel"), default=True)
    #: The manager's own incoming webhooks (in addition to the organism's).
    teams_webhook_url = models.URLField(_("webhook Teams personnel"), blank=True, max_length=500)
    slack_webhook_url = models.URLField(_("webhook Slack personnel"), blank=True, max_length=500)
    theme_slugs = ArrayField(
        models.SlugField(), default=list, blank=True, verbose_name=_("thèmes préférés")
    )

    class Meta:
        verbose_name = _("préférence d’exercices")
        verbose_name_plural = _("préférences d’exercices")

    def __str__(self) -> str:
        return str(self.user)


class OrganismWebhook(models.Model):
    """An incoming webhook (Teams or Slack channel) where an organism's exercises are posted."""

    organism = models.ForeignKey(
        "campus.Organism", on_delete=models.CASCADE, related_name="coach_webhooks"
    )
    channel = models.CharField(
        _("canal"),
        max_length=16,
        choices=[(ExerciseChannel.TEAMS, "Microsoft Teams"), (ExerciseChannel.SLACK, "Slack")],
    )
    url = models.URLField(_("adresse du webhook"), max_length=500)
    active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("webhook d’organisme")
        verbose_name_plural = _("webhooks d’organisme")

    def __str__(self) -> str:
        return f"{self.organism} · {self.get_channel_display()}"


class Exercise(models.Model):
    """The week's micro-exercise for one manager: one practice to try, one question to answer
    in two minutes. One per manager and week, which makes delivery idempotent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_exercises"
    )
    #: Monday of the ISO week the exercise belongs to.
    week = models.DateField(_("semaine"))
    practice = models.ForeignKey(
        "mallette.Practice", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    title = models.CharField(_("titre"), max_length=200)
    instruction = models.TextField(_("pratique à essayer"))
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("réponse"), blank=True, max_length=4000)
    answered_at = models.DateTimeField(_("répondu le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("exercice")
        verbose_name_plural = _("exercices")
        ordering = ["-week", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "week"], name="coach_exercise_one_per_week")
        ]

    def __str__(self) -> str:
        return self.title


class ExerciseDelivery(models.Model):
    """One attempt-tracked delivery of an exercise on one channel (logged, retried)."""

    class State(models.TextChoices):
        PENDING = "pending", _("En attente")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("Échec")

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("canal"), max_length=16, choices=ExerciseChannel.choices)
    #: Where it goes: an email address or a webhook URL (kept to make retries exact).
    target = models.CharField(_("destination"), max_length=500)
    state = models.CharField(_("état"), max_length=16, choices=State.choices, default="pending")
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.CharField(_("dernière erreur"), max_length=500, blank=True)
    #: When a failed delivery becomes due again (exponential backoff); the hourly sweep
    #: retries only those whose time has come.
    next_attempt_at = models.DateTimeField(_("prochain essai"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("envoi d’exercice")
        verbose_name_plural = _("envois d’exercices")
        constraints = [
            models.UniqueConstraint(
                fields=["exercise", "channel", "target"], name="coach_delivery_once"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="coach_delivery_due")]

    def __str__(self) -> str:
        return f"{self.exercise} → {self.channel}"


class OrganismPost(models.Model):
    """The week's message in an organism's Teams or Slack channel: one per webhook and week,
    however many managers of the organism receive an exercise. It is not any manager's
    exercise: its practice is chosen from the organism's library by rotation, without any
    personal signal (preferences, favourites, coach questions), and it carries no personal
    data, just the practice and a link to each reader's own exercises."""

    webhook = models.ForeignKey(OrganismWebhook, on_delete=models.CASCADE, related_name="posts")
    #: Monday of the ISO week.
    week = models.DateField(_("semaine"))
    practice = models.ForeignKey(
        "mallette.Practice", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.CharField(
        _("état"),
        max_length=16,
        choices=ExerciseDelivery.State.choices,
        default=ExerciseDelivery.State.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.CharField(_("dernière erreur"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("prochain essai"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("message d’organisme")
        verbose_name_plural = _("messages d’organisme")
        ordering = ["-week", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "week"], name="coach_post_once_a_week")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="coach_post_due")]

    def __str__(self) -> str:
        return f"{self.webhook} · {self.week:%d/%m/%Y}"
