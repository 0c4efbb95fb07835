"""The mallette: themes and good management practices, searchable by meaning."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from campus.search import search_indexes

EMBEDDING_DIMENSIONS = 384


class Theme(models.Model):
    """One of the 16 themes. HR admins may relabel a theme; its slug never changes."""

    slug = models.SlugField(_("identifiant"), unique=True, editable=False)
    label = models.CharField(_("libellé"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("thème")
        verbose_name_plural = _("thèmes")
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class PracticeLevel(models.TextChoices):
    ALL = "all", _("Tous les managers")
    PROXIMITY = "proximity", _("Manager de proximité")
    MIDDLE = "middle", _("Manager intermédiaire")
    STRATEGIC = "strategic", _("Manager stratégique")
    DIRECTOR = "director", _("Direction")


class PracticeSource(models.TextChoices):
    EDITOR = "editor", _("Équipe éditoriale")
    COMMUNITY = "community", _("Communauté des managers")
    FEEDBACK = "feedback", _("Issue des feedbacks 180°")
    COACH = "coach", _("Issue du coach")


class PracticeStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    REVIEW = "review", _("En relecture")
    PUBLISHED = "published", _("Publiée")
    REJECTED = "rejected", _("Refusée")
    ARCHIVED = "archived", _("Archivée")


class Practice(models.Model):
    """A good management practice: situation, what to do, pitfalls.

    Scope: no organisation = the editorial library every organisation sees; an organisation
    and no organism = national to that organisation; an organism = seen by its people only. ``search_vector`` and ``embedding`` are derived data kept current by a background
    job (``mallette.services.practices_index``), never written by a save().
    """

    organisation = models.ForeignKey(
        "campus.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="practices",
        verbose_name=_("organisation"),
        help_text=_("Vide pour la bibliothèque éditoriale commune à toutes les organisations."),
    )
    organism = models.ForeignKey(
        "campus.Organism",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="practices",
        verbose_name=_("organisme"),
        help_text=_("Vide pour une pratique nationale, visible de tous."),
    )
    slug = models.SlugField(_("identifiant"), max_length=100)
    title = models.CharField(_("titre"), max_length=160)
    summary = models.TextField(_("résumé"), max_length=400)
    situation = models.TextField(_("situation"), blank=True)
    body = models.TextField(
        _("ce qu’il faut faire"), help_text=_("Markdown limité : listes, gras, italique, liens.")
    )
    pitfalls = models.TextField(_("pièges à éviter"), blank=True)
    themes = models.ManyToManyField(Theme, related_name="practices", verbose_name=_("thèmes"))
    primary_theme = models.ForeignKey(
        Theme,
        on_delete=models.PROTECT,
        related_name="primary_practices",
        verbose_name=_("thème principal"),
    )
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    level = models.CharField(
        _("niveau"), max_length=12, choices=PracticeLevel, default=PracticeLevel.ALL
    )
    source = models.CharField(
        _("origine"), max_length=12, choices=PracticeSource, default=PracticeSource.EDITOR
    )
    author = models.ForeignKey(
        "campus.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practices",
        verbose_name=_("auteur"),
    )
    anonymous = models.BooleanField(_("publier sans nom d’auteur"), default=False)
    status = models.CharField(
        _("statut"), max_length=12, choices=PracticeStatus, default=PracticeStatus.DRAFT
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)

    # Moderation of community proposals: who decided, when, and why (shown to the author).
    moderated_by = models.ForeignKey(
        "campus.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderated_practices",
        verbose_name=_("modérée par"),
    )
    moderated_at = models.DateTimeField(_("modérée le"), null=True, blank=True)
    rejection_reason = models.TextField(_("motif du refus"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_proposals",
        verbose_name=_("fusionnée dans"),
    )

    search_vector = SearchVectorField(null=True, editable=False)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, editable=False)
    embedding_model = models.CharField(max_length=120, blank=True, editable=False)
    # Bumped whenever the text changes; the index job compares it with indexed_revision.
    revision = models.PositiveIntegerField(default=1, editable=False)
    indexed_revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("pratique")
        verbose_name_plural = _("pratiques")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug"], name="practice_slug_unique", nulls_distinct=False
            )
        ]
        indexes = [
            *search_indexes("practice"),
            models.Index(fields=["organisation", "status", "organism"], name="practice_scope"),
            models.Index(fields=["primary_theme", "status"], name="practice_theme"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def contribution_state(self) -> str:
        """What the author sees of a proposal: review, published, rejected or merged."""
        if self.merged_into_id:
            return "merged"
        return self.status

    def index_text(self) -> str:
        """What the embedding represents: the title, the summary and the situation — the words
        a manager uses to describe a problem. The steps stay in the full-text index only: they
        double the embedding cost and measured no better on the coach questions."""
        return "\n".join(p for p in (self.title, self.summary, self.situation) if p)


class PracticeUseKind(models.TextChoices):
    USE = "use", _("J’utilise cette pratique")
    FAVOURITE = "favourite", _("Favori")


class PracticeUse(models.Model):
    """A manager says they use a practice, or keeps it in their favourites."""

    user = models.ForeignKey(
        "campus.User",
        on_delete=models.CASCADE,
        related_name="practice_uses",
        verbose_name=_("personne"),
    )
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="uses", verbose_name=_("pratique")
    )
    kind = models.CharField(_("type"), max_length=12, choices=PracticeUseKind)
    created_at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("usage d’une pratique")
        verbose_name_plural = _("usages des pratiques")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "practice", "kind"], name="practice_use_unique")
        ]
        indexes = [models.Index(fields=["practice", "kind"], name="practice_use_kind")]

    def __str__(self) -> str:
        return f"{self.user} · {self.practice} · {self.get_kind_display()}"


class Comment(models.Model):
    """A manager's comment on a practice. Comments stay inside the author's organisation: an
    editorial practice is shared by every organisation, its discussions are not."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="comments", verbose_name=_("pratique")
    )
    organisation = models.ForeignKey(
        "campus.Organisation",
        on_delete=models.CASCADE,
        related_name="practice_comments",
        verbose_name=_("organisation"),
    )
    author = models.ForeignKey(
        "campus.User",
        on_delete=models.CASCADE,
        related_name="practice_comments",
        verbose_name=_("auteur"),
    )
    body = models.TextField(_("commentaire"), max_length=2000)
    hidden = models.BooleanField(_("masqué par la modération"), default=False)
    hidden_by = models.ForeignKey(
        "campus.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("masqué par"),
    )
    hidden_at = models.DateTimeField(_("masqué le"), null=True, blank=True)
    created_at = models.DateTimeField(_("publié le"), auto_now_add=True)
    edited_at = models.DateTimeField(_("modifié le"), null=True, blank=True)

    class Meta:
        verbose_name = _("commentaire")
        verbose_name_plural = _("commentaires")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["practice", "organisation", "created_at"], name="comment_practice_org"
            )
        ]

    def __str__(self) -> str:
        return self.body[:80]


