from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("Communautés")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the community posts as a source of the "most evoked" detection.
        from communities import mentions  # noqa: F401
