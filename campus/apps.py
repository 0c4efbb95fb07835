from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampusConfig(AppConfig):
    name = "campus"
    verbose_name = _("Organisation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Logins happen in allauth and the admin: the signal is the one place that sees all of
        # them. It only counts a visit for the adoption dashboard (no content), so no domain
        # flow hides behind it.
        from django.contrib.auth.signals import user_logged_in

        from campus.analytics.models import Feature
        from campus.analytics.services import activity_record

        def login_recorded(sender, request, user, **kwargs) -> None:  # type: ignore[no-untyped-def]
            activity_record(user=user, feature=Feature.LOGIN, action="login", request=request)

        user_logged_in.connect(login_recorded, weak=False, dispatch_uid="campus_login_recorded")
