"""Campus core: the organisation (branches, organisms, teams, people, roles) and jobs."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    """The institution running the campus (e.g. the Sécurité sociale); holds its settings."""

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant"), unique=True)
    feedback_min_responses = models.PositiveSmallIntegerField(
        _("seuil d’anonymat du 180° (k)"),
        default=5,
        help_text=_(
            "Nombre minimal de réponses avant d’afficher les résultats d’un 180° (au moins 3)."
        ),
    )
    analytics_min_people = models.PositiveSmallIntegerField(
        _("seuil des statistiques"),
        default=10,
        help_text=_(
            "Les chiffres calculés sur moins de personnes sont masqués dans les rapports RH."
        ),
    )
    ai_monthly_budget_eur = models.DecimalField(
        _("budget IA mensuel (€)"),
        max_digits=10,
        decimal_places=2,
        default=200,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Coût estimé maximal des appels au modèle de langue par mois civil. Une fois "
            "atteint, les fonctionnalités passent en mode simplifié (sans modèle de langue) "
            "jusqu’au mois suivant. 0 désactive ces appels."
        ),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(feedback_min_responses__gte=3), name="org_feedback_k_floor_3"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    """A branch of the institution: Maladie, Famille, Retraite, Recouvrement, Autonomie…"""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="branches"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("nom"), max_length=120)

    class Meta:
        verbose_name = _("branche")
        verbose_name_plural = _("branches")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="branch_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Organism(models.Model):
    """A local or national body, e.g. "CPAM du Rhône" (branch Maladie, region Auvergne-Rhône-Alpes)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="organisms"
    )
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="organisms")
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("nom"), max_length=200)
    region = models.CharField(_("région"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("organisme")
        verbose_name_plural = _("organismes")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="organism_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """An organisational unit of an organism, possibly nested, led by a manager."""

    organism = models.ForeignKey(Organism, on_delete=models.CASCADE, related_name="teams")
    code = models.CharField(_("code"), max_length=80)
    name = models.CharField(_("nom"), max_length=200)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("unité parente"),
    )
    manager = models.ForeignKey(
        "campus.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
        verbose_name=_("manager"),
    )

    class Meta:
        verbose_name = _("équipe")
        verbose_name_plural = _("équipes")
        ordering = ["organism__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organism", "code"], name="team_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Level(models.TextChoices):
    PROXIMITY = "proximity", _("Manager de proximité")
    MIDDLE = "middle", _("Manager intermédiaire")
    STRATEGIC = "strategic", _("Manager stratégique")
    DIRECTOR = "director", _("Directeur ou directrice")


class Role(models.TextChoices):
    MANAGER = "manager", _("Manager")
    COLLABORATOR = "collaborator", _("Collaborateur")
    HR_ADMIN = "hr_admin", _("Administrateur RH")
    HR_ANALYST = "hr_analyst", _("Analyste RH")
    BOOST_HOST = "boost_host", _("Animateur de boosts")
    MODERATOR = "moderator", _("Modérateur")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required")
        if "organisation" not in extra and "organisation_id" not in extra:
            extra["organisation"] = Organisation.objects.order_by("pk").first()
            if extra["organisation"] is None:
                extra["organisation"] = Organisation.objects.create(name="Campus", slug="campus")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("roles", [Role.HR_ADMIN])
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone in the organisation. Collaborators have no usable password and never log in,
    so 150,000 of them cost one narrow row each."""

    email = models.EmailField(_("adresse e-mail"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="people")
    organism = models.ForeignKey(
        Organism,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("organisme"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("équipe"),
    )
    manager = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("responsable (n+1)"),
    )
    level = models.CharField(_("niveau managérial"), max_length=20, choices=Level, blank=True)
    job_title = models.CharField(_("fonction"), max_length=200, blank=True)
    roles = ArrayField(
        models.CharField(max_length=20, choices=Role),
        default=list,
        blank=True,
        verbose_name=_("rôles"),
    )
    is_staff = models.BooleanField(_("accès à l’administration"), default=False)
    is_active = models.BooleanField(_("actif"), default=True)
    date_joined = models.DateTimeField(_("date d’arrivée"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("personne")
        verbose_name_plural = _("personnes")
        ordering = ["last_name", "first_name"]
        indexes = [
            GinIndex(fields=["roles"], name="user_roles_gin"),
            models.Index(Lower("last_name"), name="user_last_name_lower"),
            models.Index(fields=["organisation", "level"], name="user_org_level"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_manager(self) -> bool:
        return Role.MANAGER in self.roles

    @property
    def is_hr_admin(self) -> bool:
        return Role.HR_ADMIN in self.roles or self.is_superuser

    @property
    def is_hr_analyst(self) -> bool:
        return Role.HR_ANALYST in self.roles or self.is_hr_admin


class Job(models.Model):
    """A long-running piece of work done by a Celery worker; the source of truth for its state.

    The web tier creates the row, the task updates it, and pages poll it to draw a progress bar.
    ``task_name`` and ``task_kwargs`` let the sweeper re-enqueue a job whose worker died.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        SUCCEEDED = "succeeded", _("Terminé")
        FAILED = "failed", _("Échec")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("propriétaire")
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(_("type"), max_length=60)
    title = models.CharField(_("titre"), max_length=200)
    state = models.CharField(_("état"), max_length=12, choices=State, default=State.PENDING)
    progress = models.PositiveSmallIntegerField(_("progression"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    result_url = models.CharField(_("lien du résultat"), max_length=500, blank=True)
    result_label = models.CharField(_("libellé du lien du résultat"), max_length=200, blank=True)
    result = models.JSONField(_("résultat"), default=dict, blank=True)
    task_name = models.CharField(max_length=200)
    task_kwargs = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("démarré le"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("dernier signe de vie"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("tâche")
        verbose_name_plural = _("tâches")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["state", "heartbeat_at"],
                name="job_active",
                condition=models.Q(state__in=["pending", "running"]),
            ),
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_max")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)


class AIUsage(models.Model):
    """One call to the AI endpoint: who, for which feature, how many tokens, at what cost.

    The usage ledger behind the per-organisation monthly cap (``campus.ai.ledger``). It never
    holds any text. Local work (embeddings, scrubbing) costs nothing and is not recorded.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="ai_usage"
    )
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("personne"),
    )
    feature = models.CharField(_("fonctionnalité"), max_length=60)
    backend = models.CharField(_("moteur"), max_length=20)
    model = models.CharField(_("modèle"), max_length=200)
    prompt_tokens = models.PositiveIntegerField(_("jetons envoyés"), default=0)
    completion_tokens = models.PositiveIntegerField(_("jetons reçus"), default=0)
    cost_eur = models.DecimalField(_("coût estimé (€)"), max_digits=12, decimal_places=6)
    created_at = models.DateTimeField(_("date"), default=timezone.now)

    class Meta:
        verbose_name = _("appel IA")
        verbose_name_plural = _("journal des appels IA")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organisation", "created_at"], name="aiusage_org_created")]

    def __str__(self) -> str:
        return f"{self.feature} · {self.model} · {self.created_at:%Y-%m-%d %H:%M}"


# Activity tracking for the HR adoption dashboard lives beside its selectors and views.
from campus.analytics.models import (  # noqa: E402, F401
    Activity,
    ExportLog,
    Feature,
    ReportSubscription,
)

# The dashboard's pre-aggregated activity (refreshed by beat).
from campus.analytics.rollups import ActivityRollup, RollupRefresh  # noqa: E402, F401
