from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MalletteConfig(AppConfig):
    name = "mallette"
    verbose_name = _("La mallette")
    default_auto_field = "django.db.models.BigAutoField"
