from __future__ import annotations

from django.contrib import admin
from django.db import models

from communities.models import Group, Membership, Report, Thread


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "status", "charter_accepted_at"]
    readonly_fields = ["charter_accepted_at"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "kind", "visibility", "level", "animated"]
    list_filter = ["kind", "visibility", "animated", "organisation"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    # Webhooks are https only (the app's form assumes it too); also silences Django 6's
    # change-of-default warning.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    """Titles and counts only: the messages themselves are read in the app, by members."""

    list_display = ["title", "group", "by_coach", "reply_count", "last_activity_at"]
    list_filter = ["by_coach"]
    search_fields = ["title"]
    fields = ["group", "title", "by_coach", "coach_week", "reply_count", "last_activity_at"]
    readonly_fields = fields


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["post", "reason", "created_at", "resolved_at"]
    list_filter = ["reason"]
    fields = ["post", "reason", "comment", "created_at", "resolved_at", "resolved_by"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
