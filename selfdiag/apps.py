from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfdiagConfig(AppConfig):
    name = "selfdiag"
    verbose_name = _("Autodiagnostic")
    default_auto_field = "django.db.models.BigAutoField"
