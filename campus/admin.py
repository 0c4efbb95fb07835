from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from campus.analytics.models import ExportLog
from campus.models import AIUsage, Branch, Job, Organisation, Organism, Role, Team, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "feedback_min_responses",
        "analytics_min_people",
        "ai_monthly_budget_eur",
    ]
    search_fields = ["name"]


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "organisation"]
    search_fields = ["name", "code"]


@admin.register(Organism)
class OrganismAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "branch", "region"]
    list_filter = ["branch", "region"]
    search_fields = ["name", "code", "region"]
    list_select_related = ["branch"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "organism", "parent", "manager"]
    list_filter = ["organism__branch", "organism"]
    search_fields = ["name", "code", "organism__name", "manager__email", "manager__last_name"]
    list_select_related = ["organism", "parent", "manager"]
    autocomplete_fields = ["organism", "parent", "manager"]


class RoleFilter(admin.SimpleListFilter):
    title = _("rôle")
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in Role.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        if self.value():
            return queryset.filter(roles__contains=[self.value()])
        return queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["last_name", "first_name"]
    list_display = [
        "email",
        "last_name",
        "first_name",
        "organism",
        "level",
        "roles_display",
        "is_active",
    ]
    list_filter = [RoleFilter, "level", "is_active", "is_staff", "organism__branch", "organism"]
    search_fields = ["email", "last_name", "first_name", "job_title"]
    list_select_related = ["organism"]
    autocomplete_fields = ["organism", "team", "manager"]
    readonly_fields = ["last_login", "date_joined"]
    list_per_page = 50
    show_full_result_count = False  # avoids a COUNT(*) over 170,000 people on every page
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "job_title")}),
        (
            _("Organisation"),
            {"fields": ("organisation", "organism", "team", "manager", "level", "roles")},
        ),
        (
            _("Droits d’administration"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "organisation",
                    "organism",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    @admin.display(description=_("rôles"))
    def roles_display(self, obj: User) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels.get(r, r)) for r in obj.roles)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "owner",
        "state",
        "progress",
        "attempts",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["title", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AIUsage)
class AIUsageAdmin(admin.ModelAdmin):
    """The AI usage ledger, read only: rows are written by campus.ai.ledger."""

    list_display = [
        "created_at",
        "organisation",
        "feature",
        "backend",
        "model",
        "user",
        "prompt_tokens",
        "completion_tokens",
        "cost_eur",
    ]
    list_filter = ["organisation", "feature", "backend", "model"]
    date_hierarchy = "created_at"
    search_fields = ["feature", "model", "user__email"]
    list_select_related = ["organisation", "user"]
    readonly_fields = [f.name for f in AIUsage._meta.fields]
    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AIUsage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AIUsage | None = None) -> bool:
        return False


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    """The log of analytics exports, read only: rows are written by the export service."""

    list_display = ["created_at", "organisation", "user_email", "page", "format", "expired"]
    list_filter = ["organisation", "format", "page", "expired"]
    date_hierarchy = "created_at"
    search_fields = ["user_email", "page"]
    list_select_related = ["organisation"]
    readonly_fields = [f.name for f in ExportLog._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ExportLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ExportLog | None = None) -> bool:
        return False