class MentionSource(models.TextChoices):
    COACH = "coach", _("Questions au coach")
    COMMUNITY = "community", _("Échanges des communautés")
    FEEDBACK = "feedback", _("Verbatims des feedbacks 180°")


class Mention(models.Model):
    """A text of the campus evoked a practice. Holds no text: only an opaque reference to its
    source (``coach.exchange:123``), the day and the similarity."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="mentions", verbose_name=_("pratique")
    )
    organisation = models.ForeignKey(
        "campus.Organisation",
        on_delete=models.CASCADE,
        related_name="practice_mentions",
        verbose_name=_("organisation"),
    )
    organism = models.ForeignKey(
        "campus.Organism",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practice_mentions",
        verbose_name=_("organisme"),
    )
    source = models.CharField(_("source"), max_length=12, choices=MentionSource)
    source_ref = models.CharField(_("référence de la source"), max_length=80)
    similarity = models.FloatField(_("similarité"))
    day = models.DateField(_("jour"))

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        ordering = ["-day", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["source_ref", "practice"], name="mention_unique")
        ]
        indexes = [
            models.Index(fields=["organisation", "day", "practice"], name="mention_org_day"),
            models.Index(fields=["organism", "day", "practice"], name="mention_organism_day"),
            models.Index(fields=["practice", "day"], name="mention_practice_day"),
        ]

    def __str__(self) -> str:
        return f"{self.source_ref} → {self.practice_id}"


class MentionWatermark(models.Model):
    """How far the detection has read each source: (created_at, key) of the last text read."""

    source = models.CharField(_("source"), max_length=40, unique=True)
    last_created_at = models.DateTimeField(null=True, blank=True)
    last_key = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("avancement de la détection")
        verbose_name_plural = _("avancements de la détection")

    def __str__(self) -> str:
        return f"{self.source} @ {self.last_created_at}"


class UnmatchedText(models.Model):
    """A campus text on management that no practice answers: kept as a vector (no text) so
    recurring needs can be clustered into a candidate practice. ``author_key`` is a keyed hash
    that only tells whether two texts come from the same person."""

    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    organism = models.ForeignKey(
        "campus.Organism", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=12, choices=MentionSource)
    source_ref = models.CharField(_("référence de la source"), max_length=80, unique=True)
    author_key = models.CharField(max_length=32)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    nearest = models.ForeignKey(
        Practice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    similarity = models.FloatField(_("meilleure similarité"))
    day = models.DateField(_("jour"))
    proposal = models.ForeignKey(
        Practice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="unmatched_texts",
        verbose_name=_("proposition créée"),
    )

    class Meta:
        verbose_name = _("texte sans pratique")
        verbose_name_plural = _("textes sans pratique")
        indexes = [models.Index(fields=["organisation", "day"], name="unmatched_org_day")]

    def __str__(self) -> str:
        return self.source_ref
