"""Communities: peer groups of managers, threads, posts, reactions, moderation, notifications."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from campus.models import Level
from campus.search import Unaccent


class GroupKind(models.TextChoices):
    LEVEL = "level", _("Par niveau managérial")
    THEME = "theme", _("Par thème")
    ORGANISM = "organism", _("Par organisme")
    CROSS_BRANCH = "cross_branch", _("Interbranches")


class GroupVisibility(models.TextChoices):
    OPEN = "open", _("Ouvert à tous")
    CLOSED = "closed", _("Sur invitation")


class Group(models.Model):
    """A community of peers inside one organisation. Closed groups are seen by members only."""

    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="community_groups"
    )
    name = models.CharField(_("nom"), max_length=120)
    slug = models.SlugField(_("identifiant"), max_length=140)
    description = models.TextField(_("description"), max_length=1000, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=GroupKind, default=GroupKind.THEME)
    visibility = models.CharField(
        _("accès"), max_length=10, choices=GroupVisibility, default=GroupVisibility.OPEN
    )
    level = models.CharField(
        _("niveau réservé"),
        max_length=20,
        choices=Level,
        blank=True,
        help_text=_("Si renseigné, seuls les managers de ce niveau peuvent rejoindre le groupe."),
    )
    theme = models.ForeignKey(
        "mallette.Theme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="community_groups",
        verbose_name=_("thème"),
    )
    organism = models.ForeignKey(
        "campus.Organism",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="community_groups",
        verbose_name=_("organisme"),
    )
    charter = models.TextField(
        _("charte du groupe"),
        blank=True,
        help_text=_("Laissez vide pour la charte commune des communautés."),
    )
    animated = models.BooleanField(
        _("discussion hebdomadaire du coach"),
        default=False,
        help_text=_("Le coach Liza ouvre chaque semaine une discussion dans ce groupe."),
    )
    webhook_url = models.URLField(
        _("webhook Teams ou Slack"),
        max_length=500,
        blank=True,
        help_text=_("Les nouvelles discussions y sont annoncées (adresse https)."),
    )
    created_by = models.ForeignKey(
        "campus.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    # Accent- and case-folded name and description for the directory search (selectors.
    # directory). Folding them row by row at query time cost ~70 ms per query with 2,000 groups
    # (bench/bench_communities.py); stored generated columns are computed by PostgreSQL on every
    # INSERT and UPDATE, so save(), forms, the admin, bulk_create() and update() all keep them
    # current without a save() override, and the migration fills existing rows. Two columns,
    # not one concatenation, so that a query can never match across the name's end and the
    # description's start. No trigram index: pg_trgm is not in the embedded server, and a scan
    # of one organisation's folded texts takes a few milliseconds. Should campus_unaccent()
    # change, refresh them with ``Group.objects.update(name=F("name"),
    # description=F("description"))`` (an UPDATE recomputes those whose sources it sets).
    name_folded = models.GeneratedField(
        expression=Lower(Unaccent("name")), output_field=models.TextField(), db_persist=True
    )
    description_folded = models.GeneratedField(
        expression=Lower(Unaccent("description")),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("groupe")
        verbose_name_plural = _("groupes")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="group_slug_unique")
        ]
        indexes = [models.Index(fields=["organisation", "visibility"], name="group_org_vis")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.visibility == GroupVisibility.OPEN


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("Membre")
    MODERATOR = "moderator", _("Modérateur")


class MembershipStatus(models.TextChoices):
    INVITED = "invited", _("Invité")
    ACTIVE = "active", _("Membre")


class Membership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        "campus.User", on_delete=models.CASCADE, related_name="community_memberships"
    )
    role = models.CharField(
        _("rôle"), max_length=12, choices=MembershipRole, default=MembershipRole.MEMBER
    )
    status = models.CharField(
        _("statut"), max_length=12, choices=MembershipStatus, default=MembershipStatus.ACTIVE
    )
    invited_by = models.ForeignKey(
        "campus.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    charter_accepted_at = models.DateTimeField(_("charte acceptée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("depuis le"), auto_now_add=True)

    class Meta:
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "status"], name="membership_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.group}"

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE


class Thread(models.Model):
    """A discussion; its opening message is its first post."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="threads")
    author = models.ForeignKey(
        "campus.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="community_threads",
    )
    title = models.CharField(_("titre"), max_length=160)
    by_coach = models.BooleanField(_("ouverte par le coach"), default=False)
    #: ISO week ("2026-W47") of a coach discussion: one per group and week.
    coach_week = models.CharField(max_length=10, blank=True)
    reply_count = models.PositiveIntegerField(_("réponses"), default=0)
    last_activity_at = models.DateTimeField(_("dernière activité"), db_index=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    summary = models.JSONField(_("résumé du coach"), default=dict, blank=True)
    summary_at = models.DateTimeField(_("résumée le"), null=True, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("discussion")
        verbose_name_plural = _("discussions")
        ordering = ["-last_activity_at"]
        indexes = [
            models.Index(fields=["group", "-last_activity_at"], name="thread_group_recent"),
            GinIndex(fields=["search_vector"], name="thread_fts"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "coach_week"],
                condition=~models.Q(coach_week=""),
                name="thread_coach_week_unique",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        "campus.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="community_posts",
    )
    body = models.TextField(_("message"), max_length=5000)
    created_at = models.DateTimeField(_("publié le"), auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(_("modifié le"), null=True, blank=True)
    deleted = models.BooleanField(_("supprimé par son auteur"), default=False)
    hidden = models.BooleanField(_("masqué par la modération"), default=False)
    hidden_reason = models.CharField(_("motif"), max_length=300, blank=True)
    hidden_by = models.ForeignKey(
        "campus.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    mentioned_practices = models.ManyToManyField(
        "mallette.Practice", blank=True, related_name="community_posts"
    )
    shared_practice = models.ForeignKey(
        "mallette.Practice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposée comme pratique"),
    )
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["thread", "created_at"], name="post_thread_created"),
            GinIndex(fields=["search_vector"], name="post_fts"),
        ]

    def __str__(self) -> str:
        return f"{self.thread} #{self.pk}"

    @property
    def is_visible(self) -> bool:
        return not self.deleted and not self.hidden


