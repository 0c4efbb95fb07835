"""Django admin for HR: boosts and registrations are read and corrected here; creating,
editing and cancelling go through the host pages (they notify registrants)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from boosts.models import Boost, BoostCommunity, Registration


class BoostCommunityFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            group = form.cleaned_data.get("group") if form.cleaned_data else None
            if group is not None and group.organisation_id != self.instance.organisation_id:
                form.add_error(
                    "group", _("Choisissez une communauté de l’organisation de ce boost.")
                )


class BoostCommunityInline(admin.TabularInline):
    """The communities of the audience (a custom through model: no filter_horizontal)."""

    model = BoostCommunity
    formset = BoostCommunityFormSet
    extra = 0
    autocomplete_fields = ["group"]
    verbose_name = _("communauté du public")
    verbose_name_plural = _("public : communautés (membres actifs ; aucune = sans condition)")


class RegistrationInline(admin.TabularInline):
    model = Registration
    extra = 0
    fields = ["user", "status", "queued_at", "checked_in_at"]
    raw_id_fields = ["user"]
    readonly_fields = ["queued_at"]


@admin.register(Boost)
class BoostAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "host", "format", "capacity", "status"]
    list_filter = ["status", "format", "organisation"]
    search_fields = ["title", "host__email", "host__last_name"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["host", "created_by", "followup_practice"]
    readonly_fields = ["uid", "series", "sequence", "followup_sent_at"]
    inlines = [BoostCommunityInline, RegistrationInline]
    # Meeting and replay links are https (the host's form assumes it too); also silences
    # Django 6's change-of-default warning.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["boost", "user", "status", "checked_in_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__last_name", "boost__title"]
    raw_id_fields = ["boost", "user"]
