from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoostsConfig(AppConfig):
    name = "boosts"
    verbose_name = _("Boosts managers")
    default_auto_field = "django.db.models.BigAutoField"
