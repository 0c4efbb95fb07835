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
