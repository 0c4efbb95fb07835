"""Admin of the coach, for HR admins and support.

``Conversation`` and ``Exchange`` are deliberately **not registered**: a manager's conversations
with the coach are private, HR admins and superusers included (issue #5). HR sees aggregated
topics elsewhere, never a conversation. ``tests/coach/test_admin.py`` guards this.

Exercise preferences, exercises and deliveries are read-only here: support may check that a
message went out and why it failed, not change what a manager chose or wrote. The manager's
answer to an exercise is not shown either.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from coach.forms_exercises import OrganismWebhookAdminForm
from coach.models import (
    Exercise,
    ExerciseDelivery,
    ExercisePreference,
    OrganismPost,
    OrganismWebhook,
    SupportContact,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SupportContact)
class SupportContactAdmin(admin.ModelAdmin):
    list_display = ["label", "kind", "organisation", "organism", "phone", "email", "position"]
    list_filter = ["kind", "organisation", "organism"]
    list_editable = ["position"]
    search_fields = ["label", "phone", "email", "organism__name"]
    list_select_related = ["organisation", "organism"]
    autocomplete_fields = ["organism"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(OrganismWebhook)
class OrganismWebhookAdmin(admin.ModelAdmin):
    form = OrganismWebhookAdminForm
    list_display = ["organism", "channel", "active", "short_url"]
    list_filter = ["channel", "active"]
    search_fields = ["organism__name", "organism__code"]
    list_select_related = ["organism"]
    autocomplete_fields = ["organism"]

    @admin.display(description=_("adresse"))
    def short_url(self, obj: OrganismWebhook) -> str:
        # The full address is a secret (anyone holding it can post to the channel).
        return obj.url[:40] + ("…" if len(obj.url) > 40 else "")


@admin.register(OrganismPost)
class OrganismPostAdmin(ReadOnlyAdmin):
    list_display = ["webhook", "week", "practice", "state", "attempts", "last_error", "sent_at"]
    list_filter = ["state", "week"]
    search_fields = ["webhook__organism__name"]
    list_select_related = ["webhook__organism", "practice"]
    fields = [
        "webhook",
        "week",
        "practice",
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    readonly_fields = fields


@admin.register(ExercisePreference)
class ExercisePreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "enabled", "email", "has_teams", "has_slack"]
    list_filter = ["enabled", "email"]
    search_fields = ["user__email", "user__last_name"]
    list_select_related = ["user"]
    # Webhook addresses are not shown: they are credentials to the manager's channels.
    fields = ["user", "enabled", "email", "has_teams", "has_slack", "theme_slugs"]
    readonly_fields = fields

    @admin.display(boolean=True, description=_("Teams"))
    def has_teams(self, obj: ExercisePreference) -> bool:
        return bool(obj.teams_webhook_url)

    @admin.display(boolean=True, description=_("Slack"))
    def has_slack(self, obj: ExercisePreference) -> bool:
        return bool(obj.slack_webhook_url)


class ExerciseDeliveryInline(admin.TabularInline):
    model = ExerciseDelivery
    fields = ["channel", "state", "attempts", "last_error", "next_attempt_at", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Exercise)
class ExerciseAdmin(ReadOnlyAdmin):
    list_display = ["user", "week", "title", "answered"]
    list_filter = ["week"]
    search_fields = ["user__email", "user__last_name", "title"]
    list_select_related = ["user"]
    date_hierarchy = "week"
    # The answer is the manager's private reflection: support sees only whether it exists.
    fields = ["user", "week", "practice", "title", "question", "answered", "created_at"]
    readonly_fields = fields
    inlines = [ExerciseDeliveryInline]
    show_full_result_count = False

    @admin.display(boolean=True, description=_("répondu"))
    def answered(self, obj: Exercise) -> bool:
        return obj.answered_at is not None


@admin.register(ExerciseDelivery)
class ExerciseDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["exercise", "channel", "state", "attempts", "last_error", "sent_at"]
    list_filter = ["state", "channel"]
    search_fields = ["exercise__user__email"]
    list_select_related = ["exercise__user"]
    fields = [
        "exercise",
        "channel",
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    readonly_fields = fields
    show_full_result_count = False
