from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    """People come from the HR directory import: there is no public sign-up."""

    def is_open_for_signup(self, request: Any) -> bool:
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context.setdefault("campus_name", settings.CAMPUS_NAME)
        super().send_mail(template_prefix, email, context)