class ReactionKind(models.TextChoices):
    LIKE = "like", _("J’aime")
    THANKS = "thanks", _("Merci")
    IDEA = "idea", _("Bonne idée")
    SAME = "same", _("Moi aussi")


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey("campus.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ReactionKind)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("réaction")
        verbose_name_plural = _("réactions")
        constraints = [
            models.UniqueConstraint(fields=["post", "user", "kind"], name="reaction_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.post_id}"


class ThreadState(models.Model):
    """What one person knows of a thread: when they last read it, whether they follow it."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="states")
    user = models.ForeignKey("campus.User", on_delete=models.CASCADE, related_name="+")
    last_read_at = models.DateTimeField(null=True, blank=True)
    following = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="thread_state_unique")
        ]
        indexes = [
            models.Index(
                fields=["thread"], name="thread_followers", condition=models.Q(following=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.thread_id}"


class ReportReason(models.TextChoices):
    OFFENSIVE = "offensive", _("Propos blessants ou irrespectueux")
    PERSONAL = "personal", _("Informations personnelles sur une personne")
    SPAM = "spam", _("Publicité ou message indésirable")
    OTHER = "other", _("Autre motif")


class Report(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey("campus.User", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("motif"), max_length=12, choices=ReportReason)
    comment = models.CharField(_("précisions"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("signalé le"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        "campus.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("signalement")
        verbose_name_plural = _("signalements")
        constraints = [models.UniqueConstraint(fields=["post", "reporter"], name="report_unique")]
        indexes = [
            models.Index(
                fields=["created_at"], name="report_open", condition=models.Q(resolved_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} · {self.post_id}"


class NotificationKind(models.TextChoices):
    REPLY = "reply", _("Nouvelle réponse")
    REACTION = "reaction", _("Réaction à votre message")
    INVITATION = "invitation", _("Invitation")
    HIDDEN = "hidden", _("Message masqué")
    RESTORED = "restored", _("Message rétabli")
    REPORT = "report", _("Signalement à traiter")
    THREAD = "thread", _("Nouvelle discussion")


class Notification(models.Model):
    user = models.ForeignKey(
        "campus.User", on_delete=models.CASCADE, related_name="community_notifications"
    )
    kind = models.CharField(max_length=12, choices=NotificationKind)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, null=True, blank=True)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, blank=True)
    actor = models.ForeignKey(
        "campus.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notif_user")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user_id}"


class DigestFrequency(models.TextChoices):
    WEEKLY = "weekly", _("Chaque semaine")
    DAILY = "daily", _("Chaque jour")
    NEVER = "never", _("Jamais")


class MemberSettings(models.Model):
    user = models.OneToOneField(
        "campus.User", on_delete=models.CASCADE, related_name="community_settings"
    )
    digest = models.CharField(
        _("résumé par courriel"),
        max_length=10,
        choices=DigestFrequency,
        default=DigestFrequency.WEEKLY,
    )
    last_digest_at = models.DateTimeField(null=True, blank=True)
    # Opt-in: a busy group would otherwise flood everyone's notifications; the digest already
    # lists new threads for those who did not choose this.
    notify_new_threads = models.BooleanField(
        _("me notifier des nouvelles discussions de mes groupes"), default=False
    )

    class Meta:
        verbose_name = _("préférences de communauté")
        verbose_name_plural = _("préférences de communauté")

    def __str__(self) -> str:
        return f"{self.user_id} · {self.get_digest_display()}"
