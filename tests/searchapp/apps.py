from __future__ import annotations

from django.apps import AppConfig


class SearchappConfig(AppConfig):
    """A searchable model used only by the tests of campus.search (no migrations: the test
    database creates its table directly)."""

    name = "tests.searchapp"
    label = "searchapp"
    default_auto_field = "django.db.models.BigAutoField"
