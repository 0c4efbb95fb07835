"""Django admin for HR: boosts and registrations are read and corrected here; creating,
editing and cancelling go through the host pages (they notify registrants)."""

from __future__ import annotations

from django.contrib import admin

from boosts.models import Boost, Registration


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
    inlines = [RegistrationInline]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["boost", "user", "status", "checked_in_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__last_name", "boost__title"]
    raw_id_fields = ["boost", "user"]
