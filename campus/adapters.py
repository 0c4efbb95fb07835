from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """People come from the HR directory import: there is no public sign-up."""

    def is_open_for_signup(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
