from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Feedback180Config(AppConfig):
    name = "feedback180"
    verbose_name = _("Feedback 180°")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the verbatims as a source of the mallette's "most evoked" detection.
        from feedback180 import mentions  # noqa: F401
