"""Activity tracking: one narrow row per person, feature, action and day.

Privacy by construction: no content (no question, no text, no object id), no IP address, no
user agent (only a coarse desktop/mobile flag), and days rather than timestamps. Rows are kept
for ``RETENTION_MONTHS`` months (see ``campus.analytics.services.activity_purge``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

#: Rows older than the current month and the 12 months before it are deleted (13 months: the
#: dashboard shows 12 full months plus the current one).
RETENTION_MONTHS = 13


class Feature(models.TextChoices):
    SELFDIAG = "selfdiag", _("Autodiagnostic")
    FEEDBACK180 = "feedback180", _("Feedback 180°")
    MALLETTE = "mallette", _("Mallette des pratiques")
    COACH = "coach", _("Coach")
    BOOSTS = "boosts", _("Boosts")
    COMMUNITIES = "communities", _("Communautés")
    LOGIN = "login", _("Connexion")


class Device(models.TextChoices):
    DESKTOP = "desktop", _("Ordinateur")
    MOBILE = "mobile", _("Mobile")


class Activity(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Organisation, organism and level are copied at the time of the activity, so that the
    # history does not move when someone changes organism or level.
    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    organism = models.ForeignKey(
        "campus.Organism", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    level = models.CharField(_("niveau managérial"), max_length=20, blank=True)
    feature = models.CharField(_("fonctionnalité"), max_length=20, choices=Feature)
    action = models.SlugField(_("action"), max_length=40)
    month = models.DateField(_("mois"))  # first day of the month of ``day``
    day = models.DateField(_("jour"))
    device = models.CharField(_("appareil"), max_length=10, choices=Device, default=Device.DESKTOP)

    class Meta:
        verbose_name = _("activité")
        verbose_name_plural = _("activités")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "feature", "action", "day"], name="activity_once_a_day"
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "month"], name="activity_org_month"),
            models.Index(fields=["month"], name="activity_month"),
        ]

    def __str__(self) -> str:
        return f"{self.feature}:{self.action} {self.day:%Y-%m-%d}"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    PDF = "pdf", "PDF"


#: Export files are deleted this many days after they were made (the log row stays).
EXPORT_DAYS = 7


class ExportLog(models.Model):
    """Who exported what, when: one row per export of an analytics page, kept after the file
    expires. ``page`` and ``params`` name the report (``campus.analytics.tables.REPORTS``)."""

    organisation = models.ForeignKey(
        "campus.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("demandé par"),
    )
    # Copied so that the log still says who after the account is deleted.
    user_email = models.EmailField(_("adresse de la personne"), blank=True)
    page = models.SlugField(_("page"), max_length=40)
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat)
    params = models.JSONField(_("filtres"), default=dict, blank=True)
    job = models.ForeignKey(
        "campus.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(_("fichier"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    expired = models.BooleanField(_("fichier supprimé"), default=False)

    class Meta:
        verbose_name = _("export d’analyse")
        verbose_name_plural = _("exports d’analyse")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="exportlog_org_created"),
            models.Index(fields=["expired", "expires_at"], name="exportlog_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.page}.{self.format} {self.created_at:%Y-%m-%d %H:%M}"


class ReportSubscription(models.Model):
    """An HR analyst who receives the monthly PDF report by email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analytics_subscription"
    )
    created_at = models.DateTimeField(_("abonné le"), auto_now_add=True)
    # The first day of the last month whose report was sent: a re-run sends nothing twice.
    last_sent_month = models.DateField(_("dernier rapport envoyé"), null=True, blank=True)

    class Meta:
        verbose_name = _("abonnement au rapport mensuel")
        verbose_name_plural = _("abonnements au rapport mensuel")

    def __str__(self) -> str:
        return str(self.user_id)
